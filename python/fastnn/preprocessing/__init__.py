"""fastnn.preprocessing: Keras's sequence and text utilities (``pad_sequences``, ``Tokenizer``),
which tutorials import from ``keras.preprocessing`` (Keras 3 keeps only ``keras.utils.pad_sequences``
and removed the Tokenizer; these follow keras-preprocessing's behaviour exactly).

Example::

    from fastnn.preprocessing.text import Tokenizer
    from fastnn.preprocessing.sequence import pad_sequences
    tok = Tokenizer(num_words=1000, oov_token="<OOV>")
    tok.fit_on_texts(["the cat sat", "the dog sat down"])
    x = pad_sequences(tok.texts_to_sequences(["the cat ran"]), maxlen=5)   # [[0 0 2 4 1]]
"""

from . import sequence, text
from .sequence import pad_sequences
from .text import Tokenizer, text_to_word_sequence, tokenizer_from_json

__all__ = ["sequence", "text", "pad_sequences", "Tokenizer", "text_to_word_sequence", "tokenizer_from_json"]
