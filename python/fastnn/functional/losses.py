"""Loss functions with Keras's names, argument order (y_true, y_pred) and conventions.

Each returns the per-sample loss, of shape ``y_pred.shape[:-1]``, as ``keras.losses.*``
functions do (the reduction over samples and sample weights belong to the loss classes).
Elementwise losses are the mean over the last axis; probabilities are clipped to
[epsilon, 1 - epsilon] with epsilon = 1e-7 (Keras's ``backend.epsilon()``); categorical
cross-entropy on probabilities first divides y_pred by its sum over the last axis. Each loss is
one fused kernel (``_C.loss_forward`` / ``_C.loss_backward``).

Gradients flow to y_pred. y_true gets a gradient for mean_squared_error and
mean_absolute_error (as torch gives one); the cross-entropies treat y_true as a constant
(torch gives no target gradient for sparse labels; for soft targets it is skipped here).
"""

from __future__ import annotations

import math

import numpy as np

from .. import _C
from ..autograd import Function
from ..tensor import Tensor, float32, int64
from .shape import _tensor

__all__ = [
    "mean_squared_error",
    "mse",
    "mean_absolute_error",
    "mae",
    "binary_crossentropy",
    "categorical_crossentropy",
    "sparse_categorical_crossentropy",
    "EPSILON",
]

EPSILON = 1e-7  # keras.backend.epsilon()


def _flat(a):
    return a.reshape((math.prod(a.shape),))


class LossFn(Function):
    """Per-sample loss of `kind` (see csrc/bindings/loss.cpp); pred is (..., D)."""

    @staticmethod
    def forward(ctx, pred, target, kind, eps, ls, target_grad):
        ctx.args = (kind, eps, ls, target_grad)
        ctx.save_for_backward(pred, target)
        loss = _C.loss_forward(kind, pred, target, eps, ls)
        return loss.reshape(tuple(pred.shape[:-1]))

    @staticmethod
    def backward(ctx, g):
        kind, eps, ls, target_grad = ctx.args
        pred, target = ctx.saved
        g = _flat(g)
        dpred = _C.loss_backward(kind, g, pred, target, eps, ls) if ctx.needs_input_grad[0] else None
        dtarget = None
        if target_grad and ctx.needs_input_grad[1]:
            # mse / mae are symmetric up to sign: d/dt f(p - t) = d/dp f(t - p)
            dtarget = _C.loss_backward(kind, g, target, pred, eps, ls)
        return dpred, dtarget, None, None, None, None


def _as_float(t: Tensor, what: str) -> Tensor:
    if t.dtype == float32:
        return t
    if t.requires_grad:
        raise TypeError(f"{what} must be float32, got {t.dtype}")
    return Tensor(t.numpy().astype(np.float32), device=t.device)


def _pred(y_pred) -> Tensor:
    p = _tensor(y_pred)
    if p.dtype != float32:
        raise TypeError(f"y_pred must be a float32 tensor, got {p.dtype}")
    if p.ndim == 0:
        raise ValueError("y_pred must have at least one dimension, got a scalar")
    return p


def _align(y_true: Tensor, y_pred: Tensor, name: str) -> Tensor:
    """y_true reshaped to y_pred's shape where Keras aligns them ((N,) against (N, 1) and the
    reverse); ValueError naming both shapes otherwise. Never broadcasts (N,) into (N, N)."""
    ts, ps = y_true.shape, y_pred.shape
    if ts == ps:
        return y_true
    if (len(ts) == len(ps) - 1 and ps[-1] == 1 and ts == ps[:-1]) or (
        len(ps) == len(ts) - 1 and ts[-1] == 1 and ts[:-1] == ps
    ):
        from .shape import reshape

        return reshape(y_true, ps)
    raise ValueError(f"{name}: y_true has shape {ts} but y_pred has shape {ps}; they must match")


def _elementwise(kind: str, name: str, y_true, y_pred, eps: float = EPSILON, target_grad: bool = False):
    p = _pred(y_pred)
    t = _align(_as_float(_tensor(y_true), "y_true"), p, name)
    if t.device != p.device:
        raise ValueError(f"{name}: y_true is on {t.device} but y_pred is on {p.device}")
    return LossFn.apply(p, t, kind, float(eps), 0.0, target_grad)


def _check_smoothing(ls: float, name: str) -> float:
    ls = float(ls)
    if not 0.0 <= ls <= 1.0:
        raise ValueError(f"{name}: label_smoothing must be in [0, 1], got label_smoothing={ls}")
    return ls


def mean_squared_error(y_true, y_pred) -> Tensor:
    """mean((y_true - y_pred) ** 2, axis=-1): one value per sample, shape y_pred.shape[:-1]."""
    return _elementwise("mse", "mean_squared_error", y_true, y_pred, target_grad=True)


def mean_absolute_error(y_true, y_pred) -> Tensor:
    """mean(abs(y_true - y_pred), axis=-1); the gradient at y_true == y_pred is 0."""
    return _elementwise("mae", "mean_absolute_error", y_true, y_pred, target_grad=True)


mse = mean_squared_error
mae = mean_absolute_error


def binary_crossentropy(y_true, y_pred, from_logits: bool = False, label_smoothing: float = 0.0) -> Tensor:
    """Binary cross-entropy, the mean over the last axis (Keras).

    Args:
        y_true: targets in [0, 1], y_pred's shape ((N,) against (N, 1) is aligned).
        y_pred: probabilities (clipped to [1e-7, 1 - 1e-7]) or, with from_logits=True, logits
            (computed as max(x, 0) - x t + log(1 + exp(-|x|)), stable for any x).
        label_smoothing: targets become y_true * (1 - ls) + 0.5 * ls (Keras).

    Example::

        loss = binary_crossentropy(labels, model(x), from_logits=True)   # shape (N,)
    """
    ls = _check_smoothing(label_smoothing, "binary_crossentropy")
    p = _pred(y_pred)
    t = _align(_as_float(_tensor(y_true), "y_true"), p, "binary_crossentropy")
    if ls:
        # a target transform, not differentiated
        if t.device == "cpu":
            t = Tensor(t.numpy() * np.float32(1.0 - ls) + np.float32(0.5 * ls))
        else:  # pragma: no cover - CUDA path uses the elementwise ops
            t = (t.detach() * (1.0 - ls) + 0.5 * ls).detach()
    kind = "bce_logits" if from_logits else "bce"
    return LossFn.apply(p, t.detach() if t.requires_grad else t, kind, EPSILON, 0.0, False)


def categorical_crossentropy(
    y_true, y_pred, from_logits: bool = False, label_smoothing: float = 0.0
) -> Tensor:
    """Categorical cross-entropy over the last axis (classes), one value per sample.

    Args:
        y_true: one-hot or soft targets, y_pred's shape (..., C).
        y_pred: probabilities (divided by their sum over the classes, then clipped to
            [1e-7, 1 - 1e-7], as Keras) or, with from_logits=True, logits (fused log-softmax).
        label_smoothing: targets become y_true * (1 - ls) + ls / C.
    """
    ls = _check_smoothing(label_smoothing, "categorical_crossentropy")
    p = _pred(y_pred)
    t = _as_float(_tensor(y_true), "y_true")
    if t.shape != p.shape:
        raise ValueError(
            f"categorical_crossentropy: y_true has shape {t.shape} but y_pred has shape {p.shape}; "
            "they must match (use sparse_categorical_crossentropy for integer labels)"
        )
    kind = "cce_logits" if from_logits else "cce"
    return LossFn.apply(p, t.detach() if t.requires_grad else t, kind, EPSILON, ls, False)


def sparse_categorical_crossentropy(y_true, y_pred, from_logits: bool = False) -> Tensor:
    """Categorical cross-entropy against integer labels.

    Args:
        y_true: class indices in [0, C), shape y_pred.shape[:-1] (or with a trailing 1, as
            Keras accepts); float labels holding integers are accepted.
        y_pred: probabilities (normalised, then clipped, as categorical_crossentropy) or logits.
    Raises ValueError for a label outside [0, C).
    """
    p = _pred(y_pred)
    t = _tensor(y_true)
    want = p.shape[:-1]
    if t.shape != want and t.shape != want + (1,):
        raise ValueError(
            f"sparse_categorical_crossentropy: labels of shape {t.shape} do not match y_pred of "
            f"shape {p.shape} (expected labels of shape {want})"
        )
    if t.dtype != int64:
        arr = t.numpy()
        lab = arr.astype(np.int64)
        if not np.array_equal(lab, arr):
            raise ValueError("sparse_categorical_crossentropy: labels must be integers")
        t = Tensor(lab, device=p.device)
    if t.device != p.device:
        raise ValueError(
            f"sparse_categorical_crossentropy: labels are on {t.device} but y_pred is on {p.device}"
        )
    if t.device != "cpu" and t.size:  # the CPU kernel entry checks the range itself
        lab = t.numpy()
        c = p.shape[-1]
        bad = (lab < 0) | (lab >= c)
        if bad.any():
            raise ValueError(
                f"sparse_categorical_crossentropy: label {int(lab[bad][0])} is out of range for {c} "
                f"classes: labels must be in [0, {c})"
            )
    raw_t = t._data.reshape(tuple(want))
    kind = "sparse_cce_logits" if from_logits else "sparse_cce"
    return LossFn.apply(p, Tensor._wrap(raw_t), kind, EPSILON, 0.0, False)
