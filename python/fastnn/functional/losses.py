"""Loss functions with Keras's names, argument order (y_true, y_pred) and conventions.

Each returns the per-sample loss, of shape ``y_pred.shape[:-1]``, as ``keras.losses.*``
functions do (the reduction over samples and sample weights belong to the loss classes).
Elementwise losses are the mean over the last axis (kl_divergence, categorical_hinge and
cosine_similarity are sums over it, as in Keras); probabilities are clipped to
[epsilon, 1 - epsilon] with epsilon = 1e-7 (Keras's ``backend.epsilon()``); categorical
cross-entropy on probabilities first divides y_pred by its sum over the last axis. Each loss is
one fused kernel (``_C.loss_forward`` / ``_C.loss_backward``).

Gradients flow to y_pred. y_true gets a gradient for the losses that are even functions of
y_pred - y_true (mean_squared_error, mean_absolute_error, huber, log_cosh), as torch gives one;
the others treat y_true as a constant (torch gives no target gradient for sparse labels; for
soft targets it is skipped here).
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
    "mean_absolute_percentage_error",
    "mape",
    "mean_squared_logarithmic_error",
    "msle",
    "huber",
    "log_cosh",
    "logcosh",
    "binary_focal_crossentropy",
    "kl_divergence",
    "kld",
    "kullback_leibler_divergence",
    "poisson",
    "hinge",
    "squared_hinge",
    "categorical_hinge",
    "cosine_similarity",
    "EPSILON",
]

EPSILON = 1e-7  # keras.backend.epsilon()


def _flat(a):
    return a.reshape((math.prod(a.shape),))


class LossFn(Function):
    """Per-sample loss of `kind` (see csrc/bindings/loss.cpp); pred is (..., D); params are the
    kernel's keyword arguments (eps, label_smoothing, delta, gamma, alpha, class_balancing)."""

    @staticmethod
    def forward(ctx, pred, target, kind, params, target_grad):
        ctx.args = (kind, params, target_grad)
        ctx.save_for_backward(pred, target)
        loss = _C.loss_forward(kind, pred, target, **params)
        return loss.reshape(tuple(pred.shape[:-1]))

    @staticmethod
    def backward(ctx, g):
        kind, params, target_grad = ctx.args
        pred, target = ctx.saved
        g = _flat(g)
        dpred = _C.loss_backward(kind, g, pred, target, **params) if ctx.needs_input_grad[0] else None
        dtarget = None
        if target_grad and ctx.needs_input_grad[1]:
            # even functions of the error: d/dt f(p - t) = -f'(p - t) = f'(t - p)
            dtarget = _C.loss_backward(kind, g, target, pred, **params)
        return dpred, dtarget, None, None, None


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


def _pair(name: str, y_true, y_pred) -> tuple[Tensor, Tensor]:
    p = _pred(y_pred)
    t = _align(_as_float(_tensor(y_true), "y_true"), p, name)
    if t.device != p.device:
        raise ValueError(f"{name}: y_true is on {t.device} but y_pred is on {p.device}")
    return t, p


def _elementwise(kind: str, name: str, y_true, y_pred, target_grad: bool = False, **params):
    t, p = _pair(name, y_true, y_pred)
    if not target_grad and t.requires_grad:
        t = t.detach()
    return LossFn.apply(p, t, kind, {"eps": EPSILON, **params}, target_grad)


def _target_map(t: Tensor, scale: float, shift: float) -> Tensor:
    """t * scale + shift as a constant (a target transform, not differentiated)."""
    if t.device == "cpu":
        return Tensor(t.numpy() * np.float32(scale) + np.float32(shift))
    return (t.detach() * scale + shift).detach()  # pragma: no cover - CUDA path


def _check_axis_last(axis: int, name: str, ndim: int) -> None:
    if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)):
        raise TypeError(f"{name}: axis must be an int, got axis={axis!r}")
    if axis not in (-1, ndim - 1):
        raise ValueError(f"{name} supports the last axis only (axis=-1), got axis={axis} for y_pred of rank {ndim}")


def _check_smoothing(ls: float, name: str) -> float:
    ls = float(ls)
    if not 0.0 <= ls <= 1.0:
        raise ValueError(f"{name}: label_smoothing must be in [0, 1], got label_smoothing={ls}")
    return ls


def mean_squared_error(y_true, y_pred) -> Tensor:
    """mean((y_true - y_pred) ** 2, axis=-1): one value per sample, shape y_pred.shape[:-1]."""
    return _elementwise("mse", "mean_squared_error", y_true, y_pred, True)


def mean_absolute_error(y_true, y_pred) -> Tensor:
    """mean(abs(y_true - y_pred), axis=-1); the gradient at y_true == y_pred is 0."""
    return _elementwise("mae", "mean_absolute_error", y_true, y_pred, True)


mse = mean_squared_error
mae = mean_absolute_error


def binary_crossentropy(y_true, y_pred, from_logits: bool = False, label_smoothing: float = 0.0,
                        axis: int = -1) -> Tensor:
    """Binary cross-entropy, the mean over the last axis (Keras).

    Args:
        y_true: targets in [0, 1], y_pred's shape ((N,) against (N, 1) is aligned).
        y_pred: probabilities (clipped to [1e-7, 1 - 1e-7]) or, with from_logits=True, logits
            (computed as max(x, 0) - x t + log(1 + exp(-|x|)), stable for any x).
        label_smoothing: targets become y_true * (1 - ls) + 0.5 * ls (Keras).
        axis: the axis averaged over; -1 only.

    Example::

        loss = binary_crossentropy(labels, model(x), from_logits=True)   # shape (N,)
    """
    ls = _check_smoothing(label_smoothing, "binary_crossentropy")
    t, p = _pair("binary_crossentropy", y_true, y_pred)
    _check_axis_last(axis, "binary_crossentropy", p.ndim)
    if ls:
        t = _target_map(t, 1.0 - ls, 0.5 * ls)
    kind = "bce_logits" if from_logits else "bce"
    return _elementwise(kind, "binary_crossentropy", t, p)


def categorical_crossentropy(
    y_true, y_pred, from_logits: bool = False, label_smoothing: float = 0.0, axis: int = -1
) -> Tensor:
    """Categorical cross-entropy over the last axis (classes), one value per sample.

    Args:
        y_true: one-hot or soft targets, y_pred's shape (..., C).
        y_pred: probabilities (divided by their sum over the classes, then clipped to
            [1e-7, 1 - 1e-7], as Keras) or, with from_logits=True, logits (fused log-softmax).
        label_smoothing: targets become y_true * (1 - ls) + ls / C.
        axis: the class axis; -1 only.

    Example::

        loss = categorical_crossentropy(one_hot, logits, from_logits=True, label_smoothing=0.1)
    """
    ls = _check_smoothing(label_smoothing, "categorical_crossentropy")
    p = _pred(y_pred)
    _check_axis_last(axis, "categorical_crossentropy", p.ndim)
    t = _as_float(_tensor(y_true), "y_true")
    if t.shape != p.shape:
        raise ValueError(
            f"categorical_crossentropy: y_true has shape {t.shape} but y_pred has shape {p.shape}; "
            "they must match (use sparse_categorical_crossentropy for integer labels)"
        )
    if t.device != p.device:
        raise ValueError(f"categorical_crossentropy: y_true is on {t.device} but y_pred is on {p.device}")
    kind = "cce_logits" if from_logits else "cce"
    return LossFn.apply(p, t.detach() if t.requires_grad else t, kind,
                        {"eps": EPSILON, "label_smoothing": ls}, False)


def sparse_categorical_crossentropy(y_true, y_pred, from_logits: bool = False) -> Tensor:
    """Categorical cross-entropy against integer labels.

    Args:
        y_true: class indices in [0, C), shape y_pred.shape[:-1] (or with a trailing 1, as
            Keras accepts); float labels holding integers are accepted.
        y_pred: probabilities (normalised, then clipped, as categorical_crossentropy) or logits.
    Raises LabelRangeError (a ValueError) naming the first label outside [0, C) and its index.
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
    c = p.shape[-1]
    if t.device != "cpu" and t.size:  # the CPU kernel entry checks the range itself
        check_label_range(t.numpy().reshape(tuple(want)), c, "sparse_categorical_crossentropy")
    raw_t = t._data.reshape(tuple(want))
    kind = "sparse_cce_logits" if from_logits else "sparse_cce"
    try:
        return LossFn.apply(p, Tensor._wrap(raw_t), kind, {"eps": EPSILON}, False)
    except ValueError:
        # the kernel's message names its own op and the flat position; say it in the caller's terms
        check_label_range(t.numpy().reshape(tuple(want)), c, "sparse_categorical_crossentropy")
        raise


class LabelRangeError(ValueError):
    """An integer class label outside [0, num_classes). Besides the message it carries the first
    bad label, its index in y_true (a tuple, one entry per axis), the number of classes and how
    many labels are bad, so that fit / evaluate can say where the label is in the user's data."""

    def __init__(self, message: str, label: int, index: tuple, num_classes: int, count: int):
        super().__init__(message)
        self.label, self.index, self.num_classes, self.count = label, index, num_classes, count


def find_bad_label(labels, num_classes: int) -> tuple | None:
    """The first label outside [0, num_classes) in an integer (or integral float) array: (its index
    as a tuple, the label, how many labels are outside); None when all are inside (NaN is left to
    the integer checks). One min/max pass when all labels are valid."""
    labels = np.asarray(labels)
    if not labels.size or (labels.min() >= 0 and labels.max() < num_classes):
        return None
    bad = (labels < 0) | (labels >= num_classes)
    if not bad.any():
        return None
    index = tuple(int(i) for i in np.unravel_index(int(np.argmax(bad)), labels.shape))
    return index, labels[index], int(np.count_nonzero(bad))


def check_label_range(labels, num_classes: int, what: str) -> None:
    """Raise LabelRangeError, naming `what`, the first label outside [0, num_classes) and its index
    in `labels` (an integer array), when there is one."""
    found = find_bad_label(labels, num_classes)
    if found is None:
        return
    index, label, count = found
    label = int(label)
    where = ", ".join(map(str, index))
    more = f" ({count} labels are out of range)" if count > 1 else ""
    raise LabelRangeError(
        f"{what}: label {label} at y_true[{where}] is out of range for {num_classes} classes: labels must be "
        f"in [0, {num_classes}){more}",
        label, index, num_classes, count,
    )


# ------------------------------------------------------------------------------- regression
def mean_absolute_percentage_error(y_true, y_pred) -> Tensor:
    """100 * mean(abs((y_true - y_pred) / max(abs(y_true), 1e-7)), axis=-1) (Keras).

    Example::

        mean_absolute_percentage_error([[2.0, 4.0]], [[1.0, 5.0]])   # [37.5]
    """
    return _elementwise("mape", "mean_absolute_percentage_error", y_true, y_pred)


def mean_squared_logarithmic_error(y_true, y_pred) -> Tensor:
    """mean((log(max(y_pred, 1e-7) + 1) - log(max(y_true, 1e-7) + 1)) ** 2, axis=-1) (Keras:
    values at or below 0 count as 1e-7; no gradient flows below it).

    Example::

        mean_squared_logarithmic_error([[0.0, 3.0]], [[1.0, 3.0]])
    """
    return _elementwise("msle", "mean_squared_logarithmic_error", y_true, y_pred)


def huber(y_true, y_pred, delta: float = 1.0) -> Tensor:
    """Huber loss, the mean over the last axis: with e = y_pred - y_true, 0.5 * e**2 where
    |e| <= delta and delta * |e| - 0.5 * delta**2 elsewhere.

    Args:
        delta: the point where the loss turns from quadratic to linear (a positive float).

    Example::

        huber([[0, 1], [0, 0]], [[0.6, 0.4], [0.4, 0.6]])   # mean 0.155, as Keras
    """
    delta = _positive(delta, "huber", "delta")
    return _elementwise("huber", "huber", y_true, y_pred, True, delta=delta)


def log_cosh(y_true, y_pred) -> Tensor:
    """mean(log(cosh(y_pred - y_true)), axis=-1), computed as x + softplus(-2x) - log(2) on
    |x| so that no error overflows (log_cosh(1e4) is 1e4 - log 2).

    Example::

        log_cosh([[0.0, 1.0], [0.0, 0.0]], [[1.0, 1.0], [0.0, 0.0]])   # mean 0.108
    """
    return _elementwise("log_cosh", "log_cosh", y_true, y_pred, True)


def cosine_similarity(y_true, y_pred, axis: int = -1) -> Tensor:
    """-sum(l2_normalize(y_true) * l2_normalize(y_pred), axis=-1): the negative cosine
    similarity, as Keras (-1 is the best match). Keras normalises x as
    x * min(1 / ||x||, 1 / 1e-7), so a zero vector gives a loss of 0 (and a finite gradient).

    Args:
        axis: the feature axis; -1 only.

    Example::

        cosine_similarity([[0., 1.], [1., 1.]], [[1., 0.], [1., 1.]])   # [-0., -1.]
    """
    t, p = _pair("cosine_similarity", y_true, y_pred)
    _check_axis_last(axis, "cosine_similarity", p.ndim)
    return _elementwise("cosine", "cosine_similarity", t, p)


# ------------------------------------------------------------------------------- probabilistic
def binary_focal_crossentropy(
    y_true,
    y_pred,
    apply_class_balancing: bool = False,
    alpha: float = 0.25,
    gamma: float = 2.0,
    from_logits: bool = False,
    label_smoothing: float = 0.0,
    axis: int = -1,
) -> Tensor:
    """Binary focal cross-entropy (Lin et al., 2018), the mean over the last axis:
    (1 - p_t) ** gamma * bce, with p_t = y_true * p + (1 - y_true) * (1 - p), and with
    apply_class_balancing also times alpha for class 1 and 1 - alpha for class 0.

    On probabilities the bce is Keras's clipped one (epsilon 1e-7) and the focal factor uses p
    itself. With from_logits=True p = sigmoid(y_pred) and the bce is the log-sum-exp form, so
    logits of any size stay exact and finite (Keras clips sigmoid(y_pred), which caps each term
    at -log(1e-7)); the two agree wherever the sigmoid does not saturate.

    Args:
        apply_class_balancing: weight the classes by alpha and 1 - alpha.
        alpha: the weight of class 1 when balancing.
        gamma: the focusing exponent (>= 0; 0 gives the binary cross-entropy).
        from_logits: y_pred holds logits rather than probabilities.
        label_smoothing: targets become y_true * (1 - ls) + 0.5 * ls.
        axis: the axis averaged over; -1 only.

    Example::

        binary_focal_crossentropy([[0, 1], [0, 0]], [[0.6, 0.4], [0.4, 0.6]], gamma=2)  # [0.330, 0.206]
    """
    name = "binary_focal_crossentropy"
    ls = _check_smoothing(label_smoothing, name)
    gamma = float(gamma)
    if not (math.isfinite(gamma) and gamma >= 0.0):
        raise ValueError(f"{name}: gamma must be a finite number >= 0, got gamma={gamma}")
    alpha = float(alpha)
    if not math.isfinite(alpha):
        raise ValueError(f"{name}: alpha must be finite, got alpha={alpha}")
    t, p = _pair(name, y_true, y_pred)
    _check_axis_last(axis, name, p.ndim)
    if ls:
        t = _target_map(t, 1.0 - ls, 0.5 * ls)
    kind = "focal_logits" if from_logits else "focal"
    return _elementwise(kind, name, t, p, gamma=gamma, alpha=alpha,
                        class_balancing=bool(apply_class_balancing))


def kl_divergence(y_true, y_pred) -> Tensor:
    """Kullback-Leibler divergence sum(y_true * log(y_true / y_pred), axis=-1), with both
    clipped to [1e-7, 1] as Keras (no gradient flows where y_pred is clipped).

    Example::

        kl_divergence([[0.2, 0.8]], [[0.5, 0.5]])   # [0.193]
    """
    return _elementwise("kld", "kl_divergence", y_true, y_pred)


def poisson(y_true, y_pred) -> Tensor:
    """mean(y_pred - y_true * log(y_pred + 1e-7), axis=-1) (Keras).

    Example::

        poisson([[1.0, 0.0]], [[1.0, 0.5]])   # [0.75]
    """
    return _elementwise("poisson", "poisson", y_true, y_pred)


# ------------------------------------------------------------------------------- hinge
def _hinge_labels(t: Tensor) -> Tensor:
    """Keras converts labels that are all 0 or 1 (over the whole batch) to -1 / 1; other labels
    are used as they are."""
    arr = t.numpy()
    if arr.size and np.isin(arr, (0.0, 1.0)).all():
        return _target_map(t, 2.0, -1.0)
    return t


def hinge(y_true, y_pred) -> Tensor:
    """mean(maximum(1 - y_true * y_pred, 0), axis=-1); labels in {-1, 1}, or {0, 1} (converted
    to -1 / 1 as Keras does). The gradient where the margin is exactly 1 is 0.

    Example::

        hinge([[1, 0]], [[0.3, -0.8]])   # labels 0/1 become 1/-1: [0.45]
    """
    t, p = _pair("hinge", y_true, y_pred)
    return _elementwise("hinge", "hinge", _hinge_labels(t), p)


def squared_hinge(y_true, y_pred) -> Tensor:
    """mean(maximum(1 - y_true * y_pred, 0) ** 2, axis=-1); labels as in hinge.

    Example::

        squared_hinge([[-1, 1]], [[0.3, 0.8]])
    """
    t, p = _pair("squared_hinge", y_true, y_pred)
    return _elementwise("squared_hinge", "squared_hinge", _hinge_labels(t), p)


def categorical_hinge(y_true, y_pred) -> Tensor:
    """maximum(neg - pos + 1, 0) with pos = sum(y_true * y_pred, axis=-1) and
    neg = max((1 - y_true) * y_pred, axis=-1); y_true one-hot (Keras). Ties of the max share
    its gradient, as torch.amax.

    Example::

        categorical_hinge([[0, 1, 0]], [[0.2, 0.5, 0.3]])   # [0.8]
    """
    return _elementwise("categorical_hinge", "categorical_hinge", y_true, y_pred)


def _positive(v: float, name: str, what: str) -> float:
    v = float(v)
    if not (math.isfinite(v) and v > 0.0):
        raise ValueError(f"{name}: {what} must be a positive finite number, got {what}={v}")
    return v


mape = mean_absolute_percentage_error
msle = mean_squared_logarithmic_error
kld = kl_divergence
kullback_leibler_divergence = kl_divergence
logcosh = log_cosh
