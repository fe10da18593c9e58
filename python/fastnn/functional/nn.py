"""Neural-network ops: dropout (counter-based mask, regenerated in backward) and embedding
(row gather, scatter-add backward).

Dropout draws its mask from the Philox generator (fastnn.random): element i is kept when the
uniform number for word ``offset + i`` under key ``seed`` is >= rate. Only (seed, offset) is
kept for backward, which recomputes the same mask, so no mask array is stored.
"""

from __future__ import annotations

import numpy as np

from .. import _C, _raw
from .. import random as _random
from ..autograd import Function
from ..sparse import RowSparseGrad
from ..tensor import Tensor, float32, int64
from .shape import _tensor

__all__ = ["dropout", "embedding"]


class Dropout(Function):
    """y = keep ? x * scale : 0 with scale = 1 / (1 - rate), keep = unit(seed, offset + i) >= rate."""

    @staticmethod
    def forward(ctx, x, rate, seed, offset):
        ctx.args = (rate, seed, offset)
        return _C.dropout_forward(x, rate, seed, offset)

    @staticmethod
    def backward(ctx, g):
        rate, seed, offset = ctx.args
        return _C.dropout_backward(g, rate, seed, offset), None, None, None


def dropout(x: Tensor, rate: float, training: bool = True, seed: int | None = None) -> Tensor:
    """Inverted dropout (as Keras): zero each element with probability `rate` and scale the kept
    ones by 1 / (1 - rate), so the expected value is unchanged.

    Args:
        x: any shape, float32.
        rate: drop probability in [0, 1).
        training: False (inference) returns x unchanged.
        seed: an integer makes the mask depend only on it (key = seed, offset 0); None takes
            the key and the next words of the global generator (fastnn.random.seed).

    Example::

        y = fastnn.functional.dropout(x, 0.5)   # about half the entries zero, the rest * 2
    """
    x = _tensor(x)
    if isinstance(rate, bool) or not isinstance(rate, (int, float, np.integer, np.floating)):
        raise TypeError(f"dropout: rate must be a number, got rate={rate!r}")
    rate = float(rate)
    if not 0.0 <= rate < 1.0:
        raise ValueError(f"dropout: rate must be in [0, 1), got rate={rate}")
    if x.dtype != float32:
        raise TypeError(f"dropout: x must be float32, got {x.dtype}")
    if not training or rate == 0.0:
        return x
    gen = _random.default_generator if seed is None else _random.Generator(seed)
    key, offset = gen.take(x.size)
    return Dropout.apply(x, rate, key, offset)


class Embedding(Function):
    """out[..., :] = weight[indices[...], :]; dweight = scatter-add of the gradient rows, or
    with sparse=True the rows merged per index (a RowSparseGrad; the engine densifies it when
    the weight is not a leaf)."""

    @staticmethod
    def forward(ctx, indices, weight, sparse=False):
        ctx.save_for_backward(indices)
        ctx.wshape = tuple(weight.shape)
        ctx.sparse = sparse
        return _C.index_select_forward(weight, indices, 0)

    @staticmethod
    def backward(ctx, g):
        (indices,) = ctx.saved
        if ctx.sparse:
            return None, RowSparseGrad._from_rows(indices, g, ctx.wshape), None
        dw = _raw.zeros(ctx.wshape, _raw.device_of(g))
        _C.index_select_backward(dw, g, indices, 0)
        return None, dw, None


def embedding(indices, weight: Tensor, sparse: bool = False) -> Tensor:
    """Look up rows of `weight` (V, D) by integer `indices` of any shape.

    Returns a tensor of shape indices.shape + (D,). Backward adds each output row's gradient into
    the row of ``weight`` it came from (repeated indices accumulate). Indices must lie in [0, V).
    With ``sparse=True`` a leaf `weight` receives a ``fastnn.sparse.RowSparseGrad`` (only the
    rows looked up, repeats merged) instead of a dense (V, D) gradient, as torch's
    ``F.embedding(..., sparse=True)``; the optimizers apply it without densifying.

    Example::

        w = fastnn.randn(10, 4, requires_grad=True)
        fastnn.functional.embedding(fastnn.tensor([[1, 2], [2, 9]]), w).shape   # (2, 2, 4)
    """
    weight = _tensor(weight)
    if weight.ndim != 2:
        raise ValueError(f"embedding: weight must be 2-D (vocabulary, dim), got shape {weight.shape}")
    if weight.dtype != float32:
        raise TypeError(f"embedding: weight must be float32, got {weight.dtype}")
    if isinstance(indices, Tensor):
        if indices.dtype != int64:
            raise TypeError(f"embedding: indices must be an integer tensor, got {indices.dtype}")
        idx = indices._data
    else:
        arr = np.asarray(indices)
        if arr.size == 0:
            arr = arr.astype(np.int64)
        if arr.dtype.kind not in "iu":
            raise TypeError(f"embedding: indices must be integers, got dtype {arr.dtype}")
        idx = np.ascontiguousarray(arr, dtype=np.int64)
    if _raw.device_of(idx) != weight.device:
        idx = _C.to_device(idx) if weight.device == "cuda" else _C.to_host(idx)
    host = idx if isinstance(idx, np.ndarray) else _C.to_host(idx)
    v = weight.shape[0]
    if host.size:
        lo, hi = int(host.min()), int(host.max())
        if lo < 0 or hi >= v:
            bad = lo if lo < 0 else hi
            raise ValueError(
                f"embedding: index {bad} is out of range for a weight of shape {weight.shape} "
                f"(indices must be in [0, {v}))"
            )
    return Embedding.apply(Tensor._wrap(idx), weight, bool(sparse))
