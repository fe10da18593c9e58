"""Loss classes with Keras 3's names, arguments, defaults and reductions.

A loss object is called as ``loss(y_true, y_pred, sample_weight=None)``: it computes the
per-sample losses with the fused kernels of ``fastnn.functional.losses`` (shape
``y_pred.shape[:-1]``), multiplies them by the sample weights, and reduces them:

- ``'sum_over_batch_size'`` (the default, also spelled ``'mean'``): the sum divided by the number
  of per-sample values (Keras 3 divides by the batch size, not by the sum of the weights);
- ``'mean_with_sample_weight'``: the sum divided by the sum of the sample weights;
- ``'sum'``: the sum;
- ``'none'`` or ``None``: the weighted per-sample losses, unreduced.

Adding a loss takes a per-sample function in ``fastnn.functional.losses``, a small subclass of
``LossFunctionWrapper`` here, and one line in ``_register`` at the bottom of this file.

Example::

    import fastnn
    loss = fastnn.losses.BinaryCrossentropy(from_logits=True)
    value = loss(labels, logits)                 # a scalar Tensor; value.backward() works
    fastnn.losses.get("mse")                     # a MeanSquaredError instance
"""

from __future__ import annotations

import warnings
from typing import Any, Callable

import numpy as np

from .functional import losses as _fl
from .functional.losses import (  # noqa: F401 - Keras exposes the functions in keras.losses
    binary_crossentropy,
    binary_focal_crossentropy,
    categorical_crossentropy,
    categorical_hinge,
    cosine_similarity,
    hinge,
    huber,
    kl_divergence,
    kld,
    kullback_leibler_divergence,
    log_cosh,
    logcosh,
    mae,
    mape,
    mean_absolute_error,
    mean_absolute_percentage_error,
    mean_squared_error,
    mean_squared_logarithmic_error,
    mse,
    msle,
    poisson,
    sparse_categorical_crossentropy,
    squared_hinge,
)
from .tensor import Tensor, float32

__all__ = [
    "Loss",
    "LossFunctionWrapper",
    "MeanSquaredError",
    "MeanAbsoluteError",
    "BinaryCrossentropy",
    "CategoricalCrossentropy",
    "SparseCategoricalCrossentropy",
    "MeanAbsolutePercentageError",
    "MeanSquaredLogarithmicError",
    "Huber",
    "LogCosh",
    "CosineSimilarity",
    "BinaryFocalCrossentropy",
    "KLDivergence",
    "Poisson",
    "Hinge",
    "SquaredHinge",
    "CategoricalHinge",
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
    "cosine_similarity",
    "binary_focal_crossentropy",
    "kl_divergence",
    "kld",
    "kullback_leibler_divergence",
    "poisson",
    "hinge",
    "squared_hinge",
    "categorical_hinge",
    "get",
    "serialize",
    "deserialize",
    "reduce_weighted_values",
]

REDUCTIONS = ("sum_over_batch_size", "sum", "none", None, "mean", "mean_with_sample_weight")


def standardize_reduction(reduction: str | None) -> str | None:
    """Check `reduction`; Keras 2's 'auto' is accepted with a DeprecationWarning."""
    if reduction == "auto":
        warnings.warn(
            "reduction='auto' was removed in Keras 3; use reduction='sum_over_batch_size' "
            "(the default)",
            DeprecationWarning,
            stacklevel=3,
        )
        return "sum_over_batch_size"
    if reduction not in REDUCTIONS:
        raise ValueError(
            f"Invalid value for argument `reduction`: reduction={reduction!r}. Expected one of "
            f"{list(REDUCTIONS)}"
        )
    return reduction


def _as_weight(sample_weight: Any, like: Tensor) -> Tensor:
    if isinstance(sample_weight, Tensor):
        w = sample_weight.detach() if sample_weight.requires_grad else sample_weight
        if w.dtype != float32:
            w = Tensor(w.numpy().astype(np.float32))
    else:
        arr = np.asarray(sample_weight)
        if arr.dtype.kind not in "fiub":
            raise TypeError(f"sample_weight must be numeric, got an array of dtype {arr.dtype}")
        w = Tensor(np.ascontiguousarray(arr, dtype=np.float32))
    if w.device != like.device:
        w = w.to(like.device)
    return w


def _align_weight(values: Tensor, w: Tensor) -> Tensor:
    """sample_weight reshaped to broadcast against the per-sample losses: a trailing 1 is
    squeezed or added as Keras's squeeze_or_expand_to_same_rank does, and a weight of lower
    rank lines up with the leading (batch) axes. ValueError when they cannot broadcast."""
    vs, ws = values.shape, w.shape
    if len(ws) == len(vs) + 1 and ws[-1] == 1:
        w, ws = w.reshape(ws[:-1]), ws[:-1]
    elif len(vs) == len(ws) + 1 and vs[-1] == 1 and len(ws) >= 1:
        w, ws = w.reshape(ws + (1,)), ws + (1,)
    if len(ws) < len(vs) and len(ws) >= 1:
        w, ws = w.reshape(ws + (1,) * (len(vs) - len(ws))), ws + (1,) * (len(vs) - len(ws))
    ok = len(ws) <= len(vs) and all(a == b or a == 1 for a, b in zip(ws[::-1], vs[::-1]))
    if not ok:
        raise ValueError(
            f"sample_weight of shape {tuple(w.shape)} cannot be applied to per-sample losses of "
            f"shape {vs}: expected shape {vs[:1]} or {vs}"
        )
    return w


def reduce_weighted_values(values: Tensor, sample_weight: Any = None,
                           reduction: str | None = "sum_over_batch_size") -> Tensor:
    """Weight the per-sample `values` and reduce them as Keras 3's reduce_weighted_values."""
    reduction = standardize_reduction(reduction)
    w = None
    if sample_weight is not None:
        w = _align_weight(values, _as_weight(sample_weight, values))
        values = values * w
    if reduction in (None, "none") or values.ndim == 0 or values.size == 0:
        return values
    total = values.sum()
    if reduction == "sum":
        return total
    if reduction == "mean_with_sample_weight" and w is not None:
        divisor = float(np.broadcast_to(w.numpy(), values.shape).sum())
    else:
        divisor = float(values.size)
    if divisor == 0.0:  # Keras's divide_no_nan
        return total * 0.0
    return total / divisor


class Loss:
    """Base class of the losses: subclasses implement ``call(y_true, y_pred)`` returning the
    per-sample losses; ``__call__`` applies the sample weights and the reduction.

    Args:
        name: the loss's name (by default the snake-case class name).
        reduction: 'sum_over_batch_size' (default), 'sum', 'mean_with_sample_weight', 'none'
            or None.

    Example::

        class Huberish(fastnn.losses.Loss):
            def call(self, y_true, y_pred):
                return ((y_pred - y_true) ** 2).mean(axis=-1)

        Huberish()(y, p, sample_weight=w)
    """

    def __init__(self, name: str | None = None, reduction: str | None = "sum_over_batch_size",
                 dtype: Any = None):
        if dtype is not None and np.dtype(dtype) != float32:
            raise ValueError(f"fastnn losses compute in float32, got dtype={dtype!r}")
        if name is not None and not isinstance(name, str):
            raise TypeError(f"name must be a string, got name={name!r}")
        self.name = name or _snake(type(self).__name__)
        self.reduction = standardize_reduction(reduction)

    def call(self, y_true, y_pred) -> Tensor:
        raise NotImplementedError(f"{type(self).__name__} must implement call(y_true, y_pred)")

    def __call__(self, y_true, y_pred, sample_weight=None) -> Tensor:
        values = self.call(y_true, y_pred)
        if not isinstance(values, Tensor):
            values = Tensor(np.asarray(values, dtype=np.float32))
        return reduce_weighted_values(values, sample_weight, self.reduction)

    def get_config(self) -> dict:
        return {"name": self.name, "reduction": self.reduction}

    @classmethod
    def from_config(cls, config: dict):
        return cls(**config)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


class LossFunctionWrapper(Loss):
    """A Loss around a per-sample function ``fn(y_true, y_pred, **kwargs)``.

    Example::

        loss = LossFunctionWrapper(lambda t, p: ((p - t) ** 2).mean(axis=-1), name="my_mse")
    """

    def __init__(self, fn: Callable, reduction: str | None = "sum_over_batch_size",
                 name: str | None = None, dtype: Any = None, **kwargs):
        if not callable(fn):
            raise TypeError(f"fn must be callable, got {fn!r}")
        super().__init__(name=name or getattr(fn, "__name__", "loss"), reduction=reduction, dtype=dtype)
        self.fn = fn
        self._fn_kwargs = kwargs

    def call(self, y_true, y_pred) -> Tensor:
        return self.fn(y_true, y_pred, **self._fn_kwargs)

    def get_config(self) -> dict:
        config = super().get_config()
        if type(self) is LossFunctionWrapper:
            # functions are stored by name, never as code; see fastnn.saving
            config["fn"] = getattr(self.fn, "__name__", None)
        config.update(self._fn_kwargs)
        return config

    @classmethod
    def from_config(cls, config: dict, custom_objects: dict | None = None):
        if cls is not LossFunctionWrapper:
            return cls(**config)
        config = dict(config)
        fn_name = config.pop("fn", None)
        from .saving import resolve_function

        # functions are stored by name: fastnn's own, or one the caller registers / passes
        fn = _FUNCTIONS.get(fn_name) or resolve_function(str(fn_name), custom_objects,
                                                         owner=f"the loss {config.get('name')!r}")
        return cls(fn, **config)


def _check_axis(axis: int, cls: str) -> None:
    if axis != -1:
        raise ValueError(f"{cls} supports axis=-1 only (the class axis last), got axis={axis!r}")


class MeanSquaredError(LossFunctionWrapper):
    """mean((y_true - y_pred) ** 2, axis=-1), reduced over the samples.

    Example::

        fastnn.losses.MeanSquaredError()(y_true, y_pred)
    """

    def __init__(self, reduction: str | None = "sum_over_batch_size", name: str = "mean_squared_error",
                 dtype: Any = None):
        super().__init__(_fl.mean_squared_error, reduction=reduction, name=name, dtype=dtype)


class MeanAbsoluteError(LossFunctionWrapper):
    """mean(abs(y_true - y_pred), axis=-1), reduced over the samples.

    Example::

        fastnn.losses.MeanAbsoluteError(reduction="sum")(y_true, y_pred)
    """

    def __init__(self, reduction: str | None = "sum_over_batch_size", name: str = "mean_absolute_error",
                 dtype: Any = None):
        super().__init__(_fl.mean_absolute_error, reduction=reduction, name=name, dtype=dtype)


class BinaryCrossentropy(LossFunctionWrapper):
    """Binary cross-entropy between targets in [0, 1] and probabilities (or logits).

    Args:
        from_logits: y_pred holds logits rather than probabilities.
        label_smoothing: targets become y_true * (1 - ls) + 0.5 * ls.
        axis: the axis averaged over; -1 only.

    Example::

        loss = fastnn.losses.BinaryCrossentropy(from_logits=True)
        loss(labels, logits)          # labels (N,) or (N, 1), logits (N, 1)
    """

    def __init__(self, from_logits: bool = False, label_smoothing: float = 0.0, axis: int = -1,
                 reduction: str | None = "sum_over_batch_size", name: str = "binary_crossentropy",
                 dtype: Any = None):
        _check_axis(axis, "BinaryCrossentropy")
        super().__init__(_fl.binary_crossentropy, reduction=reduction, name=name, dtype=dtype,
                         from_logits=bool(from_logits), label_smoothing=float(label_smoothing))
        self.from_logits = bool(from_logits)
        self.label_smoothing = float(label_smoothing)
        self.axis = axis

    def get_config(self) -> dict:
        return {**super().get_config(), "axis": self.axis}


class CategoricalCrossentropy(LossFunctionWrapper):
    """Cross-entropy between one-hot (or soft) targets and class probabilities (or logits).

    Args:
        from_logits: y_pred holds logits rather than probabilities.
        label_smoothing: targets become y_true * (1 - ls) + ls / C.
        axis: the class axis; -1 only.

    Example::

        fastnn.losses.CategoricalCrossentropy()(to_categorical(labels, 10), probs)
    """

    def __init__(self, from_logits: bool = False, label_smoothing: float = 0.0, axis: int = -1,
                 reduction: str | None = "sum_over_batch_size", name: str = "categorical_crossentropy",
                 dtype: Any = None):
        _check_axis(axis, "CategoricalCrossentropy")
        super().__init__(_fl.categorical_crossentropy, reduction=reduction, name=name, dtype=dtype,
                         from_logits=bool(from_logits), label_smoothing=float(label_smoothing))
        self.from_logits = bool(from_logits)
        self.label_smoothing = float(label_smoothing)
        self.axis = axis

    def get_config(self) -> dict:
        return {**super().get_config(), "axis": self.axis}


class SparseCategoricalCrossentropy(LossFunctionWrapper):
    """Cross-entropy between integer labels and class probabilities (or logits).

    Args:
        from_logits: y_pred holds logits rather than probabilities.
        ignore_class: not supported yet; None only.

    Example::

        fastnn.losses.SparseCategoricalCrossentropy(from_logits=True)(labels, logits)
    """

    def __init__(self, from_logits: bool = False, ignore_class: int | None = None,
                 reduction: str | None = "sum_over_batch_size",
                 name: str = "sparse_categorical_crossentropy", dtype: Any = None):
        if ignore_class is not None:
            raise ValueError(f"ignore_class is not supported yet, got ignore_class={ignore_class!r}")
        super().__init__(_fl.sparse_categorical_crossentropy, reduction=reduction, name=name, dtype=dtype,
                         from_logits=bool(from_logits))
        self.from_logits = bool(from_logits)
        self.ignore_class = ignore_class

    def get_config(self) -> dict:
        return {**super().get_config(), "ignore_class": self.ignore_class}


class MeanAbsolutePercentageError(LossFunctionWrapper):
    """100 * mean(abs((y_true - y_pred) / max(abs(y_true), 1e-7)), axis=-1), reduced over the
    samples.

    Example::

        fastnn.losses.MeanAbsolutePercentageError()(y_true, y_pred)
    """

    def __init__(self, reduction: str | None = "sum_over_batch_size",
                 name: str = "mean_absolute_percentage_error", dtype: Any = None):
        super().__init__(_fl.mean_absolute_percentage_error, reduction=reduction, name=name, dtype=dtype)


class MeanSquaredLogarithmicError(LossFunctionWrapper):
    """mean((log(max(y_pred, 1e-7) + 1) - log(max(y_true, 1e-7) + 1)) ** 2, axis=-1), reduced
    over the samples.

    Example::

        fastnn.losses.MeanSquaredLogarithmicError(reduction="sum")(counts, predicted_counts)
    """

    def __init__(self, reduction: str | None = "sum_over_batch_size",
                 name: str = "mean_squared_logarithmic_error", dtype: Any = None):
        super().__init__(_fl.mean_squared_logarithmic_error, reduction=reduction, name=name, dtype=dtype)


class Huber(LossFunctionWrapper):
    """Huber loss: quadratic for errors up to `delta`, linear beyond (see functional.huber).

    Args:
        delta: the point where the loss turns from quadratic to linear (a positive float).

    Example::

        fastnn.losses.Huber(delta=0.5)(y_true, y_pred)
    """

    def __init__(self, delta: float = 1.0, reduction: str | None = "sum_over_batch_size",
                 name: str = "huber_loss", dtype: Any = None):
        delta = _fl._positive(delta, "Huber", "delta")
        super().__init__(_fl.huber, reduction=reduction, name=name, dtype=dtype, delta=delta)
        self.delta = delta


class LogCosh(LossFunctionWrapper):
    """mean(log(cosh(y_pred - y_true)), axis=-1), reduced over the samples: about
    mean_squared_error / 2 for small errors and mean_absolute_error - log 2 for large ones.

    Example::

        fastnn.losses.LogCosh()(y_true, y_pred)
    """

    def __init__(self, reduction: str | None = "sum_over_batch_size", name: str = "log_cosh",
                 dtype: Any = None):
        super().__init__(_fl.log_cosh, reduction=reduction, name=name, dtype=dtype)


class CosineSimilarity(LossFunctionWrapper):
    """The negative cosine similarity -sum(l2_normalize(y_true) * l2_normalize(y_pred), axis),
    reduced over the samples: -1 for parallel vectors, 0 for orthogonal ones or a zero vector.

    Args:
        axis: the feature axis; -1 only.

    Example::

        fastnn.losses.CosineSimilarity()(embeddings_true, embeddings_pred)
    """

    def __init__(self, axis: int = -1, reduction: str | None = "sum_over_batch_size",
                 name: str = "cosine_similarity", dtype: Any = None):
        _check_axis(axis, "CosineSimilarity")
        super().__init__(_fl.cosine_similarity, reduction=reduction, name=name, dtype=dtype, axis=axis)
        self.axis = axis


class BinaryFocalCrossentropy(LossFunctionWrapper):
    """Binary focal cross-entropy: the binary cross-entropy times (1 - p_t) ** gamma, which
    down-weights the examples already classified well (Lin et al., 2018).

    Args:
        apply_class_balancing: also weight class 1 by alpha and class 0 by 1 - alpha.
        alpha: the class-1 weight when balancing (default 0.25).
        gamma: the focusing exponent (default 2.0; 0 gives the binary cross-entropy).
        from_logits: y_pred holds logits rather than probabilities.
        label_smoothing: targets become y_true * (1 - ls) + 0.5 * ls.
        axis: the axis averaged over; -1 only.

    Example::

        loss = fastnn.losses.BinaryFocalCrossentropy(gamma=2.0, from_logits=True)
        loss([0, 1, 0, 0], [-18.6, 0.51, 2.94, -12.8])     # 0.691, as Keras
    """

    def __init__(self, apply_class_balancing: bool = False, alpha: float = 0.25, gamma: float = 2.0,
                 from_logits: bool = False, label_smoothing: float = 0.0, axis: int = -1,
                 reduction: str | None = "sum_over_batch_size", name: str = "binary_focal_crossentropy",
                 dtype: Any = None):
        _check_axis(axis, "BinaryFocalCrossentropy")
        super().__init__(_fl.binary_focal_crossentropy, reduction=reduction, name=name, dtype=dtype,
                         apply_class_balancing=bool(apply_class_balancing), alpha=float(alpha),
                         gamma=float(gamma), from_logits=bool(from_logits),
                         label_smoothing=float(label_smoothing))
        self.apply_class_balancing = bool(apply_class_balancing)
        self.alpha = float(alpha)
        self.gamma = float(gamma)
        self.from_logits = bool(from_logits)
        self.label_smoothing = float(label_smoothing)
        self.axis = axis

    def get_config(self) -> dict:
        return {**super().get_config(), "axis": self.axis}


class KLDivergence(LossFunctionWrapper):
    """Kullback-Leibler divergence sum(y_true * log(y_true / y_pred), axis=-1) between
    probability distributions (both clipped to [1e-7, 1]), reduced over the samples.

    Example::

        fastnn.losses.KLDivergence()(target_distribution, predicted_distribution)
    """

    def __init__(self, reduction: str | None = "sum_over_batch_size", name: str = "kl_divergence",
                 dtype: Any = None):
        super().__init__(_fl.kl_divergence, reduction=reduction, name=name, dtype=dtype)


class Poisson(LossFunctionWrapper):
    """mean(y_pred - y_true * log(y_pred + 1e-7), axis=-1), reduced over the samples (y_pred is
    a rate, e.g. the output of an exponential or softplus activation).

    Example::

        fastnn.losses.Poisson()(counts, rates)
    """

    def __init__(self, reduction: str | None = "sum_over_batch_size", name: str = "poisson",
                 dtype: Any = None):
        super().__init__(_fl.poisson, reduction=reduction, name=name, dtype=dtype)


class Hinge(LossFunctionWrapper):
    """mean(maximum(1 - y_true * y_pred, 0), axis=-1), reduced over the samples; labels in
    {-1, 1}, or {0, 1} (converted to -1 / 1 as Keras does).

    Example::

        fastnn.losses.Hinge()(labels, scores)
    """

    def __init__(self, reduction: str | None = "sum_over_batch_size", name: str = "hinge", dtype: Any = None):
        super().__init__(_fl.hinge, reduction=reduction, name=name, dtype=dtype)


class SquaredHinge(LossFunctionWrapper):
    """mean(maximum(1 - y_true * y_pred, 0) ** 2, axis=-1), reduced over the samples; labels as
    in Hinge.

    Example::

        fastnn.losses.SquaredHinge()(labels, scores)
    """

    def __init__(self, reduction: str | None = "sum_over_batch_size", name: str = "squared_hinge",
                 dtype: Any = None):
        super().__init__(_fl.squared_hinge, reduction=reduction, name=name, dtype=dtype)


class CategoricalHinge(LossFunctionWrapper):
    """maximum(max((1 - y_true) * y_pred) - sum(y_true * y_pred) + 1, 0) per sample (one-hot
    y_true), reduced over the samples.

    Example::

        fastnn.losses.CategoricalHinge()(to_categorical(labels, 3), scores)
    """

    def __init__(self, reduction: str | None = "sum_over_batch_size", name: str = "categorical_hinge",
                 dtype: Any = None):
        super().__init__(_fl.categorical_hinge, reduction=reduction, name=name, dtype=dtype)


# ------------------------------------------------------------------------------- lookup
def _snake(name: str) -> str:
    out = []
    for i, ch in enumerate(name):
        if ch.isupper() and i and (not name[i - 1].isupper() or (i + 1 < len(name) and name[i + 1].islower())):
            out.append("_")
        out.append(ch.lower())
    return "".join(out)


_CLASSES: dict[str, type] = {}   # every accepted string -> Loss class
_FUNCTIONS: dict[str, Callable] = {}  # function name -> per-sample function


def _register(cls: type, fn: Callable, *aliases: str) -> None:
    _FUNCTIONS[fn.__name__] = fn
    for key in (cls.__name__, fn.__name__, *aliases):
        _CLASSES[key] = cls


_register(MeanSquaredError, _fl.mean_squared_error, "mse", "MSE")
_register(MeanAbsoluteError, _fl.mean_absolute_error, "mae", "MAE")
_register(BinaryCrossentropy, _fl.binary_crossentropy, "bce", "BCE")
_register(CategoricalCrossentropy, _fl.categorical_crossentropy)
_register(SparseCategoricalCrossentropy, _fl.sparse_categorical_crossentropy)
_register(MeanAbsolutePercentageError, _fl.mean_absolute_percentage_error, "mape", "MAPE")
_register(MeanSquaredLogarithmicError, _fl.mean_squared_logarithmic_error, "msle", "MSLE")
_register(Huber, _fl.huber, "huber_loss")
_register(LogCosh, _fl.log_cosh, "logcosh")
_register(CosineSimilarity, _fl.cosine_similarity)
_register(BinaryFocalCrossentropy, _fl.binary_focal_crossentropy)
_register(KLDivergence, _fl.kl_divergence, "kld", "KLD", "kullback_leibler_divergence")
_register(Poisson, _fl.poisson)
_register(Hinge, _fl.hinge)
_register(SquaredHinge, _fl.squared_hinge)
_register(CategoricalHinge, _fl.categorical_hinge)
_CLASSES["LossFunctionWrapper"] = LossFunctionWrapper


def known_names() -> list[str]:
    """Every string that get() accepts."""
    return sorted(k for k in _CLASSES if k != "LossFunctionWrapper")


def serialize(loss: Loss) -> dict:
    """{'class_name', 'config'} of a loss, for JSON."""
    return {"module": "fastnn.losses", "class_name": type(loss).__name__, "config": loss.get_config()}


def deserialize(config: dict, custom_objects: dict | None = None) -> Loss:
    """The loss described by serialize()'s output (or a name: see get())."""
    if isinstance(config, str):
        return get(config)
    from .saving import deserialize_from

    return deserialize_from(config, _CLASSES, "loss", known_names, custom_objects)


def get(identifier: Any) -> Loss | None:
    """A Loss instance from a Keras string ('mse', 'binary_crossentropy', 'MeanSquaredError',
    ...), a Loss class, a Loss instance, a serialized dict, or a plain function
    ``fn(y_true, y_pred)`` returning per-sample losses (wrapped with the default reduction).
    None gives None.

    Example::

        fastnn.losses.get("sparse_categorical_crossentropy")(labels, probs)
    """
    if identifier is None or isinstance(identifier, Loss):
        return identifier
    if isinstance(identifier, str):
        cls = _CLASSES.get(identifier)
        if cls is None or cls is LossFunctionWrapper:
            raise ValueError(
                f"Unknown loss {identifier!r}. Known losses: {', '.join(known_names())}"
            )
        return cls()
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if isinstance(identifier, type):
        if issubclass(identifier, Loss):
            return identifier()
        raise TypeError(f"a loss class must subclass fastnn.losses.Loss, got {identifier!r}")
    if callable(identifier):
        # the functional losses come back as their class, so that from_logits etc. are explicit
        name = getattr(identifier, "__name__", None)
        if name in _FUNCTIONS and _FUNCTIONS[name] is identifier:
            return _CLASSES[name]()
        return LossFunctionWrapper(identifier)
    raise TypeError(f"cannot interpret {identifier!r} as a loss: pass a string, a Loss or a function")
