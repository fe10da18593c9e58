"""Seq2Seq: an attention encoder-decoder built from the public layers, trained with teacher
forcing through the normal compile()/fit(), decoded greedily or by beam search through an
encoder model and a decoder-step model that share the training model's layers.

Training graph (``Seq2Seq.model``, inputs ``[source, target_in]``, output the next-token
probabilities ``target_out``)::

    source -> Embedding -> LSTM/GRU (return_sequences, return_state; optionally Bidirectional)
                               | outputs (memory)        | final states
    target_in -> Embedding -> LSTM/GRU (initial_state = the encoder's states) -> h_t
    context_t = Attention([h_t, memory])  (Luong: dot or general; Bahdanau: additive)
    probs_t   = softmax(W_out tanh(W_c [context_t; h_t]))           (Luong's attentional vector)

The source mask (token 0 is padding) hides padded source positions from the attention, and
with ``mask_zero`` from the encoder too. Inference: ``encoder_model`` maps the source to the
memory, the source mask and the decoder's initial states; ``decoder_model`` maps one token,
the memory, the mask and the states to the next-token probabilities, the new states and the
attention weights. ``greedy_decode`` and ``beam_search`` drive them.

Example::

    s2s = Seq2Seq(source_vocab_size=46, target_vocab_size=15, units=64)
    s2s.model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    s2s.model.fit([source_ids, target_in], target_out, epochs=10)
    hyps = s2s.beam_search(source_ids[:5], beam_width=4, max_length=11, n_best=2)
    s2s.save("dates.keras"); again = Seq2Seq.load("dates.keras")
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from .. import layers as L
from ..autograd import no_grad
from ..models import Model, load_model
from . import decoding
from .vocab import END, START

__all__ = ["Seq2Seq"]

_ATTENTION = ("luong", "general", "bahdanau")
_CELLS = {"lstm": L.LSTM, "gru": L.GRU}


def _positive(value, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
        raise ValueError(f"Seq2Seq: {name} must be a positive integer, got {name}={value!r}")
    return int(value)


class Seq2Seq:
    """An encoder-decoder with attention over the encoder's outputs.

    Args:
        source_vocab_size / target_vocab_size: the vocabulary sizes (id 0 is padding).
        embedding_dim: the size of both embeddings.
        units: the encoder's units (each direction when bidirectional); the decoder has
            ``units`` (``2 * units`` when bidirectional, so that its states are the
            concatenated final states of both directions).
        cell: 'lstm' or 'gru'.
        bidirectional: a Bidirectional encoder (merge_mode='concat').
        attention: 'luong' (layers.Attention, dot score), 'general' (Luong's general score,
            layers.Attention(score_mode='general')) or 'bahdanau' (layers.AdditiveAttention
            on Dense projections of the decoder states and of the encoder outputs:
            v^T tanh(W1 h_t + W2 s_j)).
        mask_zero: the encoder skips padded source steps (Embedding(mask_zero=True)); with
            'pre' padding the encoder also works without it.
        dropout: dropout of the recurrent layers' inputs.
        start_token / end_token: the target ids that start and end a sequence.
        name: the training model's name.

    Attributes:
        model: the training Model ``[source, target_in] -> target_out probabilities``.
        encoder_model: ``source -> [memory, (keys,) source_mask, *decoder_states]``.
        decoder_model: ``[token, memory, (keys,) source_mask, *states] ->
            [probabilities, *new_states, attention]``.

    Example::

        from fastnn.seq2seq import Seq2Seq, dates
        src, tgt = dates.source_vocabulary(), dates.target_vocabulary()
        s2s = Seq2Seq(src.size, tgt.size, embedding_dim=32, units=64, attention="luong")
        s2s.model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
        x, y = dates.generate(5000)
        tin, tout = tgt.teacher_forcing(y)
        s2s.model.fit([src.encode(x, maxlen=32), tin], tout, epochs=5, batch_size=64)
        [tgt.decode(h.tokens) for h in s2s.greedy_decode(src.encode(x[:3], maxlen=32), max_length=11)]
    """

    def __init__(
        self,
        source_vocab_size: int,
        target_vocab_size: int,
        embedding_dim: int = 64,
        units: int = 128,
        cell: str = "lstm",
        bidirectional: bool = False,
        attention: str = "luong",
        mask_zero: bool = True,
        dropout: float = 0.0,
        start_token: int = START,
        end_token: int = END,
        name: str = "seq2seq",
    ):
        source_vocab_size = _positive(source_vocab_size, "source_vocab_size")
        target_vocab_size = _positive(target_vocab_size, "target_vocab_size")
        embedding_dim = _positive(embedding_dim, "embedding_dim")
        units = _positive(units, "units")
        if cell not in _CELLS:
            raise ValueError(f"Seq2Seq: cell must be one of {sorted(_CELLS)}, got cell={cell!r}")
        if attention not in _ATTENTION:
            raise ValueError(f"Seq2Seq: attention must be one of {list(_ATTENTION)}, got attention={attention!r}")
        self._set_tokens(start_token, end_token, target_vocab_size)
        rnn = _CELLS[cell]
        dec_units = 2 * units if bidirectional else units
        enc = rnn(units, return_sequences=True, return_state=True, dropout=dropout, name="encoder")
        lyr: dict[str, L.Layer] = {
            "source_mask": L.TensorOp("minimum", constant=1.0, name="source_mask"),  # 1 where id > 0
            "source_embedding": L.Embedding(source_vocab_size, embedding_dim, mask_zero=mask_zero,
                                            name="source_embedding"),
            "encoder": L.Bidirectional(enc, name="encoder") if bidirectional else enc,
            "target_embedding": L.Embedding(target_vocab_size, embedding_dim, name="target_embedding"),
            "decoder": rnn(dec_units, return_sequences=True, return_state=True, dropout=dropout, name="decoder"),
            "attention_dense": L.Dense(dec_units, activation="tanh", name="attention_dense"),
            "output": L.Dense(target_vocab_size, activation="softmax", name="output"),
        }
        if attention == "bahdanau":
            lyr["attention"] = L.AdditiveAttention(name="attention")
            lyr["attention_query"] = L.Dense(dec_units, use_bias=False, name="attention_query")
            lyr["attention_key"] = L.Dense(dec_units, use_bias=False, name="attention_key")
        else:
            lyr["attention"] = L.Attention(score_mode="dot" if attention == "luong" else "general", name="attention")
        if bidirectional:
            n_states = 2 if cell == "lstm" else 1
            lyr["encoder_states"] = [L.Concatenate(name=f"encoder_state_{i}") for i in range(n_states)]
        self._layers = lyr
        self.cell, self.bidirectional, self.attention = cell, bool(bidirectional), attention

        source = L.Input((None,), name="source")
        target_in = L.Input((None,), name="target_in")
        memory, mask, states = self._encode(source)
        probs, _, _ = self._decode_graph(target_in, memory, mask, states)
        self.model = Model([source, target_in], probs, name=name)
        self._build_inference()

    # ------------------------------------------------------------------ graph pieces
    def _set_tokens(self, start_token, end_token, vocab: int) -> None:
        for v, n in ((start_token, "start_token"), (end_token, "end_token")):
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or not 0 <= v < vocab:
                raise ValueError(f"Seq2Seq: {n} must be an id of the target vocabulary (0..{vocab - 1}), got {n}={v!r}")
        self.start_token, self.end_token = int(start_token), int(end_token)

    def _encode(self, source):
        """Symbolic memory (a list: outputs, and keys for Bahdanau), source mask, decoder states."""
        lyr = self._layers
        mask = lyr["source_mask"](source)
        enc_out, *states = lyr["encoder"](lyr["source_embedding"](source))
        if self.bidirectional:
            half = len(states) // 2
            states = [c([f, b]) for c, f, b in zip(lyr["encoder_states"], states[:half], states[half:])]
        memory = [enc_out]
        if self.attention == "bahdanau":
            memory.append(lyr["attention_key"](enc_out))
        return memory, mask, states

    def _decode_graph(self, tokens, memory, mask, states):
        lyr = self._layers
        dec_out, *new_states = lyr["decoder"](lyr["target_embedding"](tokens), initial_state=list(states))
        if self.attention == "bahdanau":
            query = lyr["attention_query"](dec_out)
            context, weights = lyr["attention"]([query, memory[0], memory[1]], mask=[None, mask],
                                                return_attention_scores=True)
        else:
            context, weights = lyr["attention"]([dec_out, memory[0]], mask=[None, mask], return_attention_scores=True)
        vec = lyr["attention_dense"](L.Concatenate()([context, dec_out]))
        return lyr["output"](vec), new_states, weights

    def _build_inference(self) -> None:
        source = L.Input((None,), name="source")
        memory, mask, states = self._encode(source)
        self.encoder_model = Model(source, memory + [mask] + states, name=f"{self.model.name}_encoder")
        token = L.Input((1,), name="token")
        mem_in = [L.Input(tuple(m.shape[1:]), name=f"memory_{i}") for i, m in enumerate(memory)]
        mask_in = L.Input((None,), name="source_mask_in")
        state_in = [L.Input(tuple(s.shape[1:]), name=f"state_{i}") for i, s in enumerate(states)]
        probs, new_states, weights = self._decode_graph(token, mem_in, mask_in, state_in)
        self.decoder_model = Model([token] + mem_in + [mask_in] + state_in, [probs] + new_states + [weights],
                                   name=f"{self.model.name}_decoder")
        self._n_memory, self._n_states = len(memory), len(states)

    # ------------------------------------------------------------------ decoding
    @staticmethod
    def _ids(source) -> np.ndarray:
        a = source.numpy() if hasattr(source, "numpy") else np.asarray(source)
        if a.ndim != 2:
            raise ValueError(f"Seq2Seq: source must be a 2-D array of ids (batch, length), got shape {a.shape}")
        if a.dtype.kind == "f" and not np.all(a == np.round(a)):
            raise ValueError("Seq2Seq: source ids must be integers")
        return a.astype(np.float32)

    def encode(self, source) -> dict:
        """The decoding state of each source: {'memory': [...], 'mask': ..., 'states': [...]}, NumPy
        arrays with the batch first (the ``initial_state`` of greedy_decode / beam_search)."""
        src = self._ids(source)
        with no_grad():
            outs = self.encoder_model(src, training=False)
        outs = [np.asarray(o.numpy()) for o in outs]
        m = self._n_memory
        return {"memory": outs[:m], "mask": outs[m], "states": outs[m + 1:]}

    def step(self, tokens: np.ndarray, state: dict) -> tuple[np.ndarray, dict, np.ndarray]:
        """One decoder step (the step function of fastnn.seq2seq.decoding): log-probabilities
        (rows, vocab), the new state, and the attention weights (rows, src_len)."""
        tok = np.asarray(tokens, dtype=np.float32).reshape(-1, 1)
        with no_grad():
            outs = self.decoder_model([tok] + list(state["memory"]) + [state["mask"]] + list(state["states"]),
                                      training=False)
        outs = [o.numpy() for o in outs]
        probs, new_states, weights = outs[0][:, 0, :], outs[1:-1], outs[-1][:, 0, :]
        log_probs = np.log(np.maximum(probs.astype(np.float64), 1e-38))
        return log_probs, {"memory": state["memory"], "mask": state["mask"], "states": new_states}, weights

    def _chunks(self, source, batch_size: int):
        src = self._ids(source)
        batch_size = _positive(batch_size, "batch_size")
        for i in range(0, len(src), batch_size):
            yield src[i:i + batch_size]

    def _max_length(self, max_length, source_len: int) -> int:
        return 2 * source_len + 10 if max_length is None else max_length

    def greedy_decode(self, source, max_length: int | None = None, batch_size: int = 256) -> list:
        """Greedy decoding of each source row (ids, 0-padded); a list of Hypothesis.
        max_length counts the end token (by default twice the source length plus 10)."""
        out: list = []
        for chunk in self._chunks(source, batch_size):
            out += decoding.greedy_decode(self.step, self.encode(chunk), self.start_token, self.end_token,
                                          self._max_length(max_length, chunk.shape[1]))
        return out

    def beam_search(
        self,
        source,
        beam_width: int = 4,
        max_length: int | None = None,
        length_penalty: float = 0.0,
        n_best: int = 1,
        batch_size: int = 64,
    ) -> list:
        """Beam search for each source row; for each, the n_best Hypothesis, best first (see
        fastnn.seq2seq.beam_search)."""
        out: list = []
        for chunk in self._chunks(source, batch_size):
            out += decoding.beam_search(self.step, self.encode(chunk), self.start_token, self.end_token,
                                        beam_width=beam_width, max_length=self._max_length(max_length, chunk.shape[1]),
                                        length_penalty=length_penalty, n_best=n_best)
        return out

    # ------------------------------------------------------------------ saving
    def save(self, path: str | os.PathLike) -> None:
        """Save the training model (model.save); Seq2Seq.load rebuilds the inference models."""
        self.model.save(path)

    @classmethod
    def load(cls, path: str | os.PathLike, start_token: int = START, end_token: int = END, **kwargs: Any) -> Seq2Seq:
        """Load a model saved by save() (or model.save) and wrap it."""
        return cls.from_model(load_model(path, **kwargs), start_token=start_token, end_token=end_token)

    @classmethod
    def from_model(cls, model: Model, start_token: int = START, end_token: int = END) -> Seq2Seq:
        """Wrap a training model built by Seq2Seq (e.g. loaded with fastnn.models.load_model):
        its layers are found by name and the inference models rebuilt on them."""
        self = cls.__new__(cls)
        names = {lyr.name: lyr for lyr in model.layers}
        need = ["source_mask", "source_embedding", "encoder", "target_embedding", "decoder", "attention",
                "attention_dense", "output"]
        missing = [n for n in need if n not in names]
        if missing:
            raise ValueError(f"model '{model.name}' was not built by Seq2Seq: it has no layers {missing}")
        lyr = {n: names[n] for n in need}
        enc = lyr["encoder"]
        self.bidirectional = isinstance(enc, L.Bidirectional)
        inner = enc.forward_layer if self.bidirectional else enc
        self.cell = "lstm" if isinstance(inner, L.LSTM) else "gru"
        if isinstance(lyr["attention"], L.AdditiveAttention):
            self.attention = "bahdanau"
            lyr["attention_query"], lyr["attention_key"] = names["attention_query"], names["attention_key"]
        else:
            self.attention = "luong" if lyr["attention"].score_mode == "dot" else "general"
        if self.bidirectional:
            lyr["encoder_states"] = [names[f"encoder_state_{i}"] for i in range(2 if self.cell == "lstm" else 1)]
        self._layers = lyr
        self._set_tokens(start_token, end_token, lyr["output"].units)
        self.model = model
        self._build_inference()
        return self

    def __repr__(self) -> str:
        return (f"<Seq2Seq cell={self.cell} bidirectional={self.bidirectional} attention={self.attention} "
                f"params={self.model.count_params()}>")
