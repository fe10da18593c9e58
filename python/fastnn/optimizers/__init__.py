"""Optimizers with Keras 3 names, defaults and update rules; each update is one fused in-place
C++ (or CUDA) kernel call per variable (csrc/kernels/optim.h).

Example::

    import fastnn
    from fastnn import optimizers

    w = fastnn.randn(10, 3, requires_grad=True)
    opt = optimizers.get("adam")                  # or optimizers.Adam(learning_rate=1e-3)
    for _ in range(100):
        w.grad = None
        (w * w).sum().backward()
        opt.apply_gradients([(w.grad, w)])
"""

from __future__ import annotations

from typing import Any

from . import schedules
from .adadelta import Adadelta
from .adagrad import Adagrad
from .adam import Adam, AdamW
from .adamax import Adamax
from .base import Optimizer
from .nadam import Nadam
from .rmsprop import RMSprop
from .sgd import SGD

__all__ = [
    "Optimizer",
    "schedules",
    "SGD",
    "Adagrad",
    "RMSprop",
    "Adam",
    "AdamW",
    "Adamax",
    "Nadam",
    "Adadelta",
    "get",
    "serialize",
    "deserialize",
]

# Names accepted by get(): lower-cased class names (Keras accepts 'adam', 'Adam', 'sgd', ...).
_CLASSES: dict[str, type[Optimizer]] = {
    c.__name__.lower(): c for c in (SGD, Adagrad, RMSprop, Adam, AdamW, Adamax, Nadam, Adadelta)
}


def serialize(optimizer: Optimizer) -> dict:
    """``{"class_name": ..., "config": ...}`` of an optimizer (Keras layout)."""
    if not isinstance(optimizer, Optimizer):
        raise TypeError(f"serialize expects an Optimizer, got {type(optimizer).__name__}")
    return {"class_name": type(optimizer).__name__, "config": optimizer.get_config()}


def deserialize(config: dict, custom_objects: dict | None = None) -> Optimizer:
    """An optimizer from ``serialize``'s dict (`custom_objects` maps extra class names)."""
    if not isinstance(config, dict) or "class_name" not in config:
        raise ValueError(f"an optimizer config must be a dict with 'class_name' and 'config', got {config!r}")
    name = config["class_name"]
    cls = (custom_objects or {}).get(name) or _CLASSES.get(str(name).lower())
    if cls is None:
        raise ValueError(f"unknown optimizer {name!r}: expected one of {sorted(_CLASSES)}")
    return cls.from_config(config.get("config", {}), custom_objects=custom_objects)


def get(identifier: Any) -> Optimizer:
    """An optimizer from a name ('sgd', 'adam', ...: default arguments), a config dict
    (``serialize``'s layout) or an Optimizer instance (returned as it is).

    Example::

        optimizers.get("rmsprop")
        optimizers.get({"class_name": "SGD", "config": {"learning_rate": 0.1, "momentum": 0.9}})
    """
    if isinstance(identifier, Optimizer):
        return identifier
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if isinstance(identifier, str):
        cls = _CLASSES.get(identifier.lower())
        if cls is None:
            raise ValueError(f"unknown optimizer {identifier!r}: expected one of {sorted(_CLASSES)}")
        return cls()
    raise ValueError(f"could not interpret optimizer identifier: {identifier!r}")
