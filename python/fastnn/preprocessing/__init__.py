"""fastnn.preprocessing: the Keras 2 preprocessing utilities that tutorials still use:
``image.ImageDataGenerator`` (Keras 3 replaced it with preprocessing layers:
fastnn.layers.RandomFlip, RandomRotation, ...), and the sequence and text utilities
(``pad_sequences``, ``Tokenizer``; Keras 3 keeps only ``keras.utils.pad_sequences`` and removed
the Tokenizer; these follow keras-preprocessing's behaviour exactly).

Example::

    from fastnn.preprocessing.image import ImageDataGenerator
    gen = ImageDataGenerator(rotation_range=10, horizontal_flip=True)
    model.fit(gen.flow(x_train, y_train, batch_size=32), epochs=5)

    from fastnn.preprocessing.text import Tokenizer
    from fastnn.preprocessing.sequence import pad_sequences
    tok = Tokenizer(num_words=1000, oov_token="<OOV>")
    tok.fit_on_texts(["the cat sat", "the dog sat down"])
    x = pad_sequences(tok.texts_to_sequences(["the cat ran"]), maxlen=5)   # [[0 0 2 4 1]]
"""

from . import image, sequence, text
from .sequence import pad_sequences
from .text import Tokenizer, text_to_word_sequence, tokenizer_from_json

__all__ = ["image", "sequence", "text", "pad_sequences", "Tokenizer", "text_to_word_sequence",
           "tokenizer_from_json"]
