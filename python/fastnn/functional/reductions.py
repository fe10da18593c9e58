"""Reductions (sum, mean, max, min, var, std, argmax, argmin, logsumexp) and softmax /
log_softmax, with NumPy / Keras argument names (``axis``, ``keepdims``).

The kernels see an array as (O, R, I) and reduce the middle block R, so one run of adjacent
axes is one kernel call. Several non-adjacent axes are composed run by run for sum and mean
(as ``_raw.reduce`` does); max, min and var move the reduced axes to the end first (one
strided copy), so that ties and deviations are taken over the whole reduced set at once.
"""

from __future__ import annotations

import builtins
import math
from collections.abc import Sequence
from typing import Union

import numpy as np

from .. import _C, _raw
from ..autograd import Function
from ..tensor import Tensor, float32
from .shape import Permute, _tensor, permute, reshape

__all__ = [
    "sum",
    "mean",
    "max",
    "min",
    "amax",
    "amin",
    "argmax",
    "argmin",
    "var",
    "std",
    "softmax",
    "log_softmax",
    "logsumexp",
    "masked_softmax",
]

Axis = Union[int, Sequence[int], None]
_REDUCE = _raw.REDUCE


def _norm_axes(axis: Axis, ndim: int) -> tuple[int, ...]:
    """Sorted, non-negative axes; ValueError for out-of-range or repeated axes."""
    if axis is None:
        return tuple(range(ndim))
    items = tuple(axis) if isinstance(axis, (tuple, list)) else (axis,)
    out = []
    for a in items:
        if isinstance(a, bool) or not isinstance(a, (int, np.integer)):
            raise TypeError(f"axis must be an integer or a tuple of integers, got {axis!r}")
        a = int(a)
        if not -ndim <= a < builtins.max(ndim, 1) or (ndim == 0 and a not in (0, -1)):
            raise ValueError(f"axis {a} is out of range for a tensor with {ndim} dimensions")
        out.append(a % ndim if ndim else 0)
    if len(set(out)) != len(out):
        raise ValueError(f"duplicate value in axis: {axis!r}")
    return tuple(sorted(out)) if ndim else ()


def _out_shape(shape, axes, keepdims: bool) -> tuple[int, ...]:
    if keepdims:
        return tuple(1 if d in axes else s for d, s in enumerate(shape))
    return tuple(s for d, s in enumerate(shape) if d not in axes)


def _adjacent(axes) -> bool:
    return not axes or list(axes) == list(range(axes[0], axes[-1] + 1))


def _permute_raw(x, perm):
    """A contiguous copy of raw x with its dimensions reordered (no autograd)."""
    from ..autograd import Context

    return Permute.forward(Context(), x, list(perm))


def _to_end(x, axes):
    """Raw x with the reduced axes moved to the end (a copy unless they already are), and
    the permutation used (None when no copy was made)."""
    nd = len(x.shape)
    perm = [d for d in range(nd) if d not in axes] + list(axes)
    if perm == list(range(nd)):
        return x, None
    return _permute_raw(x, perm), perm


def _flat(a):
    return a.reshape((math.prod(a.shape),))


def _check_float(x: Tensor, what: str) -> None:
    if x.dtype != float32:
        raise TypeError(f"{what} expects a float32 tensor, got {x.dtype}")


# ---------------------------------------------------------------------- sum / mean / max / min
class Reduce(Function):
    """op in sum/mean/max/min over `axes` (sorted); the result has the keepdims shape `kshape`."""

    @staticmethod
    def forward(ctx, x, op, axes, out_shape):
        ctx.op, ctx.in_shape, ctx.out_shape = op, tuple(x.shape), out_shape
        if op in ("sum", "mean") or _adjacent(axes):
            y = _raw.reduce(op, x, axes, keepdims=True)
            ctx.perm = None
            src = x
        else:
            src, ctx.perm = _to_end(x, axes)
            r = math.prod([x.shape[a] for a in axes])
            o = src.size // r if r else math.prod([x.shape[d] for d in range(x.ndim) if d not in axes])
            y = _C.reduce_forward(_REDUCE[op], src, o, r, 1)
        ctx.axes = axes
        if op in ("max", "min"):
            ctx.save_for_backward(src, y)
        return y.reshape(out_shape)

    @staticmethod
    def backward(ctx, g):
        op, axes, shape = ctx.op, ctx.axes, ctx.in_shape
        if op in ("sum", "mean"):
            # Undo the forward's runs of axes one by one (first reduced run last); x and y are
            # not read by the sum/mean backward, so shape-only placeholders stand in for them.
            dev = _raw.device_of(g)
            blocks = _raw._axis_blocks(list(axes))
            shapes = [list(shape)]
            for b in blocks:
                s = shapes[-1]
                shapes.append(s[: b[0]] + [1] * len(b) + s[b[-1] + 1 :])
            d = g
            for k in range(len(blocks) - 1, -1, -1):
                o, r, i = _raw.ori(shapes[k], blocks[k])
                ph = _raw.empty(shapes[k], dev)
                d = _C.reduce_backward(_REDUCE[op], _flat(d), ph, ph, o, r, i)
            return d.reshape(shape), None, None, None
        src, y = ctx.saved
        if ctx.perm is None:
            o, r, i = _raw.ori(shape, axes)
            return (
                _C.reduce_backward(_REDUCE[op], _flat(g), src, _flat(y), o, r, i).reshape(shape),
                None,
                None,
                None,
            )
        r = math.prod([shape[a] for a in axes])
        dxp = _C.reduce_backward(_REDUCE[op], _flat(g), src, _flat(y), src.size // r, r, 1)
        inv = np.argsort(ctx.perm).tolist()
        return _permute_raw(dxp, inv), None, None, None


def _reduce(op: str, x, axis: Axis, keepdims: bool) -> Tensor:
    x = _tensor(x)
    _check_float(x, op)
    axes = _norm_axes(axis, x.ndim)
    out_shape = _out_shape(x.shape, axes, keepdims)
    if not axes:
        return reshape(x, out_shape)
    n = math.prod([x.shape[a] for a in axes])
    if n == 0 and op != "sum":
        if op == "mean":
            # NumPy: the mean of nothing is NaN (0 / 0)
            return Tensor._wrap(_raw.full(out_shape, np.nan, x.device))
        raise ValueError(
            f"zero-size array to reduction operation {op}: axis {axis!r} of shape {x.shape} is empty"
        )
    return Reduce.apply(x, op, axes, out_shape)


def sum(x: Tensor, axis: Axis = None, keepdims: bool = False) -> Tensor:  # noqa: A001 - NumPy's name
    """Sum over `axis` (None: all; an int or a tuple; negative counts from the end).
    The sum over an empty axis is 0."""
    return _reduce("sum", x, axis, keepdims)


def mean(x: Tensor, axis: Axis = None, keepdims: bool = False) -> Tensor:
    """Arithmetic mean over `axis` (as ``np.mean``; an empty axis gives NaN)."""
    return _reduce("mean", x, axis, keepdims)


def max(x: Tensor, axis: Axis = None, keepdims: bool = False) -> Tensor:  # noqa: A001
    """Maximum over `axis` (NaN propagates). The gradient is shared equally among tied maxima
    (as ``torch.amax``). ValueError for an empty axis."""
    return _reduce("max", x, axis, keepdims)


def min(x: Tensor, axis: Axis = None, keepdims: bool = False) -> Tensor:  # noqa: A001
    """Minimum over `axis` (NaN propagates); ties share the gradient. ValueError when empty."""
    return _reduce("min", x, axis, keepdims)


amax = max
amin = min


# ---------------------------------------------------------------------- argmax / argmin
def _arg(x, axis, keepdims: bool, is_min: bool) -> Tensor:
    x = _tensor(x)
    name = "argmin" if is_min else "argmax"
    _check_float(x, name)
    if axis is not None and (isinstance(axis, bool) or not isinstance(axis, (int, np.integer))):
        raise TypeError(f"{name}: axis must be None or an integer, got {axis!r}")
    if axis is None:
        o, r, i = 1, x.size, 1
        out_shape = (1,) * x.ndim if keepdims else ()
    else:
        (a,) = _norm_axes(axis, x.ndim) or (0,)
        o, r, i = _raw.ori(x.shape, (a,)) if x.ndim else (1, 1, 1)
        out_shape = _out_shape(x.shape, (a,), keepdims)
    if r == 0:
        raise ValueError(f"attempt to get {name} of an empty sequence (shape {x.shape}, axis {axis!r})")
    return Tensor._wrap(_C.argmax_forward(x._data, o, r, i, is_min).reshape(out_shape))


def argmax(x: Tensor, axis: int | None = None, keepdims: bool = False) -> Tensor:
    """Index (int64) of the first maximum along `axis` (None: of the flattened tensor).
    NaN counts as the maximum (as NumPy and torch). Not differentiable."""
    return _arg(x, axis, keepdims, False)


def argmin(x: Tensor, axis: int | None = None, keepdims: bool = False) -> Tensor:
    """Index (int64) of the first minimum along `axis`; NaN counts as the minimum."""
    return _arg(x, axis, keepdims, True)


# ---------------------------------------------------------------------- var / std
class Var(Function):
    @staticmethod
    def forward(ctx, x, axes, correction, out_shape):
        src, perm = _to_end(x, axes) if not _adjacent(axes) else (x, None)
        if perm is None:
            o, r, i = _raw.ori(x.shape, axes)
        else:
            r = math.prod([x.shape[a] for a in axes])
            o, i = src.size // r, 1
        v, m = _C.var_forward(src, o, r, i, correction)
        ctx.args = (o, r, i, correction, perm, tuple(x.shape))
        ctx.save_for_backward(src, m)
        return v.reshape(out_shape)

    @staticmethod
    def backward(ctx, g):
        o, r, i, correction, perm, shape = ctx.args
        src, m = ctx.saved
        dx = _C.var_backward(_flat(g), src, m, o, r, i, correction)
        if perm is not None:
            dx = _permute_raw(dx, np.argsort(perm).tolist())
        return dx.reshape(shape), None, None, None


def var(
    x: Tensor,
    axis: Axis = None,
    keepdims: bool = False,
    correction: int | None = None,
    ddof: int | None = None,
) -> Tensor:
    """Variance over `axis`: sum((x - mean)^2) / (N - correction). correction=0 (the default,
    as NumPy and Keras) is the population variance, 1 the sample variance; `ddof` is NumPy's
    name for it. Computed in two passes (mean, then squared deviations)."""
    x = _tensor(x)
    _check_float(x, "var")
    if correction is not None and ddof is not None and correction != ddof:
        raise ValueError(f"var: give correction or ddof, not both (correction={correction}, ddof={ddof})")
    c = correction if correction is not None else (ddof if ddof is not None else 0)
    if isinstance(c, bool) or not isinstance(c, (int, np.integer)) or c < 0:
        raise ValueError(f"var: correction must be a non-negative integer, got {c!r}")
    axes = _norm_axes(axis, x.ndim)
    out_shape = _out_shape(x.shape, axes, keepdims)
    if not axes:  # a variance over no axes: each element is its own mean
        x = reshape(x, x.shape + (1,))
        axes = (x.ndim - 1,)
    n = math.prod([x.shape[a] for a in axes])
    if n == 0:
        raise ValueError(f"var: cannot take the variance of an empty axis (shape {x.shape}, axis {axis!r})")
    return Var.apply(x, axes, int(c), out_shape)


def std(
    x: Tensor,
    axis: Axis = None,
    keepdims: bool = False,
    correction: int | None = None,
    ddof: int | None = None,
) -> Tensor:
    """Standard deviation: sqrt(var(x, axis, keepdims, correction)); see `var`."""
    from . import elementwise  # sqrt lives in the elementwise family

    return elementwise.sqrt(var(x, axis, keepdims, correction=correction, ddof=ddof))


# ---------------------------------------------------------------------- softmax
class Softmax(Function):
    @staticmethod
    def forward(ctx, x, o, r, i, log):
        y = _C.softmax_forward(x, o, r, i, log)
        ctx.args = (o, r, i, log)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, g):
        o, r, i, log = ctx.args
        (y,) = ctx.saved
        return _C.softmax_backward(g, y, o, r, i, log), None, None, None, None


def _softmax(x, axis: int, log: bool) -> Tensor:
    x = _tensor(x)
    name = "log_softmax" if log else "softmax"
    _check_float(x, name)
    if isinstance(axis, (tuple, list)):
        axes = _norm_axes(axis, x.ndim)
        if not _adjacent(axes):
            # move the axes to the end, normalise over them, move them back
            nd = x.ndim
            perm = [d for d in range(nd) if d not in axes] + list(axes)
            y = _softmax(permute(x, perm), tuple(range(nd - len(axes), nd)), log)
            return permute(y, np.argsort(perm).tolist())
    else:
        if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)):
            raise TypeError(f"{name}: axis must be an integer, got {axis!r}")
        axes = _norm_axes(axis, x.ndim)
    if x.ndim == 0:
        o, r, i = 1, 1, 1
    else:
        o, r, i = _raw.ori(x.shape, axes)
    if x.size == 0:
        return Tensor._wrap(_raw.empty(x.shape, x.device))
    return Softmax.apply(x, o, r, i, log)


def softmax(x: Tensor, axis: int = -1) -> Tensor:
    """exp(x) / sum(exp(x)) along `axis` (Keras default: the last axis), computed with the
    maximum subtracted, so large logits (1e4) stay finite."""
    return _softmax(x, axis, False)


def log_softmax(x: Tensor, axis: int = -1) -> Tensor:
    """x - logsumexp(x) along `axis`, numerically stable (max subtracted)."""
    return _softmax(x, axis, True)


def logsumexp(x: Tensor, axis: Axis = None, keepdims: bool = False) -> Tensor:
    """log(sum(exp(x))) over `axis`, stable for large values.

    Computed as max(x) - max(log_softmax(x)) (both over `axis`), which equals
    max(x) + log(sum(exp(x - max(x)))) and whose gradient is exactly softmax(x). A slice whose
    entries are all -inf or hold +inf gives NaN (torch gives -inf / inf there)."""
    x = _tensor(x)
    _check_float(x, "logsumexp")
    axes = _norm_axes(axis, x.ndim)
    out_shape = _out_shape(x.shape, axes, keepdims)
    if not axes:
        return reshape(x, out_shape)
    nd = x.ndim
    perm = [d for d in range(nd) if d not in axes] + list(axes)
    xp = permute(x, perm)
    flat = reshape(xp, xp.shape[: nd - len(axes)] + (-1,))
    if flat.shape[-1] == 0:
        return Tensor._wrap(_raw.full(out_shape, -np.inf, x.device))
    ls = log_softmax(flat, -1)
    out = max(flat, -1) - max(ls, -1)
    return reshape(out, out_shape)


# ---------------------------------------------------------------------- masked softmax (attention)
class MaskedSoftmax(Function):
    """y = softmax(scale * x - 1e9 * (mask == 0)) over the last axis (then y * mask when
    zero_masked), one fused kernel; the mask is raw (rows / rep, n) storage without gradient."""

    @staticmethod
    def forward(ctx, x, mask, rep, inner, scale, zero_masked):
        n = x.shape[-1]
        rows = x.size // n
        y = _C.masked_softmax_forward(x, mask, rows, n, rep, inner, scale, zero_masked)
        ctx.args = (rows, n, scale)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, g):
        rows, n, scale = ctx.args
        (y,) = ctx.saved
        return _C.masked_softmax_backward(g, y, rows, n, scale), None, None, None, None, None


def _mask_layout(mask: np.ndarray, shape: tuple[int, ...]):
    """The mask as contiguous float32 (rows / rep, n) host storage, with rep and inner: the last
    axis that the mask broadcasts over (a heads axis) is left out (rep = its size, inner = the
    rows after it); every other broadcast axis is expanded."""
    nd = len(shape)
    if mask.ndim > nd:
        raise ValueError(f"masked_softmax: mask of shape {mask.shape} has more dimensions than scores {shape}")
    mshape = (1,) * (nd - mask.ndim) + tuple(mask.shape)
    for m, s in zip(mshape, shape):
        if m not in (1, s):
            raise ValueError(
                f"masked_softmax: mask of shape {mask.shape} does not broadcast to scores of shape {shape}"
            )
    mask = mask.reshape(mshape)
    rep_axis = None
    for a in range(nd - 2, -1, -1):
        if mshape[a] == 1 and shape[a] > 1:
            rep_axis = a
            break
    target = list(shape)
    rep, inner = 1, 1
    if rep_axis is not None:
        target[rep_axis] = 1
        rep = shape[rep_axis]
        inner = math.prod(shape[rep_axis + 1 : -1])
    m = np.ascontiguousarray(np.broadcast_to(mask, tuple(target)), dtype=np.float32)
    return m.reshape(-1), rep, inner


def masked_softmax(x: Tensor, mask=None, scale: float = 1.0, zero_masked: bool = False) -> Tensor:
    """Softmax of attention scores over the last axis with a boolean mask, in one fused kernel:
    ``softmax(scale * x - 1e9 * (1 - mask))`` (Keras's additive mask: a masked entry gets
    weight 0 as long as its row has an unmasked one); with ``zero_masked`` the result is
    multiplied by the mask afterwards (as Keras's Softmax layer), so a fully masked row is 0.

    Args:
        x: scores (..., n), float32.
        mask: None, or anything that broadcasts to x (bool or 0/1; nonzero = attend): a NumPy
            array or a Tensor (taken without gradient).
        scale: a constant multiplying x (1 / sqrt(key_dim) in dot-product attention).
        zero_masked: zero the masked entries of the output.

    Example::

        s = fastnn.tensor([[1.0, 2.0, 3.0]])
        masked_softmax(s, mask=[[True, True, False]])   # [[0.269, 0.731, 0.]]
    """
    x = _tensor(x)
    _check_float(x, "masked_softmax")
    if x.ndim == 0:
        raise ValueError("masked_softmax expects scores with at least one dimension, got a scalar")
    if isinstance(scale, bool) or not isinstance(scale, (int, float, np.integer, np.floating)):
        raise TypeError(f"masked_softmax: scale must be a number, got scale={scale!r}")
    if x.size == 0:
        return Tensor._wrap(_raw.empty(x.shape, x.device))
    raw_mask, rep, inner = None, 1, 1
    if mask is not None:
        m = mask.numpy() if isinstance(mask, Tensor) else np.asarray(mask)
        if m.dtype.kind not in "biuf":
            raise TypeError(f"masked_softmax: mask must be boolean or numeric, got dtype {m.dtype}")
        raw_mask, rep, inner = _mask_layout(m != 0, x.shape)
        if x.device != "cpu":
            raw_mask = _C.to_device(raw_mask)
    return MaskedSoftmax.apply(x, raw_mask, rep, inner, float(scale), bool(zero_masked))
