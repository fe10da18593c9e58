"""fastnn.Tensor: a contiguous float32 (or int64) array on a device, with autograd.

CPU tensors keep a C-contiguous NumPy array as their storage and share it both ways:
``fastnn.tensor(a)`` of a float32 C-contiguous array and ``t.numpy()`` / ``np.asarray(t)`` make
no copy. CUDA tensors keep a ``_C.DeviceArray``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from . import _C, _raw, autograd

float32 = np.dtype("float32")
int64 = np.dtype("int64")

_DTYPES = {"float32": float32, "int64": int64}


def _as_dtype(dtype) -> np.dtype | None:
    if dtype is None:
        return None
    try:
        dt = np.dtype(dtype)
    except TypeError:
        raise TypeError(f"unknown dtype {dtype!r}: fastnn tensors are float32 or int64") from None
    if dt not in (float32, int64):
        raise TypeError(f"unsupported dtype {dt}: fastnn tensors are float32 or int64")
    return dt


def _check_device(device) -> str:
    if device is None:
        return "cpu"
    dev = str(device)
    if dev.startswith("cuda"):
        return "cuda"
    if dev != "cpu":
        raise ValueError(f"unknown device {device!r}: expected 'cpu' or 'cuda'")
    return dev


def _to_array(data, dtype: np.dtype | None) -> np.ndarray:
    """Convert Python data to a C-contiguous float32/int64 array; float32 C-contiguous arrays
    (and int64 ones) are returned as they are, sharing memory."""
    if isinstance(data, np.ndarray):
        arr = data
    else:
        try:
            arr = np.asarray(data)
        except ValueError as e:
            raise ValueError(f"cannot build a tensor from ragged nested sequences: {e}") from None
    kind = arr.dtype.kind
    if kind == "O":
        raise TypeError(
            "cannot build a tensor from an object array (ragged lists or non-numeric items?)"
        )
    if kind == "c":
        raise TypeError(f"complex data is not supported (dtype {arr.dtype})")
    if kind not in "fiub":
        raise TypeError(f"cannot build a tensor from data of dtype {arr.dtype}")
    if dtype is None:
        dtype = int64 if kind in "iu" else float32
    if arr.dtype != dtype or not arr.flags.c_contiguous:
        arr = np.ascontiguousarray(arr, dtype=dtype)
    return arr


class Tensor:
    """A multi-dimensional array with reverse-mode automatic differentiation.

    Args:
        data: a NumPy array, nested lists or a number. A float32 C-contiguous array is shared,
            not copied.
        requires_grad: record operations on this tensor so that ``backward`` fills ``.grad``.

    Example::

        x = fastnn.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
        y = (x * x).sum()
        y.backward()
        x.grad.numpy()   # [[2, 4], [6, 8]]
    """

    # _keras_mask: the (batch, time) mask a masking layer attached (fastnn.layers.Layer.compute_mask)
    __slots__ = ("_data", "requires_grad", "grad", "_node", "_out_index", "_retains_grad", "_keras_mask", "__weakref__")
    __array_priority__ = 1000  # numpy_array + tensor dispatches to Tensor.__radd__

    def __init__(self, data: Any = None, requires_grad: bool = False, dtype=None, device=None):
        dev = _check_device(device)
        if isinstance(data, Tensor):
            raw = data._data
        elif isinstance(data, _C.DeviceArray):
            raw = data
        else:
            raw = _to_array(data if data is not None else [], _as_dtype(dtype))
        if dev == "cuda" and isinstance(raw, np.ndarray):
            raw = _C.to_device(raw)
        elif dev == "cpu" and not isinstance(raw, np.ndarray):
            raw = _C.to_host(raw)
        self._data = raw
        self.grad: Tensor | None = None
        self._node = None
        self._out_index = 0
        self._retains_grad = False
        self._keras_mask = None
        self.requires_grad = False
        if requires_grad:
            self.requires_grad_(True)

    @classmethod
    def _wrap(cls, raw) -> Tensor:
        """A Tensor around raw storage, without checks (internal)."""
        t = cls.__new__(cls)
        t._data = raw
        t.requires_grad = False
        t.grad = None
        t._node = None
        t._out_index = 0
        t._retains_grad = False
        t._keras_mask = None
        return t

    # ------------------------------------------------------------------ metadata
    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self._data.shape)

    @property
    def ndim(self) -> int:
        return len(self._data.shape)

    @property
    def size(self) -> int:
        """Number of elements (as NumPy's ``ndarray.size``)."""
        return math.prod(self._data.shape)

    def numel(self) -> int:
        return self.size

    def dim(self) -> int:
        return self.ndim

    @property
    def dtype(self) -> np.dtype:
        dt = self._data.dtype
        return dt if isinstance(dt, np.dtype) else _DTYPES[dt]  # DeviceArray.dtype is a name

    @property
    def device(self) -> str:
        return "cpu" if isinstance(self._data, np.ndarray) else "cuda"

    @property
    def is_leaf(self) -> bool:
        return self._node is None

    @property
    def grad_fn(self):
        return self._node

    def __len__(self) -> int:
        if self.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.shape[0]

    def __repr__(self) -> str:
        body = np.array2string(self.numpy(), separator=", ", prefix="tensor(")
        extra = ""
        if self.device != "cpu":
            extra += f", device='{self.device}'"
        if self.dtype != float32:
            extra += f", dtype={self.dtype}"
        if self._node is not None:
            extra += f", grad_fn=<{self._node.name}>"
        elif self.requires_grad:
            extra += ", requires_grad=True"
        return f"tensor({body}{extra})"

    # ------------------------------------------------------------------ autograd
    def requires_grad_(self, flag: bool = True) -> Tensor:
        if flag and self.dtype != float32:
            raise TypeError(f"only float32 tensors can require gradients, got {self.dtype}")
        if not flag and self._node is not None:
            raise RuntimeError("requires_grad can only be turned off on leaf tensors; use detach()")
        self.requires_grad = bool(flag)
        return self

    def retain_grad(self) -> None:
        """Keep ``.grad`` on this non-leaf tensor after backward."""
        self._retains_grad = True

    def backward(self, grad: Tensor | np.ndarray | None = None, retain_graph: bool = False) -> None:
        """Accumulate the gradient of this tensor into the ``.grad`` of every leaf.

        Args:
            grad: the upstream gradient, with this tensor's shape. May be omitted only for a
                tensor with one element (the gradient is then 1).
            retain_graph: keep the saved arrays so that backward can run again.
        """
        if not self.requires_grad:
            raise RuntimeError("backward() on a tensor that does not require grad and has no grad_fn")
        if grad is None:
            if self.size != 1:
                raise RuntimeError(
                    f"grad can be implicitly created only for tensors with one element; this one "
                    f"has shape {self.shape}: pass backward(grad) with that shape"
                )
            g = _raw.full(self.shape, 1.0, self.device)
        else:
            g = grad._data if isinstance(grad, Tensor) else _to_array(grad, float32)
            if tuple(g.shape) != self.shape:
                raise ValueError(f"backward: grad has shape {tuple(g.shape)} but the tensor has shape {self.shape}")
            if self.device == "cuda" and isinstance(g, np.ndarray):
                g = _C.to_device(g)
        autograd.backward([self], [g], retain_graph=retain_graph)

    def detach(self) -> Tensor:
        """A tensor sharing this one's storage, cut from the graph."""
        return Tensor._wrap(self._data)

    def zero_grad(self) -> None:
        self.grad = None

    # ------------------------------------------------------------------ conversion
    def numpy(self) -> np.ndarray:
        """The data as a NumPy array: shared with the tensor on the CPU, a copy from CUDA."""
        if isinstance(self._data, np.ndarray):
            return self._data
        return _C.to_host(self._data)

    def __array__(self, dtype=None, copy=None):
        arr = self.numpy()
        if dtype is not None and np.dtype(dtype) != arr.dtype:
            return arr.astype(dtype)
        if copy:
            return arr.copy()
        return arr

    def item(self) -> float | int:
        if self.size != 1:
            raise ValueError(f"item() needs a tensor with one element, got shape {self.shape}")
        return self.numpy().reshape(()).item()

    def tolist(self):
        return self.numpy().tolist()

    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    def __bool__(self) -> bool:
        return bool(self.item())

    def to(self, device: str) -> Tensor:
        """A copy on `device` ('cpu' or 'cuda'); the tensor itself when already there.
        Differentiable: gradients flow back to the original device."""
        from .functional import to_device

        dev = _check_device(device)
        if dev == self.device:
            return self
        return to_device(self, dev)

    def cpu(self) -> Tensor:
        return self.to("cpu")

    def cuda(self) -> Tensor:
        return self.to("cuda")

    def copy(self) -> Tensor:
        from .functional import clone

        return clone(self)

    clone = copy

    # ------------------------------------------------------------------ operators
    def _F(self):
        return _functional()

    def __add__(self, o):
        return self._F().add(self, o)

    def __radd__(self, o):
        return self._F().add(o, self)

    def __sub__(self, o):
        return self._F().sub(self, o)

    def __rsub__(self, o):
        return self._F().sub(o, self)

    def __mul__(self, o):
        return self._F().mul(self, o)

    def __rmul__(self, o):
        return self._F().mul(o, self)

    def __truediv__(self, o):
        return self._F().div(self, o)

    def __rtruediv__(self, o):
        return self._F().div(o, self)

    def __pow__(self, o):
        return self._F().pow(self, o)

    def __rpow__(self, o):
        return self._F().pow(o, self)

    def __neg__(self):
        return self._F().neg(self)

    def __abs__(self):
        return self._F().abs(self)

    def __matmul__(self, o):
        return self._F().matmul(self, o)

    def __rmatmul__(self, o):
        return self._F().matmul(o, self)

    def __getitem__(self, index):
        return self._F().getitem(self, index)

    def __setitem__(self, index, value):
        self._F().setitem_(self, index, value)

    def _compare(self, o, op):
        a = self.numpy()
        b = o.numpy() if isinstance(o, Tensor) else o
        return Tensor(op(a, b).astype(np.float32), device=self.device)

    def __lt__(self, o):
        return self._compare(o, np.less)

    def __le__(self, o):
        return self._compare(o, np.less_equal)

    def __gt__(self, o):
        return self._compare(o, np.greater)

    def __ge__(self, o):
        return self._compare(o, np.greater_equal)

    def __eq__(self, o):  # elementwise, as in NumPy and torch
        return self._compare(o, np.equal)

    def __ne__(self, o):
        return self._compare(o, np.not_equal)

    __hash__ = object.__hash__

    # ------------------------------------------------------------------ methods
    def reshape(self, *shape) -> Tensor:
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        return self._F().reshape(self, shape)

    view = reshape

    def flatten(self, start_dim: int = 0, end_dim: int = -1) -> Tensor:
        return self._F().flatten(self, start_dim, end_dim)

    def transpose(self, *axes) -> Tensor:
        return self._F().transpose(self, *axes)

    def permute(self, *axes) -> Tensor:
        if len(axes) == 1 and isinstance(axes[0], (tuple, list)):
            axes = tuple(axes[0])
        return self._F().permute(self, axes)

    @property
    def T(self) -> Tensor:
        return self._F().permute(self, tuple(range(self.ndim - 1, -1, -1)))

    def squeeze(self, axis=None) -> Tensor:
        return self._F().squeeze(self, axis)

    def unsqueeze(self, axis: int) -> Tensor:
        return self._F().unsqueeze(self, axis)

    def expand(self, *shape) -> Tensor:
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        return self._F().expand(self, shape)

    def broadcast_to(self, shape: Sequence[int]) -> Tensor:
        return self._F().broadcast_to(self, shape)

    def sum(self, axis=None, keepdims: bool = False) -> Tensor:
        return self._F().sum(self, axis, keepdims)

    def mean(self, axis=None, keepdims: bool = False) -> Tensor:
        return self._F().mean(self, axis, keepdims)

    def max(self, axis=None, keepdims: bool = False) -> Tensor:
        return self._F().max(self, axis, keepdims)

    def min(self, axis=None, keepdims: bool = False) -> Tensor:
        return self._F().min(self, axis, keepdims)

    def argmax(self, axis=None, keepdims: bool = False) -> Tensor:
        return self._F().argmax(self, axis, keepdims)

    def argmin(self, axis=None, keepdims: bool = False) -> Tensor:
        return self._F().argmin(self, axis, keepdims)

    def var(self, axis=None, keepdims: bool = False, correction: int = 0) -> Tensor:
        return self._F().var(self, axis, keepdims, correction=correction)

    def std(self, axis=None, keepdims: bool = False, correction: int = 0) -> Tensor:
        return self._F().std(self, axis, keepdims, correction=correction)

    def exp(self) -> Tensor:
        return self._F().exp(self)

    def log(self) -> Tensor:
        return self._F().log(self)

    def sqrt(self) -> Tensor:
        return self._F().sqrt(self)

    def square(self) -> Tensor:
        return self._F().square(self)

    def abs(self) -> Tensor:
        return self._F().abs(self)

    def clip(self, min=None, max=None) -> Tensor:  # noqa: A002 - NumPy's names
        return self._F().clip(self, min, max)

    clamp = clip

    def relu(self) -> Tensor:
        return self._F().relu(self)

    def sigmoid(self) -> Tensor:
        return self._F().sigmoid(self)

    def tanh(self) -> Tensor:
        return self._F().tanh(self)

    def softmax(self, axis: int = -1) -> Tensor:
        return self._F().softmax(self, axis)

    def log_softmax(self, axis: int = -1) -> Tensor:
        return self._F().log_softmax(self, axis)

    def matmul(self, o) -> Tensor:
        return self._F().matmul(self, o)

    def pow(self, o) -> Tensor:
        return self._F().pow(self, o)


autograd.Tensor = Tensor


def _functional():
    global _functional_module
    if _functional_module is None:
        from . import functional

        _functional_module = functional
    return _functional_module


_functional_module = None
