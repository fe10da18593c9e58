"""Weight regularizers with Keras scaling: L1 (l1 * sum|w|), L2 (l2 * sum w^2), L1L2.

A regularizer is a callable on a Tensor returning a scalar Tensor (differentiable); layers add
it to their ``losses``, and the training loop adds ``model.losses`` to the loss it minimises.

Example::

    layer = fastnn.layers.Dense(8, kernel_regularizer=fastnn.regularizers.L2(1e-4))
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from .tensor import Tensor

__all__ = ["Regularizer", "L1", "L2", "L1L2", "l1", "l2", "l1_l2", "get", "serialize", "deserialize"]


def _factor(value, name: str) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a number, got {name}={value!r}") from None
    if v < 0 or v != v:
        raise ValueError(f"{name} must be a non-negative number, got {name}={value!r}")
    return v


class Regularizer:
    """Base class: ``__call__(x) -> scalar Tensor`` and ``get_config``.

    Example::

        class Max(fastnn.regularizers.Regularizer):
            def __call__(self, x):
                return x.abs().max() * 0.1

        fastnn.layers.Dense(3, kernel_regularizer=Max())
    """

    def __call__(self, x: Tensor) -> Tensor:  # pragma: no cover - abstract
        raise NotImplementedError

    def get_config(self) -> dict:
        return {}

    @classmethod
    def from_config(cls, config: dict) -> Regularizer:
        return cls(**config)


class L1L2(Regularizer):
    """l1 * sum(|x|) + l2 * sum(x^2) (Keras 3 defaults 0.0 and 0.0).

    Example::

        reg = fastnn.regularizers.L1L2(l1=1e-5, l2=1e-4)
        reg(fastnn.ones(2, 2)).item()    # 4e-5 + 4e-4
    """

    def __init__(self, l1: float = 0.0, l2: float = 0.0):
        self.l1 = _factor(l1, "l1")
        self.l2 = _factor(l2, "l2")

    def __call__(self, x: Tensor) -> Tensor:
        out = None
        if self.l1:
            out = x.abs().sum() * self.l1
        if self.l2:
            term = x.square().sum() * self.l2
            out = term if out is None else out + term
        if out is None:
            out = (x * 0.0).sum()
        return out

    def get_config(self) -> dict:
        return {"l1": self.l1, "l2": self.l2}


class L1(L1L2):
    """l1 * sum(|x|), default l1 = 0.01.

    Example::

        fastnn.layers.Dense(3, kernel_regularizer=fastnn.regularizers.L1(0.001))
    """

    def __init__(self, l1: float = 0.01):
        super().__init__(l1=l1, l2=0.0)

    def get_config(self) -> dict:
        return {"l1": self.l1}


class L2(L1L2):
    """l2 * sum(x^2), default l2 = 0.01 (Keras scaling: no factor 1/2).

    Example::

        fastnn.layers.Dense(3, kernel_regularizer=fastnn.regularizers.L2(0.001))
    """

    def __init__(self, l2: float = 0.01):
        super().__init__(l1=0.0, l2=l2)

    def get_config(self) -> dict:
        return {"l2": self.l2}


l1, l2, l1_l2 = L1, L2, L1L2
_ALIASES = {"l1": L1, "l2": L2, "l1_l2": L1L2, "l1l2": L1L2}
_CLASSES = {"Regularizer": Regularizer, "L1": L1, "L2": L2, "L1L2": L1L2}


def _known() -> list[str]:
    return sorted(set(_ALIASES) | set(_CLASSES))


def serialize(regularizer: Regularizer | Callable | None) -> dict | None:
    """``{"module", "class_name", "config", "registered_name"}`` of a regularizer (None for
    None), as Keras 3 writes it. Built-ins and Regularizer subclasses are stored by config (a
    custom class must be registered or passed in custom_objects to load); a function is stored
    by name, and a lambda, which has none, is refused when the model is saved."""
    if regularizer is None:
        return None
    from . import saving

    return saving.serialize_object(regularizer)


def deserialize(config: dict, custom_objects: dict | None = None) -> Regularizer | Callable:
    """Rebuild a regularizer from ``serialize``'s dict (built-ins, registered classes and
    functions, or `custom_objects`)."""
    from . import saving

    return saving.deserialize_callable(config, {**_CLASSES, **_ALIASES}, "regularizer", _known, custom_objects)


def get(identifier: Any) -> Regularizer | Callable | None:
    """A regularizer from None, a name ('l2'), a config dict, a class, an instance or a callable."""
    if identifier is None:
        return None
    if isinstance(identifier, Regularizer):
        return identifier
    if isinstance(identifier, str):
        cls = _ALIASES.get(identifier.lower()) or _CLASSES.get(identifier)
        if cls is None:
            raise ValueError(f"unknown regularizer {identifier!r}; known: {sorted(_ALIASES)}")
        return cls()
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if inspect.isclass(identifier):
        return identifier()
    if callable(identifier):
        return identifier
    raise TypeError(f"cannot interpret {identifier!r} as a regularizer (a name, a dict, a Regularizer or a callable)")
