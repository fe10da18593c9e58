"""Pooling, upsampling, zero padding and cropping of images and sequences, with Keras's
argument names (``pool_size``, ``strides``, ``padding``, ``data_format``).

Images are (N, H, W, C) for ``data_format='channels_last'`` (Keras's default) or (N, C, H, W)
for ``'channels_first'``; sequences (N, L, C) or (N, C, L). ``padding='same'`` follows
TensorFlow: the output has ceil(n / stride) positions and the extra padding cell goes at the
bottom / right; padding cells are ignored by max pooling and not counted by average pooling.
Max pooling keeps the argmax of each window for backward (csrc/kernels/pool.h).

Example::

    x = fastnn.randn(8, 28, 28, 6)
    fastnn.functional.max_pool2d(x, 2).shape                  # (8, 14, 14, 6)
    fastnn.functional.avg_pool2d(x, 3, 2, "same").shape       # (8, 14, 14, 6)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Union

import numpy as np

from .. import _C, _raw
from ..autograd import Function
from ..tensor import Tensor, float32
from .reductions import max as _max
from .reductions import mean as _mean
from .shape import _tensor, broadcast_to, getitem, reshape

__all__ = [
    "max_pool1d",
    "max_pool2d",
    "avg_pool1d",
    "avg_pool2d",
    "global_avg_pool1d",
    "global_avg_pool2d",
    "global_max_pool1d",
    "global_max_pool2d",
    "upsample2d",
    "zero_pad2d",
    "crop2d",
]

IntOrPair = Union[int, Sequence[int]]


def _ints(value, n: int, name: str, op: str, allow_zero: bool = False) -> tuple[int, ...]:
    """`value` as n positive (or non-negative) ints: an int is repeated."""
    items = (value,) * n if isinstance(value, (int, np.integer)) and not isinstance(value, bool) else value
    try:
        items = tuple(items)
    except TypeError:
        items = None
    low = 0 if allow_zero else 1
    if (
        items is None
        or len(items) != n
        or not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) and v >= low for v in items)
    ):
        kind = "non-negative" if allow_zero else "positive"
        raise ValueError(f"{op}: {name} must be a {kind} integer or a tuple of {n} of them, got {name}={value!r}")
    return tuple(int(v) for v in items)


def _padding(padding, op: str) -> str:
    p = padding.lower() if isinstance(padding, str) else padding
    if p not in ("valid", "same"):
        raise ValueError(f"{op}: padding must be 'valid' or 'same', got padding={padding!r}")
    return p


def _channels_last(data_format, op: str) -> bool:
    if data_format in (None, "channels_last"):
        return True
    if data_format == "channels_first":
        return False
    raise ValueError(f"{op}: data_format must be 'channels_last' or 'channels_first', got data_format={data_format!r}")


def _check_input(x: Tensor, ndim: int, op: str, layout: str) -> Tensor:
    x = _tensor(x)
    if x.dtype != float32:
        raise TypeError(f"{op}: expected a float32 tensor, got {x.dtype}")
    if x.ndim != ndim:
        raise ValueError(f"{op}: expected a {ndim}-D input {layout}, got shape {x.shape}")
    return x


def pool_output_length(n, pool: int, stride: int, padding: str):
    """Output positions along one axis (None stays None): ceil(n / s) for 'same',
    (n - pool) // s + 1 for 'valid'."""
    if n is None:
        return None
    if padding == "same":
        return -(-n // stride)
    return (n - pool) // stride + 1 if n >= pool else 0


# ---------------------------------------------------------------------- 2-D pooling
class MaxPool2d(Function):
    @staticmethod
    def forward(ctx, x, geom):
        y, argmax = _C.max_pool2d_forward(x, *geom)
        ctx.save_for_backward(argmax)
        ctx.args = (tuple(x.shape), geom)
        return y

    @staticmethod
    def backward(ctx, g):
        (argmax,) = ctx.saved
        shape, geom = ctx.args
        return _C.max_pool2d_backward(g, argmax, shape, *geom), None


class AvgPool2d(Function):
    @staticmethod
    def forward(ctx, x, geom):
        ctx.args = (tuple(x.shape), geom)
        return _C.avg_pool2d_forward(x, *geom)

    @staticmethod
    def backward(ctx, g):
        shape, geom = ctx.args
        return _C.avg_pool2d_backward(g, shape, *geom), None


def _pool2d(fn, op, x, pool_size, strides, padding, data_format) -> Tensor:
    cl = _channels_last(data_format, op)
    x = _check_input(x, 4, op, "(batch, height, width, channels)" if cl else "(batch, channels, height, width)")
    kh, kw = _ints(pool_size, 2, "pool_size", op)
    sh, sw = _ints(strides if strides is not None else (kh, kw), 2, "strides", op)
    return fn.apply(x, (kh, kw, sh, sw, _padding(padding, op), cl))


def max_pool2d(
    x: Tensor, pool_size: IntOrPair = 2, strides: IntOrPair | None = None, padding: str = "valid",
    data_format: str | None = None,
) -> Tensor:
    """Max over pool_size windows moved by strides (default: pool_size), per channel.

    Example::

        fastnn.functional.max_pool2d(fastnn.randn(2, 5, 5, 3), 2, padding="same").shape   # (2, 3, 3, 3)
    """
    return _pool2d(MaxPool2d, "max_pool2d", x, pool_size, strides, padding, data_format)


def avg_pool2d(
    x: Tensor, pool_size: IntOrPair = 2, strides: IntOrPair | None = None, padding: str = "valid",
    data_format: str | None = None,
) -> Tensor:
    """Mean over pool_size windows moved by strides (default: pool_size); with 'same' padding
    each window is divided by its number of valid (unpadded) cells, as TensorFlow does.

    Example::

        fastnn.functional.avg_pool2d(fastnn.ones(1, 4, 4, 1), 2).shape   # (1, 2, 2, 1)
    """
    return _pool2d(AvgPool2d, "avg_pool2d", x, pool_size, strides, padding, data_format)


def _pool1d(fn, op, x, pool_size, strides, padding, data_format) -> Tensor:
    cl = _channels_last(data_format, op)
    x = _check_input(x, 3, op, "(batch, steps, channels)" if cl else "(batch, channels, steps)")
    (k,) = _ints(pool_size, 1, "pool_size", op)
    (s,) = _ints(strides if strides is not None else k, 1, "strides", op)
    n, a, b = x.shape
    img = reshape(x, (n, 1, a, b) if cl else (n, a, 1, b))
    y = fn.apply(img, (1, k, 1, s, _padding(padding, op), cl))
    return reshape(y, (n, y.shape[2], b) if cl else (n, a, y.shape[3]))


def max_pool1d(
    x: Tensor, pool_size: IntOrPair = 2, strides: IntOrPair | None = None, padding: str = "valid",
    data_format: str | None = None,
) -> Tensor:
    """Max pooling of sequences (N, steps, C) (channels_last) or (N, C, steps).

    Example::

        fastnn.functional.max_pool1d(fastnn.randn(2, 9, 4), 3).shape   # (2, 3, 4)
    """
    return _pool1d(MaxPool2d, "max_pool1d", x, pool_size, strides, padding, data_format)


def avg_pool1d(
    x: Tensor, pool_size: IntOrPair = 2, strides: IntOrPair | None = None, padding: str = "valid",
    data_format: str | None = None,
) -> Tensor:
    """Average pooling of sequences (N, steps, C) (channels_last) or (N, C, steps).

    Example::

        fastnn.functional.avg_pool1d(fastnn.randn(2, 9, 4), 2, padding="same").shape   # (2, 5, 4)
    """
    return _pool1d(AvgPool2d, "avg_pool1d", x, pool_size, strides, padding, data_format)


# ---------------------------------------------------------------------- global pooling
def _global(reduce, op, x, ndim, data_format, keepdims) -> Tensor:
    cl = _channels_last(data_format, op)
    x = _check_input(x, ndim, op, "with the channels " + ("last" if cl else "first"))
    axes = tuple(range(1, ndim - 1)) if cl else tuple(range(2, ndim))
    if any(x.shape[a] == 0 for a in axes):
        raise ValueError(f"{op}: cannot pool an input with an empty spatial axis, got shape {x.shape}")
    return reduce(x, axes, bool(keepdims))


def global_avg_pool2d(x: Tensor, data_format: str | None = None, keepdims: bool = False) -> Tensor:
    """Mean over height and width: (N, H, W, C) -> (N, C) (or (N, 1, 1, C) with keepdims).

    Example::

        fastnn.functional.global_avg_pool2d(fastnn.randn(2, 5, 5, 3)).shape   # (2, 3)
    """
    return _global(_mean, "global_avg_pool2d", x, 4, data_format, keepdims)


def global_max_pool2d(x: Tensor, data_format: str | None = None, keepdims: bool = False) -> Tensor:
    """Max over height and width: (N, H, W, C) -> (N, C) (or (N, 1, 1, C) with keepdims).

    Example::

        fastnn.functional.global_max_pool2d(fastnn.randn(2, 5, 5, 3), keepdims=True).shape   # (2, 1, 1, 3)
    """
    return _global(_max, "global_max_pool2d", x, 4, data_format, keepdims)


def global_avg_pool1d(x: Tensor, data_format: str | None = None, keepdims: bool = False) -> Tensor:
    """Mean over the steps: (N, L, C) -> (N, C).

    Example::

        fastnn.functional.global_avg_pool1d(fastnn.randn(2, 7, 3)).shape   # (2, 3)
    """
    return _global(_mean, "global_avg_pool1d", x, 3, data_format, keepdims)


def global_max_pool1d(x: Tensor, data_format: str | None = None, keepdims: bool = False) -> Tensor:
    """Max over the steps: (N, L, C) -> (N, C).

    Example::

        fastnn.functional.global_max_pool1d(fastnn.randn(2, 7, 3)).shape   # (2, 3)
    """
    return _global(_max, "global_max_pool1d", x, 3, data_format, keepdims)


# ---------------------------------------------------------------------- upsampling
class ResizeBilinear(Function):
    @staticmethod
    def forward(ctx, x, out_h, out_w, cl):
        ctx.args = (tuple(x.shape), cl)
        return _C.resize_bilinear_forward(x, out_h, out_w, cl)

    @staticmethod
    def backward(ctx, g):
        shape, cl = ctx.args
        return _C.resize_bilinear_backward(g, shape, cl), None, None, None


def upsample2d(
    x: Tensor, size: IntOrPair = (2, 2), interpolation: str = "nearest", data_format: str | None = None
) -> Tensor:
    """Enlarge images by integer factors `size` (rows, columns), as Keras's UpSampling2D:
    'nearest' repeats each pixel; 'bilinear' interpolates with half-pixel centres (TensorFlow's
    resize, torch's align_corners=False).

    Example::

        fastnn.functional.upsample2d(fastnn.randn(1, 3, 4, 2), (2, 3)).shape   # (1, 6, 12, 2)
    """
    op = "upsample2d"
    cl = _channels_last(data_format, op)
    x = _check_input(x, 4, op, "(batch, height, width, channels)" if cl else "(batch, channels, height, width)")
    fh, fw = _ints(size, 2, "size", op)
    if interpolation not in ("nearest", "bilinear"):
        raise ValueError(f"{op}: interpolation must be 'nearest' or 'bilinear', got interpolation={interpolation!r}")
    n, a, b, c = x.shape
    h, w = (a, b) if cl else (b, c)
    if interpolation == "bilinear":
        return ResizeBilinear.apply(x, h * fh, w * fw, cl)
    if fh == 1 and fw == 1:
        return x
    # Repeat by broadcasting a size-1 axis after each spatial axis (one strided copy; backward
    # sums the copies).
    if cl:
        y = broadcast_to(reshape(x, (n, h, 1, w, 1, c)), (n, h, fh, w, fw, c))
        return reshape(y, (n, h * fh, w * fw, c))
    y = broadcast_to(reshape(x, (n, a, h, 1, w, 1)), (n, a, h, fh, w, fw))
    return reshape(y, (n, a, h * fh, w * fw))


# ---------------------------------------------------------------------- padding / cropping
def _pairs(value, op: str, name: str) -> tuple[tuple[int, int], tuple[int, int]]:
    """Keras's padding / cropping forms: int, (sym_h, sym_w) or ((top, bottom), (left, right))."""
    bad = ValueError(
        f"{op}: {name} must be an int, a tuple of 2 ints or a tuple of 2 tuples of 2 ints, got {name}={value!r}"
    )

    def nn_int(v):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 0:
            raise bad
        return int(v)

    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        v = nn_int(value)
        return (v, v), (v, v)
    if not isinstance(value, (tuple, list)) or len(value) != 2:
        raise bad
    out = []
    for item in value:
        if isinstance(item, (tuple, list)):
            if len(item) != 2:
                raise bad
            out.append((nn_int(item[0]), nn_int(item[1])))
        else:
            v = nn_int(item)
            out.append((v, v))
    return out[0], out[1]


class Pad(Function):
    """Zero padding: out is zeros with x copied at offset `before` per dim; backward slices."""

    @staticmethod
    def forward(ctx, x, before, out_shape):
        strides = _raw.contiguous_strides(out_shape)
        offset = sum(b * s for b, s in zip(before, strides))
        ctx.args = (offset, strides, tuple(x.shape))
        out = _raw.zeros(out_shape, _raw.device_of(x))
        if x.size:
            _C.strided_copy(out, offset, strides, x, 0, _raw.contiguous_strides(x.shape), list(x.shape))
        return out

    @staticmethod
    def backward(ctx, g):
        offset, strides, shape = ctx.args
        dx = _raw.empty(shape, _raw.device_of(g))
        if math.prod(shape):
            _C.strided_copy(dx, 0, _raw.contiguous_strides(shape), g, offset, strides, list(shape))
        return dx, None, None


def zero_pad2d(x: Tensor, padding=1, data_format: str | None = None) -> Tensor:
    """Add rows and columns of zeros around images: padding = int, (rows, cols) or
    ((top, bottom), (left, right)), as Keras's ZeroPadding2D.

    Example::

        fastnn.functional.zero_pad2d(fastnn.ones(1, 2, 2, 1), ((1, 0), (2, 1))).shape   # (1, 3, 5, 1)
    """
    op = "zero_pad2d"
    cl = _channels_last(data_format, op)
    x = _check_input(x, 4, op, "(batch, height, width, channels)" if cl else "(batch, channels, height, width)")
    (t, b), (lft, r) = _pairs(padding, op, "padding")
    if t == b == lft == r == 0:
        return x
    n, d1, d2, d3 = x.shape
    if cl:
        before, shape = [0, t, lft, 0], [n, d1 + t + b, d2 + lft + r, d3]
    else:
        before, shape = [0, 0, t, lft], [n, d1, d2 + t + b, d3 + lft + r]
    return Pad.apply(x, before, shape)


def crop2d(x: Tensor, cropping=((0, 0), (0, 0)), data_format: str | None = None) -> Tensor:
    """Remove rows and columns at the image borders: cropping = int, (rows, cols) or
    ((top, bottom), (left, right)), as Keras's Cropping2D.

    Example::

        fastnn.functional.crop2d(fastnn.ones(1, 5, 5, 1), ((1, 2), (0, 1))).shape   # (1, 2, 4, 1)
    """
    op = "crop2d"
    cl = _channels_last(data_format, op)
    x = _check_input(x, 4, op, "(batch, height, width, channels)" if cl else "(batch, channels, height, width)")
    (t, b), (lft, r) = _pairs(cropping, op, "cropping")
    h, w = (x.shape[1], x.shape[2]) if cl else (x.shape[2], x.shape[3])
    if t + b >= h or lft + r >= w:
        raise ValueError(
            f"{op}: cropping (({t}, {b}), ({lft}, {r})) removes every row or column of images of size "
            f"({h}, {w}) (input shape {x.shape})"
        )
    rows, cols = slice(t, h - b), slice(lft, w - r)
    full = slice(None)
    return getitem(x, (full, rows, cols, full) if cl else (full, full, rows, cols))
