"""Linear algebra: matmul (NumPy semantics, batched and broadcast) and dense (x @ kernel + bias).

The kernels take 2-D or 3-D operands (``_C.matmul``); a 3-D operand with a batch of 1, or a
2-D one, is shared by every batch entry without a copy. Here N-D batch dimensions are
broadcast (expand, only when an operand has a batch that is neither full nor 1), flattened to
one batch dimension, and 1-D operands are promoted to matrices and the added dimension removed,
as in ``np.matmul``. Backward uses the transpose flags of the kernel instead of materialising
transposes: for C = op(A) op(B), dop(A) = dC op(B)^T and dop(B) = op(A)^T dC.
"""

from __future__ import annotations

import math

import numpy as np

from .. import _C, _raw
from ..autograd import Function
from ..tensor import Tensor, float32
from .shape import _tensor, broadcast_shapes, expand, reshape

__all__ = ["matmul", "dense"]


class Matmul(Function):
    """C = op(a) op(b) on 2-D / 3-D raw arrays (a batch of 1 or a 2-D operand is shared)."""

    @staticmethod
    def forward(ctx, a, b, ta, tb):
        ctx.save_for_backward(a, b)
        ctx.flags = (ta, tb)
        return _C.matmul(a, b, ta, tb)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved
        ta, tb = ctx.flags
        need_a, need_b = ctx.needs_input_grad[:2]
        da = db = None
        if need_a:
            # dop(A) = g op(B)^T; A itself is dop(A)^T = op(B) g^T when transposed
            da = _C.matmul(b, g, tb, True) if ta else _C.matmul(g, b, False, not tb)
            da = _raw.sum_to(da, a.shape)
        if need_b:
            # dop(B) = op(A)^T g; B itself is g^T op(A) when transposed
            db = _C.matmul(g, a, True, ta) if tb else _C.matmul(a, g, not ta, False)
            db = _raw.sum_to(db, b.shape)
        return da, db, None, None


def _check_operand(x: Tensor, name: str) -> None:
    if x.dtype != float32:
        raise TypeError(f"matmul: {name} must be float32, got {x.dtype}")
    if x.ndim == 0:
        raise ValueError(f"matmul: {name} must have at least one dimension, got a scalar (shape {x.shape})")


def matmul(a: Tensor, b: Tensor, transpose_a: bool = False, transpose_b: bool = False) -> Tensor:
    """Matrix product with NumPy semantics: ``a @ b``.

    1-D operands are promoted (a: (K,) -> (1, K), b: (K,) -> (K, 1)) and the added dimension
    removed from the result; leading (batch) dimensions broadcast. transpose_a / transpose_b
    swap the last two dimensions of an operand (ignored for 1-D operands) without a copy.

    Args:
        a: (..., M, K) or (..., K, M) with transpose_a.
        b: (..., K, N) or (..., N, K) with transpose_b.
    Returns:
        (broadcast batch..., M, N).

    Example::

        fastnn.matmul(fastnn.ones(2, 3), fastnn.ones(3, 4)).shape   # (2, 4)
    """
    a, b = _tensor(a), _tensor(b)
    _check_operand(a, "a")
    _check_operand(b, "b")
    if a.device != b.device:
        raise ValueError(f"matmul: operands are on different devices ({a.device} and {b.device})")
    shapes = f"{a.shape} and {b.shape}"
    a_vec, b_vec = a.ndim == 1, b.ndim == 1
    if a_vec:
        a, transpose_a = reshape(a, (1, a.shape[0])), False
    if b_vec:
        b, transpose_b = reshape(b, (b.shape[0], 1)), False
    m, ka = (a.shape[-1], a.shape[-2]) if transpose_a else (a.shape[-2], a.shape[-1])
    kb, n = (b.shape[-1], b.shape[-2]) if transpose_b else (b.shape[-2], b.shape[-1])
    if ka != kb:
        raise ValueError(
            f"matmul: shapes {shapes} are not aligned: inner dimensions {ka} and {kb} differ "
            f"(transpose_a={transpose_a}, transpose_b={transpose_b})"
        )
    try:
        batch = broadcast_shapes(a.shape[:-2], b.shape[:-2])
    except ValueError:
        raise ValueError(
            f"matmul: batch dimensions of shapes {shapes} cannot be broadcast together"
        ) from None
    nb = int(np.prod(batch, dtype=np.int64))

    def as_kernel_operand(x: Tensor) -> Tensor:
        xb = x.shape[:-2]
        if int(np.prod(xb, dtype=np.int64)) == 1 and nb != 0:
            # shared by every batch entry: 2-D (stride 0 in the kernel)
            return reshape(x, x.shape[-2:]) if x.ndim != 2 else x
        if (1,) * (len(batch) - len(xb)) + tuple(xb) != batch:
            x = expand(x, batch + x.shape[-2:])
        return reshape(x, (nb,) + x.shape[-2:])

    if not batch:
        out = Matmul.apply(a, b, bool(transpose_a), bool(transpose_b))
    else:
        a3, b3 = as_kernel_operand(a), as_kernel_operand(b)
        if a3.ndim == 2 and b3.ndim == 2:  # every batch dimension is 1
            a3 = reshape(a3, (1,) + a3.shape)
        out = Matmul.apply(a3, b3, bool(transpose_a), bool(transpose_b))
        out = reshape(out, batch + (m, n))
    if a_vec and b_vec:
        return reshape(out, out.shape[:-2])
    if a_vec:
        return reshape(out, out.shape[:-2] + (n,))
    if b_vec:
        return reshape(out, out.shape[:-1])
    return out


_ACTIVATIONS = _raw.EPILOGUE  # the fused epilogue's codes (csrc/kernels/gemm.h, enum Activation)


class Dense(Function):
    """y = act(x @ kernel + bias) for x (M, K), kernel (K, N), bias (N,) or None: forward is one
    GEMM whose epilogue adds the bias and applies the activation on each tile of y while it is
    in registers. Backward takes the activation's derivative from the saved output y (relu:
    y > 0, sigmoid: y (1 - y), tanh: 1 - y^2), then dx = dz kernel^T, dkernel = x^T dz and
    dbias = the column sums of dz."""

    @staticmethod
    def forward(ctx, x, kernel, bias, act):
        y = _C.dense(x, kernel, bias, _ACTIVATIONS[act])
        ctx.save_for_backward(x, kernel, y if act not in (None, "linear") else None)
        ctx.has_bias = bias is not None
        ctx.act = act
        return y

    @staticmethod
    def backward(ctx, g):
        x, kernel, y = ctx.saved
        need_x, need_k, need_b = ctx.needs_input_grad[:3]
        if y is not None:
            op = _raw.UNARY[ctx.act]
            # relu's rule reads its input; y > 0 exactly where the pre-activation is > 0
            g = _C.unary_backward(op, g, y if ctx.act == "relu" else None, y)
        dx = _C.matmul(g, kernel, False, True) if need_x else None
        dk = _C.matmul(x, g, True, False) if need_k else None
        db = None
        if ctx.has_bias and need_b:
            db = _raw.reduce("sum", g, [0]) if g.shape[0] else _raw.zeros(g.shape[1:], _raw.device_of(g))
        return dx, dk, db, None


def dense(x: Tensor, kernel: Tensor, bias: Tensor | None = None, activation: str | None = None) -> Tensor:
    """``activation(x @ kernel + bias)`` with Keras's Dense layout: kernel is (in, out), bias (out,).

    The product, the bias and the activation are one fused kernel (one pass over the output).

    Args:
        x: (..., in).
        kernel: (in, out).
        bias: (out,) or None.
        activation: None or 'linear' (identity), 'relu', 'sigmoid' or 'tanh'.
    Returns:
        (..., out).

    Example::

        y = dense(fastnn.ones(4, 3), fastnn.ones(3, 2), fastnn.zeros(2), activation="relu")
    """
    if activation not in _ACTIVATIONS:
        raise ValueError(
            f"dense: activation must be None, 'linear', 'relu', 'sigmoid' or 'tanh', got {activation!r}"
        )
    x, kernel = _tensor(x), _tensor(kernel)
    if kernel.ndim != 2:
        raise ValueError(f"dense: kernel must be 2-D (in, out), got shape {kernel.shape}")
    if x.ndim == 0 or x.shape[-1] != kernel.shape[0]:
        raise ValueError(
            f"dense: input shape {x.shape} does not match kernel shape {kernel.shape} "
            f"(the last input dimension must equal kernel.shape[0])"
        )
    if bias is not None:
        bias = _tensor(bias)
        if bias.shape != (kernel.shape[1],):
            raise ValueError(f"dense: bias shape {bias.shape} does not match kernel shape {kernel.shape}")
    for t, name in ((x, "x"), (kernel, "kernel"), (bias, "bias")):
        if t is not None and t.dtype != float32:
            raise TypeError(f"dense: {name} must be float32, got {t.dtype}")
    if x.device != kernel.device or (bias is not None and bias.device != x.device):
        devices = {t.device for t in (x, kernel, bias) if t is not None}
        raise ValueError(f"dense: x, kernel and bias must be on one device, got {sorted(map(str, devices))}")
    if x.ndim == 2:  # the common case: no reshapes
        return Dense.apply(x, kernel, bias, activation)
    lead = x.shape[:-1]
    x2 = reshape(x, (math.prod(lead), x.shape[-1]))
    y = Dense.apply(x2, kernel, bias, activation)
    return reshape(y, lead + (kernel.shape[1],))
