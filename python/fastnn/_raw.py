"""Helpers on raw storage (NumPy arrays on the CPU, ``_C.DeviceArray`` on CUDA).

Backward functions and the autograd engine work at this level, below Tensor, so that a
gradient step costs kernel calls and no Tensor bookkeeping.
"""

from __future__ import annotations

import math

import numpy as np

from . import _C

Array = "np.ndarray | _C.DeviceArray"

# Operation codes {name: code}, exported by _C from the enums' name tables in csrc/kernels/*.h:
# the one source of every code Python passes to a kernel.
UNARY: dict[str, int] = dict(_C.UNARY_OPS)
BINARY: dict[str, int] = dict(_C.BINARY_OPS)
REDUCE: dict[str, int] = dict(_C.REDUCE_OPS)
# the fused GEMM / conv activation; None (no activation) is "linear"
EPILOGUE: dict[str | None, int] = {None: _C.EPILOGUE_ACTIVATIONS["linear"], **_C.EPILOGUE_ACTIVATIONS}
RNN_ACTIVATION: dict[str, int] = dict(_C.RNN_ACTIVATIONS)  # the fused recurrent cells' activations


def device_of(a) -> str:
    return "cpu" if isinstance(a, np.ndarray) else "cuda"


def empty(shape, device: str = "cpu", dtype="float32"):
    """dtype: a NumPy dtype or its name."""
    if device == "cpu":
        return np.empty(shape, dtype=dtype)
    return _C.device_empty(tuple(shape), str(dtype))


def full(shape, value, device: str = "cpu", dtype="float32"):
    if device == "cpu":
        return np.full(shape, value, dtype=dtype)
    return _C.device_full(tuple(shape), float(value), str(dtype))


def zeros(shape, device: str = "cpu", dtype="float32"):
    if device == "cpu":
        return np.zeros(shape, dtype=dtype)
    return _C.device_full(tuple(shape), 0.0, str(dtype))


def zeros_like(a):
    return zeros(a.shape, device_of(a), a.dtype)


def copy(a):
    if isinstance(a, np.ndarray):
        return a.copy()
    return _C.device_clone(a)


def reshape(a, shape):
    return a.reshape(tuple(shape))


def contiguous_strides(shape) -> list[int]:
    strides, acc = [0] * len(shape), 1
    for d in range(len(shape) - 1, -1, -1):
        strides[d] = acc
        acc *= shape[d]
    return strides


def add(a, b):
    """a + b for arrays of the same shape (gradient accumulation)."""
    return _C.binary_forward(BINARY["add"], a, b)


def ori(shape, axes: tuple[int, ...]):
    """(O, R, I) sizes of `shape` around a contiguous block of reduced axes."""
    lo, hi = min(axes), max(axes) + 1
    o = math.prod(shape[:lo])
    r = math.prod(shape[lo:hi])
    i = math.prod(shape[hi:])
    return o, r, i


def _axis_blocks(axes: list[int]) -> list[tuple[int, ...]]:
    """Sorted axes grouped into runs of consecutive axes, last run first."""
    blocks, cur = [], []
    for a in sorted(axes):
        if cur and a != cur[-1] + 1:
            blocks.append(tuple(cur))
            cur = []
        cur.append(a)
    if cur:
        blocks.append(tuple(cur))
    return blocks[::-1]


def reduce(op: str, a, axes, keepdims: bool = False):
    """Reduce `a` over `axes` (ints, normalised, unique) with op in sum/mean/max/min."""
    shape = list(a.shape)
    axes = sorted(axes)
    out_shape = list(shape)
    y = a
    # Non-adjacent axes are reduced one run at a time, the last run first so that earlier axis
    # numbers stay valid (sum, mean, max and min all compose this way).
    cur_shape = list(shape)
    for block in _axis_blocks(axes):
        o, r, i = ori(cur_shape, block)
        y = _C.reduce_forward(REDUCE[op], y, o, r, i)
        cur_shape = cur_shape[: block[0]] + [1] * len(block) + cur_shape[block[-1] + 1 :]
        y = y.reshape(tuple(cur_shape))
    for ax in axes:
        out_shape[ax] = 1
    if not keepdims:
        out_shape = [s for d, s in enumerate(shape) if d not in set(axes)]
    return y.reshape(tuple(out_shape))


def sum_to(g, shape):
    """Sum a broadcast gradient `g` back down to `shape` (NumPy broadcasting rules)."""
    shape = tuple(shape)
    if tuple(g.shape) == shape:
        return g
    lead = len(g.shape) - len(shape)
    axes = list(range(lead)) + [
        lead + d for d, s in enumerate(shape) if s == 1 and g.shape[lead + d] != 1
    ]
    if not axes:
        return g.reshape(shape)
    return reduce("sum", g, axes, keepdims=True).reshape(shape)


def broadcast_to(a, shape):
    """Materialise `a` broadcast to `shape` (a contiguous copy)."""
    shape = tuple(int(s) for s in shape)
    if tuple(a.shape) == shape:
        return a
    nd = len(shape)
    src_shape = (1,) * (nd - len(a.shape)) + tuple(a.shape)
    src_strides = contiguous_strides(src_shape)
    strides = [0 if src_shape[d] == 1 and shape[d] != 1 else src_strides[d] for d in range(nd)]
    out = empty(shape, device_of(a), a.dtype)
    if out.size:
        _C.strided_copy(out, 0, contiguous_strides(shape), a, 0, strides, shape)
    return out


def concat0(a, b):
    """a and b (same trailing shape and dtype, same device) joined along axis 0: a new array."""
    shape = (a.shape[0] + b.shape[0],) + tuple(a.shape[1:])
    out = empty(shape, device_of(a), a.dtype)
    if isinstance(out, np.ndarray):
        np.concatenate([a, b], axis=0, out=out)
        return out
    na, nb = math.prod(a.shape), math.prod(b.shape)
    if na:
        _C.strided_copy(out, 0, [1], a, 0, [1], [na])
    if nb:
        _C.strided_copy(out, na, [1], b, 0, [1], [nb])
    return out
