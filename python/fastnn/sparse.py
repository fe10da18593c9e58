"""Row-sparse gradients: what an Embedding's weight receives from backward when it asks for one.

A lookup of a few rows of a large table has a gradient that is zero outside those rows.
``RowSparseGrad`` keeps only the rows that are not (Keras/TensorFlow call it IndexedSlices,
torch a sparse COO tensor with one sparse dimension): ``indices`` (nnz,) sorted unique row
numbers, ``values`` (nnz, ...) the summed gradient rows, ``dense_shape`` the variable's shape.
Repeated indices are merged by one C++ kernel (``_C.row_coalesce``) when it is made.

It stands in for the dense gradient wherever fastnn reads ``Tensor.grad``: the optimizers run
their row-sparse kernels on it (the same result as the dense gradient, without materialising
it), ``+`` accumulates, and ``numpy()`` / ``np.asarray`` / ``to_dense()`` give the dense array.

Example::

    w = fastnn.randn(1000, 8, requires_grad=True)
    fastnn.functional.embedding([[4, 2, 4]], w, sparse=True).sum().backward()
    w.grad                    # RowSparseGrad(indices=[2, 4], values of shape (2, 8), dense_shape=(1000, 8))
    w.grad.values.numpy()     # row 2: ones; row 4: twos
    w.grad.to_dense().shape   # (1000, 8)
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from . import _C, _raw
from . import autograd as _autograd
from .tensor import Tensor, float32

__all__ = ["RowSparseGrad"]


def _raw_of(x, dtype: np.dtype):
    if isinstance(x, Tensor):
        return x._data
    if isinstance(x, _C.DeviceArray):
        return x
    return np.ascontiguousarray(np.asarray(x), dtype=dtype)


class RowSparseGrad:
    """A gradient that is zero outside some rows of a variable of shape `dense_shape`.

    Args:
        indices: integer row numbers, shape (n,), in [0, dense_shape[0]); repeats are allowed
            (their rows are added) unless ``coalesced=True`` says they are sorted and unique.
        values: float32 rows, shape (n,) + dense_shape[1:].
        dense_shape: the shape of the variable (and of ``to_dense()``).

    Example::

        g = fastnn.sparse.RowSparseGrad([3, 1, 3], np.ones((3, 2), np.float32), (5, 2))
        g.indices.numpy()     # [1, 3]
        g.values.numpy()      # [[1, 1], [2, 2]]
        g.numpy().shape       # (5, 2): the dense gradient
    """

    __slots__ = ("_indices", "_values", "dense_shape")
    __array_priority__ = 1000

    def __init__(self, indices: Any, values: Any, dense_shape, coalesced: bool = False):
        dense_shape = tuple(int(s) for s in dense_shape)
        if not dense_shape:
            raise ValueError("RowSparseGrad: dense_shape must have at least one dimension (the rows), got ()")
        if not isinstance(indices, (Tensor, _C.DeviceArray)):
            indices = np.asarray(indices)
            if indices.size == 0:
                indices = indices.astype(np.int64)
            if indices.dtype.kind not in "iu":
                raise TypeError(f"RowSparseGrad: indices must be integers, got dtype {indices.dtype}")
        idx = _raw_of(indices, np.int64)
        vals = _raw_of(values, float32)
        if str(idx.dtype) != "int64":
            raise TypeError(f"RowSparseGrad: indices must be integers, got dtype {idx.dtype}")
        if len(idx.shape) != 1:
            raise ValueError(f"RowSparseGrad: indices must be 1-D, got shape {tuple(idx.shape)}")
        want = (idx.shape[0],) + dense_shape[1:]
        if tuple(vals.shape) != want:
            raise ValueError(
                f"RowSparseGrad: values of shape {tuple(vals.shape)} do not fit {idx.shape[0]} rows of a "
                f"gradient of shape {dense_shape} (expected {want})"
            )
        if _raw.device_of(idx) != _raw.device_of(vals):
            raise ValueError("RowSparseGrad: indices and values are on different devices")
        if not coalesced:
            idx, vals = _C.row_coalesce(idx, vals, dense_shape[0])
        self._indices = idx
        self._values = vals
        self.dense_shape = dense_shape

    @classmethod
    def _wrap(cls, idx, vals, dense_shape: tuple) -> RowSparseGrad:
        """From raw arrays already sorted and unique (internal: no checks)."""
        g = cls.__new__(cls)
        g._indices, g._values, g.dense_shape = idx, vals, tuple(dense_shape)
        return g

    @classmethod
    def _from_rows(cls, idx, rows, dense_shape: tuple) -> RowSparseGrad:
        """Merge raw `rows` (idx.shape + dense_shape[1:]) scattered at raw `idx` (any shape)."""
        u, v = _C.row_coalesce(idx, rows, dense_shape[0])
        return cls._wrap(u, v, dense_shape)

    # ------------------------------------------------------------------ metadata
    @property
    def indices(self) -> Tensor:
        """The sorted, unique row numbers (int64, shape (nnz,))."""
        return Tensor._wrap(self._indices)

    @property
    def values(self) -> Tensor:
        """The gradient rows (float32, shape (nnz,) + dense_shape[1:])."""
        return Tensor._wrap(self._values)

    @property
    def nnz(self) -> int:
        """The number of rows stored."""
        return int(self._indices.shape[0])

    @property
    def shape(self) -> tuple[int, ...]:
        return self.dense_shape

    @property
    def ndim(self) -> int:
        return len(self.dense_shape)

    @property
    def size(self) -> int:
        return math.prod(self.dense_shape)

    @property
    def dtype(self) -> np.dtype:
        return float32

    @property
    def device(self) -> str:
        return _raw.device_of(self._values)

    # ------------------------------------------------------------------ dense views
    def _dense_raw(self):
        out = _raw.zeros(self.dense_shape, self.device)
        if self.nnz and out.size:
            _C.index_select_backward(out, self._values, self._indices, 0)
        return out

    def to_dense(self) -> Tensor:
        """The dense gradient as a new Tensor of shape ``dense_shape``."""
        return Tensor._wrap(self._dense_raw())

    def numpy(self) -> np.ndarray:
        """The dense gradient as a NumPy array (a new array)."""
        d = self._dense_raw()
        return d if isinstance(d, np.ndarray) else _C.to_host(d)

    def __array__(self, dtype=None, copy=None):
        a = self.numpy()
        return a if dtype is None else a.astype(dtype)

    # ------------------------------------------------------------------ arithmetic
    def __add__(self, other):
        """Sparse + sparse stays sparse (rows merged); sparse + dense is a dense Tensor."""
        if isinstance(other, RowSparseGrad):
            if other.dense_shape != self.dense_shape:
                raise ValueError(
                    f"cannot add RowSparseGrad of shape {other.dense_shape} to one of shape {self.dense_shape}"
                )
            return RowSparseGrad._wrap(*_add_sparse(self, other), self.dense_shape)
        dense = other._data if isinstance(other, Tensor) else _raw_of(other, float32)
        if tuple(dense.shape) != self.dense_shape:
            raise ValueError(
                f"cannot add an array of shape {tuple(dense.shape)} to a RowSparseGrad of shape {self.dense_shape}"
            )
        return Tensor._wrap(add_into_dense(dense, self))

    __radd__ = __add__

    def __repr__(self) -> str:
        idx = self._indices if isinstance(self._indices, np.ndarray) else _C.to_host(self._indices)
        shown = np.array2string(idx, threshold=8, separator=", ")
        return (
            f"RowSparseGrad(indices={shown}, values of shape {tuple(self._values.shape)}, "
            f"dense_shape={self.dense_shape})"
        )


def _add_sparse(a: RowSparseGrad, b: RowSparseGrad):
    """Raw (indices, values) of a + b: both lists joined, then merged by row_coalesce."""
    if a.nnz == 0:
        return b._indices, b._values
    if b.nnz == 0:
        return a._indices, a._values
    idx = _raw.concat0(a._indices, b._indices)
    vals = _raw.concat0(a._values, b._values)
    return _C.row_coalesce(idx, vals, a.dense_shape[0])


def add_into_dense(dense, g: RowSparseGrad):
    """A new raw array: `dense` (raw, g's shape) plus g's rows."""
    out = _raw.copy(dense)
    if g.nnz and out.size:
        _C.index_select_backward(out, g._values, g._indices, 0)
    return out


def accumulate(a, b):
    """a + b for gradients that may each be raw dense arrays or RowSparseGrad (the autograd
    engine's leaf accumulation): sparse + sparse stays sparse, anything else is dense."""
    if isinstance(a, RowSparseGrad):
        if isinstance(b, RowSparseGrad):
            return RowSparseGrad._wrap(*_add_sparse(a, b), a.dense_shape)
        return add_into_dense(b, a)
    if isinstance(b, RowSparseGrad):
        return add_into_dense(a, b)
    return _raw.add(a, b)


_autograd.RowSparseGrad = RowSparseGrad
