"""Convolutions: conv1d, conv2d, conv2d_transpose, depthwise_conv2d, separable_conv2d.

Every op runs on the im2col + GEMM kernels of ``_C`` (csrc/cpu/conv.cpp): ``conv2d_forward``
(bias and relu / sigmoid / tanh fused into the GEMM epilogue), ``conv2d_backward_data`` and
``conv2d_backward_weight``. Kernels have Keras's layout (kh, kw, in_channels / groups, filters)
in both data formats. ``padding='same'`` follows TensorFlow: the output has ceil(n / stride)
pixels and an odd amount of padding puts the extra pixel at the bottom / right. A transposed
convolution is the backward-to-input kernel, and its backward the forward kernel. Conv1D is a
convolution of height 1.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Union

import numpy as np

from .. import _C, _raw
from ..autograd import Function
from ..tensor import Tensor, float32
from .shape import _tensor, reshape

__all__ = [
    "conv1d",
    "conv2d",
    "conv2d_transpose",
    "depthwise_conv2d",
    "separable_conv2d",
    "conv_output_length",
    "conv_transpose_output_length",
    "conv_padding",
]

_ACTIVATIONS = _raw.EPILOGUE  # the fused epilogue's codes (csrc/kernels/gemm.h, enum Activation)
_FORMATS = ("channels_last", "channels_first")

PaddingArg = Union[str, int, Sequence]


def _pair(value, name: str, op: str, n: int = 2) -> tuple[int, ...]:
    """An int or a sequence of n positive ints."""
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        out = (int(value),) * n
    elif isinstance(value, (tuple, list)) and len(value) == n:
        out = tuple(value)
        if any(isinstance(v, bool) or not isinstance(v, (int, np.integer)) for v in out):
            raise ValueError(f"{op}: {name} must be an int or a tuple of {n} ints, got {name}={value!r}")
        out = tuple(int(v) for v in out)
    else:
        raise ValueError(f"{op}: {name} must be an int or a tuple of {n} ints, got {name}={value!r}")
    if any(v < 1 for v in out):
        raise ValueError(f"{op}: {name} must be positive, got {name}={value!r}")
    return out


def conv_output_length(length, kernel_size: int, padding: str, stride: int = 1, dilation: int = 1):
    """Output length of a convolution along one axis (None stays None), as Keras computes it:
    'valid': ceil((n - k_dilated + 1) / s); 'same': ceil(n / s); 'causal': ceil(n / s)."""
    if length is None:
        return None
    keff = (kernel_size - 1) * dilation + 1
    if padding == "valid":
        return max(0, (length - keff + stride) // stride)
    return (length + stride - 1) // stride


def conv_transpose_output_length(
    length, kernel_size: int, padding: str, output_padding: int | None = None, stride: int = 1, dilation: int = 1
):
    """Output length of a transposed convolution along one axis, Keras's rule (None stays None)."""
    if length is None:
        return None
    keff = (kernel_size - 1) * dilation + 1
    if output_padding is None:
        if padding == "valid":
            return length * stride + max(keff - stride, 0)
        return length * stride
    pad = keff // 2 if padding == "same" else 0
    return (length - 1) * stride + keff - 2 * pad + output_padding


def _same_pads(n: int, keff: int, s: int) -> tuple[int, int]:
    out = (n + s - 1) // s
    total = max((out - 1) * s + keff - n, 0)
    return total // 2, total - total // 2


def conv_padding(padding: PaddingArg, spatial: Sequence[int], kernel: Sequence[int], strides, dilation, op: str):
    """(top, bottom, left, right) for 'valid', 'same' (TensorFlow's split), an int, a pair of
    ints (symmetric per axis) or ((top, bottom), (left, right))."""
    if isinstance(padding, str):
        p = padding.lower()
        if p == "valid":
            return (0, 0, 0, 0)
        if p == "same":
            keff = [(k - 1) * d + 1 for k, d in zip(kernel, dilation)]
            t, b = _same_pads(spatial[0], keff[0], strides[0])
            left, r = _same_pads(spatial[1], keff[1], strides[1])
            return (t, b, left, r)
        raise ValueError(f"{op}: padding must be 'valid' or 'same', got padding={padding!r}")
    try:
        if isinstance(padding, (int, np.integer)) and not isinstance(padding, bool):
            out = (int(padding),) * 4
        elif len(padding) == 2 and all(isinstance(q, (int, np.integer)) for q in padding):
            out = (int(padding[0]),) * 2 + (int(padding[1]),) * 2
        elif len(padding) == 2 and all(len(q) == 2 for q in padding):
            out = tuple(int(v) for q in padding for v in q)
        else:
            raise TypeError
    except TypeError:
        raise ValueError(
            f"{op}: padding must be 'valid', 'same', an int, (ph, pw) or ((top, bottom), (left, right)), "
            f"got padding={padding!r}"
        ) from None
    if any(v < 0 for v in out):
        raise ValueError(f"{op}: padding must be non-negative, got padding={padding!r}")
    return out


def _args(strides, pads, dilation, groups, channels_last):
    return (tuple(strides), tuple(pads), tuple(dilation), int(groups), bool(channels_last))


class Conv2d(Function):
    """y = act(conv2d(x, kernel) + bias): one fused kernel call. Backward: the activation's
    derivative from the saved y (as Dense), then dx (GEMM + col2im) and dkernel / dbias."""

    fresh_grads = True  # dx, dkernel, dbias are new kernel outputs

    @staticmethod
    def forward(ctx, x, kernel, bias, args, act):
        y = _C.conv2d_forward(x, kernel, bias, *args, _ACTIVATIONS[act])
        ctx.save_for_backward(x, kernel, y if act not in (None, "linear") else None)
        ctx.args, ctx.act, ctx.has_bias = args, act, bias is not None
        return y

    @staticmethod
    def backward(ctx, g):
        x, kernel, y = ctx.saved
        need_x, need_k, need_b = ctx.needs_input_grad[:3]
        if y is not None:
            g = _C.unary_backward(_raw.UNARY[ctx.act], g, y if ctx.act == "relu" else None, y)
        dx = _C.conv2d_backward_data(g, kernel, tuple(x.shape), *ctx.args) if need_x else None
        dk = db = None
        if need_k or (ctx.has_bias and need_b):
            if need_k:
                dk, db = _C.conv2d_backward_weight(g, x, tuple(kernel.shape), *ctx.args, ctx.has_bias and need_b)
            else:
                db = _C.conv_bias_grad(g, ctx.args[-1])
        return dx, dk, db, None, None


class Conv2dTranspose(Function):
    """y = conv2d_backward_data(x, kernel) + bias, the output of shape out_shape. Backward:
    dx = conv2d(g, kernel), dkernel = conv2d_backward_weight(dy=x, input=g), dbias = sums of g."""

    fresh_grads = True  # dx, dkernel, dbias are new kernel outputs

    @staticmethod
    def forward(ctx, x, kernel, bias, out_shape, args):
        ctx.save_for_backward(x, kernel)
        ctx.args, ctx.has_bias = args, bias is not None
        return _C.conv2d_backward_data(x, kernel, out_shape, *args, bias)

    @staticmethod
    def backward(ctx, g):
        x, kernel = ctx.saved
        need_x, need_k, need_b = ctx.needs_input_grad[:3]
        dx = _C.conv2d_forward(g, kernel, None, *ctx.args, 0) if need_x else None
        dk = _C.conv2d_backward_weight(x, g, tuple(kernel.shape), *ctx.args, False)[0] if need_k else None
        db = _C.conv_bias_grad(g, ctx.args[-1]) if ctx.has_bias and need_b else None
        return dx, dk, db, None, None


def _check_common(op: str, x: Tensor, kernel: Tensor, bias, data_format: str, rank: int):
    if data_format not in _FORMATS:
        raise ValueError(f"{op}: data_format must be 'channels_last' or 'channels_first', got {data_format!r}")
    for t, name in ((x, "inputs"), (kernel, "kernel"), (bias, "bias")):
        if t is not None and t.dtype != float32:
            raise TypeError(f"{op}: {name} must be float32, got {t.dtype}")
    if x.ndim != rank + 2:
        spatial = ", ".join("spatial" for _ in range(rank))
        if data_format == "channels_last":
            layout = f"(batch, {spatial}, channels)"
        else:
            layout = f"(batch, channels, {spatial})"
        raise ValueError(f"{op}: inputs must be {rank + 2}-D {layout}, got shape {x.shape}")
    if kernel.ndim != rank + 2:
        raise ValueError(
            f"{op}: kernel must be {rank + 2}-D (kernel size..., in_channels, out_channels), got shape {kernel.shape}"
        )
    devices = {t.device for t in (x, kernel, bias) if t is not None}
    if len(devices) > 1:
        raise ValueError(f"{op}: inputs, kernel and bias must be on one device, got {sorted(map(str, devices))}")


def _groups(op: str, channels: int, kernel: Tensor, groups, x: Tensor) -> int:
    cin = kernel.shape[-2]
    if groups is None:
        if cin == 0 or channels % cin:
            raise ValueError(
                f"{op}: the inputs of shape {x.shape} have {channels} channels, which is not a multiple of "
                f"the kernel's {cin} input channels (kernel shape {kernel.shape})"
            )
        groups = channels // cin
    if isinstance(groups, bool) or not isinstance(groups, (int, np.integer)) or groups < 1:
        raise ValueError(f"{op}: groups must be a positive integer, got groups={groups!r}")
    groups = int(groups)
    if channels != cin * groups:
        raise ValueError(
            f"{op}: the inputs of shape {x.shape} have {channels} channels but the kernel of shape {kernel.shape} "
            f"with groups={groups} expects {cin * groups}"
        )
    if kernel.shape[-1] % groups:
        raise ValueError(
            f"{op}: the kernel's {kernel.shape[-1]} output channels (kernel shape {kernel.shape}) are not "
            f"divisible by groups={groups}"
        )
    return groups


def conv2d(
    x: Tensor,
    kernel: Tensor,
    bias: Tensor | None = None,
    strides=1,
    padding: PaddingArg = "valid",
    data_format: str = "channels_last",
    dilation_rate=1,
    groups: int | None = None,
    activation: str | None = None,
) -> Tensor:
    """2-D convolution (cross-correlation, as Keras and torch): ``activation(conv(x, kernel) + bias)``.

    Args:
        x: (batch, h, w, c) for channels_last, (batch, c, h, w) for channels_first.
        kernel: (kh, kw, c / groups, filters) in either data format (Keras's layout).
        bias: (filters,) or None.
        strides, dilation_rate: an int or (sh, sw).
        padding: 'valid', 'same' (TensorFlow: output ceil(n / s), the extra pixel bottom/right),
            an int, (ph, pw) or ((top, bottom), (left, right)).
        groups: None infers c // kernel.shape[2]; filters must be divisible by it.
        activation: None / 'linear', 'relu', 'sigmoid' or 'tanh', fused into the kernel.

    Example::

        y = conv2d(fastnn.ones(2, 8, 8, 3), fastnn.ones(3, 3, 3, 4), padding="same")
        y.shape    # (2, 8, 8, 4)
    """
    op = "conv2d"
    x, kernel = _tensor(x), _tensor(kernel)
    bias = None if bias is None else _tensor(bias)
    _check_common(op, x, kernel, bias, data_format, 2)
    if activation not in _ACTIVATIONS:
        raise ValueError(f"{op}: activation must be None, 'linear', 'relu', 'sigmoid' or 'tanh', got {activation!r}")
    cl = data_format == "channels_last"
    channels = x.shape[3] if cl else x.shape[1]
    spatial = x.shape[1:3] if cl else x.shape[2:4]
    groups = _groups(op, channels, kernel, groups, x)
    strides = _pair(strides, "strides", op)
    dilation = _pair(dilation_rate, "dilation_rate", op)
    if bias is not None and bias.shape != (kernel.shape[-1],):
        raise ValueError(f"{op}: bias shape {bias.shape} does not match kernel shape {kernel.shape}")
    pads = conv_padding(padding, spatial, kernel.shape[:2], strides, dilation, op)
    for i, (n, k, d) in enumerate(zip(spatial, kernel.shape[:2], dilation)):
        keff = (k - 1) * d + 1
        if n + pads[2 * i] + pads[2 * i + 1] < keff:
            raise ValueError(
                f"{op}: the kernel of shape {kernel.shape} (dilated window {keff}) does not fit in the "
                f"{'height' if i == 0 else 'width'} {n} of the inputs of shape {x.shape} with padding {padding!r}"
            )
    return Conv2d.apply(x, kernel, bias, _args(strides, pads, dilation, groups, cl), activation)


def conv1d(
    x: Tensor,
    kernel: Tensor,
    bias: Tensor | None = None,
    strides=1,
    padding: str | int | Sequence = "valid",
    data_format: str = "channels_last",
    dilation_rate=1,
    groups: int | None = None,
    activation: str | None = None,
) -> Tensor:
    """1-D convolution: x (batch, steps, c) (channels_first: (batch, c, steps)), kernel
    (k, c / groups, filters). padding: 'valid', 'same', 'causal' (left padding of
    dilation * (k - 1), so output t sees inputs up to t), an int or (left, right).
    Runs as a 2-D convolution of height 1.

    Example::

        conv1d(fastnn.ones(2, 10, 3), fastnn.ones(3, 3, 5), padding="causal").shape   # (2, 10, 5)
    """
    op = "conv1d"
    x, kernel = _tensor(x), _tensor(kernel)
    bias = None if bias is None else _tensor(bias)
    _check_common(op, x, kernel, bias, data_format, 1)
    (s,) = _pair(strides, "strides", op, 1)
    (d,) = _pair(dilation_rate, "dilation_rate", op, 1)
    k = kernel.shape[0]
    if isinstance(padding, str):
        p = padding.lower()
        if p == "causal":
            pad2 = ((0, 0), (d * (k - 1), 0))
        elif p in ("valid", "same"):
            pad2 = p
        else:
            raise ValueError(f"{op}: padding must be 'valid', 'same' or 'causal', got padding={padding!r}")
    elif isinstance(padding, (int, np.integer)) and not isinstance(padding, bool):
        pad2 = ((0, 0), (int(padding), int(padding)))
    elif isinstance(padding, (tuple, list)) and len(padding) == 2:
        pad2 = ((0, 0), tuple(padding))
    else:
        raise ValueError(f"{op}: padding must be 'valid', 'same', 'causal', an int or (left, right), got {padding!r}")
    cl = data_format == "channels_last"
    x4 = reshape(x, (x.shape[0], 1) + x.shape[1:]) if cl else reshape(x, x.shape[:2] + (1, x.shape[2]))
    k4 = reshape(kernel, (1,) + kernel.shape)
    y = conv2d(x4, k4, bias, (1, s), pad2, data_format, (1, d), groups, activation)
    return reshape(y, (y.shape[0],) + y.shape[2:]) if cl else reshape(y, y.shape[:2] + (y.shape[3],))


def conv2d_transpose(
    x: Tensor,
    kernel: Tensor,
    bias: Tensor | None = None,
    strides=1,
    padding: str = "valid",
    output_padding=None,
    data_format: str = "channels_last",
    dilation_rate=1,
) -> Tensor:
    """Transposed 2-D convolution (the gradient of conv2d with respect to its input), Keras's
    Conv2DTranspose: kernel (kh, kw, filters, in_channels); the output size follows Keras
    (valid: n * s + max(k - s, 0); same: n * s; with output_padding:
    (n - 1) * s + k - 2 * (k // 2 if same else 0) + output_padding).

    Example::

        conv2d_transpose(fastnn.ones(1, 4, 4, 8), fastnn.ones(3, 3, 2, 8), strides=2, padding="same").shape
        # (1, 8, 8, 2)
    """
    op = "conv2d_transpose"
    x, kernel = _tensor(x), _tensor(kernel)
    bias = None if bias is None else _tensor(bias)
    _check_common(op, x, kernel, bias, data_format, 2)
    cl = data_format == "channels_last"
    channels = x.shape[3] if cl else x.shape[1]
    if kernel.shape[3] != channels:
        raise ValueError(
            f"{op}: the inputs of shape {x.shape} have {channels} channels but the kernel of shape "
            f"{kernel.shape} expects {kernel.shape[3]} (kernel (kh, kw, filters, in_channels))"
        )
    filters = kernel.shape[2]
    if bias is not None and bias.shape != (filters,):
        raise ValueError(f"{op}: bias shape {bias.shape} does not match kernel shape {kernel.shape}")
    if not isinstance(padding, str) or padding.lower() not in ("valid", "same"):
        raise ValueError(f"{op}: padding must be 'valid' or 'same', got padding={padding!r}")
    padding = padding.lower()
    strides = _pair(strides, "strides", op)
    dilation = _pair(dilation_rate, "dilation_rate", op)
    if output_padding is not None:
        output_padding = tuple(
            output_padding if isinstance(output_padding, (tuple, list)) else (output_padding,) * 2
        )
        if len(output_padding) != 2 or any(
            isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 0 for v in output_padding
        ):
            raise ValueError(f"{op}: output_padding must be a non-negative int or pair, got {output_padding!r}")
        for v, s in zip(output_padding, strides):
            if v >= s:
                raise ValueError(
                    f"{op}: output_padding {output_padding} must be smaller than the strides {strides}"
                )
    spatial = x.shape[1:3] if cl else x.shape[2:4]
    out_sp, pads = [], []
    for i in range(2):
        k, s, d, n = kernel.shape[i], strides[i], dilation[i], spatial[i]
        op_i = None if output_padding is None else output_padding[i]
        length = conv_transpose_output_length(n, k, padding, op_i, s, d)
        keff = (k - 1) * d + 1
        # the padding of the forward convolution whose input gradient this is (Keras/JAX's rule)
        if padding == "valid":
            extra = max(keff, s) - keff if op_i is None else op_i
            lo, hi = keff - 1, keff - 1 + extra
        else:
            pad_len = s + keff - 2 if op_i is None else keff + keff % 2 - 2 + op_i
            lo = min(pad_len // 2 + pad_len % 2, keff - 1)
            hi = pad_len - lo
        top, bottom = keff - 1 - lo, keff - 1 - hi
        if length < 1 or top < 0 or (length + top + bottom - keff) // s + 1 != n:
            raise ValueError(
                f"{op}: inputs of shape {x.shape} with a kernel of shape {kernel.shape}, strides {strides}, "
                f"padding {padding!r} and output_padding {output_padding} give no valid output"
            )
        out_sp.append(length)
        pads += [top, bottom]
    out_shape = (x.shape[0], out_sp[0], out_sp[1], filters) if cl else (x.shape[0], filters, out_sp[0], out_sp[1])
    return Conv2dTranspose.apply(x, kernel, bias, out_shape, _args(strides, pads, dilation, 1, cl))


def depthwise_conv2d(
    x: Tensor,
    kernel: Tensor,
    bias: Tensor | None = None,
    strides=1,
    padding: PaddingArg = "valid",
    data_format: str = "channels_last",
    dilation_rate=1,
    activation: str | None = None,
) -> Tensor:
    """Depthwise 2-D convolution: each input channel c convolved with its own depth_multiplier
    filters, output channel c * depth_multiplier + m. kernel (kh, kw, c, depth_multiplier)
    (Keras's DepthwiseConv2D layout), bias (c * depth_multiplier,). A grouped convolution with
    groups == c (the kernel is the same memory as (kh, kw, 1, c * depth_multiplier)).

    Example::

        depthwise_conv2d(fastnn.ones(1, 5, 5, 3), fastnn.ones(3, 3, 3, 2)).shape   # (1, 3, 3, 6)
    """
    op = "depthwise_conv2d"
    x, kernel = _tensor(x), _tensor(kernel)
    _check_common(op, x, kernel, None if bias is None else _tensor(bias), data_format, 2)
    channels = x.shape[3] if data_format == "channels_last" else x.shape[1]
    if kernel.shape[2] != channels:
        raise ValueError(
            f"{op}: the inputs of shape {x.shape} have {channels} channels but the kernel of shape "
            f"{kernel.shape} expects {kernel.shape[2]} (kernel (kh, kw, channels, depth_multiplier))"
        )
    k4 = reshape(kernel, kernel.shape[:2] + (1, kernel.shape[2] * kernel.shape[3]))
    return conv2d(x, k4, bias, strides, padding, data_format, dilation_rate, channels, activation)


def separable_conv2d(
    x: Tensor,
    depthwise_kernel: Tensor,
    pointwise_kernel: Tensor,
    bias: Tensor | None = None,
    strides=1,
    padding: PaddingArg = "valid",
    data_format: str = "channels_last",
    dilation_rate=1,
    activation: str | None = None,
) -> Tensor:
    """A depthwise convolution (strides, padding and dilation apply here) followed by a 1x1
    convolution with pointwise_kernel (1, 1, c * depth_multiplier, filters), bias and activation.

    Example::

        separable_conv2d(fastnn.ones(1, 5, 5, 3), fastnn.ones(3, 3, 3, 1), fastnn.ones(1, 1, 3, 4)).shape
        # (1, 3, 3, 4)
    """
    h = depthwise_conv2d(x, depthwise_kernel, None, strides, padding, data_format, dilation_rate)
    return conv2d(h, pointwise_kernel, bias, 1, "valid", data_format, 1, 1, activation)
