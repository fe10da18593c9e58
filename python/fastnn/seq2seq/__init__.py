"""fastnn.seq2seq: encoder-decoder models with attention, greedy and beam-search decoding, and
the date-format translation task.

- ``greedy_decode`` / ``beam_search``: decoding over any step function
  ``step(tokens, state) -> (log_probs, new_state, attention)``, batched over sources, with
  GNMT's length normalisation and the n best hypotheses (tokens, scores, attention weights).
- ``Seq2Seq``: Embedding -> LSTM/GRU encoder (optionally Bidirectional) -> recurrent decoder
  with Luong (``layers.Attention``) or Bahdanau (``layers.AdditiveAttention``) attention ->
  softmax, trained with teacher forcing by the normal compile()/fit(), with encoder and
  decoder-step inference models.
- ``CharVocabulary``, ``dates`` (generated date-translation data), ``plot_attention``.

Example::

    from fastnn.seq2seq import Seq2Seq, dates

    (x, y), (xt, yt) = dates.load_data(num_train=20000, num_test=1000)
    src, tgt = dates.source_vocabulary(), dates.target_vocabulary()
    s2s = Seq2Seq(src.size, tgt.size, units=64)
    s2s.model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    tin, tout = tgt.teacher_forcing(y)
    s2s.model.fit([src.encode(x, maxlen=40), tin], tout, epochs=10, batch_size=64)
    hyps = s2s.beam_search(src.encode(xt, maxlen=40), beam_width=4, max_length=11)
"""

from . import dates
from .decoding import Hypothesis, beam_search, gather_state, greedy_decode, length_penalty
from .model import Seq2Seq
from .plotting import plot_attention
from .vocab import CharVocabulary

__all__ = [
    "Seq2Seq",
    "Hypothesis",
    "greedy_decode",
    "beam_search",
    "gather_state",
    "length_penalty",
    "plot_attention",
    "CharVocabulary",
    "dates",
]
