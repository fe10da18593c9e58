"""Activation functions by their Keras names: ``get('relu')`` returns the functional op.

Example::

    act = fastnn.activations.get("softmax")
    y = act(fastnn.randn(2, 3))
    fastnn.activations.serialize(act)   # 'softmax'
"""

from __future__ import annotations

from typing import Any, Callable

from . import functional as F
from .tensor import Tensor

__all__ = ["get", "serialize", "deserialize"] + [
    "relu",
    "sigmoid",
    "softmax",
    "log_softmax",
    "tanh",
    "linear",
    "elu",
    "selu",
    "gelu",
    "softplus",
    "softsign",
    "swish",
    "silu",
    "hard_sigmoid",
    "leaky_relu",
    "relu6",
    "exponential",
]

relu, sigmoid, tanh, linear, elu, selu, gelu = F.relu, F.sigmoid, F.tanh, F.linear, F.elu, F.selu, F.gelu
softplus, swish, silu, hard_sigmoid, leaky_relu, relu6 = (
    F.softplus,
    F.swish,
    F.silu,
    F.hard_sigmoid,
    F.leaky_relu,
    F.relu6,
)


def softmax(x: Tensor, axis: int = -1) -> Tensor:
    """Softmax over `axis` (the last by default)."""
    return F.softmax(x, axis)


def log_softmax(x: Tensor, axis: int = -1) -> Tensor:
    return F.log_softmax(x, axis)


def softsign(x: Tensor) -> Tensor:
    """x / (1 + |x|)."""
    return x / (F.abs(x) + 1.0)


def exponential(x: Tensor) -> Tensor:
    return F.exp(x)


_BY_NAME: dict[str, Callable] = {
    "relu": relu,
    "sigmoid": sigmoid,
    "softmax": softmax,
    "log_softmax": log_softmax,
    "tanh": tanh,
    "linear": linear,
    "elu": elu,
    "selu": selu,
    "gelu": gelu,
    "softplus": softplus,
    "softsign": softsign,
    "swish": swish,
    "silu": swish,
    "hard_sigmoid": hard_sigmoid,
    "leaky_relu": leaky_relu,
    "relu6": relu6,
    "exponential": exponential,
}
_NAME_OF = {id(fn): name for name, fn in _BY_NAME.items() if name != "silu"}


def get(identifier: Any) -> Callable:
    """The activation function for a Keras name, None ('linear') or a callable."""
    if identifier is None:
        return linear
    if isinstance(identifier, str):
        fn = _BY_NAME.get(identifier.lower())
        if fn is None:
            raise ValueError(f"unknown activation {identifier!r}; known: {sorted(_BY_NAME)}")
        return fn
    if isinstance(identifier, dict) and "class_name" in identifier:
        return get(identifier["class_name"])
    if callable(identifier):
        return identifier
    raise TypeError(f"cannot interpret {identifier!r} as an activation function")


def serialize(fn: Callable) -> str:
    """The Keras name of a built-in activation; the function's __name__ for others."""
    name = _NAME_OF.get(id(fn))
    if name is not None:
        return name
    return getattr(fn, "__name__", repr(fn))


deserialize = get
