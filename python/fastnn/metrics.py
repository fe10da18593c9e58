"""Stateful metrics with Keras 3's names and averaging, and scikit-learn-style metric functions.

A metric accumulates a weighted total and a count over batches and reports total / count, as
Keras does (so an epoch's accuracy is the accuracy over all its samples, not the mean of the
batch accuracies). Metrics see outputs that are already computed, so they work in NumPy.

Example::

    m = fastnn.metrics.SparseCategoricalAccuracy()
    m.update_state(labels_batch_1, probs_batch_1)
    m.update_state(labels_batch_2, probs_batch_2)
    m.result()          # a float
    m.reset_state()

The functions at the bottom (accuracy_score, confusion_matrix, roc_curve, auc, roc_auc_score)
follow scikit-learn's signatures and results, so that fastnn does not need scikit-learn.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Callable

import numpy as np

__all__ = [
    "Metric",
    "Mean",
    "Sum",
    "MeanMetricWrapper",
    "Accuracy",
    "BinaryAccuracy",
    "CategoricalAccuracy",
    "SparseCategoricalAccuracy",
    "MeanSquaredError",
    "MeanAbsoluteError",
    "BinaryCrossentropy",
    "CategoricalCrossentropy",
    "SparseCategoricalCrossentropy",
    "accuracy",
    "binary_accuracy",
    "categorical_accuracy",
    "sparse_categorical_accuracy",
    "get",
    "serialize",
    "deserialize",
    "resolve_accuracy",
    "accuracy_score",
    "confusion_matrix",
    "roc_curve",
    "auc",
    "roc_auc_score",
]


def _np(x: Any) -> np.ndarray:
    """A NumPy array of x (fastnn Tensors, including CUDA ones, come to the host)."""
    if hasattr(x, "numpy") and not isinstance(x, np.ndarray):
        x = x.numpy()
    return np.asarray(x)


def _same_rank(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Keras's squeeze_or_expand_to_same_rank: a trailing axis of 1 is squeezed (or a rank-1
    array gets one) so that (N,) lines up with (N, 1)."""
    if a.ndim == b.ndim + 1 and a.shape[-1] == 1:
        if b.ndim == 1:
            b = b[..., None]
        else:
            a = a[..., 0]
    elif b.ndim == a.ndim + 1 and b.shape[-1] == 1:
        if a.ndim == 1:
            a = a[..., None]
        else:
            b = b[..., 0]
    return a, b


def _check_batch(y_true: np.ndarray, y_pred: np.ndarray, name: str) -> None:
    if y_true.ndim and y_pred.ndim and y_true.shape[0] != y_pred.shape[0]:
        raise ValueError(
            f"{name}: y_true has shape {y_true.shape} but y_pred has shape {y_pred.shape}; "
            "their first (batch) dimensions must match"
        )


# -------------------------------------------------------------------- per-sample functions
def accuracy(y_true, y_pred) -> np.ndarray:
    """1.0 where y_true == y_pred elementwise (Keras's accuracy: exact match)."""
    t, p = _same_rank(_np(y_true), _np(y_pred))
    _check_batch(t, p, "accuracy")
    if t.shape != p.shape:
        raise ValueError(f"accuracy: y_true has shape {t.shape} but y_pred has shape {p.shape}")
    return (t == p).astype(np.float32)


def binary_accuracy(y_true, y_pred, threshold: float = 0.5) -> np.ndarray:
    """1.0 where y_true equals (y_pred > threshold), elementwise."""
    t, p = _same_rank(_np(y_true), _np(y_pred))
    _check_batch(t, p, "binary_accuracy")
    if t.shape != p.shape:
        raise ValueError(f"binary_accuracy: y_true has shape {t.shape} but y_pred has shape {p.shape}")
    return (t.astype(np.float32) == (p > threshold).astype(np.float32)).astype(np.float32)


def categorical_accuracy(y_true, y_pred) -> np.ndarray:
    """1.0 where argmax(y_true, -1) == argmax(y_pred, -1); one value per sample."""
    t, p = _np(y_true), _np(y_pred)
    if t.shape != p.shape:
        raise ValueError(
            f"categorical_accuracy: y_true has shape {t.shape} but y_pred has shape {p.shape}; they must "
            "match (use sparse_categorical_accuracy for integer labels)"
        )
    return (np.argmax(t, axis=-1) == np.argmax(p, axis=-1)).astype(np.float32)


def sparse_categorical_accuracy(y_true, y_pred) -> np.ndarray:
    """1.0 where the integer label equals argmax(y_pred, -1); one value per sample."""
    t, p = _np(y_true), _np(y_pred)
    if t.ndim == p.ndim and t.ndim and t.shape[-1] == 1:
        t = t[..., 0]
    if t.shape != p.shape[:-1]:
        raise ValueError(
            f"sparse_categorical_accuracy: labels of shape {t.shape} do not match y_pred of shape "
            f"{p.shape} (expected labels of shape {p.shape[:-1]})"
        )
    return (t.astype(np.int64) == np.argmax(p, axis=-1)).astype(np.float32)


def _mse(y_true, y_pred) -> np.ndarray:
    t, p = _same_rank(_np(y_true).astype(np.float64), _np(y_pred).astype(np.float64))
    if t.shape != p.shape:
        raise ValueError(f"mean_squared_error: y_true has shape {t.shape} but y_pred has shape {p.shape}")
    return np.mean((t - p) ** 2, axis=-1)


def _mae(y_true, y_pred) -> np.ndarray:
    t, p = _same_rank(_np(y_true).astype(np.float64), _np(y_pred).astype(np.float64))
    if t.shape != p.shape:
        raise ValueError(f"mean_absolute_error: y_true has shape {t.shape} but y_pred has shape {p.shape}")
    return np.mean(np.abs(t - p), axis=-1)


def _via_loss(fn_name: str) -> Callable:
    def fn(y_true, y_pred, **kwargs):
        from . import no_grad
        from .functional import losses as fl

        with no_grad():
            return _np(getattr(fl, fn_name)(_np(y_true), np.ascontiguousarray(_np(y_pred), np.float32), **kwargs))

    fn.__name__ = fn_name
    return fn


# ------------------------------------------------------------------------------ classes
class Metric:
    """Base class of the stateful metrics.

    Subclasses implement ``update_state(y_true, y_pred, sample_weight=None)``, ``result()``
    and ``reset_state()``. Calling a metric updates it and returns the running result.

    Args:
        name: the metric's name (the key in ``History.history`` and in the logs).

    Example::

        class Count(fastnn.metrics.Metric):
            def __init__(self, name="count"):
                super().__init__(name=name)
                self.reset_state()
            def update_state(self, y_true, y_pred, sample_weight=None):
                self.n += len(y_pred)
            def result(self):
                return float(self.n)
            def reset_state(self):
                self.n = 0
    """

    _direction: str | None = None  # "up" or "down": which way is better (EarlyStopping mode='auto')

    def __init__(self, name: str | None = None, dtype: Any = None):
        if name is not None and not isinstance(name, str):
            raise TypeError(f"name must be a string, got name={name!r}")
        self.name = name or _snake(type(self).__name__)
        self.dtype = dtype

    def update_state(self, *args, **kwargs) -> None:
        raise NotImplementedError(f"{type(self).__name__} must implement update_state")

    def result(self) -> float:
        raise NotImplementedError(f"{type(self).__name__} must implement result")

    def reset_state(self) -> None:
        raise NotImplementedError(f"{type(self).__name__} must implement reset_state")

    def reset_states(self) -> None:  # Keras 2 spelling
        import warnings

        warnings.warn("reset_states() was renamed reset_state() in Keras 3", DeprecationWarning, stacklevel=2)
        self.reset_state()

    def __call__(self, *args, **kwargs) -> float:
        self.update_state(*args, **kwargs)
        return self.result()

    def get_config(self) -> dict:
        return {"name": self.name, "dtype": self.dtype}

    @classmethod
    def from_config(cls, config: dict):
        return cls(**config)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.name!r} result={self.result():.6g}>"


class _Reduce(Metric):
    def __init__(self, name: str | None = None, dtype: Any = None):
        super().__init__(name=name, dtype=dtype)
        self.reset_state()

    def reset_state(self) -> None:
        self.total = 0.0
        self.count = 0.0


class Sum(_Reduce):
    """The weighted sum of every value seen.

    Example::

        m = fastnn.metrics.Sum(); m.update_state([1, 3, 5, 7]); m.result()   # 16.0
    """

    def update_state(self, values, sample_weight=None) -> None:
        v = _np(values).astype(np.float64)
        if sample_weight is not None:
            v, w = _same_rank(v, _np(sample_weight).astype(np.float64))
            v = v * w
        self.total += float(v.sum())

    def result(self) -> float:
        return float(self.total)


class Mean(_Reduce):
    """The weighted mean of every value seen: sum(w * v) / sum(w), per sample as Keras 3.

    Values of rank > 1 are averaged to one value per sample first; sample weights of shape
    (N,) (or (N, 1)) weight the samples.

    Example::

        m = fastnn.metrics.Mean()
        m.update_state([1, 3, 5, 7], sample_weight=[1, 1, 0, 0])
        m.result()        # 2.0
    """

    def update_state(self, values, sample_weight=None) -> None:
        v = _np(values).astype(np.float64)
        if sample_weight is None:
            if v.ndim > 1:
                v = v.mean(axis=tuple(range(1, v.ndim)))
            self.total += float(v.sum())
            self.count += float(v.shape[0]) if v.ndim >= 1 else 1.0
            return
        w = _np(sample_weight).astype(np.float64)
        v, w = _same_rank(v, w)
        if w.ndim > v.ndim:
            raise ValueError(
                f"{self.name}: sample_weight of shape {w.shape} does not fit values of shape {v.shape}"
            )
        if v.ndim > w.ndim:  # reduce the values to the weights' rank (Keras)
            v = v.mean(axis=tuple(range(w.ndim, v.ndim)))
        try:
            w = np.broadcast_to(w, v.shape)
        except ValueError:
            raise ValueError(
                f"{self.name}: sample_weight of shape {w.shape} cannot be broadcast to values of "
                f"shape {v.shape}"
            ) from None
        v = v * w
        if w.ndim > 1:
            w = w.mean(axis=tuple(range(1, w.ndim)))
            v = v.mean(axis=tuple(range(1, v.ndim)))
        self.total += float(v.sum())
        self.count += float(w.sum())

    def result(self) -> float:
        return float(self.total / self.count) if self.count else 0.0


class MeanMetricWrapper(Mean):
    """The weighted mean of a per-sample function ``fn(y_true, y_pred, **kwargs)``.

    Example::

        m = MeanMetricWrapper(lambda t, p: np.abs(t - p), name="abs_err")
    """

    def __init__(self, fn: Callable, name: str | None = None, dtype: Any = None, **kwargs):
        if not callable(fn):
            raise TypeError(f"fn must be callable, got {fn!r}")
        super().__init__(name=name or getattr(fn, "__name__", "metric"), dtype=dtype)
        self._fn = fn
        self._fn_kwargs = kwargs

    def update_state(self, y_true, y_pred, sample_weight=None) -> None:
        super().update_state(self._fn(y_true, y_pred, **self._fn_kwargs), sample_weight=sample_weight)

    def get_config(self) -> dict:
        config = super().get_config()
        if type(self) is MeanMetricWrapper:
            config["fn"] = getattr(self._fn, "__name__", None)
        config.update(self._fn_kwargs)
        return config

    @classmethod
    def from_config(cls, config: dict, custom_objects: dict | None = None):
        if cls is not MeanMetricWrapper:
            return cls(**config)
        config = dict(config)
        fn_name = config.pop("fn", None)
        from .saving import resolve_function

        # functions are stored by name: fastnn's own, or one the caller registers / passes
        fn = _FUNCTIONS.get(fn_name) or resolve_function(str(fn_name), custom_objects,
                                                         owner=f"the metric {config.get('name')!r}")
        return cls(fn, **config)


class Accuracy(MeanMetricWrapper):
    """How often predictions equal the labels exactly.

    Example::

        m = fastnn.metrics.Accuracy(); m.update_state([1, 2, 3], [1, 2, 4]); m.result()  # 0.667
    """

    _direction = "up"

    def __init__(self, name: str = "accuracy", dtype: Any = None):
        super().__init__(accuracy, name=name, dtype=dtype)


class BinaryAccuracy(MeanMetricWrapper):
    """How often (y_pred > threshold) equals the binary labels.

    Args:
        threshold: the probability above which a prediction counts as 1.

    Example::

        m = fastnn.metrics.BinaryAccuracy()
        m.update_state([1, 0, 1], [[0.9], [0.2], [0.4]]); m.result()    # 0.667
    """

    _direction = "up"

    def __init__(self, name: str = "binary_accuracy", dtype: Any = None, threshold: float = 0.5):
        threshold = float(threshold)
        super().__init__(binary_accuracy, name=name, dtype=dtype, threshold=threshold)
        self.threshold = threshold


class CategoricalAccuracy(MeanMetricWrapper):
    """How often argmax(y_pred) equals argmax of the one-hot labels.

    Example::

        m = fastnn.metrics.CategoricalAccuracy()
        m.update_state([[0, 1], [1, 0]], [[0.3, 0.7], [0.4, 0.6]]); m.result()   # 0.5
    """

    _direction = "up"

    def __init__(self, name: str = "categorical_accuracy", dtype: Any = None):
        super().__init__(categorical_accuracy, name=name, dtype=dtype)


class SparseCategoricalAccuracy(MeanMetricWrapper):
    """How often argmax(y_pred) equals the integer labels.

    Example::

        m = fastnn.metrics.SparseCategoricalAccuracy()
        m.update_state([1, 0], [[0.3, 0.7], [0.4, 0.6]]); m.result()   # 0.5
    """

    _direction = "up"

    def __init__(self, name: str = "sparse_categorical_accuracy", dtype: Any = None):
        super().__init__(sparse_categorical_accuracy, name=name, dtype=dtype)


class MeanSquaredError(MeanMetricWrapper):
    """The mean over samples of mean((y_true - y_pred) ** 2, axis=-1).

    Example::

        m = fastnn.metrics.MeanSquaredError(); m.update_state([[0, 1]], [[1, 1]]); m.result()  # 0.5
    """

    _direction = "down"

    def __init__(self, name: str = "mean_squared_error", dtype: Any = None):
        super().__init__(_mse, name=name, dtype=dtype)


class MeanAbsoluteError(MeanMetricWrapper):
    """The mean over samples of mean(abs(y_true - y_pred), axis=-1).

    Example::

        m = fastnn.metrics.MeanAbsoluteError(); m.update_state([[0, 1]], [[1, 1]]); m.result()  # 0.5
    """

    _direction = "down"

    def __init__(self, name: str = "mean_absolute_error", dtype: Any = None):
        super().__init__(_mae, name=name, dtype=dtype)


class BinaryCrossentropy(MeanMetricWrapper):
    """The mean binary cross-entropy (fastnn.losses' per-sample values), as a metric.

    Example::

        fastnn.metrics.BinaryCrossentropy()([1, 0], [[0.9], [0.2]])
    """

    _direction = "down"

    def __init__(self, name: str = "binary_crossentropy", dtype: Any = None, from_logits: bool = False,
                 label_smoothing: float = 0.0):
        super().__init__(_via_loss("binary_crossentropy"), name=name, dtype=dtype,
                         from_logits=bool(from_logits), label_smoothing=float(label_smoothing))


class CategoricalCrossentropy(MeanMetricWrapper):
    """The mean categorical cross-entropy, as a metric.

    Example::

        fastnn.metrics.CategoricalCrossentropy()([[0, 1]], [[0.2, 0.8]])
    """

    _direction = "down"

    def __init__(self, name: str = "categorical_crossentropy", dtype: Any = None, from_logits: bool = False,
                 label_smoothing: float = 0.0):
        super().__init__(_via_loss("categorical_crossentropy"), name=name, dtype=dtype,
                         from_logits=bool(from_logits), label_smoothing=float(label_smoothing))


class SparseCategoricalCrossentropy(MeanMetricWrapper):
    """The mean sparse categorical cross-entropy, as a metric.

    Example::

        fastnn.metrics.SparseCategoricalCrossentropy()([1], [[0.2, 0.8]])
    """

    _direction = "down"

    def __init__(self, name: str = "sparse_categorical_crossentropy", dtype: Any = None,
                 from_logits: bool = False):
        super().__init__(_via_loss("sparse_categorical_crossentropy"), name=name, dtype=dtype,
                         from_logits=bool(from_logits))


# ------------------------------------------------------------------------------- lookup
def _snake(name: str) -> str:
    out = []
    for i, ch in enumerate(name):
        if ch.isupper() and i and (not name[i - 1].isupper() or (i + 1 < len(name) and name[i + 1].islower())):
            out.append("_")
        out.append(ch.lower())
    return "".join(out)


_CLASSES: dict[str, type] = {}
_FUNCTIONS: dict[str, Callable] = {
    "accuracy": accuracy,
    "binary_accuracy": binary_accuracy,
    "categorical_accuracy": categorical_accuracy,
    "sparse_categorical_accuracy": sparse_categorical_accuracy,
}


def _register(cls: type, *aliases: str) -> None:
    for key in (cls.__name__, *aliases):
        _CLASSES[key] = cls


_register(Mean, "mean")
_register(Sum, "sum")
_register(Accuracy, "accuracy", "acc")
_register(BinaryAccuracy, "binary_accuracy")
_register(CategoricalAccuracy, "categorical_accuracy")
_register(SparseCategoricalAccuracy, "sparse_categorical_accuracy")
_register(MeanSquaredError, "mean_squared_error", "mse", "MSE")
_register(MeanAbsoluteError, "mean_absolute_error", "mae", "MAE")
_register(BinaryCrossentropy, "binary_crossentropy", "bce")
_register(CategoricalCrossentropy, "categorical_crossentropy")
_register(SparseCategoricalCrossentropy, "sparse_categorical_crossentropy")
_CLASSES["MeanMetricWrapper"] = MeanMetricWrapper


def known_names() -> list[str]:
    """Every string that get() accepts."""
    return sorted(k for k in _CLASSES if k != "MeanMetricWrapper")


def serialize(metric: Metric) -> dict:
    return {"module": "fastnn.metrics", "class_name": type(metric).__name__, "config": metric.get_config()}


def deserialize(config: dict, custom_objects: dict | None = None) -> Metric:
    if isinstance(config, str):
        return get(config)
    from .saving import deserialize_from

    return deserialize_from(config, _CLASSES, "metric", known_names, custom_objects)


def get(identifier: Any) -> Metric | None:
    """A fresh Metric from a Keras string ('accuracy', 'mse', 'sparse_categorical_accuracy',
    'BinaryAccuracy', ...), a Metric class, a serialized dict, or a plain function
    ``fn(y_true, y_pred)`` of per-sample values (wrapped in MeanMetricWrapper); a Metric
    instance is returned as it is. Plain 'accuracy' gives Accuracy (exact match): a model's
    compile resolves it from the loss instead, with resolve_accuracy.

    Example::

        fastnn.metrics.get("mae").name       # 'mean_absolute_error'
    """
    if identifier is None or isinstance(identifier, Metric):
        return identifier
    if isinstance(identifier, str):
        cls = _CLASSES.get(identifier)
        if cls is None or cls is MeanMetricWrapper:
            raise ValueError(f"Unknown metric {identifier!r}. Known metrics: {', '.join(known_names())}")
        if identifier in ("acc",):
            return cls(name=identifier)
        return cls()
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if isinstance(identifier, type):
        if issubclass(identifier, Metric):
            return identifier()
        raise TypeError(f"a metric class must subclass fastnn.metrics.Metric, got {identifier!r}")
    if callable(identifier):
        name = getattr(identifier, "__name__", None)
        if name in _FUNCTIONS and _FUNCTIONS[name] is identifier:
            return _CLASSES[name]()
        return MeanMetricWrapper(identifier)
    raise TypeError(f"cannot interpret {identifier!r} as a metric: pass a string, a Metric or a function")


_BINARY_LOSSES = {"binary_crossentropy", "BinaryCrossentropy", "bce", "BCE", "binary_focal_crossentropy",
                  "BinaryFocalCrossentropy"}
_CATEGORICAL_LOSSES = {"categorical_crossentropy", "CategoricalCrossentropy", "categorical_focal_crossentropy"}
_SPARSE_LOSSES = {"sparse_categorical_crossentropy", "SparseCategoricalCrossentropy"}


def _loss_name(loss: Any) -> str | None:
    if loss is None or isinstance(loss, str):
        return loss
    if isinstance(loss, type):
        return loss.__name__
    name = getattr(loss, "name", None)  # a Loss instance
    if isinstance(name, str) and not callable(getattr(loss, "__name__", None)):
        return name
    return getattr(loss, "__name__", None) or type(loss).__name__


def resolve_accuracy(loss_name: Any, output_shape: Sequence[int | None] | None = None,
                     y_true_shape: Sequence[int | None] | None = None,
                     name: str = "accuracy") -> Metric:
    """The accuracy metric that ``metrics=['accuracy']`` means for this loss and output, as Keras:

    - binary_crossentropy gives BinaryAccuracy, categorical_crossentropy CategoricalAccuracy,
      sparse_categorical_crossentropy SparseCategoricalAccuracy;
    - otherwise, from the shapes: an output with one unit (last dimension 1) gives
      BinaryAccuracy; labels of lower rank than the output (or with a last dimension of 1
      against several units) give SparseCategoricalAccuracy; other outputs with several units
      give CategoricalAccuracy;
    - with neither a known loss nor an output shape, Accuracy (exact match).

    Args:
        loss_name: the loss: a name, a Loss object, a class or a function.
        output_shape: the model output's shape (the batch dimension may be None).
        y_true_shape: the labels' shape, when known.
        name: the metric's name in the logs ('accuracy' or 'acc', as the user wrote it).

    Example::

        resolve_accuracy("binary_crossentropy", (None, 1)).name    # 'accuracy', a BinaryAccuracy
    """
    loss = _loss_name(loss_name)
    if loss in _BINARY_LOSSES:
        return BinaryAccuracy(name=name)
    if loss in _CATEGORICAL_LOSSES:
        return CategoricalAccuracy(name=name)
    if loss in _SPARSE_LOSSES:
        return SparseCategoricalAccuracy(name=name)
    if output_shape is None or len(output_shape) == 0:
        return Accuracy(name=name)
    last = output_shape[-1]
    if last == 1:
        return BinaryAccuracy(name=name)
    if y_true_shape is not None:
        t = tuple(y_true_shape)
        if len(t) < len(output_shape) or (len(t) and t[-1] == 1):
            return SparseCategoricalAccuracy(name=name)
    if last is not None and last > 1:
        return CategoricalAccuracy(name=name)
    return Accuracy(name=name)


# ------------------------------------------------------- scikit-learn-compatible functions
def _labels_1d(y: Any, what: str) -> np.ndarray:
    a = _np(y)
    if a.ndim == 2 and a.shape[1] == 1:
        a = a[:, 0]
    if a.ndim != 1:
        raise ValueError(f"{what} must be one-dimensional (labels), got shape {a.shape}")
    return a


def _weights(sample_weight: Any, n: int) -> np.ndarray:
    if sample_weight is None:
        return np.ones(n)
    w = _labels_1d(sample_weight, "sample_weight").astype(np.float64)
    if w.shape[0] != n:
        raise ValueError(f"sample_weight has {w.shape[0]} values but there are {n} samples")
    return w


def accuracy_score(y_true, y_pred, *, normalize: bool = True, sample_weight=None) -> float:
    """The fraction (or with normalize=False the number) of exactly matching labels
    (scikit-learn's accuracy_score for label vectors and one-hot / multilabel rows)."""
    t, p = _np(y_true), _np(y_pred)
    if t.ndim == 2 and t.shape[1] == 1:
        t = t[:, 0]
    if p.ndim == 2 and p.shape[1] == 1:
        p = p[:, 0]
    if t.shape != p.shape:
        raise ValueError(f"accuracy_score: y_true has shape {t.shape} but y_pred has shape {p.shape}")
    hit = (t == p) if t.ndim == 1 else np.all(t == p, axis=tuple(range(1, t.ndim)))
    w = _weights(sample_weight, hit.shape[0])
    score = float(np.sum(hit * w))
    return score / float(np.sum(w)) if normalize else score


def confusion_matrix(y_true, y_pred, *, labels=None, sample_weight=None, normalize=None) -> np.ndarray:
    """C[i, j] = number of samples of true class labels[i] predicted as labels[j]
    (scikit-learn's confusion_matrix; normalize in {None, 'true', 'pred', 'all'})."""
    t, p = _labels_1d(y_true, "y_true"), _labels_1d(y_pred, "y_pred")
    if t.shape != p.shape:
        raise ValueError(f"confusion_matrix: y_true has {t.shape[0]} labels but y_pred has {p.shape[0]}")
    labels = np.unique(np.concatenate([t, p])) if labels is None else np.asarray(labels)
    index = {v: i for i, v in enumerate(labels.tolist())}
    w = _weights(sample_weight, t.shape[0])
    is_int = sample_weight is None or np.all(w == np.round(w))
    cm = np.zeros((len(labels), len(labels)), dtype=np.int64 if is_int else np.float64)
    for a, b, wi in zip(t.tolist(), p.tolist(), w):
        if a in index and b in index:
            cm[index[a], index[b]] += wi
    if normalize is None:
        return cm
    cm = cm.astype(np.float64)
    with np.errstate(all="ignore"):
        if normalize == "true":
            cm = cm / cm.sum(axis=1, keepdims=True)
        elif normalize == "pred":
            cm = cm / cm.sum(axis=0, keepdims=True)
        elif normalize == "all":
            cm = cm / cm.sum()
        else:
            raise ValueError(f"normalize must be one of None, 'true', 'pred', 'all', got normalize={normalize!r}")
    return np.nan_to_num(cm)


def _binary_scores(y_true, y_score) -> tuple[np.ndarray, np.ndarray]:
    t = _labels_1d(y_true, "y_true")
    s = _np(y_score)
    if s.ndim == 2 and s.shape[1] == 2:  # predict_proba's (p0, p1) columns
        s = s[:, 1]
    s = _labels_1d(s, "y_score").astype(np.float64)
    if t.shape != s.shape:
        raise ValueError(f"y_true has {t.shape[0]} values but y_score has {s.shape[0]}")
    classes = np.unique(t)
    if classes.size > 2 or not np.all(np.isin(classes, [0, 1, False, True])):
        raise ValueError(f"roc_curve needs binary labels 0/1, got the labels {classes.tolist()}")
    return (t == 1).astype(np.float64), s


def roc_curve(y_true, y_score, *, sample_weight=None, drop_intermediate: bool = True):
    """(fpr, tpr, thresholds) of a binary classifier, as scikit-learn's roc_curve: the
    thresholds are the distinct scores in decreasing order, with inf first."""
    t, s = _binary_scores(y_true, y_score)
    w = _weights(sample_weight, t.shape[0])
    order = np.argsort(s, kind="mergesort")[::-1]
    s, t, w = s[order], t[order], w[order]
    distinct = np.where(np.diff(s))[0]
    idx = np.r_[distinct, t.size - 1]
    tps = np.cumsum(t * w)[idx]
    fps = np.cumsum((1 - t) * w)[idx]
    thresholds = s[idx]
    if drop_intermediate and tps.size > 2:
        keep = np.where(np.r_[True, np.logical_or(np.diff(fps, 2), np.diff(tps, 2)), True])[0]
        fps, tps, thresholds = fps[keep], tps[keep], thresholds[keep]
    tps = np.r_[0, tps]
    fps = np.r_[0, fps]
    thresholds = np.r_[np.inf, thresholds]
    fpr = fps / fps[-1] if fps[-1] > 0 else np.full(fps.shape, np.nan)
    tpr = tps / tps[-1] if tps[-1] > 0 else np.full(tps.shape, np.nan)
    return fpr, tpr, thresholds


def auc(x, y) -> float:
    """Area under a curve by the trapezoidal rule (x monotonic), as scikit-learn's auc."""
    x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)
    if x.shape != y.shape or x.ndim != 1 or x.size < 2:
        raise ValueError(f"auc needs two 1-D arrays of the same length >= 2, got {x.shape} and {y.shape}")
    dx = np.diff(x)
    direction = 1.0
    if np.any(dx < 0):
        if np.all(dx <= 0):
            direction = -1.0
        else:
            raise ValueError("auc: x is neither increasing nor decreasing")
    return float(direction * np.sum(dx * (y[1:] + y[:-1]) / 2.0))


def roc_auc_score(y_true, y_score, *, sample_weight=None) -> float:
    """Area under the ROC curve of a binary classifier (scikit-learn's roc_auc_score)."""
    t, _ = _binary_scores(y_true, y_score)
    if np.unique(t).size < 2:
        raise ValueError("Only one class present in y_true. ROC AUC score is not defined in that case.")
    fpr, tpr, _ = roc_curve(y_true, y_score, sample_weight=sample_weight, drop_intermediate=True)
    return auc(fpr, tpr)
