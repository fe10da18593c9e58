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

The functions at the bottom (accuracy_score, confusion_matrix, roc_curve, precision_recall_curve,
auc, roc_auc_score, average_precision_score, precision_score, recall_score, f1_score, fbeta_score)
follow scikit-learn's signatures and results, so that fastnn does not need scikit-learn.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from functools import partial
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
    "TopKCategoricalAccuracy",
    "SparseTopKCategoricalAccuracy",
    "top_k_categorical_accuracy",
    "sparse_top_k_categorical_accuracy",
    "AUC",
    "Precision",
    "Recall",
    "TruePositives",
    "FalsePositives",
    "TrueNegatives",
    "FalseNegatives",
    "get",
    "serialize",
    "deserialize",
    "resolve_accuracy",
    "accuracy_score",
    "confusion_matrix",
    "roc_curve",
    "auc",
    "roc_auc_score",
    "precision_recall_curve",
    "average_precision_score",
    "precision_score",
    "recall_score",
    "f1_score",
    "fbeta_score",
    "UndefinedMetricWarning",
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


def _check_k(k: Any) -> int:
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise ValueError(f"k must be a positive integer, got k={k!r}")
    return int(k)


def _in_top_k(labels: np.ndarray, y_pred: np.ndarray, k: int, what: str) -> np.ndarray:
    """Keras/TF in_top_k: the label's score is in the top k when fewer than k classes score
    strictly higher, so classes tied at the k-th place all count as in the top k; a row with a
    non-finite score never does (TF cannot rank it)."""
    p = y_pred.reshape(-1, y_pred.shape[-1]) if y_pred.ndim != 2 else y_pred
    t = labels.reshape(-1)
    if t.shape[0] != p.shape[0]:
        raise ValueError(
            f"{what}: labels of shape {labels.shape} do not match y_pred of shape {y_pred.shape} "
            f"(expected {p.shape[0]} labels)"
        )
    if t.size and (t.min() < 0 or t.max() >= p.shape[-1]):
        _bad_labels(labels, p.shape[-1], what)
    target = np.take_along_axis(p, t[:, None], axis=-1)
    higher = np.count_nonzero(p > target, axis=-1)
    return ((higher < k) & np.isfinite(p).all(axis=-1)).astype(np.float32)


def _bad_labels(labels: np.ndarray, c: int, what: str):
    """Raise a LabelRangeError naming the labels outside [0, c) and where the first one is."""
    from .functional.losses import LabelRangeError, find_bad_label

    index, label, count = find_bad_label(labels, c)
    bad = (labels < 0) | (labels >= c)
    where = ", ".join(map(str, index))
    raise LabelRangeError(
        f"{what}: labels must be in [0, {c}), got {labels[bad][:5].tolist()} (the first at y_true[{where}])",
        int(label), index, c, count,
    )


def top_k_categorical_accuracy(y_true, y_pred, k: int = 5) -> np.ndarray:
    """1.0 where argmax(y_true) is among the k highest scores of y_pred; one value per sample.

    Ties as Keras (TF's in_top_k): classes tied with the k-th highest score all count.

    Example::

        fastnn.metrics.top_k_categorical_accuracy([[0, 0, 1], [0, 1, 0]],
                                                  [[0.1, 0.9, 0.8], [0.05, 0.95, 0]], k=1)  # [0, 1]
    """
    k = _check_k(k)
    t, p = _np(y_true), _np(y_pred)
    if t.shape != p.shape:
        raise ValueError(
            f"top_k_categorical_accuracy: y_true has shape {t.shape} but y_pred has shape {p.shape}; they "
            "must match (use sparse_top_k_categorical_accuracy for integer labels)"
        )
    labels = np.argmax(t, axis=-1)
    return _in_top_k(labels, p, k, "top_k_categorical_accuracy").reshape(labels.shape)


def sparse_top_k_categorical_accuracy(y_true, y_pred, k: int = 5) -> np.ndarray:
    """1.0 where the integer label is among the k highest scores of y_pred; one value per label
    (in the labels' shape, as Keras).

    Example::

        fastnn.metrics.sparse_top_k_categorical_accuracy([2, 1], [[0.1, 0.9, 0.8], [0.05, 0.95, 0]], k=1)
    """
    k = _check_k(k)
    t, p = _np(y_true), _np(y_pred)
    if p.ndim < 2:
        raise ValueError(
            f"sparse_top_k_categorical_accuracy: y_pred must have a class axis, got shape {p.shape}"
        )
    if t.dtype.kind == "f" and not np.all(t == np.round(t)):
        raise ValueError("sparse_top_k_categorical_accuracy: labels must be integers, got fractional values")
    return _in_top_k(t.astype(np.int64), p, k, "sparse_top_k_categorical_accuracy").reshape(t.shape)


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
        r = self.result()
        shown = f"{r:.6g}" if np.ndim(r) == 0 else np.array2string(np.asarray(r), precision=6)
        return f"<{type(self).__name__} name={self.name!r} result={shown}>"


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


class TopKCategoricalAccuracy(MeanMetricWrapper):
    """How often the one-hot label's class is among the k highest predictions.

    Args:
        k: how many of the top predictions to look at.

    Example::

        m = fastnn.metrics.TopKCategoricalAccuracy(k=1)
        m.update_state([[0, 0, 1], [0, 1, 0]], [[0.1, 0.9, 0.8], [0.05, 0.95, 0]]); m.result()  # 0.5
    """

    _direction = "up"

    def __init__(self, k: int = 5, name: str = "top_k_categorical_accuracy", dtype: Any = None):
        k = _check_k(k)
        super().__init__(top_k_categorical_accuracy, name=name, dtype=dtype, k=k)
        self.k = k


class SparseTopKCategoricalAccuracy(MeanMetricWrapper):
    """How often the integer label is among the k highest predictions.

    Args:
        k: how many of the top predictions to look at.

    Example::

        m = fastnn.metrics.SparseTopKCategoricalAccuracy(k=1)
        m.update_state([2, 1], [[0.1, 0.9, 0.8], [0.05, 0.95, 0]]); m.result()   # 0.5
    """

    _direction = "up"

    def __init__(self, k: int = 5, name: str = "sparse_top_k_categorical_accuracy", dtype: Any = None):
        k = _check_k(k)
        super().__init__(sparse_top_k_categorical_accuracy, name=name, dtype=dtype, k=k)
        self.k = k


# ------------------------------------------------------- confusion counts at thresholds
_EPSILON = 1e-7  # Keras's backend.epsilon(): the AUC end thresholds sit this far outside [0, 1]
NEG_INF = -1e10  # the threshold Precision/Recall use with top_k: every kept prediction is positive


def _parse_thresholds(thresholds: Any, default: float) -> list[float]:
    if thresholds is None:
        return [default]
    items = list(np.ravel(np.asarray(thresholds, dtype=object))) if np.ndim(thresholds) else [thresholds]
    bad = []
    for t in items:
        try:
            ok = t is not None and not isinstance(t, bool) and 0.0 <= float(t) <= 1.0
        except (TypeError, ValueError):
            ok = False
        if not ok:
            bad.append(t)
    if bad or not items:
        raise ValueError(f"Threshold values must be in [0, 1], got thresholds={thresholds!r} (bad values: {bad})")
    return [float(t) for t in items]


def _evenly_spaced(thresholds: Sequence[float]) -> bool:
    """Keras's is_evenly_distributed_thresholds: at least 3 values, i / (n - 1) within 1e-7."""
    n = len(thresholds)
    if n < 3:
        return False
    even = np.arange(n, dtype=np.float32) / (n - 1)
    return bool(np.allclose(thresholds, even, atol=_EPSILON))


def _check_class_id(class_id: Any) -> int | None:
    if class_id is None:
        return None
    if isinstance(class_id, bool) or not isinstance(class_id, (int, np.integer)) or class_id < 0:
        raise ValueError(f"class_id must be a non-negative integer or None, got class_id={class_id!r}")
    return int(class_id)


def _check_top_k(top_k: Any) -> int | None:
    if top_k is None:
        return None
    if isinstance(top_k, bool) or not isinstance(top_k, (int, np.integer)) or top_k < 1:
        raise ValueError(f"top_k must be a positive integer or None, got top_k={top_k!r}")
    return int(top_k)


def _filter_top_k(x: np.ndarray, k: int) -> np.ndarray:
    """Keep the k largest values of the last axis (ties to the lower index, as top_k), set the
    rest to NEG_INF."""
    idx = np.argsort(-x, axis=-1, kind="stable")[..., :k]
    keep = np.zeros(x.shape, dtype=bool)
    np.put_along_axis(keep, idx, True, axis=-1)
    return np.where(keep, x, np.float32(NEG_INF)).astype(np.float32)


def _confusion_at_thresholds(
    y_true: Any,
    y_pred: Any,
    thresholds: np.ndarray,
    *,
    evenly: bool,
    sample_weight: Any = None,
    multi_label: bool = False,
    label_weights: np.ndarray | None = None,
    top_k: int | None = None,
    class_id: int | None = None,
    what: str = "metric",
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Weighted (tp, fp, tn, fn) counts of the classifier ``y_pred > t`` at each threshold t, as
    Keras's update_confusion_matrix_variables: shape (T,), or (T, labels) with multi_label.

    Predictions and thresholds are compared in float32 as Keras compares them; the counts are
    float64. Instead of a (T, N) comparison table, each prediction is mapped to the number of
    thresholds below it (one searchsorted, or Keras's bucket formula ceil(p * (T - 1)) - 1 for
    evenly spaced thresholds, which is what Keras computes there), the weights are summed per
    bucket with bincount and a reversed cumulative sum gives the counts: O(N + T).
    """
    t = _np(y_true)
    p = _np(y_pred).astype(np.float32)
    if t.dtype.kind not in "biuf":
        raise TypeError(f"{what}: y_true must be numeric (0/1 labels), got dtype {t.dtype}")
    p, t = _same_rank(np.atleast_1d(p), np.atleast_1d(t))
    w = None
    if sample_weight is not None:
        w = _np(sample_weight).astype(np.float64)
        if w.ndim:
            # Keras: expand_dims(-1), then squeeze back to y_true's rank (never expand rank 1)
            w = w[..., None]
            if w.ndim == t.ndim + 1 and w.shape[-1] == 1:
                w = w[..., 0]
    if top_k is not None:
        if p.ndim == 0:
            raise ValueError(f"{what}: top_k needs predictions with a class axis, got shape {p.shape}")
        p = _filter_top_k(p, top_k)
    if class_id is not None:
        if p.ndim < 2:
            raise ValueError(
                f"{what}: when class_id is given, y_pred must have shape (num_samples, num_classes), "
                f"got shape {p.shape}"
            )
        if class_id >= p.shape[-1] or t.ndim < 1 or class_id >= t.shape[-1]:
            raise ValueError(
                f"{what}: class_id={class_id} is out of range for y_true of shape {t.shape} and y_pred of "
                f"shape {p.shape}"
            )
        t = t[..., class_id, None]
        p = p[..., class_id, None]
    if t.shape != p.shape:
        raise ValueError(f"{what}: y_true has shape {t.shape} but y_pred has shape {p.shape}; they must match")
    if multi_label and p.ndim != 2:
        raise ValueError(f"{what}: with multi_label=True, y_pred must have rank 2, got shape {p.shape}")
    if w is None:
        w = np.ones(p.shape)
    else:
        try:
            w = np.broadcast_to(w, p.shape)
        except ValueError:
            raise ValueError(
                f"{what}: sample_weight of shape {np.shape(sample_weight)} cannot be broadcast to y_pred of "
                f"shape {p.shape}"
            ) from None
    if label_weights is not None:
        w = w * np.broadcast_to(label_weights, p.shape)
    pos = t != 0
    true_w = np.where(pos, w, 0.0)
    false_w = np.where(pos, 0.0, w)
    n_t = thresholds.shape[0]
    if evenly:
        with_eps = bool(thresholds[0] < 0.0 or thresholds[-1] > 1.0)
        q = np.clip(p, np.float32(0.0), np.float32(1.0))
        # bucket b: thresholds 0..b lie below p (Keras: ceil(p * (T - 1)) - 1, in float32)
        bucket = np.ceil(q * np.float32(n_t - 1)) - np.float32(1.0)
        bucket[np.isnan(bucket)] = -1.0
        if with_eps:
            bucket = np.maximum(bucket, np.float32(0.0))
        above = bucket.astype(np.int64) + 1
    else:
        order = np.argsort(thresholds, kind="stable")
        above = np.searchsorted(thresholds[order], p, side="left")  # thresholds strictly below p
    above[np.isnan(p)] = 0  # NaN > t is false: a NaN prediction counts as negative everywhere
    if multi_label:
        n_lab = p.shape[1]
        flat = (above + (n_t + 1) * np.arange(n_lab)).ravel()
        size = (n_t + 1) * n_lab
        tb = np.bincount(flat, true_w.ravel(), minlength=size).reshape(n_lab, n_t + 1).T
        fb = np.bincount(flat, false_w.ravel(), minlength=size).reshape(n_lab, n_t + 1).T
        tot_t, tot_f = true_w.sum(axis=0), false_w.sum(axis=0)
    else:
        flat = above.ravel()
        tb = np.bincount(flat, true_w.ravel(), minlength=n_t + 1)
        fb = np.bincount(flat, false_w.ravel(), minlength=n_t + 1)
        tot_t, tot_f = true_w.sum(), false_w.sum()
    # a prediction with `above` = a is positive at the thresholds 0..a-1: counts at j sum a > j
    tp = np.cumsum(tb[::-1], axis=0)[::-1][1:]
    fp = np.cumsum(fb[::-1], axis=0)[::-1][1:]
    if not evenly:
        inverse = np.empty_like(order)
        inverse[order] = np.arange(n_t)
        tp, fp = tp[inverse], fp[inverse]
    return tp, fp, tot_f - fp, tot_t - tp


def _divide_no_nan(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(b != 0, a / np.where(b != 0, b, 1.0), 0.0)


def _one_or_many(values: np.ndarray) -> float | np.ndarray:
    return float(values[0]) if values.shape[0] == 1 else values.copy()


class _ConfusionMatrixConditionCount(Metric):
    _cond = "tp"

    def __init__(self, thresholds: float | Sequence[float] | None = None, name: str | None = None,
                 dtype: Any = None):
        super().__init__(name=name, dtype=dtype)
        self.init_thresholds = thresholds
        self.thresholds = _parse_thresholds(thresholds, 0.5)
        self._evenly = _evenly_spaced(self.thresholds)
        self._t32 = np.asarray(self.thresholds, np.float64).astype(np.float32)
        self.reset_state()

    def update_state(self, y_true, y_pred, sample_weight=None) -> None:
        tp, fp, tn, fn = _confusion_at_thresholds(
            y_true, y_pred, self._t32, evenly=self._evenly, sample_weight=sample_weight, what=self.name
        )
        self.accumulator += {"tp": tp, "fp": fp, "tn": tn, "fn": fn}[self._cond]

    def result(self) -> float | np.ndarray:
        return _one_or_many(self.accumulator)

    def reset_state(self) -> None:
        self.accumulator = np.zeros(len(self.thresholds))

    def get_config(self) -> dict:
        return {**super().get_config(), "thresholds": self.init_thresholds}


class TruePositives(_ConfusionMatrixConditionCount):
    """The (weighted) number of true positives: y_true true and y_pred > threshold.

    Args:
        thresholds: a float or a list of floats in [0, 1] (default 0.5); one count per threshold.

    Example::

        m = fastnn.metrics.TruePositives(); m.update_state([0, 1, 1, 1], [1, 0, 1, 1]); m.result()  # 2.0
    """

    _cond = "tp"


class FalsePositives(_ConfusionMatrixConditionCount):
    """The (weighted) number of false positives: y_true false and y_pred > threshold.

    Example::

        m = fastnn.metrics.FalsePositives(); m.update_state([0, 1, 0, 0], [0, 0, 1, 1]); m.result()  # 2.0
    """

    _cond = "fp"


class TrueNegatives(_ConfusionMatrixConditionCount):
    """The (weighted) number of true negatives: y_true false and y_pred <= threshold.

    Example::

        m = fastnn.metrics.TrueNegatives(); m.update_state([0, 1, 0, 0], [1, 1, 0, 0]); m.result()  # 2.0
    """

    _cond = "tn"


class FalseNegatives(_ConfusionMatrixConditionCount):
    """The (weighted) number of false negatives: y_true true and y_pred <= threshold.

    Example::

        m = fastnn.metrics.FalseNegatives(); m.update_state([0, 1, 1, 1], [0, 1, 0, 0]); m.result()  # 2.0
    """

    _cond = "fn"


class _PrecisionRecall(Metric):
    _direction = "up"
    _other = "fp"

    def __init__(self, thresholds: float | Sequence[float] | None = None, top_k: int | None = None,
                 class_id: int | None = None, name: str | None = None, dtype: Any = None):
        super().__init__(name=name, dtype=dtype)
        self.init_thresholds = thresholds
        self.top_k = _check_top_k(top_k)
        self.class_id = _check_class_id(class_id)
        self.thresholds = _parse_thresholds(thresholds, 0.5 if top_k is None else NEG_INF)
        self._evenly = _evenly_spaced(self.thresholds)
        self._t32 = np.asarray(self.thresholds, np.float64).astype(np.float32)
        self.reset_state()

    def update_state(self, y_true, y_pred, sample_weight=None) -> None:
        tp, fp, _, fn = _confusion_at_thresholds(
            y_true, y_pred, self._t32, evenly=self._evenly, sample_weight=sample_weight,
            top_k=self.top_k, class_id=self.class_id, what=self.name,
        )
        self.true_positives += tp
        if self._other == "fp":
            self.false_positives += fp
        else:
            self.false_negatives += fn

    def reset_state(self) -> None:
        n = len(self.thresholds)
        self.true_positives = np.zeros(n)
        if self._other == "fp":
            self.false_positives = np.zeros(n)
        else:
            self.false_negatives = np.zeros(n)

    def get_config(self) -> dict:
        return {**super().get_config(), "thresholds": self.init_thresholds, "top_k": self.top_k,
                "class_id": self.class_id}


class Precision(_PrecisionRecall):
    """tp / (tp + fp) of the predictions y_pred > threshold (0 when nothing is predicted positive).

    Args:
        thresholds: a float or a list of floats in [0, 1] (default 0.5, or with top_k every kept
            prediction); a list gives one precision per threshold.
        top_k: count only the k highest predictions of each sample as positive.
        class_id: compute the binary precision of this one class (column) only.

    Example::

        m = fastnn.metrics.Precision(); m.update_state([0, 1, 1, 1], [1, 0, 1, 1]); m.result()  # 0.667
    """

    _other = "fp"

    def result(self) -> float | np.ndarray:
        return _one_or_many(_divide_no_nan(self.true_positives, self.true_positives + self.false_positives))


class Recall(_PrecisionRecall):
    """tp / (tp + fn) of the predictions y_pred > threshold (0 when there are no positives).

    Args:
        thresholds: a float or a list of floats in [0, 1] (default 0.5); one recall per threshold.
        top_k: count only the k highest predictions of each sample as positive.
        class_id: compute the binary recall of this one class (column) only.

    Example::

        m = fastnn.metrics.Recall(); m.update_state([0, 1, 1, 1], [1, 0, 1, 1]); m.result()  # 0.667
    """

    _other = "fn"

    def result(self) -> float | np.ndarray:
        return _one_or_many(_divide_no_nan(self.true_positives, self.true_positives + self.false_negatives))


class AUC(Metric):
    """The area under the ROC or precision-recall curve, from confusion counts accumulated over
    batches at fixed thresholds (Keras's AUC: the epoch's AUC, not a mean of batch AUCs).

    Args:
        num_thresholds: how many thresholds (> 1), evenly spaced over [0, 1]; more thresholds
            approximate the exact (sorted-scores) AUC better.
        curve: 'ROC' or 'PR'.
        summation_method: 'interpolation' (trapezoids for ROC; for PR, Davis & Goadrich's
            interpolation of the positives as Keras implements it), 'minoring' or 'majoring'
            (lower / upper Riemann sums).
        thresholds: explicit thresholds in [0, 1] instead of num_thresholds (the end points
            -1e-7 and 1 + 1e-7 are added).
        multi_label: with predictions of shape (N, L), one AUC per label, averaged (weighted by
            label_weights); otherwise every entry counts as one binary prediction.
        num_labels: the number of labels, with multi_label (else found from the first batch).
        label_weights: non-negative weights of the labels.
        from_logits: apply a sigmoid to y_pred first.

    Example::

        m = fastnn.metrics.AUC(num_thresholds=3)
        m.update_state([0, 0, 1, 1], [0, 0.5, 0.3, 0.9]); m.result()    # 0.75
    """

    _direction = "up"

    def __init__(
        self,
        num_thresholds: int = 200,
        curve: str = "ROC",
        summation_method: str = "interpolation",
        name: str | None = None,
        dtype: Any = None,
        thresholds: Sequence[float] | None = None,
        multi_label: bool = False,
        num_labels: int | None = None,
        label_weights: Sequence[float] | None = None,
        from_logits: bool = False,
    ):
        super().__init__(name=name, dtype=dtype)
        if curve not in ("ROC", "PR", "roc", "pr"):  # the spellings Keras's AUCCurve.from_str accepts
            raise ValueError(f'Invalid AUC curve value: curve={curve!r}. Expected values are ["PR", "ROC"]')
        methods = ("interpolation", "majoring", "minoring")
        if summation_method not in methods + tuple(m.capitalize() for m in methods):
            raise ValueError(
                f"Invalid AUC summation method value: summation_method={summation_method!r}. Expected values "
                'are ["interpolation", "majoring", "minoring"]'
            )
        self._init_from_thresholds = thresholds is not None
        if thresholds is not None:
            inner = sorted(_parse_thresholds(thresholds, 0.5))
            self.num_thresholds = len(inner) + 2
            self._evenly = _evenly_spaced([0.0, *inner, 1.0])
        else:
            if isinstance(num_thresholds, bool) or not isinstance(num_thresholds, (int, np.integer)) \
                    or num_thresholds <= 1:
                raise ValueError(
                    f"Argument `num_thresholds` must be an integer > 1, got num_thresholds={num_thresholds!r}"
                )
            self.num_thresholds = int(num_thresholds)
            inner = [(i + 1) * 1.0 / (self.num_thresholds - 1) for i in range(self.num_thresholds - 2)]
            self._evenly = True
        self._thresholds = np.array([0.0 - _EPSILON, *inner, 1.0 + _EPSILON])
        self._t32 = self._thresholds.astype(np.float32)
        self.curve = curve.upper()
        self.summation_method = summation_method.lower()
        self.multi_label = bool(multi_label)
        if num_labels is not None and not self.multi_label:
            raise ValueError(f"`num_labels` is needed only when `multi_label` is True, got num_labels={num_labels!r}")
        if num_labels is not None and (isinstance(num_labels, bool) or not isinstance(num_labels, (int, np.integer))
                                       or num_labels < 1):
            raise ValueError(f"num_labels must be a positive integer, got num_labels={num_labels!r}")
        self.num_labels = None if num_labels is None else int(num_labels)
        if label_weights is not None:
            lw = np.asarray(label_weights, np.float64)
            if lw.ndim != 1 or np.any(lw < 0) or not np.all(np.isfinite(lw)):
                raise ValueError(
                    f"label_weights must be a 1-D list of non-negative numbers, got label_weights={label_weights!r}"
                )
            self.label_weights = lw
        else:
            self.label_weights = None
        self._from_logits = bool(from_logits)
        self._shape: tuple[int, ...] | None = None
        if not self.multi_label:
            self._shape = (self.num_thresholds,)
        elif self.num_labels:
            self._shape = (self.num_thresholds, self.num_labels)
            self._check_label_weights(self.num_labels)
        self.reset_state()

    def _check_label_weights(self, n_labels: int) -> None:
        # one weight per label: Keras would broadcast a single weight into a sum, not an average
        if self.label_weights is not None and self.label_weights.shape[0] != n_labels:
            raise ValueError(
                f"{self.name}: label_weights has {self.label_weights.shape[0]} values "
                f"({self.label_weights.tolist()}) but there are {n_labels} labels"
            )

    @property
    def thresholds(self) -> list[float]:
        """The thresholds, with the end points below 0 and above 1."""
        return [float(t) for t in self._thresholds]

    def reset_state(self) -> None:
        if self._shape is None:  # multi_label without num_labels: built by the first batch
            self.true_positives = self.false_positives = self.true_negatives = self.false_negatives = None
            return
        self.true_positives = np.zeros(self._shape)
        self.false_positives = np.zeros(self._shape)
        self.true_negatives = np.zeros(self._shape)
        self.false_negatives = np.zeros(self._shape)

    def update_state(self, y_true, y_pred, sample_weight=None) -> None:
        p = _np(y_pred).astype(np.float32)
        if self._from_logits:
            p = (1.0 / (1.0 + np.exp(-p.astype(np.float64)))).astype(np.float32)
        if self.multi_label:
            if p.ndim != 2:
                raise ValueError(
                    f"{self.name}: `y_pred` must have rank 2 when `multi_label=True`, got shape {p.shape}"
                )
            if self._shape is None:
                self._check_label_weights(p.shape[1])
                self._shape = (self.num_thresholds, p.shape[1])
                self.reset_state()
            elif self._shape[1] != p.shape[1]:
                raise ValueError(
                    f"{self.name}: y_pred has {p.shape[1]} labels (shape {p.shape}) but the metric was built "
                    f"for {self._shape[1]}"
                )
        lw = None
        if self.label_weights is not None and not self.multi_label:
            lw = self.label_weights
            if p.ndim == 0 or p.shape[-1] != lw.shape[0]:
                raise ValueError(
                    f"{self.name}: label_weights has {lw.shape[0]} values but y_pred has shape {p.shape}"
                )
        tp, fp, tn, fn = _confusion_at_thresholds(
            y_true, p, self._t32, evenly=self._evenly, sample_weight=sample_weight,
            multi_label=self.multi_label, label_weights=lw, what=self.name,
        )
        self.true_positives += tp
        self.false_positives += fp
        self.true_negatives += tn
        self.false_negatives += fn

    def _average_labels(self, by_label: np.ndarray) -> float:
        if not self.multi_label:
            return float(np.sum(by_label))
        per_label = np.sum(by_label, axis=0)
        if self.label_weights is None:
            return float(np.mean(per_label))
        return float(_divide_no_nan(np.sum(per_label * self.label_weights), np.sum(self.label_weights)))

    def interpolate_pr_auc(self) -> float:
        """The PR AUC with precision interpolated between thresholds as Davis & Goadrich (2006):
        TP and P = TP + FP vary linearly within each interval, so the area of an interval is
        slope * (dTP + intercept * log(P_A / P_B)) / (TP + FN), with slope = dTP / dP."""
        tp, fp, fn = self.true_positives, self.false_positives, self.false_negatives
        dtp = tp[:-1] - tp[1:]
        p = tp + fp
        dp = p[:-1] - p[1:]
        slope = _divide_no_nan(dtp, np.maximum(dp, 0))
        intercept = tp[1:] - slope * p[1:]
        ratio = np.where((p[:-1] > 0) & (p[1:] > 0), _divide_no_nan(p[:-1], np.maximum(p[1:], 0)), 1.0)
        with np.errstate(divide="ignore"):
            log_ratio = np.log(ratio)
        increment = _divide_no_nan(slope * (dtp + intercept * log_ratio), np.maximum(tp[1:] + fn[1:], 0))
        return self._average_labels(increment)

    def result(self) -> float:
        if self.true_positives is None:
            return 0.0
        if self.curve == "PR" and self.summation_method == "interpolation":
            return self.interpolate_pr_auc()
        tp, fp, tn, fn = self.true_positives, self.false_positives, self.true_negatives, self.false_negatives
        recall = _divide_no_nan(tp, tp + fn)
        if self.curve == "ROC":
            x, y = _divide_no_nan(fp, fp + tn), recall
        else:
            x, y = recall, _divide_no_nan(tp, tp + fp)
        if self.summation_method == "interpolation":
            heights = (y[:-1] + y[1:]) / 2.0
        elif self.summation_method == "minoring":
            heights = np.minimum(y[:-1], y[1:])
        else:
            heights = np.maximum(y[:-1], y[1:])
        return self._average_labels((x[:-1] - x[1:]) * heights)

    def get_config(self) -> dict:
        config = {
            **super().get_config(),
            "num_thresholds": self.num_thresholds,
            "curve": self.curve,
            "summation_method": self.summation_method,
            "multi_label": self.multi_label,
            "num_labels": self.num_labels,
            "label_weights": None if self.label_weights is None else self.label_weights.tolist(),
            "from_logits": self._from_logits,
        }
        if self._init_from_thresholds:
            config["thresholds"] = self.thresholds[1:-1]
        return config


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
    "top_k_categorical_accuracy": top_k_categorical_accuracy,
    "sparse_top_k_categorical_accuracy": sparse_top_k_categorical_accuracy,
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
_register(TopKCategoricalAccuracy, "top_k_categorical_accuracy")
_register(SparseTopKCategoricalAccuracy, "sparse_top_k_categorical_accuracy")
_register(AUC, "auc")
_register(Precision, "precision")
_register(Recall, "recall")
_register(TruePositives, "true_positives")
_register(FalsePositives, "false_positives")
_register(TrueNegatives, "true_negatives")
_register(FalseNegatives, "false_negatives")
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
class UndefinedMetricWarning(UserWarning):
    """A metric is ill-defined on this data (no positives, no predicted positives, one class):
    the value returned is the conventional one (0, 1 or NaN), as scikit-learn warns."""


def _column(y: Any, what: str) -> np.ndarray:
    """scikit-learn's column_or_1d: (N,) or (N, 1) to (N,)."""
    a = _np(y)
    if a.ndim == 2 and a.shape[1] == 1:
        a = a[:, 0]
    if a.ndim != 1:
        raise ValueError(f"{what} should be a 1d array (or a column), got an array of shape {a.shape} instead")
    return a


def _weights(sample_weight: Any, n: int) -> np.ndarray | None:
    if sample_weight is None:
        return None
    w = _column(sample_weight, "sample_weight")
    if w.dtype.kind not in "biuf":
        raise TypeError(f"sample_weight must be numeric, got dtype {w.dtype}")
    if w.shape[0] != n:
        raise ValueError(f"sample_weight has {w.shape[0]} values but there are {n} samples")
    return w


def _target_type(y: np.ndarray) -> str:
    """scikit-learn's type_of_target for the cases these functions meet: a 2-D array of at most
    two integral values (0/1, -1/1, booleans) is a multilabel indicator."""
    if y.ndim > 2 or (y.ndim == 2 and y.shape[1] == 0):
        return "unknown"
    if y.ndim == 2 and y.shape[1] > 1:
        values = np.unique(y)
        integral = y.dtype.kind in "biu" or (y.dtype.kind == "f" and bool(np.all(values == np.round(values))))
        if values.size < 3 and integral:
            return "multilabel-indicator"
        if y.dtype.kind == "f" and not integral:
            return "continuous-multioutput"
        return "multiclass-multioutput"
    if y.dtype.kind == "f" and y.size and np.any(y != np.round(y)):
        return "continuous"
    return "multiclass" if np.unique(y).size > 2 else "binary"


def _check_targets(y_true: Any, y_pred: Any, what: str) -> tuple[str, np.ndarray, np.ndarray]:
    t, p = _np(y_true), _np(y_pred)
    if t.shape[:1] != p.shape[:1]:
        raise ValueError(f"{what}: y_true has {len(t)} samples but y_pred has {len(p)}")
    types = {_target_type(t), _target_type(p)}
    if types == {"binary", "multiclass"}:
        types = {"multiclass"}
    if len(types) > 1:
        a, b = sorted(types)
        raise ValueError(f"{what}: Classification metrics can't handle a mix of {a} and {b} targets")
    kind = types.pop()
    if kind not in ("binary", "multiclass", "multilabel-indicator"):
        raise ValueError(f"{what}: {kind} targets are not supported")
    if kind in ("binary", "multiclass"):
        t, p = _column(t, "y_true"), _column(p, "y_pred")
        if kind == "binary" and np.union1d(t, p).size > 2:
            kind = "multiclass"
    elif t.shape != p.shape:
        raise ValueError(f"{what}: y_true has shape {t.shape} but y_pred has shape {p.shape}")
    return kind, t, p


def accuracy_score(y_true, y_pred, *, normalize: bool = True, sample_weight=None) -> float:
    """The fraction (or with normalize=False the number) of exactly matching labels, as
    scikit-learn's accuracy_score (label vectors, or multilabel indicator rows that must match
    entirely).

    Example::

        fastnn.metrics.accuracy_score([0, 1, 2, 3], [0, 2, 1, 3])     # 0.5
    """
    kind, t, p = _check_targets(y_true, y_pred, "accuracy_score")
    hit = np.all(t == p, axis=1) if kind == "multilabel-indicator" else (t == p)
    w = _weights(sample_weight, hit.shape[0])
    if normalize:
        return float(np.average(hit, weights=w))
    return float(np.dot(hit, w) if w is not None else np.sum(hit))


def _encode(y: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Index of each y in labels, or len(labels) where y is not a label (vectorised lookup)."""
    order = np.argsort(labels, kind="stable")
    ranked = labels[order]
    pos = np.searchsorted(ranked, y)
    safe = np.minimum(pos, len(labels) - 1)
    found = (pos < len(labels)) & (ranked[safe] == y)
    return np.where(found, order[safe], len(labels))


def confusion_matrix(y_true, y_pred, *, labels=None, sample_weight=None, normalize=None) -> np.ndarray:
    """C[i, j] = (weighted) number of samples of true class labels[i] predicted as labels[j], as
    scikit-learn's confusion_matrix (normalize in {None, 'true', 'pred', 'all'}; integer counts
    unless the sample weights are floats).

    Example::

        fastnn.metrics.confusion_matrix([0, 1, 1], [0, 1, 0])   # [[1, 0], [1, 1]]
    """
    if normalize not in (None, "true", "pred", "all"):
        raise ValueError(f"normalize must be one of None, 'true', 'pred', 'all', got normalize={normalize!r}")
    kind, t, p = _check_targets(y_true, y_pred, "confusion_matrix")
    if kind not in ("binary", "multiclass"):
        raise ValueError(f"confusion_matrix: {kind} is not supported")
    w = _weights(sample_weight, t.shape[0])
    if w is None:
        w = np.ones(t.shape[0], dtype=np.int64)
    if labels is None:
        labels = np.union1d(t, p)
    else:
        labels = np.asarray(labels)
        if labels.size == 0:
            raise ValueError("'labels' should contain at least one label.")
        if t.size == 0:
            return np.zeros((labels.size, labels.size), dtype=int)
        if np.intersect1d(t, labels).size == 0:
            raise ValueError(f"At least one label specified must be in y_true, got labels={labels.tolist()}")
    n = labels.size
    ti, pi = _encode(t, labels), _encode(p, labels)
    keep = (ti < n) & (pi < n)
    dtype = np.int64 if w.dtype.kind in "biu" else np.float64
    cm = np.bincount(ti[keep] * n + pi[keep], weights=w[keep].astype(np.float64), minlength=n * n)
    cm = cm.reshape(n, n).astype(dtype)
    if normalize is not None:
        with np.errstate(all="ignore"):
            if normalize == "true":
                cm = cm / cm.sum(axis=1, keepdims=True)
            elif normalize == "pred":
                cm = cm / cm.sum(axis=0, keepdims=True)
            else:
                cm = cm / cm.sum()
        cm = np.nan_to_num(cm)
    if cm.shape == (1, 1):
        warnings.warn(
            "A single label was found in 'y_true' and 'y_pred'. For the confusion matrix to have the "
            "correct shape, use the 'labels' parameter to pass all known labels.",
            UserWarning,
            stacklevel=2,
        )
    return cm


def _score_column(y_score: Any) -> np.ndarray:
    s = _np(y_score)
    if s.ndim == 2 and s.shape[1] == 2:  # predict_proba's (p0, p1) columns: the positive class's
        s = s[:, 1]
    s = _column(s, "y_score")
    if s.dtype.kind not in "biuf":
        raise TypeError(f"y_score must be numeric, got dtype {s.dtype}")
    s = s.astype(np.float64)
    if not np.all(np.isfinite(s)):
        raise ValueError("Input y_score contains NaN or infinity.")
    return s


def _pos_label(t: np.ndarray, pos_label: Any) -> Any:
    """scikit-learn's _check_pos_label_consistency: without pos_label, labels must be {0, 1} or
    {-1, 1} (or one of their values), and 1 is the positive class."""
    if pos_label is not None:
        return pos_label
    classes = np.unique(t)
    ok = classes.dtype.kind not in "OUS" and any(
        classes.shape == np.shape(c) and np.all(classes == np.asarray(c)) for c in ([0, 1], [-1, 1], [0], [-1], [1])
    )
    if not ok:
        shown = ", ".join(repr(c) for c in classes.tolist())
        raise ValueError(
            f"y_true takes value in {{{shown}}} and pos_label is not specified: either make y_true take value "
            "in {0, 1} or {-1, 1} or pass pos_label explicitly."
        )
    return 1


def _binary_clf_curve(y_true, y_score, pos_label, sample_weight, what: str):
    """(fps, tps, thresholds) at each distinct score, from the highest score down, as
    scikit-learn's confusion_matrix_at_thresholds (zero-weight samples are dropped first)."""
    t = _column(y_true, "y_true")
    s = _score_column(y_score)
    if t.shape[0] != s.shape[0]:
        raise ValueError(f"{what}: y_true has {t.shape[0]} values but y_score has {s.shape[0]}")
    kind = _target_type(t)
    if not (kind == "binary" or (kind == "multiclass" and pos_label is not None)):
        raise ValueError(
            f"{what}: {kind} format is not supported (labels {np.unique(t).tolist()[:10]}); pass binary labels"
            + ("" if kind != "multiclass" else " or pos_label")
        )
    pos = _pos_label(t, pos_label)
    y = (t == pos).astype(np.float64)
    w = _weights(sample_weight, t.shape[0])
    if w is not None:
        w = w.astype(np.float64)
        nz = w != 0
        y, s, w = y[nz], s[nz], w[nz]
    order = np.argsort(-s, kind="stable")  # descending, ties in input order
    s, y = s[order], y[order]
    distinct = np.nonzero(np.diff(s))[0]
    idx = np.r_[distinct, y.size - 1]
    if w is None:
        tps = np.cumsum(y)[idx]
        fps = 1 + idx.astype(np.float64) - tps
    else:
        w = w[order]
        tps = np.cumsum(y * w)[idx]
        fps = np.cumsum((1 - y) * w)[idx]
    return fps, tps, s[idx]


def roc_curve(y_true, y_score, *, pos_label=None, sample_weight=None, drop_intermediate: bool = True):
    """(fpr, tpr, thresholds) of a binary classifier, as scikit-learn's roc_curve: thresholds are
    the distinct scores in decreasing order after inf; without negatives (positives) fpr (tpr)
    is NaN with an UndefinedMetricWarning.

    Example::

        fpr, tpr, thr = fastnn.metrics.roc_curve([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])
    """
    fps, tps, thresholds = _binary_clf_curve(y_true, y_score, pos_label, sample_weight, "roc_curve")
    if drop_intermediate and fps.shape[0] > 2:
        keep = np.where(np.r_[True, np.logical_or(np.diff(fps, 2), np.diff(tps, 2)), True])[0]
        fps, tps, thresholds = fps[keep], tps[keep], thresholds[keep]
    tps = np.r_[0.0, tps]
    fps = np.r_[0.0, fps]
    thresholds = np.r_[np.inf, thresholds]
    if fps[-1] <= 0:
        warnings.warn("No negative samples in y_true, false positive value should be meaningless",
                      UndefinedMetricWarning, stacklevel=2)
        fpr = np.full(fps.shape, np.nan)
    else:
        fpr = fps / fps[-1]
    if tps[-1] <= 0:
        warnings.warn("No positive samples in y_true, true positive value should be meaningless",
                      UndefinedMetricWarning, stacklevel=2)
        tpr = np.full(tps.shape, np.nan)
    else:
        tpr = tps / tps[-1]
    return fpr, tpr, thresholds


def precision_recall_curve(y_true, probas_pred=None, *, pos_label=None, sample_weight=None,
                           drop_intermediate: bool = False, y_score=None):
    """(precision, recall, thresholds) of a binary classifier, as scikit-learn's
    precision_recall_curve: thresholds are the distinct scores increasing, precision ends with
    1 and recall with 0; precision is 0 where nothing is predicted positive; without positives
    recall is 1 everywhere (with a warning).

    The scores may be passed positionally, as probas_pred (scikit-learn < 1.7) or as y_score.

    Example::

        p, r, thr = fastnn.metrics.precision_recall_curve([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])
    """
    if (probas_pred is None) == (y_score is None):
        raise TypeError("precision_recall_curve needs the scores: pass probas_pred (or y_score), exactly once")
    scores = probas_pred if probas_pred is not None else y_score
    fps, tps, thresholds = _binary_clf_curve(y_true, scores, pos_label, sample_weight, "precision_recall_curve")
    if drop_intermediate and fps.shape[0] > 2:
        # keep the first and last point of each run of equal tps (vertical segments of the curve)
        keep = np.where(np.r_[True, np.logical_or(np.diff(tps[:-1]), np.diff(tps[1:])), True])[0]
        fps, tps, thresholds = fps[keep], tps[keep], thresholds[keep]
    ps = tps + fps
    precision = np.divide(tps, ps, out=np.zeros_like(tps), where=ps != 0)
    if tps[-1] == 0:
        warnings.warn("No positive class found in y_true, recall is set to one for all thresholds.",
                      UserWarning, stacklevel=2)
        recall = np.ones_like(tps)
    else:
        recall = tps / tps[-1]
    return np.r_[precision[::-1], 1.0], np.r_[recall[::-1], 0.0], thresholds[::-1]


def _trapezoid(y: np.ndarray, x: np.ndarray) -> float:
    fn = getattr(np, "trapezoid", None) or np.trapz  # NumPy 2 renamed trapz
    return float(fn(y, x))


def auc(x, y) -> float:
    """Area under a curve by the trapezoidal rule (x monotonic), as scikit-learn's auc.

    Example::

        fastnn.metrics.auc([0, 0.5, 1], [0, 0.8, 1])    # 0.65
    """
    x, y = _column(x, "x").astype(np.float64), _column(y, "y").astype(np.float64)
    if x.shape != y.shape:
        raise ValueError(f"auc: x has {x.shape[0]} values but y has {y.shape[0]}")
    if x.shape[0] < 2:
        raise ValueError(f"At least 2 points are needed to compute area under curve, but x.shape = {x.shape}")
    dx = np.diff(x)
    direction = 1.0
    if np.any(dx < 0):
        if np.all(dx <= 0):
            direction = -1.0
        else:
            raise ValueError(f"auc: x is neither increasing nor decreasing : {x}.")
    return direction * _trapezoid(y, x)


_AVERAGES = (None, "micro", "macro", "weighted", "samples")


def _binary_roc_auc(y: np.ndarray, s: np.ndarray, w: np.ndarray | None = None,
                    max_fpr: float | None = None) -> float:
    """ROC AUC of 0/1 labels y against scores s (scikit-learn's _binary_roc_auc_score): NaN with
    an UndefinedMetricWarning when y holds one class; with max_fpr the partial AUC over
    fpr in [0, max_fpr], McClish-standardised so that chance gives 0.5 and a perfect ranking 1."""
    if np.unique(y).size != 2:
        warnings.warn("Only one class is present in y_true. ROC AUC score is not defined in that case.",
                      UndefinedMetricWarning, stacklevel=3)
        return float("nan")
    fpr, tpr, _ = roc_curve(y, s, sample_weight=w)
    if max_fpr is None or max_fpr == 1:
        return auc(fpr, tpr)
    # close the curve at max_fpr by linear interpolation between its two neighbouring points
    stop = np.searchsorted(fpr, max_fpr, "right")
    tpr = np.append(tpr[:stop], np.interp(max_fpr, [fpr[stop - 1], fpr[stop]], [tpr[stop - 1], tpr[stop]]))
    fpr = np.append(fpr[:stop], max_fpr)
    partial = auc(fpr, tpr)
    min_area, max_area = 0.5 * max_fpr**2, max_fpr
    return float(0.5 * (1 + (partial - min_area) / (max_area - min_area)))


def _average_binary_score(metric: Callable, y: np.ndarray, s: np.ndarray, average: str | None,
                          w: np.ndarray | None) -> float | np.ndarray:
    """A binary metric over the columns of an (N, L) indicator y and scores s, averaged as
    scikit-learn's _average_binary_score: 'macro' (plain mean over labels), 'weighted' (by each
    label's weighted support; labels without support count 0), 'micro' (all entries as one
    binary problem), 'samples' (over rows, weighted by sample_weight), None (one score a label)."""
    score_w, avg_w = w, None
    if average == "micro":
        return float(metric(y.ravel(), s.ravel(), None if w is None else np.repeat(w, y.shape[1])))
    if average == "weighted":
        avg_w = np.sum(y * (1.0 if w is None else w[:, None]), axis=0, dtype=np.float64)
        if np.isclose(avg_w.sum(), 0.0):
            return 0.0
    if average == "samples":
        score_w, avg_w = None, w
        y, s = y.T, s.T
    scores = np.array([metric(y[:, c], s[:, c], score_w) for c in range(s.shape[1])], dtype=np.float64)
    if average is None:
        return scores
    if avg_w is None:
        return float(np.mean(scores))
    if avg_w.sum() == 0:
        raise ValueError(f"roc_auc_score: the weights of the {average!r} average sum to zero ({avg_w.tolist()[:10]})")
    scores[avg_w == 0] = 0.0  # a NaN score of weight 0 must not turn the average into NaN
    return float(np.average(scores, weights=avg_w))


def _multiclass_roc_auc(t: np.ndarray, s: np.ndarray, labels: Any, multi_class: str, average: str | None,
                        w: np.ndarray | None) -> float | np.ndarray:
    """scikit-learn's _multiclass_roc_auc_score: one-vs-rest (as multilabel, on the binarised
    labels) or one-vs-one (Hand & Till 2001: the mean over class pairs of the two AUCs of each
    pair, on the samples of that pair only, weighted by the pair's prevalence for 'weighted')."""
    if s.ndim != 2:
        raise ValueError(
            "`y_score` needs to be of shape `(n_samples, n_classes)`, since `y_true` contains multiple classes. "
            f"Got `y_score.shape={s.shape}`."
        )
    sums = s.sum(axis=1)
    if not np.allclose(1, sums):
        bad = int(np.argmax(np.abs(sums - 1)))
        raise ValueError(
            "Target scores need to be probabilities for multiclass roc_auc, i.e. they should sum up to 1.0 over "
            f"classes (row {bad} of y_score sums to {float(sums[bad])!r})"
        )
    options: tuple = ("macro", "weighted", None)
    if multi_class == "ovr":
        options = ("micro",) + options
    if average not in options:
        raise ValueError(f"average must be one of {options} for multiclass problems, got average={average!r}")
    if average is None and multi_class == "ovo":
        raise NotImplementedError("average=None is not implemented for multi_class='ovo'.")
    if labels is not None:
        given = _column(labels, "labels")
        classes = np.unique(given)
        if classes.size != given.size:
            raise ValueError(f"Parameter 'labels' must be unique, got labels={given.tolist()}")
        if not np.array_equal(classes, given):
            raise ValueError(f"Parameter 'labels' must be ordered, got labels={given.tolist()}")
        if classes.size != s.shape[1]:
            raise ValueError(
                f"Number of given labels, {classes.size}, not equal to the number of columns in 'y_score', "
                f"{s.shape[1]} (y_score has shape {s.shape})"
            )
        missing = np.setdiff1d(t, classes)
        if missing.size:
            raise ValueError(
                f"'y_true' contains labels not in parameter 'labels': {missing.tolist()[:10]} "
                f"(labels={classes.tolist()})"
            )
    else:
        classes = np.unique(t)
        if classes.size != s.shape[1]:
            raise ValueError(
                "Number of classes in y_true not equal to the number of columns in 'y_score': y_true has "
                f"{classes.size} classes {classes.tolist()[:10]}, y_score has shape {s.shape}"
            )
    if multi_class == "ovr":
        onehot = (t[:, None] == classes[None, :]).astype(np.int64)
        return _average_binary_score(_binary_roc_auc, onehot, s, average, w)
    if w is not None:
        raise ValueError(
            "sample_weight is not supported for multiclass one-vs-one ROC AUC, 'sample_weight' must be None in "
            "this case."
        )
    code = _encode(t, classes)
    present = np.unique(code)
    if present.size < 2:  # no pair of classes to score (scikit-learn averages an empty list here)
        warnings.warn("Only one class is present in y_true. ROC AUC score is not defined in that case.",
                      UndefinedMetricWarning, stacklevel=3)
        return float("nan")
    pair_scores, prevalence = [], []
    for i, a in enumerate(present):
        for b in present[i + 1:]:
            in_a, in_b = code == a, code == b
            pair = in_a | in_b
            prevalence.append(np.mean(pair))
            score_a = _binary_roc_auc(in_a[pair].astype(np.int64), s[pair, a])
            score_b = _binary_roc_auc(in_b[pair].astype(np.int64), s[pair, b])
            pair_scores.append((score_a + score_b) / 2)
    return float(np.average(pair_scores, weights=prevalence if average == "weighted" else None))


def roc_auc_score(
    y_true,
    y_score,
    *,
    average: str | None = "macro",
    sample_weight=None,
    max_fpr: float | None = None,
    multi_class: str = "raise",
    labels=None,
) -> float | np.ndarray:
    """Area under the ROC curve, as scikit-learn's roc_auc_score.

    - Binary labels (any two values; the larger is the positive class): the AUC of y_score
      (shape (N,), (N, 1), or predict_proba's (N, 2), whose second column is used). max_fpr
      gives the McClish-standardised partial AUC over fpr in [0, max_fpr].
    - Multilabel indicators (N, L) with scores (N, L): one AUC per label, averaged by
      ``average``: 'macro', 'weighted' (by support), 'micro' (every entry as one binary
      problem), 'samples' (one AUC per row) or None (the per-label AUCs).
    - Multiclass labels (N,) with probabilities (N, C) that sum to 1 over the classes: needs
      ``multi_class='ovr'`` (one class against the rest; average 'macro', 'weighted', 'micro'
      or None) or ``'ovo'`` (Hand & Till: every pair of classes; 'macro' or 'weighted', no
      sample_weight). The columns of y_score are the sorted classes of y_true, or ``labels``
      (sorted, unique, one per column) when given.

    A label set with one class only gives NaN with an UndefinedMetricWarning.

    Example::

        fastnn.metrics.roc_auc_score([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])   # 0.75
        probs = [[0.7, 0.2, 0.1], [0.2, 0.5, 0.3], [0.1, 0.3, 0.6], [0.3, 0.4, 0.3]]
        fastnn.metrics.roc_auc_score([0, 1, 2, 1], probs, multi_class="ovr")
    """
    if average not in _AVERAGES:
        raise ValueError(
            f"roc_auc_score: average must be one of {_AVERAGES}, got average={average!r}"
        )
    if multi_class not in ("raise", "ovr", "ovo"):
        raise ValueError(
            f"roc_auc_score: multi_class must be one of ('raise', 'ovr', 'ovo'), got multi_class={multi_class!r}"
        )
    if max_fpr is not None and (
        isinstance(max_fpr, bool) or not isinstance(max_fpr, (int, float, np.integer, np.floating))
        or not 0 < max_fpr <= 1
    ):
        raise ValueError(f"Expected max_fpr in range (0, 1], got: {max_fpr!r}")
    t = _np(y_true)
    s = _np(y_score)
    if s.dtype.kind not in "biuf":
        raise TypeError(f"roc_auc_score: y_score must be numeric, got dtype {s.dtype}")
    if t.ndim == 0 or t.shape[0] == 0:
        raise ValueError(f"roc_auc_score: y_true must hold at least one sample, got shape {t.shape}")
    if s.ndim == 0 or s.ndim > 2 or s.shape[0] != t.shape[0]:
        raise ValueError(
            f"roc_auc_score: y_score of shape {s.shape} does not match y_true of shape {t.shape} "
            "(expected (n_samples,) or (n_samples, n_columns) with the same n_samples)"
        )
    if s.dtype.kind != "f":
        s = s.astype(np.float64)
    if not np.all(np.isfinite(s)):
        raise ValueError("Input y_score contains NaN or infinity.")
    w = _weights(sample_weight, t.shape[0])
    kind = _target_type(t)
    if kind == "multiclass" or (kind == "binary" and s.ndim == 2 and s.shape[1] > 2):
        if max_fpr is not None and max_fpr != 1:
            raise ValueError(
                "Partial AUC computation not available in multiclass setting, 'max_fpr' must be set to `None`, "
                f"received `max_fpr={max_fpr}` instead"
            )
        if multi_class == "raise":
            raise ValueError(
                f"multi_class must be in ('ovo', 'ovr'): y_true has {np.unique(t).size} classes and y_score has "
                f"shape {s.shape}"
            )
        return _multiclass_roc_auc(_column(t, "y_true"), s, labels, multi_class, average, w)
    if kind == "binary":
        t = _column(t, "y_true")
        classes = np.unique(t)
        y = (t == classes[1]).astype(np.int64) if classes.size == 2 else np.zeros(t.shape[0], np.int64)
        return _binary_roc_auc(y, _score_column(s), w, max_fpr)
    if kind != "multilabel-indicator":
        raise ValueError(f"roc_auc_score: {kind} format is not supported (y_true of shape {t.shape})")
    if s.shape != t.shape:
        raise ValueError(f"roc_auc_score: y_true has shape {t.shape} but y_score has shape {s.shape}; they must match")
    return _average_binary_score(partial(_binary_roc_auc, max_fpr=max_fpr), t, s, average, w)


def average_precision_score(y_true, y_score, *, pos_label=1, sample_weight=None) -> float:
    """Average precision of a binary classifier, sum over thresholds of (R_n - R_{n-1}) * P_n,
    as scikit-learn's average_precision_score (no interpolation).

    Example::

        fastnn.metrics.average_precision_score([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])   # 0.833
    """
    t = _column(y_true, "y_true")
    kind = _target_type(t)
    if kind != "binary":
        raise ValueError(
            f"average_precision_score supports binary labels, got {kind} labels {np.unique(t).tolist()[:10]}"
        )
    present = np.unique(t)
    if present.size == 2 and pos_label not in present.tolist():
        raise ValueError(f"pos_label={pos_label!r} is not a valid label. It should be one of {present.tolist()}")
    precision, recall, _ = precision_recall_curve(t, y_score, pos_label=pos_label, sample_weight=sample_weight)
    # the last precision is 1 by construction; -0.0 from rounding is clipped as scikit-learn does
    return float(max(0.0, -np.sum(np.diff(recall) * precision[:-1])))


def _zero_division_value(zero_division: Any) -> float:
    if isinstance(zero_division, str) and zero_division == "warn":
        return 0.0
    if isinstance(zero_division, (int, float, np.integer, np.floating)) and not isinstance(zero_division, bool):
        if zero_division in (0, 1):
            return float(zero_division)
        if np.isnan(zero_division):
            return float("nan")
    raise ValueError(f"zero_division must be 'warn', 0.0, 1.0 or np.nan, got zero_division={zero_division!r}")


def _prf_divide(num, den, metric: str, modifier: str, warn_for, zero_division) -> np.ndarray:
    num, den = np.asarray(num, np.float64), np.asarray(den, np.float64)
    mask = den == 0
    out = num / np.where(mask, 1.0, den)
    if not mask.any():
        return out
    out[mask] = _zero_division_value(zero_division)
    if zero_division == "warn" and metric in warn_for:
        where = "due to" if out.shape[0] == 1 else "in labels with"
        warnings.warn(
            f"{metric.capitalize()} is ill-defined and being set to 0.0 {where} no {modifier} samples. Use "
            "`zero_division` parameter to control this behavior.",
            UndefinedMetricWarning,
            stacklevel=3,
        )
    return out


def _nanaverage(a: np.ndarray, weights: np.ndarray | None = None) -> float:
    if a.shape[0] == 0:
        return float("nan")
    ok = ~np.isnan(a)
    if not ok.any():
        return float("nan")
    if weights is None:
        return float(np.mean(a[ok]))
    w = np.asarray(weights, np.float64)[ok]
    return float(np.average(a[ok], weights=w)) if w.sum() != 0 else float(np.mean(a[ok]))


def _precision_recall_fscore(y_true, y_pred, *, beta: float, labels, pos_label, average, warn_for,
                             sample_weight, zero_division, what: str):
    """scikit-learn's precision_recall_fscore_support for label vectors (binary / multiclass)."""
    _zero_division_value(zero_division)
    if average not in (None, "binary", "micro", "macro", "weighted"):
        raise ValueError(
            f"{what}: average has to be one of (None, 'binary', 'micro', 'macro', 'weighted'), got average={average!r}"
        )
    if not beta >= 0:
        raise ValueError(f"{what}: beta must be >= 0, got beta={beta!r}")
    kind, t, p = _check_targets(y_true, y_pred, what)
    if kind == "multilabel-indicator":
        raise ValueError(f"{what}: multilabel targets are not supported, pass label vectors")
    present = np.union1d(t, p)
    if average == "binary":
        if kind != "binary":
            raise ValueError(
                f"Target is {kind} but average='binary'. Please choose another average setting, one of "
                "[None, 'micro', 'macro', 'weighted']."
            )
        if pos_label not in present.tolist() and present.size >= 2:
            raise ValueError(f"pos_label={pos_label!r} is not a valid label. It should be one of {present.tolist()}")
        labels = [pos_label]
    elif pos_label not in (None, 1):
        warnings.warn(
            f"Note that pos_label (set to {pos_label!r}) is ignored when average != 'binary' (got {average!r}). You "
            "may use labels=[pos_label] to specify a single positive class.",
            UserWarning,
            stacklevel=3,
        )
    if labels is None:
        chosen = present
    else:
        chosen = np.asarray(labels)
        if chosen.ndim != 1:
            raise ValueError(f"{what}: labels must be a 1-D list, got shape {chosen.shape}")
    every = np.union1d(chosen, present) if chosen.size else present
    ti, pi = _encode(t, every), _encode(p, every)
    w = _weights(sample_weight, t.shape[0])
    wf = None if w is None else w.astype(np.float64)
    n = every.size
    hit = ti == pi
    tp_all = np.bincount(ti[hit], weights=None if wf is None else wf[hit], minlength=n)
    pred_all = np.bincount(pi, weights=wf, minlength=n)
    true_all = np.bincount(ti, weights=wf, minlength=n)
    sel = _encode(chosen, every)
    tp_sum, pred_sum, true_sum = tp_all[sel], pred_all[sel], true_all[sel]
    if average == "micro":
        tp_sum, pred_sum, true_sum = (np.array([x.sum()]) for x in (tp_sum, pred_sum, true_sum))
    precision = _prf_divide(tp_sum, pred_sum, "precision", "predicted", warn_for, zero_division)
    recall = _prf_divide(tp_sum, true_sum, "recall", "true", warn_for, zero_division)
    if np.isposinf(beta):
        f = recall
    elif beta == 0:
        f = precision
    else:
        b2 = beta**2
        f = _prf_divide((1 + b2) * np.asarray(tp_sum, np.float64), b2 * np.asarray(true_sum, np.float64)
                        + np.asarray(pred_sum, np.float64), "f-score", "true nor predicted", warn_for,
                        zero_division)
    if average is None:
        return precision, recall, f, true_sum
    weights = true_sum if average == "weighted" else None
    return _nanaverage(precision, weights), _nanaverage(recall, weights), _nanaverage(f, weights), None


def precision_score(y_true, y_pred, *, labels=None, pos_label=1, average: str | None = "binary",
                    sample_weight=None, zero_division="warn"):
    """tp / (tp + fp), as scikit-learn's precision_score for label vectors: average 'binary'
    (of pos_label), 'micro', 'macro', 'weighted' or None (one value per label). Where nothing
    is predicted positive the value is zero_division (0 with an UndefinedMetricWarning for 'warn').

    Example::

        fastnn.metrics.precision_score([0, 1, 1, 1], [1, 0, 1, 1])   # 0.667
    """
    return _precision_recall_fscore(y_true, y_pred, beta=1.0, labels=labels, pos_label=pos_label, average=average,
                                    warn_for=("precision",), sample_weight=sample_weight,
                                    zero_division=zero_division, what="precision_score")[0]


def recall_score(y_true, y_pred, *, labels=None, pos_label=1, average: str | None = "binary",
                 sample_weight=None, zero_division="warn"):
    """tp / (tp + fn), as scikit-learn's recall_score (arguments as precision_score).

    Example::

        fastnn.metrics.recall_score([0, 1, 1, 1], [1, 0, 1, 1])   # 0.667
    """
    return _precision_recall_fscore(y_true, y_pred, beta=1.0, labels=labels, pos_label=pos_label, average=average,
                                    warn_for=("recall",), sample_weight=sample_weight,
                                    zero_division=zero_division, what="recall_score")[1]


def fbeta_score(y_true, y_pred, *, beta: float, labels=None, pos_label=1, average: str | None = "binary",
                sample_weight=None, zero_division="warn"):
    """(1 + beta^2) tp / ((1 + beta^2) tp + beta^2 fn + fp), as scikit-learn's fbeta_score.

    Example::

        fastnn.metrics.fbeta_score([0, 1, 1, 1], [1, 0, 1, 1], beta=2.0)
    """
    return _precision_recall_fscore(y_true, y_pred, beta=float(beta), labels=labels, pos_label=pos_label,
                                    average=average, warn_for=("f-score",), sample_weight=sample_weight,
                                    zero_division=zero_division, what="fbeta_score")[2]


def f1_score(y_true, y_pred, *, labels=None, pos_label=1, average: str | None = "binary",
             sample_weight=None, zero_division="warn"):
    """2 tp / (2 tp + fp + fn), as scikit-learn's f1_score (arguments as precision_score).

    Example::

        fastnn.metrics.f1_score([0, 1, 1, 1], [1, 0, 1, 1])   # 0.667
    """
    return _precision_recall_fscore(y_true, y_pred, beta=1.0, labels=labels, pos_label=pos_label, average=average,
                                    warn_for=("f-score",), sample_weight=sample_weight,
                                    zero_division=zero_division, what="f1_score")[2]
