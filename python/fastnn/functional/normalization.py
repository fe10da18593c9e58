"""Batch normalization and layer normalization (Keras conventions: epsilon 1e-3, momentum 0.99
with ``moving = moving * momentum + batch * (1 - momentum)``, biased batch variance both for
normalising and for the moving variance).

Example::

    x = fastnn.randn(32, 8, 8, 16)
    mm, mv = fastnn.zeros(16), fastnn.ones(16)
    y = fastnn.functional.batch_norm(x, mm, mv, training=True)   # also updates mm and mv
    z = fastnn.functional.layer_norm(fastnn.randn(4, 10))
"""

from __future__ import annotations

import numpy as np

from .. import _C
from ..autograd import Function, no_grad
from ..tensor import Tensor, float32
from .shape import _tensor

__all__ = ["batch_norm", "layer_norm", "batch_norm_moments"]


class BatchNorm(Function):
    """y = (x - mean) / sqrt(var + eps) * gamma + beta with mean / var given (raw arrays).
    training=True differentiates through mean and var as the batch statistics of x."""

    fresh_grads = True  # dx, dgamma, dbeta are new kernel outputs

    @staticmethod
    def forward(ctx, x, gamma, beta, mean, var, axis, eps, training):
        ctx.save_for_backward(x, gamma, mean, var)
        ctx.args = (axis, eps, training)
        return _C.batch_norm_forward(x, mean, var, gamma, beta, axis, eps)

    @staticmethod
    def backward(ctx, g):
        x, gamma, mean, var = ctx.saved
        axis, eps, training = ctx.args
        need = ctx.needs_input_grad
        dx, dg, db = _C.batch_norm_backward(g, x, mean, var, gamma, axis, eps, training, bool(need[1] or need[2]))
        return ((dx if need[0] else None), (dg if need[1] else None), (db if need[2] else None),
                None, None, None, None, None)


class LayerNorm(Function):
    fresh_grads = True  # dx, dgamma, dbeta are new kernel outputs

    @staticmethod
    def forward(ctx, x, gamma, beta, norm_dims, eps):
        y, mean, rstd = _C.layer_norm_forward(x, gamma, beta, norm_dims, eps)
        ctx.save_for_backward(x, gamma, mean, rstd)
        ctx.norm_dims = norm_dims
        return y

    @staticmethod
    def backward(ctx, g):
        x, gamma, mean, rstd = ctx.saved
        need = ctx.needs_input_grad
        dx, dg, db = _C.layer_norm_backward(g, x, mean, rstd, gamma, ctx.norm_dims, bool(need[1] or need[2]))
        return (dx if need[0] else None), (dg if need[1] else None), (db if need[2] else None), None, None


def _vector(v, n: int, name: str, op: str, shape=None):
    if v is None:
        return None
    v = _tensor(v)
    want = (n,) if shape is None else tuple(shape)
    if v.dtype != float32:
        raise TypeError(f"{op}: {name} must be float32, got {v.dtype}")
    if v.shape != want:
        raise ValueError(f"{op}: {name} must have shape {want}, got shape {v.shape}")
    return v


def _axis(axis, ndim: int, op: str) -> int:
    if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)):
        raise TypeError(f"{op}: axis must be an integer, got axis={axis!r}")
    if not -ndim <= axis < ndim:
        raise ValueError(f"{op}: axis {axis} is out of range for an input with {ndim} dimensions")
    return int(axis) % ndim


def batch_norm_moments(x: Tensor, axis: int = -1) -> tuple[Tensor, Tensor]:
    """Per-channel mean and biased variance of x over every axis but `axis` (no gradient).

    Example::

        mean, var = fastnn.functional.batch_norm_moments(fastnn.randn(16, 3))   # shapes (3,), (3,)
    """
    x = _tensor(x)
    a = _axis(axis, x.ndim, "batch_norm_moments")
    mean, var = _C.batch_norm_stats(x._data, a)
    return Tensor._wrap(mean), Tensor._wrap(var)


def _ema_(moving: Tensor, batch, momentum: float) -> None:
    """moving <- moving * momentum + batch * (1 - momentum), in float32, in place (Keras)."""
    if isinstance(moving._data, np.ndarray) and isinstance(batch, np.ndarray):
        # in place, the same roundings as m * momentum + batch * (1 - momentum)
        m = moving._data
        np.multiply(m, np.float32(momentum), out=m)
        m += batch * np.float32(1.0 - momentum)
        return
    with no_grad():
        new = Tensor._wrap(moving._data) * float(momentum) + Tensor._wrap(batch) * float(1.0 - momentum)
    moving._data = new._data


def batch_norm(
    x: Tensor,
    moving_mean: Tensor | None = None,
    moving_variance: Tensor | None = None,
    gamma: Tensor | None = None,
    beta: Tensor | None = None,
    training: bool = False,
    momentum: float = 0.99,
    epsilon: float = 1e-3,
    axis: int = -1,
) -> Tensor:
    """Batch normalization over every axis but `axis` (the channels).

    training=True normalises with the batch mean and biased variance and, when moving_mean /
    moving_variance are given, updates them in place (``moving * momentum + batch * (1 -
    momentum)``, Keras's convention; torch's momentum is 1 - this one). training=False
    normalises with moving_mean / moving_variance (both required).

    Example::

        y = fastnn.functional.batch_norm(fastnn.randn(8, 4), training=True)
    """
    op = "batch_norm"
    x = _tensor(x)
    if x.dtype != float32:
        raise TypeError(f"{op}: expected a float32 tensor, got {x.dtype}")
    if x.ndim < 1:
        raise ValueError(f"{op}: expected an input with a channel axis, got shape {x.shape}")
    a = _axis(axis, x.ndim, op)
    c = x.shape[a]
    if isinstance(epsilon, bool) or not isinstance(epsilon, (int, float, np.floating)) or not epsilon > 0:
        raise ValueError(f"{op}: epsilon must be a positive number, got epsilon={epsilon!r}")
    if isinstance(momentum, bool) or not isinstance(momentum, (int, float, np.floating)) or not 0 <= momentum <= 1:
        raise ValueError(f"{op}: momentum must be a number in [0, 1], got momentum={momentum!r}")
    gamma = _vector(gamma, c, "gamma", op)
    beta = _vector(beta, c, "beta", op)
    moving_mean = _vector(moving_mean, c, "moving_mean", op)
    moving_variance = _vector(moving_variance, c, "moving_variance", op)
    if training:
        if x.size == 0:
            raise ValueError(f"{op}: cannot take batch statistics of an empty input of shape {x.shape}")
        mean, var = _C.batch_norm_stats(x._data, a)
        if moving_mean is not None:
            _ema_(moving_mean, mean, momentum)
        if moving_variance is not None:
            _ema_(moving_variance, var, momentum)
    else:
        if moving_mean is None or moving_variance is None:
            raise ValueError(f"{op}: training=False normalises with moving_mean and moving_variance; pass both")
        mean, var = moving_mean._data, moving_variance._data
    return BatchNorm.apply(x, gamma, beta, mean, var, a, float(epsilon), bool(training))


def layer_norm(
    x: Tensor, gamma: Tensor | None = None, beta: Tensor | None = None, axis=-1, epsilon: float = 1e-3
) -> Tensor:
    """Normalise each sample over `axis` (the last axis, or a tuple of trailing axes):
    ``(x - mean) / sqrt(var + epsilon) * gamma + beta`` with the biased variance, as Keras's
    LayerNormalization. gamma / beta have the shape of the normalised axes.

    Example::

        y = fastnn.functional.layer_norm(fastnn.randn(4, 10), fastnn.ones(10), fastnn.zeros(10))
    """
    op = "layer_norm"
    x = _tensor(x)
    if x.dtype != float32:
        raise TypeError(f"{op}: expected a float32 tensor, got {x.dtype}")
    if x.ndim < 1:
        raise ValueError(f"{op}: expected at least a 1-D input, got shape {x.shape}")
    axes = sorted(_axis(a, x.ndim, op) for a in (axis if isinstance(axis, (tuple, list)) else (axis,)))
    if len(set(axes)) != len(axes) or axes != list(range(x.ndim - len(axes), x.ndim)):
        raise ValueError(
            f"{op}: axis must be the last axis or a run of trailing axes of the input, got axis={axis!r} "
            f"for an input of shape {x.shape}"
        )
    nd = len(axes)
    shape = x.shape[x.ndim - nd :]
    if 0 in shape:
        raise ValueError(f"{op}: cannot normalise over empty axes, input shape {x.shape}")
    if isinstance(epsilon, bool) or not isinstance(epsilon, (int, float, np.floating)) or not epsilon > 0:
        raise ValueError(f"{op}: epsilon must be a positive number, got epsilon={epsilon!r}")
    gamma = _vector(gamma, 0, "gamma", op, shape)
    beta = _vector(beta, 0, "beta", op, shape)
    return LayerNorm.apply(x, gamma, beta, nd, float(epsilon))
