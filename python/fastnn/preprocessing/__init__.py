"""fastnn.preprocessing: the Keras 2 preprocessing utilities that tutorials still use
(``image.ImageDataGenerator``). Keras 3 replaced them with preprocessing layers
(fastnn.layers.RandomFlip, RandomRotation, ...).

Example::

    from fastnn.preprocessing.image import ImageDataGenerator
    gen = ImageDataGenerator(rotation_range=10, horizontal_flip=True)
    model.fit(gen.flow(x_train, y_train, batch_size=32), epochs=5)
"""

from . import image

__all__ = ["image"]
