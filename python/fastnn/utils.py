"""Utilities with Keras's names: to_categorical, normalize, set_random_seed (and the shuffling
generator fit reads), pad_sequences (that of fastnn.preprocessing.sequence, where Keras 3 has
keras.utils.pad_sequences), and plots of a training history and of a ROC curve (matplotlib, an
optional dependency: ``pip install "fastnn[plot]"``).

Example::

    fastnn.utils.set_random_seed(42)
    y_onehot = fastnn.utils.to_categorical(y, num_classes=10)
    history = model.fit(x, y_onehot, validation_split=0.2, epochs=20)
    fastnn.utils.plot_history(history, "history.png")
"""

from __future__ import annotations

import random as _pyrandom
from collections.abc import Sequence
from typing import Any

import numpy as np

from .preprocessing.sequence import pad_sequences  # keras.utils.pad_sequences in Keras 3

__all__ = [
    "to_categorical",
    "normalize",
    "set_random_seed",
    "get_shuffle_rng",
    "plot_history",
    "plot_roc",
    "pad_sequences",
    "pack_x_y_sample_weight",
    "unpack_x_y_sample_weight",
]


def to_categorical(y: Any, num_classes: int | None = None, dtype: Any = "float32") -> np.ndarray:
    """One-hot encode integer class labels (Keras's to_categorical).

    Args:
        y: integer labels of any shape; a trailing axis of 1 is dropped ((N, 1) -> (N, C)).
        num_classes: the number of classes (max(y) + 1 by default).
        dtype: the output dtype (float32).

    Returns:
        An array of shape y.shape + (num_classes,).

    Example::

        to_categorical([0, 2, 1], num_classes=3)
        # [[1, 0, 0], [0, 0, 1], [0, 1, 0]]
    """
    a = np.asarray(y.numpy() if hasattr(y, "numpy") and not isinstance(y, np.ndarray) else y)
    if a.dtype.kind not in "biuf":
        raise TypeError(f"to_categorical expects integer class labels, got an array of dtype {a.dtype}")
    if a.dtype.kind == "f":
        if not np.all(np.isfinite(a)) or not np.array_equal(a, np.round(a)):
            bad = a[~(np.isfinite(a) & (a == np.round(a)))].ravel()[0]
            raise ValueError(f"to_categorical expects integer class labels, got the value {bad!r}")
    labels = a.astype(np.int64)
    shape = labels.shape
    if len(shape) > 1 and shape[-1] == 1:
        shape = shape[:-1]
    flat = labels.reshape(-1)
    if flat.size and flat.min() < 0:
        raise ValueError(f"to_categorical: class labels must be non-negative, got {int(flat.min())}")
    if num_classes is None or num_classes == 0:
        num_classes = int(flat.max()) + 1 if flat.size else 0
    else:
        if isinstance(num_classes, bool) or not isinstance(num_classes, (int, np.integer)) or num_classes < 0:
            raise ValueError(f"num_classes must be a positive integer, got num_classes={num_classes!r}")
        num_classes = int(num_classes)
        if flat.size and flat.max() >= num_classes:
            raise ValueError(
                f"to_categorical: label {int(flat.max())} is out of range for num_classes={num_classes} "
                f"(labels must be in [0, {num_classes}))"
            )
    out = np.zeros((flat.size, num_classes), dtype=dtype)
    out[np.arange(flat.size), flat] = 1
    return out.reshape(shape + (num_classes,))


def normalize(x: Any, axis: int = -1, order: int = 2):
    """Scale x to unit norm along `axis` (Keras's normalize); zero vectors stay zero.

    A fastnn Tensor (order 2) gives a differentiable Tensor; anything else a NumPy array.

    Example::

        normalize(np.array([[3.0, 4.0]]))     # [[0.6, 0.8]]
    """
    from .tensor import Tensor

    if isinstance(x, Tensor) and order == 2:
        sq = (x * x).sum(axis=axis, keepdims=True)
        # a zero vector divides by 1, and sqrt never sees 0 (whose gradient is infinite)
        return x / (sq + (sq == 0.0).numpy().astype(np.float32)).sqrt()
    a = np.asarray(x.numpy() if isinstance(x, Tensor) else x)
    a = a.astype(np.float32) if a.dtype.kind in "biu" else a
    norm = np.atleast_1d(np.linalg.norm(a, order, axis))
    norm[norm == 0] = 1
    out = a / np.expand_dims(norm, axis)
    return Tensor(out.astype(np.float32)) if isinstance(x, Tensor) else out


# ------------------------------------------------------------------- step data
def unpack_x_y_sample_weight(data: Any) -> tuple:
    """Split the ``data`` that fit/evaluate/predict hand to ``train_step`` / ``test_step`` /
    ``predict_step`` into ``(x, y, sample_weight)`` (missing parts are None), as Keras's
    ``keras.utils.unpack_x_y_sample_weight``.

    ``data`` is ``x``, ``(x,)``, ``(x, y)`` or ``(x, y, sample_weight)``; a list is read as a tuple.

    Example::

        def train_step(self, data):
            x, y, sample_weight = fastnn.utils.unpack_x_y_sample_weight(data)
    """
    if isinstance(data, list):
        data = tuple(data)
    if not isinstance(data, tuple):
        return (data, None, None)
    if len(data) == 1:
        return (data[0], None, None)
    if len(data) == 2:
        return (data[0], data[1], None)
    if len(data) == 3:
        return (data[0], data[1], data[2])
    raise ValueError(
        "Data is expected to be in format `x`, `(x,)`, `(x, y)`, or `(x, y, sample_weight)`, "
        f"found a {type(data).__name__} of length {len(data)}"
    )


def pack_x_y_sample_weight(x: Any, y: Any = None, sample_weight: Any = None) -> Any:
    """The inverse of unpack_x_y_sample_weight: ``(x, y, sample_weight)``, ``(x, y)``, or x alone
    when there is no y (wrapped as ``(x,)`` when x is itself a tuple or list, so that unpacking
    does not read several inputs as (x, y)).

    Example::

        data = fastnn.utils.pack_x_y_sample_weight(x, y)      # (x, y)
        x, y, sw = fastnn.utils.unpack_x_y_sample_weight(data)  # sw is None
    """
    if y is None:
        if sample_weight is not None:
            raise ValueError("pack_x_y_sample_weight: a sample_weight needs a y (got y=None)")
        return (x,) if isinstance(x, (tuple, list)) else x
    if sample_weight is None:
        return (x, y)
    return (x, y, sample_weight)


# ---------------------------------------------------------------------------- seeding
_shuffle_rng: np.random.Generator | None = None
_last_seed: int | None = None


def set_random_seed(seed: int) -> None:
    """Seed every random generator a training run uses: fastnn.random (weight initializers,
    dropout), NumPy's global generator, Python's random module, and the generator with which
    fit shuffles (get_shuffle_rng). The same seed gives the same training run.

    Example::

        fastnn.utils.set_random_seed(1337)
    """
    global _shuffle_rng, _last_seed
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"seed must be an integer, got seed={seed!r} of type {type(seed).__name__}")
    seed = int(seed)
    if seed < 0:
        raise ValueError(f"seed must be non-negative, got seed={seed}")
    from . import random as fastnn_random

    fastnn_random.seed(seed)
    np.random.seed(seed % (1 << 32))
    _pyrandom.seed(seed)
    _last_seed = seed
    _shuffle_rng = np.random.default_rng(seed)


def get_shuffle_rng() -> np.random.Generator:
    """The NumPy Generator with which fit shuffles: seeded by the last set_random_seed and then
    advancing, so successive fits draw different but reproducible orders. Before any
    set_random_seed it is seeded from the operating system (not reproducible, as in Keras).

    Example::

        order = get_shuffle_rng().permutation(n)
    """
    global _shuffle_rng
    if _shuffle_rng is None:
        _shuffle_rng = np.random.default_rng()
    return _shuffle_rng


# ------------------------------------------------------------------------------ plots
def _figure():
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        raise ImportError(
            "plotting needs the matplotlib package, which is not installed: "
            "pip install matplotlib (or pip install \"fastnn[plot]\")"
        ) from None
    fig = Figure(figsize=(6.4, 4.8))
    FigureCanvasAgg(fig)  # draws without pyplot or a display, whatever the global backend
    return fig


def _history_dict(history: Any) -> dict:
    h = getattr(history, "history", history)
    if not isinstance(h, dict):
        raise TypeError(f"plot_history expects a History (from fit) or a dict of lists, got {type(history).__name__}")
    return h


def plot_history(history: Any, path: str | None = None, metrics: Sequence[str] | None = None):
    """Plot the per-epoch curves of a training History: one panel per quantity ('loss',
    'accuracy', ...), training and validation ('val_...') curves together.

    Args:
        history: the History that fit returned, or its ``history`` dict.
        path: where to save the figure (any format matplotlib writes: .png, .pdf, .svg); None
            to only return it.
        metrics: the quantities to plot (all by default).

    Returns:
        The matplotlib Figure.

    Example::

        plot_history(model.fit(x, y, validation_split=0.2, epochs=20), "history.png")
    """
    h = _history_dict(history)
    names = list(metrics) if metrics is not None else [k for k in h if not k.startswith("val_")]
    names += [k[4:] for k in h if k.startswith("val_") and k[4:] not in names and metrics is None]
    if not names:
        raise ValueError("plot_history: the history is empty (nothing to plot)")
    for n in names:
        if n not in h and "val_" + n not in h:
            raise ValueError(f"plot_history: {n!r} is not in the history; it has {sorted(h)}")
    fig = _figure()
    axes = fig.subplots(1, len(names), squeeze=False)[0]
    fig.set_size_inches(4.8 * len(names), 4.0)
    for ax, n in zip(axes, names):
        for key, label in ((n, "train"), ("val_" + n, "validation")):
            if key in h:
                values = np.asarray(h[key], dtype=np.float64)
                ax.plot(np.arange(1, values.size + 1), values, label=label)
        ax.set_title(n)
        ax.set_xlabel("epoch")
        ax.set_ylabel(n)
        ax.legend()
        ax.grid(True, alpha=0.3)
    fig.tight_layout()
    if path is not None:
        fig.savefig(path)
    return fig


def plot_roc(y_true: Any, y_score: Any, path: str | None = None, label: str | None = None):
    """Plot the ROC curve of a binary classifier, with its area (AUC) in the legend.

    Args:
        y_true: labels 0/1, shape (N,) or (N, 1).
        y_score: the scores or probabilities of class 1, shape (N,) or (N, 1), or predict_proba's
            (N, 2) columns.
        path: where to save the figure; None to only return it.
        label: the curve's legend label.

    Returns:
        The matplotlib Figure.

    Example::

        plot_roc(y_test, model.predict(x_test), "roc.png")
    """
    from .metrics import auc, roc_curve

    fpr, tpr, _ = roc_curve(y_true, y_score)
    area = auc(fpr, tpr)
    fig = _figure()
    ax = fig.add_subplot(1, 1, 1)
    ax.plot(fpr, tpr, label=f"{label or 'ROC'} (AUC = {area:.3f})")
    ax.plot([0, 1], [0, 1], linestyle="--", color="grey", linewidth=1, label="chance")
    ax.set_xlim(0.0, 1.0)
    ax.set_ylim(0.0, 1.02)
    ax.set_xlabel("false positive rate")
    ax.set_ylabel("true positive rate")
    ax.set_title("ROC curve")
    ax.legend(loc="lower right")
    fig.tight_layout()
    if path is not None:
        fig.savefig(path)
    return fig

