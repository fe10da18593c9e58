"""fastnn.Variable: a trainable Tensor that a layer owns (a weight), with a name.

A Variable is a leaf Tensor with ``requires_grad=True`` while it is trainable. The training
loop decides per compiled model which variables it updates (see fastnn.models.Model.compile),
so ``trainable`` here is the layer-level flag that compile reads.

Example::

    v = fastnn.Variable(np.zeros((3, 2), np.float32), name="kernel")
    v.shape, v.trainable     # (3, 2), True
    v.assign(np.ones((3, 2), np.float32))
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .tensor import Tensor, float32

__all__ = ["Variable"]


class Variable(Tensor):
    """A named weight Tensor.

    Args:
        value: initial value (array-like or Tensor); it is copied unless it is already a
            float32 C-contiguous NumPy array or a Tensor that nothing else will write to.
        name: the weight's name ('kernel', 'bias', ...); `path` adds the owning layer's name.
        trainable: whether optimizers may update it.
        regularizer: a callable giving a penalty (added to the owning layer's losses).
        constraint: a callable projecting the value (fastnn.constraints); the optimizers apply
            it in place after each update of the variable.

    Example::

        w = fastnn.Variable(fastnn.zeros(4), name="bias")
        w.numpy()[:] = 1.0       # in place, shared with the tensor
    """

    __slots__ = ("name", "_trainable", "regularizer", "constraint", "path")

    def __init__(
        self,
        value: Any,
        name: str = "variable",
        trainable: bool = True,
        regularizer=None,
        dtype=None,
        constraint=None,
    ):
        if isinstance(value, Tensor):
            super().__init__(value, dtype=dtype, device=value.device)
        else:
            super().__init__(value, dtype=dtype)
        self.name = str(name)
        self.path = self.name
        self.regularizer = regularizer
        if constraint is not None and not callable(constraint):
            raise TypeError(f"constraint of variable '{self.name}' must be callable, got constraint={constraint!r}")
        self.constraint = constraint
        self._trainable = bool(trainable)
        self.requires_grad = bool(trainable) and self.dtype == float32

    @property
    def trainable(self) -> bool:
        return self._trainable

    @trainable.setter
    def trainable(self, value: bool) -> None:
        self._trainable = bool(value)

    @property
    def value(self) -> Tensor:
        """The current value as a plain Tensor sharing the storage (no graph). Its ``grad`` is
        the variable's gradient at the time of the call, so Keras's torch-backend idiom
        ``[v.value.grad for v in model.trainable_weights]`` works."""
        t = Tensor._wrap(self._data)
        t.grad = self.grad
        return t

    def assign(self, value: Any) -> Variable:
        """Overwrite the values in place (shape must match)."""
        src = value.numpy() if isinstance(value, Tensor) else np.asarray(value)
        if tuple(src.shape) != self.shape:
            raise ValueError(
                f"cannot assign a value of shape {tuple(src.shape)} to variable '{self.path}' of shape {self.shape}"
            )
        if isinstance(self._data, np.ndarray):
            np.copyto(self._data, src, casting="same_kind" if src.dtype.kind == "f" else "unsafe")
        else:
            from . import _C

            self._data = _C.to_device(np.ascontiguousarray(src, dtype=self.dtype))
        return self

    def __repr__(self) -> str:
        return f"<Variable path={self.path}, shape={self.shape}, dtype={self.dtype}, trainable={self._trainable}>"
