"""fastnn.models: Sequential and the functional Model, with the training loop.

Example::

    from fastnn import layers, models
    model = models.Sequential([layers.Input((4,)), layers.Dense(3, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
"""

from .model import Model
from .sequential import Sequential

Functional = Model

__all__ = ["Model", "Sequential", "Functional"]
