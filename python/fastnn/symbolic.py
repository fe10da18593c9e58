"""The symbolic graph of the functional API: KerasTensor (a shape with the node that made it)
and Node (one call of a layer on symbolic inputs).

``fastnn.layers.Input(shape)`` returns a KerasTensor; calling a layer on KerasTensors records a
Node and returns new KerasTensors; ``fastnn.models.Model(inputs, outputs)`` walks the nodes back
from the outputs and runs them in order on real tensors. Arithmetic on KerasTensors
(``x + y``, ``2 * x``, ``x.mean()``) records an op layer, so it shows in the graph and runs too.
The batch dimension is None.

Example::

    x = fastnn.layers.Input(shape=(3,))
    y = fastnn.layers.Dense(2)(x) * 2.0
    y.shape        # (None, 2)
"""

from __future__ import annotations

import itertools
from typing import Any

__all__ = ["KerasTensor", "Node", "flatten", "pack_like", "is_symbolic"]

_node_ids = itertools.count()


class KerasTensor:
    """A symbolic tensor: shape (None for unknown sizes, the batch first), dtype, and its history
    (the layer, the index of the node in ``layer._inbound_nodes``, the output index)."""

    __slots__ = ("shape", "dtype", "name", "_history", "__weakref__")

    def __init__(self, shape, dtype: str = "float32", name: str | None = None, history=None):
        self.shape = tuple(None if s is None else int(s) for s in shape)
        self.dtype = str(dtype)
        self.name = name
        self._history = history  # (layer, node_index, tensor_index)

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def node(self) -> Node | None:
        if self._history is None:
            return None
        layer, ni, _ = self._history
        return layer._inbound_nodes[ni]

    def __repr__(self) -> str:
        src = f", name={self.name}" if self.name else ""
        return f"<KerasTensor shape={self.shape}, dtype={self.dtype}{src}>"

    def __len__(self):
        raise TypeError("a symbolic tensor has no length; use .shape")

    def __bool__(self):
        raise TypeError("a symbolic tensor cannot be used as a Python boolean")

    __hash__ = object.__hash__

    # arithmetic records an op layer (fastnn.layers.core.TensorOp)
    def _op(self, op: str, other: Any = None, reverse: bool = False, **kw):
        from .layers.core import TensorOp

        if other is None:
            return TensorOp(op, **kw)(self)
        if isinstance(other, KerasTensor):
            return TensorOp(op, **kw)([other, self] if reverse else [self, other])
        return TensorOp(op, constant=other, reverse=reverse, **kw)(self)

    def __add__(self, o):
        return self._op("add", o)

    def __radd__(self, o):
        return self._op("add", o, True)

    def __sub__(self, o):
        return self._op("subtract", o)

    def __rsub__(self, o):
        return self._op("subtract", o, True)

    def __mul__(self, o):
        return self._op("multiply", o)

    def __rmul__(self, o):
        return self._op("multiply", o, True)

    def __truediv__(self, o):
        return self._op("divide", o)

    def __rtruediv__(self, o):
        return self._op("divide", o, True)

    def __pow__(self, o):
        return self._op("power", o)

    def __neg__(self):
        return self._op("negative")

    def __abs__(self):
        return self._op("abs")

    def __matmul__(self, o):
        return self._op("matmul", o)

    def square(self):
        return self._op("square")

    def exp(self):
        return self._op("exp")

    def log(self):
        return self._op("log")

    def sqrt(self):
        return self._op("sqrt")

    def abs(self):
        return self._op("abs")

    def sum(self, axis=None, keepdims: bool = False):
        return self._op("sum", axis=axis, keepdims=keepdims)

    def mean(self, axis=None, keepdims: bool = False):
        return self._op("mean", axis=axis, keepdims=keepdims)

    def max(self, axis=None, keepdims: bool = False):
        return self._op("max", axis=axis, keepdims=keepdims)

    def min(self, axis=None, keepdims: bool = False):
        return self._op("min", axis=axis, keepdims=keepdims)


class Node:
    """One call of `layer` on symbolic inputs: the input structure as passed, its flat
    KerasTensors, the outputs, and the non-tensor call arguments."""

    __slots__ = ("layer", "inputs", "flat_inputs", "outputs", "flat_outputs", "kwargs", "id")

    def __init__(self, layer, inputs, outputs, kwargs: dict):
        self.layer = layer
        self.inputs = inputs
        self.flat_inputs = [t for t in flatten(inputs) if isinstance(t, KerasTensor)]
        self.outputs = outputs
        self.flat_outputs = flatten(outputs)
        self.kwargs = kwargs
        self.id = next(_node_ids)
        layer._inbound_nodes.append(self)
        ni = len(layer._inbound_nodes) - 1
        for i, t in enumerate(self.flat_outputs):
            t._history = (layer, ni, i)

    @property
    def parent_nodes(self) -> list[Node]:
        return [t.node for t in self.flat_inputs if t.node is not None]

    @property
    def is_input(self) -> bool:
        return not self.flat_inputs


def is_symbolic(x: Any) -> bool:
    return any(isinstance(t, KerasTensor) for t in flatten(x))


def flatten(x: Any) -> list:
    """Leaves of nested lists, tuples and dicts (dicts in key order as given)."""
    if isinstance(x, (list, tuple)):
        out = []
        for v in x:
            out.extend(flatten(v))
        return out
    if isinstance(x, dict):
        out = []
        for v in x.values():
            out.extend(flatten(v))
        return out
    return [x]


def pack_like(structure: Any, flat: list) -> Any:
    """Rebuild `structure` with the leaves taken in order from `flat`."""
    it = iter(flat)

    def rec(s):
        if isinstance(s, list):
            return [rec(v) for v in s]
        if isinstance(s, tuple):
            return tuple(rec(v) for v in s)
        if isinstance(s, dict):
            return {k: rec(v) for k, v in s.items()}
        return next(it)

    return rec(structure)
