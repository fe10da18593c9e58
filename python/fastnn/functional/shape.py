"""Shape operations: reshape, permute, squeeze/unsqueeze, expand, concatenate, stack, split,
indexing (ints, slices, None, Ellipsis, integer arrays) and device moves, with gradients.

Tensors are always contiguous, so reshape is free (it shares storage), while permute, expand
and slicing produce a contiguous copy through one strided-copy kernel; its backward is the
same kernel run the other way (or a sum for expand).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from .. import _C, _raw
from ..autograd import Function, is_grad_enabled
from ..tensor import Tensor, int64

__all__ = [
    "reshape", "flatten", "permute", "transpose", "squeeze", "unsqueeze", "expand",
    "broadcast_to", "concatenate", "concat", "stack", "split", "getitem", "setitem_",
    "take", "clone", "to_device", "broadcast_shapes",
]


def _norm_axis(axis: int, ndim: int, what: str = "axis") -> int:
    if not isinstance(axis, (int, np.integer)):
        raise TypeError(f"{what} must be an integer, got {axis!r}")
    a = int(axis)
    if not -ndim <= a < max(ndim, 1):
        raise ValueError(f"{what} {axis} is out of range for a tensor with {ndim} dimensions")
    return a % ndim if ndim else 0


def broadcast_shapes(*shapes: Sequence[int]) -> tuple[int, ...]:
    """The NumPy broadcast of `shapes`; ValueError naming the shapes when incompatible."""
    nd = max((len(s) for s in shapes), default=0)
    out = []
    for d in range(nd):
        size = 1
        for s in shapes:
            k = d - (nd - len(s))
            if k < 0:
                continue
            v = s[k]
            if v != 1:
                if size != 1 and size != v:
                    raise ValueError(
                        "shapes " + " and ".join(str(tuple(x)) for x in shapes) + " cannot be broadcast together"
                    )
                size = v
        out.append(size)
    return tuple(out)


def _resolve_shape(shape, size: int, src_shape) -> tuple[int, ...]:
    shape = tuple(map(int, shape))
    if -1 not in shape and math.prod(shape) == size and min(shape, default=0) >= 0:
        return shape
    if shape.count(-1) > 1:
        raise ValueError(f"only one dimension can be -1, got shape {shape}")
    if -1 in shape:
        known = math.prod(s for s in shape if s != -1)
        if known == 0 or size % known:
            raise ValueError(f"cannot reshape a tensor of shape {tuple(src_shape)} into {shape}")
        shape = tuple(size // known if s == -1 else s for s in shape)
    if any(s < 0 for s in shape) or math.prod(shape) != size:
        raise ValueError(f"cannot reshape a tensor of shape {tuple(src_shape)} into {shape}")
    return shape


class Reshape(Function):
    @staticmethod
    def forward(ctx, x, shape):
        ctx.in_shape = tuple(x.shape)
        return x.reshape(shape)

    @staticmethod
    def backward(ctx, g):
        return g.reshape(ctx.in_shape), None


def reshape(x: Tensor, shape: Sequence[int]) -> Tensor:
    """The same data with a new shape (one dimension may be -1); shares storage."""
    x = _tensor(x)
    shape = _resolve_shape(shape, x.size, x.shape)
    if shape == x.shape:
        return x
    return Reshape.apply(x, shape)


def flatten(x: Tensor, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    x = _tensor(x)
    if x.ndim == 0:
        return reshape(x, (1,))
    s, e = _norm_axis(start_dim, x.ndim), _norm_axis(end_dim, x.ndim)
    shape = x.shape[:s] + (-1,) + x.shape[e + 1 :]
    return reshape(x, shape)


def _copy_strided(x, offset: int, strides, shape):
    out = _raw.empty(shape, _raw.device_of(x), x.dtype)
    if math.prod(shape):
        _C.strided_copy(out, 0, _raw.contiguous_strides(shape), x, offset, list(strides), list(shape))
    return out


class Permute(Function):
    @staticmethod
    def forward(ctx, x, perm):
        ctx.perm = perm
        src = _raw.contiguous_strides(x.shape)
        shape = [x.shape[p] for p in perm]
        return _copy_strided(x, 0, [src[p] for p in perm], shape)

    @staticmethod
    def backward(ctx, g):
        inv = np.argsort(ctx.perm).tolist()
        return Permute.forward(ctx, g, inv), None


def permute(x: Tensor, axes: Sequence[int]) -> Tensor:
    """Reorder the dimensions (a contiguous copy): out.shape[i] = x.shape[axes[i]]."""
    x = _tensor(x)
    perm = [_norm_axis(a, x.ndim) for a in axes]
    if sorted(perm) != list(range(x.ndim)):
        raise ValueError(f"axes {tuple(axes)} are not a permutation of the {x.ndim} dimensions of {x.shape}")
    if perm == list(range(x.ndim)):
        return x
    return Permute.apply(x, perm)


def transpose(x: Tensor, *axes) -> Tensor:
    """transpose(x): reverse the dimensions; transpose(x, a, b): swap two dimensions;
    transpose(x, perm): permute (as NumPy's transpose with a tuple)."""
    x = _tensor(x)
    if len(axes) == 1 and isinstance(axes[0], (tuple, list)):
        return permute(x, axes[0])
    if not axes:
        return permute(x, tuple(range(x.ndim - 1, -1, -1)))
    if len(axes) == 2:
        a, b = _norm_axis(axes[0], x.ndim), _norm_axis(axes[1], x.ndim)
        perm = list(range(x.ndim))
        perm[a], perm[b] = perm[b], perm[a]
        return permute(x, perm)
    return permute(x, axes)


def squeeze(x: Tensor, axis=None) -> Tensor:
    """Remove size-1 dimensions (all of them, or the given axis / axes)."""
    x = _tensor(x)
    if axis is None:
        return reshape(x, tuple(s for s in x.shape if s != 1))
    axes = {_norm_axis(a, x.ndim) for a in (axis if isinstance(axis, (tuple, list)) else (axis,))}
    for a in axes:
        if x.shape[a] != 1:
            raise ValueError(f"cannot squeeze axis {a} of size {x.shape[a]} (shape {x.shape})")
    return reshape(x, tuple(s for d, s in enumerate(x.shape) if d not in axes))


def unsqueeze(x: Tensor, axis: int) -> Tensor:
    """Insert a size-1 dimension at `axis` (as torch.unsqueeze / np.expand_dims)."""
    x = _tensor(x)
    a = _norm_axis(axis, x.ndim + 1)
    return reshape(x, x.shape[:a] + (1,) + x.shape[a:])


class Expand(Function):
    @staticmethod
    def forward(ctx, x, shape):
        ctx.in_shape = tuple(x.shape)
        return _raw.broadcast_to(x, shape)

    @staticmethod
    def backward(ctx, g):
        return _raw.sum_to(g, ctx.in_shape), None


def broadcast_to(x: Tensor, shape: Sequence[int]) -> Tensor:
    """`x` broadcast to `shape` (NumPy rules), materialised; backward sums over broadcast dims."""
    x = _tensor(x)
    shape = tuple(int(s) for s in shape)
    try:
        ok = len(shape) >= x.ndim and broadcast_shapes(x.shape, shape) == shape
    except ValueError:
        ok = False
    if not ok:
        raise ValueError(f"cannot broadcast a tensor of shape {x.shape} to {shape}")
    if shape == x.shape:
        return x
    return Expand.apply(x, shape)


def expand(x: Tensor, shape: Sequence[int]) -> Tensor:
    """torch-style expand: like broadcast_to, and -1 keeps a dimension's size."""
    x = _tensor(x)
    lead = len(shape) - x.ndim
    full = tuple(x.shape[d - lead] if s == -1 and d >= lead else s for d, s in enumerate(shape))
    return broadcast_to(x, full)


class Concatenate(Function):
    @staticmethod
    def forward(ctx, axis, *xs):
        shape = list(xs[0].shape)
        sizes = [x.shape[axis] for x in xs]
        shape[axis] = sum(sizes)
        out = _raw.empty(shape, _raw.device_of(xs[0]), xs[0].dtype)
        strides = _raw.contiguous_strides(shape)
        start = 0
        for x, n in zip(xs, sizes):
            if n and x.size:
                _C.strided_copy(out, start * strides[axis], strides, x, 0, _raw.contiguous_strides(x.shape),
                                list(x.shape))
            start += n
        ctx.axis, ctx.sizes = axis, sizes
        return out

    @staticmethod
    def backward(ctx, g):
        strides = _raw.contiguous_strides(g.shape)
        grads, start = [None], 0
        for i, n in enumerate(ctx.sizes):
            if ctx.needs_input_grad[i + 1]:
                shape = list(g.shape)
                shape[ctx.axis] = n
                grads.append(_copy_strided(g, start * strides[ctx.axis], strides, shape))
            else:
                grads.append(None)
            start += n
        return tuple(grads)


def concatenate(tensors: Sequence[Tensor], axis: int = 0) -> Tensor:
    """Join tensors along an existing axis; all other dimensions must agree."""
    ts = [_tensor(t) for t in tensors]
    if not ts:
        raise ValueError("concatenate needs at least one tensor")
    nd = ts[0].ndim
    if nd == 0:
        raise ValueError("zero-dimensional tensors cannot be concatenated")
    ax = _norm_axis(axis, nd)
    for t in ts:
        if t.ndim != nd or t.shape[:ax] + t.shape[ax + 1 :] != ts[0].shape[:ax] + ts[0].shape[ax + 1 :]:
            raise ValueError(
                f"concatenate along axis {ax}: shapes {' and '.join(str(t.shape) for t in ts)} do not match"
            )
        if t.device != ts[0].device or t.dtype != ts[0].dtype:
            raise ValueError("concatenate: all tensors must have the same device and dtype")
    if len(ts) == 1:
        return ts[0]
    return Concatenate.apply(ax, *ts)


concat = concatenate


def stack(tensors: Sequence[Tensor], axis: int = 0) -> Tensor:
    """Join tensors of one shape along a new axis."""
    ts = [_tensor(t) for t in tensors]
    if not ts:
        raise ValueError("stack needs at least one tensor")
    for t in ts:
        if t.shape != ts[0].shape:
            raise ValueError(f"stack: shapes {' and '.join(str(t.shape) for t in ts)} differ")
    ax = _norm_axis(axis, ts[0].ndim + 1)
    return concatenate([unsqueeze(t, ax) for t in ts], ax)


def split(x: Tensor, indices_or_sections, axis: int = 0) -> list[Tensor]:
    """Split along `axis` (NumPy semantics): an int gives that many equal parts, a list of
    indices gives the split points."""
    x = _tensor(x)
    ax = _norm_axis(axis, x.ndim)
    n = x.shape[ax]
    if isinstance(indices_or_sections, (int, np.integer)):
        k = int(indices_or_sections)
        if k <= 0 or n % k:
            raise ValueError(f"cannot split an axis of size {n} into {k} equal parts")
        points = [n // k * i for i in range(1, k)]
    else:
        points = [int(p) for p in indices_or_sections]
    bounds = [0] + [min(max(p, 0), n) for p in points] + [n]
    pre = (slice(None),) * ax
    return [getitem(x, pre + (slice(a, max(a, b)),)) for a, b in zip(bounds[:-1], bounds[1:])]


# ---------------------------------------------------------------------- indexing
class Slice(Function):
    """out = x viewed at (offset, strides, shape); backward scatters into zeros."""

    @staticmethod
    def forward(ctx, x, offset, strides, shape):
        ctx.args = (tuple(x.shape), offset, strides, shape)
        return _copy_strided(x, offset, strides, shape)

    @staticmethod
    def backward(ctx, g):
        in_shape, offset, strides, shape = ctx.args
        dx = _raw.zeros(in_shape, _raw.device_of(g))
        if math.prod(shape):
            _C.strided_copy(dx, offset, list(strides), g, 0, _raw.contiguous_strides(shape), list(shape))
        return dx, None, None, None


class Take(Function):
    """out = x.take(idx, axis) for an int64 index array: gather, backward scatter-add."""

    @staticmethod
    def forward(ctx, x, idx, axis):
        ctx.args = (tuple(x.shape), axis)
        ctx.save_for_backward(idx)
        return _C.index_select_forward(x, idx, axis)

    @staticmethod
    def backward(ctx, g):
        (idx,) = ctx.saved
        shape, axis = ctx.args
        dx = _raw.zeros(shape, _raw.device_of(g))
        _C.index_select_backward(dx, g, idx, axis)
        return dx, None, None


def _index_array(idx, size: int, device: str):
    """An int64 index array (negative entries wrapped) on `device`."""
    if isinstance(idx, Tensor):
        if idx.dtype != int64:
            raise IndexError(f"tensors used as indices must be int64, got {idx.dtype}")
        if idx.device != "cpu":
            return idx._data
        arr = idx.numpy()
    else:
        arr = np.asarray(idx)
        if arr.dtype == bool:
            raise IndexError("boolean mask indexing is handled by getitem")
        if arr.size == 0:
            arr = arr.astype(np.int64)
        if arr.dtype.kind not in "iu":
            raise IndexError(f"arrays used as indices must be of integer type, got {arr.dtype}")
    arr = arr.astype(np.int64, copy=False)
    bad = (arr < -size) | (arr >= size)
    if bad.any():
        raise IndexError(f"index {int(arr[bad][0])} is out of bounds for an axis of size {size}")
    arr = np.ascontiguousarray(np.where(arr < 0, arr + size, arr))
    return arr if device == "cpu" else _C.to_device(arr)


def take(x: Tensor, indices, axis: int = 0) -> Tensor:
    """Gather entries of `x` along `axis` (np.take); the indices' shape replaces that axis."""
    x = _tensor(x)
    ax = _norm_axis(axis, x.ndim)
    idx = _index_array(indices, x.shape[ax], x.device)
    return Take.apply(x, idx, ax)


def _is_advanced(i) -> bool:
    return isinstance(i, (list, np.ndarray, Tensor)) and not (
        isinstance(i, np.ndarray) and i.ndim == 0
    )


def _parse_basic(shape, index):
    """Basic indexing (ints, slices, None, Ellipsis) as (offset, strides, out_shape) of the
    strided region, plus `final`: one entry per result axis, ("N",) for a None axis,
    ("B", size) for a sliced axis, ("A", j) for the j-th integer-array index; and `adv`,
    the integer-array indices as (position in out_shape, source axis, index)."""
    if not isinstance(index, tuple):
        index = (index,)
    n_real = sum(1 for i in index if i is not None and i is not Ellipsis)
    if sum(1 for i in index if i is Ellipsis) > 1:
        raise IndexError("an index can only have a single ellipsis ('...')")
    if n_real > len(shape):
        raise IndexError(f"too many indices for a tensor of shape {tuple(shape)}: {n_real} were given")
    expanded = []
    for i in index:
        if i is Ellipsis:
            expanded.extend([slice(None)] * (len(shape) - n_real))
        else:
            expanded.append(i)
    expanded.extend([slice(None)] * (len(shape) - sum(1 for i in expanded if i is not None)))
    src = _raw.contiguous_strides(shape)
    offset, strides, out_shape, final, adv = 0, [], [], [], []
    d = 0
    for i in expanded:
        if i is None:
            final.append(("N",))
            continue
        size = shape[d]
        if isinstance(i, slice):
            start, stop, step = i.indices(size)
            n = len(range(start, stop, step))
            if n:
                offset += start * src[d]
            strides.append(step * src[d])
            out_shape.append(n)
            final.append(("B", n))
        elif _is_advanced(i):
            final.append(("A", len(adv)))
            adv.append((len(out_shape), d, i))
            strides.append(src[d])
            out_shape.append(size)
        else:
            try:
                k = int(i)
            except TypeError:
                raise IndexError(f"unsupported index {i!r}: use ints, slices, None, ... or integer arrays") from None
            if not -size <= k < size:
                raise IndexError(f"index {k} is out of bounds for axis {d} with size {size}")
            offset += (k % size) * src[d]
        d += 1
    return offset, strides, out_shape, final, adv


def _final_shape(final, adv_shape=()) -> tuple[int, ...]:
    out = []
    for f in final:
        if f[0] == "N":
            out.append(1)
        elif f[0] == "B":
            out.append(f[1])
        elif f[1] == 0:
            out.extend(adv_shape)
    return tuple(out)


def getitem(x: Tensor, index) -> Tensor:
    """x[index] with NumPy semantics for ints, slices, None, Ellipsis, one boolean mask over
    the leading dimensions, and integer arrays (several are combined when adjacent)."""
    x = _tensor(x)
    if isinstance(index, Tensor) and index.dtype != int64:
        index = index.numpy().astype(bool)
    if isinstance(index, (np.ndarray, list)) and np.asarray(index).dtype == bool:
        mask = np.asarray(index)
        if mask.shape != x.shape[: mask.ndim]:
            raise IndexError(f"boolean index of shape {mask.shape} does not match tensor of shape {x.shape}")
        flat = reshape(x, (-1,) + x.shape[mask.ndim :])
        return take(flat, np.flatnonzero(mask), 0)
    offset, strides, out_shape, final, adv = _parse_basic(x.shape, index)
    y = x
    if offset != 0 or out_shape != list(x.shape) or strides != _raw.contiguous_strides(x.shape):
        y = Slice.apply(x, offset, strides, out_shape)
    if not adv:
        return reshape(y, _final_shape(final))
    # Integer arrays: broadcast them, merge their (adjacent) axes into one and gather.
    positions = [p for p, _, _ in adv]
    if positions != list(range(positions[0], positions[0] + len(positions))):
        raise IndexError("integer-array indices on non-adjacent axes are not supported")
    p0 = positions[0]
    sizes = [x.shape[d] for _, d, _ in adv]
    arrays = [np.asarray(a.numpy() if isinstance(a, Tensor) else a) for _, _, a in adv]
    for a in arrays:
        if a.size and a.dtype.kind not in "iu":
            raise IndexError(f"arrays used as indices must be of integer type, got {a.dtype}")
    try:
        arrays = np.broadcast_arrays(*arrays)
    except ValueError:
        raise IndexError(
            "shape mismatch: indexing arrays could not be broadcast together with shapes "
            + " ".join(str(np.shape(a)) for a in arrays)
        ) from None
    flat = np.zeros(arrays[0].shape, dtype=np.int64)
    for a, size in zip(arrays, sizes):
        a = a.astype(np.int64)
        bad = (a < -size) | (a >= size)
        if bad.any():
            raise IndexError(f"index {int(a[bad][0])} is out of bounds for an axis of size {size}")
        flat = flat * size + np.where(a < 0, a + size, a)
    merged = list(y.shape[:p0]) + [math.prod(sizes)] + list(y.shape[p0 + len(sizes) :])
    y = take(reshape(y, merged), flat, p0)
    return reshape(y, _final_shape(final, flat.shape))


def setitem_(x: Tensor, index, value) -> None:
    """In-place x[index] = value (value broadcast to the indexed region). Not recorded by
    autograd: raises on tensors that require grad while gradients are recorded."""
    if x.requires_grad and is_grad_enabled():
        raise RuntimeError(
            "in-place assignment to a tensor that requires grad; use fastnn.no_grad() or detach()"
        )
    val = value._data if isinstance(value, Tensor) else value
    if x.device == "cpu":
        x._data[index] = val if isinstance(val, np.ndarray) else np.asarray(val)
        return
    offset, strides, out_shape, final, adv = _parse_basic(x.shape, index)
    if adv:
        raise IndexError("integer-array assignment is only supported on the CPU")
    if not isinstance(val, _C.DeviceArray):
        val = _C.to_device(np.ascontiguousarray(val, dtype=x.dtype))
    region = _final_shape(final)
    vb = _raw.broadcast_to(val, broadcast_shapes(tuple(val.shape), region)).reshape(tuple(out_shape))
    if math.prod(out_shape):
        _C.strided_copy(x._data, offset, strides, vb, 0, _raw.contiguous_strides(out_shape), out_shape)


# ---------------------------------------------------------------------- copies and devices
class Clone(Function):
    @staticmethod
    def forward(ctx, x):
        return _raw.copy(x)

    @staticmethod
    def backward(ctx, g):
        return (g,)


def clone(x: Tensor) -> Tensor:
    """A copy with its own storage (differentiable)."""
    return Clone.apply(_tensor(x))


class ToDevice(Function):
    @staticmethod
    def forward(ctx, x, device):
        ctx.src = _raw.device_of(x)
        return _C.to_device(x) if device == "cuda" else _C.to_host(x)

    @staticmethod
    def backward(ctx, g):
        return (_C.to_device(g) if ctx.src == "cuda" else _C.to_host(g)), None


def to_device(x: Tensor, device: str) -> Tensor:
    x = _tensor(x)
    if x.device == device:
        return x
    return ToDevice.apply(x, device)


def _tensor(x) -> Tensor:
    return x if isinstance(x, Tensor) else Tensor(x)
