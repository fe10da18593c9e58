"""Weight constraints (Keras 3): projections applied to a weight right after each optimizer step.

A constraint is a callable ``w -> projected w``. Layers take them as ``kernel_constraint``,
``bias_constraint``, ... and store them on the weight (``Variable.constraint``); every optimizer
applies them, in place, after it has updated the variables (``Optimizer.apply``), so they hold
for ``fit``, ``train_on_batch`` and hand-written loops that call ``apply_gradients``.

The built-in constraints compute on the weight's raw storage with fastnn's device-neutral
kernels (CPU or CUDA alike), in float32, with Keras's formulas and epsilon (1e-7); no autograd
graph is recorded.

Example::

    layer = fastnn.layers.Dense(512, activation="relu", kernel_constraint=fastnn.constraints.MaxNorm(3))
    fastnn.constraints.UnitNorm(axis=0)(fastnn.ones(4, 2)).numpy()   # every column has norm 1
"""

from __future__ import annotations

import inspect
import math
import numbers
from collections.abc import Callable, Sequence
from typing import Any, Union

import numpy as np

from . import _C, _raw
from .tensor import Tensor

__all__ = [
    "Constraint",
    "MaxNorm",
    "MinMaxNorm",
    "NonNeg",
    "UnitNorm",
    "max_norm",
    "min_max_norm",
    "non_neg",
    "unit_norm",
    "get",
    "serialize",
    "deserialize",
    "apply_to_variable",
]

# keras.backend.epsilon(): the fuzz factor of the norm divisions.
EPSILON = 1e-7

Axis = Union[int, Sequence[int], None]


def _number(value: Any, name: str, owner: str, *, lo: float | None = None, hi: float | None = None) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or math.isnan(float(value)):
        raise ValueError(f"{owner}: {name} must be a number, got {name}={value!r}")
    v = float(value)
    if (lo is not None and v < lo) or (hi is not None and v > hi):
        lo_s = "-inf" if lo is None else f"{lo:g}"
        hi_s = "inf" if hi is None else f"{hi:g}"
        raise ValueError(f"{owner}: {name} must be in [{lo_s}, {hi_s}], got {name}={value!r}")
    return v


def _check_axis(axis: Any, owner: str) -> Axis:
    """An int, a list of ints, or None (every axis): the form get_config stores."""
    if axis is None:
        return None
    if isinstance(axis, (int, np.integer)) and not isinstance(axis, bool):
        return int(axis)
    if isinstance(axis, (list, tuple)) and axis and all(
        isinstance(a, (int, np.integer)) and not isinstance(a, bool) for a in axis
    ):
        axes = [int(a) for a in axis]
        if len(set(axes)) != len(axes):
            raise ValueError(f"{owner}: axis must not repeat an axis, got axis={axis!r}")
        return axes
    raise ValueError(f"{owner}: axis must be an integer, a non-empty list of integers or None, got axis={axis!r}")


def _axes_for(axis: Axis, shape: tuple, owner: str) -> list[int]:
    """`axis` normalised against a weight of `shape` (negative axes count from the end)."""
    nd = len(shape)
    if axis is None:
        return list(range(nd))
    given = [axis] if isinstance(axis, int) else list(axis)
    out = []
    for a in given:
        if not -nd <= a < nd:
            raise ValueError(f"{owner}: axis={axis!r} is out of range for a weight of shape {tuple(shape)}")
        out.append(a % nd)
    if len(set(out)) != len(out):
        raise ValueError(f"{owner}: axis={axis!r} names an axis twice for a weight of shape {tuple(shape)}")
    return sorted(out)


def _raw_of(w: Any):
    """The raw float32 storage of `w` (a Tensor, a NumPy array or a device array), no copy
    when it already is one."""
    if isinstance(w, Tensor):
        raw = w._data
    elif isinstance(w, _C.DeviceArray):
        raw = w
    else:
        raw = np.asarray(w)
        if raw.dtype.kind not in "fiub":
            raise TypeError(f"a constraint needs a numeric weight, got an array of dtype {raw.dtype}")
        raw = np.ascontiguousarray(raw, dtype=np.float32)
    if raw.dtype != np.float32:
        raise TypeError(f"a constraint needs a float32 weight, got dtype {raw.dtype} of shape {tuple(raw.shape)}")
    return raw


def _like(w: Any, raw):
    """`raw` returned in the kind of container `w` came in."""
    if isinstance(w, Tensor):
        return Tensor._wrap(raw)
    return raw


# The formulas run on NumPy for host weights (its broadcasting loops are the fast ones on the
# CPU, and the final product can be written straight into the weight) and on fastnn's
# device-neutral kernels for CUDA weights; both in float32.
_NP_BINARY = {"add": np.add, "mul": np.multiply, "div": np.divide, "maximum": np.maximum}


def _on_device(value, like):
    return value if isinstance(value, _C.DeviceArray) else _raw.full((), float(value), _raw.device_of(like))


def _copy_into(dst, src) -> None:
    """Copy the raw array `src` into `dst` (same shape), which keeps its identity."""
    if isinstance(dst, np.ndarray):
        np.copyto(dst, src if isinstance(src, np.ndarray) else _C.to_host(src))
        return
    if not isinstance(src, _C.DeviceArray):
        src = _C.to_device(np.ascontiguousarray(src, dtype=np.float32))
    shape = tuple(dst.shape)
    strides = _raw.contiguous_strides(shape)
    _C.strided_copy(dst, 0, strides, src, 0, strides, shape)


def _binary(op: str, a, b, like, out=None):
    """a op b (broadcasting; a Python float is a scalar); written into `out` when given."""
    if isinstance(like, np.ndarray):
        a = np.float32(a) if isinstance(a, float) else a
        b = np.float32(b) if isinstance(b, float) else b
        return _NP_BINARY[op](a, b) if out is None else _NP_BINARY[op](a, b, out=out)
    r = _C.binary_forward(_raw.BINARY[op], _on_device(a, like), _on_device(b, like))
    if out is None:
        return r
    _copy_into(out, r)
    return out


def _clip(a, lo: float, hi: float):
    if isinstance(a, np.ndarray):
        return np.clip(a, np.float32(lo), np.float32(hi))
    return _C.unary_forward(_raw.UNARY["clip"], a, lo, hi)


def _norms(raw, axes: list[int]):
    """sqrt(sum(w^2, axes, keepdims=True)), as Keras computes it."""
    if isinstance(raw, np.ndarray):
        return np.sqrt(np.sum(np.square(raw), axis=tuple(axes), keepdims=True))
    sq = _C.unary_forward(_raw.UNARY["square"], raw)
    return _C.unary_forward(_raw.UNARY["sqrt"], _raw.reduce("sum", sq, axes, keepdims=True))


def _rescale(raw, norms, desired, out=None):
    """w * (desired / (epsilon + norms)), Keras's order of operations."""
    factor = _binary("div", desired, _binary("add", EPSILON, norms, raw), raw)
    return _binary("mul", raw, factor, raw, out)


class Constraint:
    """Base class of weight constraints: ``__call__(w)`` returns the projected weight.

    Subclasses override ``__call__`` (and ``get_config`` when they take arguments). ``w`` is the
    weight as a fastnn Tensor (no gradient is recorded); the result may be a Tensor or an array
    of the same shape. The base class returns `w` unchanged.

    Example::

        class Clip(fastnn.constraints.Constraint):
            def __init__(self, c=1.0):
                self.c = c

            def __call__(self, w):
                return fastnn.clip(w, -self.c, self.c)

            def get_config(self):
                return {"c": self.c}

        fastnn.layers.Dense(4, kernel_constraint=Clip(0.5))
    """

    def __call__(self, w: Any) -> Any:
        return w

    def get_config(self) -> dict:
        """The constructor arguments (JSON-serialisable)."""
        return {}

    @classmethod
    def from_config(cls, config: dict) -> Constraint:
        return cls(**config)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


class _RawConstraint(Constraint):
    """A built-in constraint: ``_project(raw, out=None) -> raw`` on the raw storage (the result
    written into `out` when given: the optimizers pass the weight itself), wrapped by __call__."""

    def _project(self, raw, out=None):  # pragma: no cover - abstract
        raise NotImplementedError

    def __call__(self, w: Any) -> Any:
        raw = _raw_of(w)
        if raw.size == 0:
            return w
        return _like(w, self._project(raw))


class MaxNorm(_RawConstraint):
    """Scales each weight vector along `axis` down to an L2 norm of at most `max_value`
    (``w * clip(norm, 0, max_value) / (epsilon + norm)``, Keras's formula).

    Args:
        max_value: the largest norm allowed (>= 0); 2 by default.
        axis: the axis (or list of axes) the norms run over: 0 for a Dense kernel
            (input_dim, units) bounds the incoming weights of each unit; [0, 1, 2] for a Conv2D
            kernel (rows, cols, in_channels, filters) bounds each filter; None the whole weight.

    Example::

        layer = fastnn.layers.Dense(512, kernel_constraint=fastnn.constraints.MaxNorm(3))
        fastnn.constraints.MaxNorm(1.0)(fastnn.tensor([[3.0], [4.0]])).numpy()   # [[0.6], [0.8]]
    """

    def __init__(self, max_value: float = 2.0, axis: Axis = 0):
        self.max_value = _number(max_value, "max_value", "MaxNorm", lo=0.0)
        self.axis = _check_axis(axis, "MaxNorm")

    def _project(self, raw, out=None):
        norms = _norms(raw, _axes_for(self.axis, raw.shape, "MaxNorm"))
        return _rescale(raw, norms, _clip(norms, 0.0, self.max_value), out)

    def get_config(self) -> dict:
        return {"max_value": self.max_value, "axis": self.axis}


class MinMaxNorm(_RawConstraint):
    """Moves the L2 norm of each weight vector along `axis` into [min_value, max_value]:
    ``w * desired / (epsilon + norm)`` with
    ``desired = rate * clip(norm, min_value, max_value) + (1 - rate) * norm`` (Keras's formula).

    Args:
        min_value: the smallest norm (>= 0); 0 by default.
        max_value: the largest norm (>= min_value); 1 by default.
        rate: in [0, 1]; 1 enforces the bounds at each step, smaller values move the norms
            towards the interval gradually.
        axis: as MaxNorm's.

    Example::

        c = fastnn.constraints.MinMaxNorm(min_value=1.0, max_value=2.0)
        fastnn.layers.Conv2D(8, 3, kernel_constraint=fastnn.constraints.MinMaxNorm(0.5, 1.0, axis=[0, 1, 2]))
    """

    def __init__(self, min_value: float = 0.0, max_value: float = 1.0, rate: float = 1.0, axis: Axis = 0):
        self.min_value = _number(min_value, "min_value", "MinMaxNorm", lo=0.0)
        self.max_value = _number(max_value, "max_value", "MinMaxNorm", lo=0.0)
        if self.max_value < self.min_value:
            raise ValueError(
                f"MinMaxNorm: max_value must be >= min_value, got min_value={min_value!r}, max_value={max_value!r}"
            )
        self.rate = _number(rate, "rate", "MinMaxNorm", lo=0.0, hi=1.0)
        self.axis = _check_axis(axis, "MinMaxNorm")

    def _project(self, raw, out=None):
        norms = _norms(raw, _axes_for(self.axis, raw.shape, "MinMaxNorm"))
        clipped = _clip(norms, self.min_value, self.max_value)
        desired = _binary(
            "add", _binary("mul", self.rate, clipped, raw), _binary("mul", 1.0 - self.rate, norms, raw), raw
        )
        return _rescale(raw, norms, desired, out)

    def get_config(self) -> dict:
        return {"min_value": self.min_value, "max_value": self.max_value, "rate": self.rate, "axis": self.axis}


class NonNeg(_RawConstraint):
    """Clamps the weights at zero from below: ``maximum(w, 0)``.

    Example::

        fastnn.constraints.NonNeg()(fastnn.tensor([-1.0, 2.0])).numpy()   # [0, 2]
        fastnn.layers.Dense(4, kernel_constraint="non_neg")
    """

    def _project(self, raw, out=None):
        return _binary("maximum", raw, 0.0, raw, out)


class UnitNorm(_RawConstraint):
    """Scales each weight vector along `axis` to unit L2 norm: ``w / (epsilon + norm)``.

    Args:
        axis: as MaxNorm's (0 by default).

    Example::

        fastnn.constraints.UnitNorm()(fastnn.tensor([[3.0], [4.0]])).numpy()   # [[0.6], [0.8]]
    """

    def __init__(self, axis: Axis = 0):
        self.axis = _check_axis(axis, "UnitNorm")

    def _project(self, raw, out=None):
        norms = _norms(raw, _axes_for(self.axis, raw.shape, "UnitNorm"))
        return _binary("div", raw, _binary("add", EPSILON, norms, raw), raw, out)

    def get_config(self) -> dict:
        return {"axis": self.axis}


# Keras 3's snake_case spellings are the classes themselves.
max_norm, min_max_norm, non_neg, unit_norm = MaxNorm, MinMaxNorm, NonNeg, UnitNorm

_CLASSES: dict[str, type] = {c.__name__: c for c in (Constraint, MaxNorm, MinMaxNorm, NonNeg, UnitNorm)}
_ALIASES: dict[str, type] = {
    "constraint": Constraint,
    "max_norm": MaxNorm,
    "min_max_norm": MinMaxNorm,
    "non_neg": NonNeg,
    "unit_norm": UnitNorm,
}


def _known() -> list[str]:
    return sorted(set(_ALIASES) | set(_CLASSES))


def serialize(constraint: Constraint | None) -> dict | None:
    """``{"class_name", "config", ...}`` of a constraint (None for None); a function (which
    has no config) is stored by name and must be registered or passed in custom_objects to load."""
    if constraint is None:
        return None
    from . import saving

    return saving.serialize_object(constraint)


def deserialize(config: dict, custom_objects: dict | None = None) -> Constraint | Callable:
    """Rebuild a constraint from ``serialize``'s dict (built-ins, registered classes or
    `custom_objects`)."""
    from . import saving

    return saving.deserialize_callable(config, {**_CLASSES, **_ALIASES}, "constraint", _known, custom_objects)


def get(identifier: Any) -> Constraint | Callable | None:
    """A constraint from None, a name ('max_norm', 'MaxNorm', ...), a config dict, a class, an
    instance or a callable."""
    if identifier is None:
        return None
    if isinstance(identifier, Constraint):
        return identifier
    if isinstance(identifier, str):
        cls = _ALIASES.get(identifier) or _CLASSES.get(identifier)
        if cls is None:
            raise ValueError(f"Could not interpret constraint identifier {identifier!r}; known: {_known()}")
        return cls()
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if inspect.isclass(identifier):
        return identifier()
    if callable(identifier):
        return identifier
    raise TypeError(f"Could not interpret constraint identifier {identifier!r} (a name, a dict, a Constraint or "
                    "a callable)")


def apply_to_variable(variable: Tensor, constraint: Any = None) -> None:
    """Project `variable` in place with `constraint` (default: ``variable.constraint``), as the
    optimizers do after each step (Keras: ``variable.assign(variable.constraint(variable))``)."""
    from .autograd import no_grad

    c = constraint if constraint is not None else getattr(variable, "constraint", None)
    if c is None or variable.size == 0:
        return
    if isinstance(c, _RawConstraint):
        c._project(variable._data, out=variable._data)
        return
    with no_grad():
        out = c(Tensor._wrap(variable._data))
    if out is None:
        raise ValueError(f"constraint {c!r} of variable '{getattr(variable, 'path', '?')}' returned None")
    if isinstance(out, Tensor):
        new = out._data
    elif isinstance(out, _C.DeviceArray):
        new = out
    else:
        new = np.asarray(out, dtype=np.float32)
    if tuple(new.shape) != tuple(variable.shape):
        raise ValueError(
            f"constraint {c!r} of variable '{getattr(variable, 'path', '?')}' returned a value of shape "
            f"{tuple(new.shape)} for a variable of shape {tuple(variable.shape)}"
        )
    if new is not variable._data:
        _copy_into(variable._data, new)
