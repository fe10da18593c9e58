"""fastnn.models: Sequential and the functional Model, with the training loop.

Example::

    from fastnn import layers, models
    model = models.Sequential([layers.Input((4,)), layers.Dense(3, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
"""

from .cloning import clone_model
from .model import Model
from .sequential import Sequential

Functional = Model


def load_model(filepath, custom_objects: dict | None = None, compile: bool = True, safe_mode: bool = True,
               *, signing_key: bytes | str | None = None):
    """A model saved with ``model.save``: its architecture, weights and compile settings. With
    ``signing_key``, ValueError unless the file is signed with that key (``model.save(...,
    signing_key=...)``) and unchanged since."""
    from .. import saving

    return saving.load_model(filepath, custom_objects=custom_objects, compile=compile, safe_mode=safe_mode,
                             signing_key=signing_key)


def model_from_json(json_string: str, custom_objects: dict | None = None):
    """A new (untrained) model from ``model.to_json()``."""
    from .. import saving

    return saving.model_from_json(json_string, custom_objects=custom_objects)


__all__ = ["Model", "Sequential", "Functional", "clone_model", "load_model", "model_from_json"]
