"""Callbacks: hooks that fit, evaluate and predict call at the start and end of training,
epochs and batches, with Keras 3's names, arguments and behaviour.

A callback sees the model only through a few attributes: ``model.stop_training`` (set it to
True to end fit after the current epoch), ``model.get_weights()`` / ``model.set_weights(list)``,
``model.save(path)`` and ``model.save_weights(path)``. Logs are dicts of floats
(``{'loss': 0.31, 'accuracy': 0.9, 'val_loss': 0.35, ...}``); epochs and batches are 0-based
in the hooks (and printed 1-based, as Keras).

Example::

    stop = fastnn.callbacks.EarlyStopping(monitor="val_loss", patience=3, restore_best_weights=True)
    ckpt = fastnn.callbacks.ModelCheckpoint("ckpt/model-{epoch:02d}-{val_loss:.2f}.keras",
                                            save_best_only=True)
    plateau = fastnn.callbacks.ReduceLROnPlateau(monitor="val_loss", factor=0.2, patience=5)
    history = model.fit(x, y, validation_split=0.2, epochs=100, callbacks=[stop, ckpt, plateau])
    history.history["learning_rate"]        # logged by ReduceLROnPlateau and LearningRateScheduler
"""

from __future__ import annotations

import collections
import csv
import inspect
import math
import os
import warnings
from collections.abc import Iterable
from typing import Any, Callable, Optional

import numpy as np

__all__ = [
    "Callback",
    "CallbackList",
    "History",
    "EarlyStopping",
    "ModelCheckpoint",
    "TerminateOnNaN",
    "LambdaCallback",
    "CSVLogger",
    "LearningRateScheduler",
    "ReduceLROnPlateau",
]

Logs = Optional[dict]


class Callback:
    """Base class of the callbacks: override the hooks you need; each receives a logs dict.

    Attributes:
        model: the model being trained (set by ``set_model``).
        params: fit's parameters (``{'epochs': ..., 'steps': ..., 'verbose': ...}``).

    Example::

        class PrintLoss(fastnn.callbacks.Callback):
            def on_epoch_end(self, epoch, logs=None):
                print(epoch, logs["loss"])
    """

    def __init__(self):
        self.params: dict = {}
        self._model = None

    def set_params(self, params: dict) -> None:
        self.params = params

    def set_model(self, model: Any) -> None:
        self._model = model

    @property
    def model(self) -> Any:
        return self._model

    @model.setter
    def model(self, model: Any) -> None:
        self._model = model

    def on_batch_begin(self, batch: int, logs: Logs = None) -> None:
        """A backwards-compatible alias of on_train_batch_begin."""

    def on_batch_end(self, batch: int, logs: Logs = None) -> None:
        """A backwards-compatible alias of on_train_batch_end."""

    def on_epoch_begin(self, epoch: int, logs: Logs = None) -> None:
        pass

    def on_epoch_end(self, epoch: int, logs: Logs = None) -> None:
        pass

    def on_train_batch_begin(self, batch: int, logs: Logs = None) -> None:
        self.on_batch_begin(batch, logs=logs)

    def on_train_batch_end(self, batch: int, logs: Logs = None) -> None:
        self.on_batch_end(batch, logs=logs)

    def on_test_batch_begin(self, batch: int, logs: Logs = None) -> None:
        pass

    def on_test_batch_end(self, batch: int, logs: Logs = None) -> None:
        pass

    def on_predict_batch_begin(self, batch: int, logs: Logs = None) -> None:
        pass

    def on_predict_batch_end(self, batch: int, logs: Logs = None) -> None:
        pass

    def on_train_begin(self, logs: Logs = None) -> None:
        pass

    def on_train_end(self, logs: Logs = None) -> None:
        pass

    def on_test_begin(self, logs: Logs = None) -> None:
        pass

    def on_test_end(self, logs: Logs = None) -> None:
        pass

    def on_predict_begin(self, logs: Logs = None) -> None:
        pass

    def on_predict_end(self, logs: Logs = None) -> None:
        pass


_HOOKS = (
    "on_batch_begin", "on_batch_end", "on_epoch_begin", "on_epoch_end",
    "on_train_batch_begin", "on_train_batch_end", "on_test_batch_begin", "on_test_batch_end",
    "on_predict_batch_begin", "on_predict_batch_end", "on_train_begin", "on_train_end",
    "on_test_begin", "on_test_end", "on_predict_begin", "on_predict_end",
)


class CallbackList(Callback):
    """A list of callbacks called in order; the training loop talks to this one object.

    Args:
        callbacks: the callbacks (None for none).
        add_history: append a History callback when the list has none.
        add_progbar: append ``progbar`` (a callback that draws the progress bar, given by the
            model, which owns the bar) when there is none.
        model: the model, passed to every callback's set_model.
        **params: fit's parameters, passed to every callback's set_params.

    Example::

        cbs = CallbackList([EarlyStopping()], add_history=True, model=model, epochs=10, steps=50)
        cbs.on_train_begin()
    """

    def __init__(self, callbacks: Iterable[Callback] | None = None, add_history: bool = False,
                 add_progbar: bool = False, model: Any = None, progbar: Callback | None = None,
                 **params):
        super().__init__()
        self.callbacks: list[Callback] = []
        for cb in callbacks or []:
            self.append(cb)
        self._history: History | None = None
        if add_history:
            self._history = next((c for c in self.callbacks if isinstance(c, History)), None)
            if self._history is None:
                self._history = History()
                self.callbacks.append(self._history)
        if add_progbar and progbar is not None and not any(type(c) is type(progbar) for c in self.callbacks):
            self.callbacks.insert(0, progbar)
        if model is not None:
            self.set_model(model)
        if params:
            self.set_params(params)

    @property
    def history(self) -> History | None:
        """The History callback of the list (with add_history=True, or the user's own)."""
        return self._history or next((c for c in self.callbacks if isinstance(c, History)), None)

    def append(self, callback: Callback) -> None:
        if not isinstance(callback, Callback):
            raise TypeError(
                f"callbacks must be fastnn.callbacks.Callback instances, got {callback!r} "
                f"of type {type(callback).__name__}"
            )
        self.callbacks.append(callback)

    def set_model(self, model: Any) -> None:
        super().set_model(model)
        for cb in self.callbacks:
            cb.set_model(model)

    def set_params(self, params: dict) -> None:
        super().set_params(params)
        for cb in self.callbacks:
            cb.set_params(params)

    def __iter__(self):
        return iter(self.callbacks)

    def __len__(self) -> int:
        return len(self.callbacks)


def _dispatch(name: str):
    if name.endswith(("_begin", "_end")) and ("batch" in name or "epoch" in name):
        def hook(self, index: int, logs: Logs = None) -> None:
            logs = {} if logs is None else logs
            for cb in self.callbacks:
                getattr(cb, name)(index, logs)
    else:
        def hook(self, logs: Logs = None) -> None:
            logs = {} if logs is None else logs
            for cb in self.callbacks:
                getattr(cb, name)(logs)

    hook.__name__ = name
    return hook


for _name in _HOOKS:
    setattr(CallbackList, _name, _dispatch(_name))
# on_batch_* are aliases: the list forwards them as on_train_batch_*, whose base calls them
CallbackList.on_batch_begin = lambda self, batch, logs=None: self.on_train_batch_begin(batch, logs)
CallbackList.on_batch_end = lambda self, batch, logs=None: self.on_train_batch_end(batch, logs)


class History(Callback):
    """Records the logs of every epoch: ``history.history['loss']`` is the list of epoch
    losses, ``history.epoch`` the epoch numbers. fit returns it.

    Example::

        h = model.fit(x, y, epochs=3, validation_split=0.1)
        h.history["val_loss"]      # three floats
    """

    def __init__(self):
        super().__init__()
        self.history: dict[str, list] = {}
        self.epoch: list[int] = []

    def on_train_begin(self, logs: Logs = None) -> None:
        self.epoch = []

    def on_epoch_end(self, epoch: int, logs: Logs = None) -> None:
        self.epoch.append(epoch)
        for k, v in (logs or {}).items():
            self.history.setdefault(k, []).append(v)
        if self.model is not None:
            try:
                self.model.history = self
            except AttributeError:
                pass


# ------------------------------------------------------------------ monitored quantities
_MAX_HINTS = ("acc", "auc", "precision", "recall", "f1", "fmeasure", "iou", "r2", "top_k")
_MIN_HINTS = ("loss", "error", "mse", "mae", "mape", "msle", "crossentropy", "hinge", "divergence", "kld")


def _monitor_direction(monitor: str, model: Any) -> str | None:
    """'min' or 'max' for a monitored name, as Keras's mode='auto': a loss is minimised, a
    metric of the model follows its direction, and Keras 2's names ('acc' in the name) decide
    the rest. None when nothing tells."""
    name = monitor[4:] if monitor.startswith("val_") else monitor
    if name == "loss" or name.endswith("_loss"):
        return "min"
    for m in getattr(model, "metrics", None) or []:
        if getattr(m, "name", None) == name:
            d = getattr(m, "_direction", None)
            if d in ("up", "down"):
                return "max" if d == "up" else "min"
    if any(h in name for h in _MAX_HINTS):
        return "max"
    if any(h in name for h in _MIN_HINTS):
        return "min"
    return None


def _float(value: Any) -> float | None:
    if value is None:
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


class EarlyStopping(Callback):
    """Stops training when a monitored quantity has stopped improving.

    Args:
        monitor: the logged quantity ('val_loss', 'val_accuracy', 'loss', ...).
        min_delta: a change smaller than this does not count as an improvement.
        patience: epochs without improvement after which training stops.
        verbose: 1 prints a line when stopping and when restoring weights.
        mode: 'min', 'max' or 'auto' (from the monitor's name: losses go down, accuracies up).
        baseline: training stops if the monitored quantity does not beat this within
            `patience` epochs.
        restore_best_weights: at the end of training, put back the weights of the best epoch
            (with ``model.set_weights``).
        start_from_epoch: epochs to wait before watching for improvement.

    Attributes:
        stopped_epoch: the 0-based epoch at which training stopped (0 when it did not).
        best, best_epoch: the best value seen and its 0-based epoch.

    Example::

        es = EarlyStopping(monitor="val_loss", patience=5, restore_best_weights=True)
        model.fit(x, y, validation_split=0.2, epochs=200, callbacks=[es])
        es.stopped_epoch
    """

    def __init__(self, monitor: str = "val_loss", min_delta: float = 0, patience: int = 0, verbose: int = 0,
                 mode: str = "auto", baseline: float | None = None, restore_best_weights: bool = False,
                 start_from_epoch: int = 0):
        super().__init__()
        if not isinstance(monitor, str):
            raise TypeError(f"monitor must be the name of a logged quantity, got monitor={monitor!r}")
        if isinstance(patience, bool) or not isinstance(patience, (int, np.integer)) or patience < 0:
            raise ValueError(f"patience must be a non-negative integer, got patience={patience!r}")
        if isinstance(start_from_epoch, bool) or not isinstance(start_from_epoch, (int, np.integer)) \
                or start_from_epoch < 0:
            raise ValueError(
                f"start_from_epoch must be a non-negative integer, got start_from_epoch={start_from_epoch!r}"
            )
        if mode not in ("auto", "min", "max"):
            warnings.warn(f"EarlyStopping mode {mode!r} is unknown, fallback to auto mode.", stacklevel=2)
            mode = "auto"
        self.monitor = monitor
        self.min_delta = abs(float(min_delta))
        self.patience = int(patience)
        self.verbose = verbose
        self.mode = mode
        self.baseline = baseline
        self.restore_best_weights = bool(restore_best_weights)
        self.start_from_epoch = int(start_from_epoch)
        self.monitor_op: Callable[[float, float], bool] | None = None
        self._delta = 0.0
        self.wait = 0
        self.stopped_epoch = 0
        self.best: float | None = None
        self.best_weights = None
        self.best_epoch = 0

    def _set_monitor_op(self) -> None:
        mode = self.mode
        if mode == "auto":
            mode = _monitor_direction(self.monitor, self.model)
            if mode is None:
                raise ValueError(
                    f"EarlyStopping callback received monitor={self.monitor!r} but cannot tell "
                    "whether that metric should be maximized or minimized. Pass mode='max' in "
                    "order to do early stopping based on the highest metric value, or pass "
                    "mode='min' in order to use the lowest value."
                )
        if mode == "min":
            self.monitor_op = lambda a, b: a < b
            self._delta = self.min_delta  # must be lower by at least min_delta
        else:
            self.monitor_op = lambda a, b: a > b
            self._delta = -self.min_delta

    def on_train_begin(self, logs: Logs = None) -> None:
        self.wait = 0
        self.stopped_epoch = 0
        self.best = None
        self.best_weights = None
        self.best_epoch = 0

    def _is_improvement(self, value: float, reference: float | None) -> bool:
        if reference is None:
            return True
        return bool(self.monitor_op(value + self._delta, reference))

    def get_monitor_value(self, logs: Logs) -> float | None:
        logs = logs or {}
        value = _float(logs.get(self.monitor))
        if value is None:
            warnings.warn(
                f"Early stopping conditioned on metric `{self.monitor}` which is not available. "
                f"Available metrics are: {','.join(logs.keys())}",
                stacklevel=2,
            )
        return value

    def on_epoch_end(self, epoch: int, logs: Logs = None) -> None:
        if self.monitor_op is None:
            self._set_monitor_op()
        current = self.get_monitor_value(logs)
        if current is None or epoch < self.start_from_epoch:
            return
        if self.restore_best_weights and self.best_weights is None:
            # the first watched epoch is the best so far
            self.best_weights = self.model.get_weights()
            self.best_epoch = epoch
        self.wait += 1
        if self._is_improvement(current, self.best):
            self.best = current
            self.best_epoch = epoch
            if self.restore_best_weights:
                self.best_weights = self.model.get_weights()
            # the wait restarts only when the value beats the baseline too
            if self.baseline is None or self._is_improvement(current, self.baseline):
                self.wait = 0
            return
        if self.wait >= self.patience and epoch > 0:
            self.stopped_epoch = epoch
            self.model.stop_training = True

    def on_train_end(self, logs: Logs = None) -> None:
        if self.stopped_epoch > 0 and self.verbose > 0:
            print(f"Epoch {self.stopped_epoch + 1}: early stopping")
        if self.restore_best_weights and self.best_weights is not None:
            if self.verbose > 0:
                print(f"Restoring model weights from the end of the best epoch: {self.best_epoch + 1}.")
            self.model.set_weights(self.best_weights)


class ModelCheckpoint(Callback):
    """Saves the model (or its weights) at the end of every epoch, or every `save_freq` batches.

    Args:
        filepath: where to save; may hold ``str.format`` fields filled from the epoch (1-based)
            and the logs: ``"model-{epoch:02d}-{val_loss:.2f}.keras"``.
        monitor: the logged quantity that save_best_only compares.
        verbose: 1 prints a line at each save.
        save_best_only: save only when the monitored quantity improves on the best so far.
        save_weights_only: ``model.save_weights(path)`` instead of ``model.save(path)``.
        mode: 'min', 'max' or 'auto' (from the monitor's name).
        save_freq: 'epoch', or an integer: save every that many batches.
        initial_value_threshold: the best value to beat before the first save (save_best_only).

    Each save goes through fastnn.saving, which writes a temporary file and renames it, so an
    interrupted save leaves the previous checkpoint intact.

    Example::

        ModelCheckpoint("best.keras", monitor="val_accuracy", save_best_only=True)
    """

    def __init__(self, filepath: str | os.PathLike, monitor: str = "val_loss", verbose: int = 0,
                 save_best_only: bool = False, save_weights_only: bool = False, mode: str = "auto",
                 save_freq: str | int = "epoch", initial_value_threshold: float | None = None):
        super().__init__()
        self.filepath = os.fspath(filepath)
        self.monitor = monitor
        self.verbose = verbose
        self.save_best_only = bool(save_best_only)
        self.save_weights_only = bool(save_weights_only)
        if save_freq != "epoch" and (isinstance(save_freq, bool) or not isinstance(save_freq, (int, np.integer))
                                     or save_freq < 1):
            raise ValueError(
                f"Unrecognized save_freq: {save_freq!r}. Expected save_freq are 'epoch' or a positive integer"
            )
        self.save_freq = save_freq if save_freq == "epoch" else int(save_freq)
        if mode not in ("auto", "min", "max"):
            warnings.warn(f"ModelCheckpoint mode {mode!r} is unknown, fallback to auto mode.", stacklevel=2)
            mode = "auto"
        if mode == "auto":
            mode = _monitor_direction(monitor, None) or "min"
        self.mode = mode
        if mode == "min":
            self.monitor_op = lambda a, b: a < b
            self.best = np.inf if initial_value_threshold is None else float(initial_value_threshold)
        else:
            self.monitor_op = lambda a, b: a > b
            self.best = -np.inf if initial_value_threshold is None else float(initial_value_threshold)
        self._current_epoch = 0
        self._batches_seen_since_last_saving = 0
        self._last_batch_seen = -1

    def on_train_batch_end(self, batch: int, logs: Logs = None) -> None:
        if self._should_save_on_batch(batch):
            self._save_model(epoch=self._current_epoch, batch=batch, logs=logs)

    def on_epoch_begin(self, epoch: int, logs: Logs = None) -> None:
        self._current_epoch = epoch

    def on_epoch_end(self, epoch: int, logs: Logs = None) -> None:
        if self.save_freq == "epoch":
            self._save_model(epoch=epoch, batch=None, logs=logs)

    def _should_save_on_batch(self, batch: int) -> bool:
        if self.save_freq == "epoch":
            return False
        if batch <= self._last_batch_seen:  # a new epoch
            add = batch + 1
        else:
            add = batch - self._last_batch_seen
        self._batches_seen_since_last_saving += add
        self._last_batch_seen = batch
        if self._batches_seen_since_last_saving >= self.save_freq:
            self._batches_seen_since_last_saving = 0
            return True
        return False

    def _get_file_path(self, epoch: int, batch: int | None, logs: Logs) -> str:
        logs = dict(logs or {})
        try:
            if batch is None or "batch" in logs:
                return self.filepath.format(epoch=epoch + 1, **logs)
            return self.filepath.format(epoch=epoch + 1, batch=batch + 1, **logs)
        except KeyError as e:
            raise KeyError(
                f'Failed to format this callback filepath: "{self.filepath}". Reason: the field {e} is '
                f"not in the logs (available: epoch, {', '.join(logs) or 'nothing else'})"
            ) from None

    def _write(self, filepath: str) -> None:
        if os.path.isdir(filepath):
            raise OSError(
                "Please specify a non-directory filepath for ModelCheckpoint. Filepath used is an "
                f"existing directory: {filepath}"
            )
        if self.save_weights_only:
            self.model.save_weights(filepath)
        else:
            self.model.save(filepath)

    def _save_model(self, epoch: int, batch: int | None, logs: Logs) -> None:
        logs = logs or {}
        filepath = self._get_file_path(epoch, batch, logs)
        dirname = os.path.dirname(filepath)
        if dirname:
            os.makedirs(dirname, exist_ok=True)
        if not self.save_best_only:
            if self.verbose > 0:
                print(f"\nEpoch {epoch + 1}: saving model to {filepath}")
            self._write(filepath)
            return
        current = _float(logs.get(self.monitor))
        if current is None:
            warnings.warn(f"Can save best model only with {self.monitor} available, skipping.", stacklevel=2)
            return
        if self.monitor_op(current, self.best):
            if self.verbose > 0:
                print(f"\nEpoch {epoch + 1}: {self.monitor} improved from {self.best:.5f} to {current:.5f}, "
                      f"saving model to {filepath}")
            self.best = current
            self._write(filepath)
        elif self.verbose > 0:
            print(f"\nEpoch {epoch + 1}: {self.monitor} did not improve from {self.best:.5f}")


def _real(value: Any) -> float | None:
    """`value` as a float when it is a real number (not a bool or a string), else None."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        return None
    return float(value)


def _non_negative_int(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
        raise ValueError(f"{name} must be a non-negative integer, got {name}={value!r}")
    return int(value)


def _optimizer_of(model: Any, who: str) -> Any:
    opt = getattr(model, "optimizer", None)
    if opt is None or not hasattr(opt, "learning_rate"):
        raise ValueError(
            f'{who}: Optimizer must have a "learning_rate" attribute (the model has optimizer={opt!r}; '
            "compile the model first)"
        )
    return opt


def _takes_two(fn: Callable) -> bool | None:
    """True when `fn` accepts (epoch, lr), False when only (epoch); None when its signature is unknown."""
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return None
    if any(p.kind is p.VAR_POSITIONAL for p in params):
        return True
    return sum(p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) for p in params) >= 2


class LearningRateScheduler(Callback):
    """Sets the optimizer's learning rate at the start of every epoch from a function of the
    epoch (0-based), and logs it as ``logs['learning_rate']`` at the end of the epoch.

    Args:
        schedule: ``schedule(epoch, lr) -> new lr`` (`lr` is the current learning rate), or
            the older ``schedule(epoch) -> lr``. It must return a float.
        verbose: 1 prints a line each time the learning rate is set.

    The optimizer must hold a float learning rate: one built with a ``LearningRateSchedule``
    raises a TypeError (its learning rate is not settable, as in Keras).

    Example::

        def scheduler(epoch, lr):
            return lr if epoch < 10 else lr * math.exp(-0.1)

        model.compile(fastnn.optimizers.SGD(), loss="mse")
        model.fit(x, y, epochs=15, callbacks=[fastnn.callbacks.LearningRateScheduler(scheduler)])
        model.optimizer.learning_rate       # 0.01 * exp(-0.5) = 0.00607
    """

    def __init__(self, schedule: Callable[..., float], verbose: int = 0):
        super().__init__()
        if not callable(schedule):
            raise TypeError(f"schedule must be a function of the epoch (and the learning rate), got {schedule!r}")
        self.schedule = schedule
        self.verbose = verbose
        self._two = _takes_two(schedule)

    def _new_learning_rate(self, epoch: int, lr: float) -> Any:
        if self._two is None:  # a builtin or C callable: try the new form first, as Keras
            try:
                return self.schedule(epoch, lr)
            except TypeError:
                return self.schedule(epoch)
        return self.schedule(epoch, lr) if self._two else self.schedule(epoch)

    def on_epoch_begin(self, epoch: int, logs: Logs = None) -> None:
        opt = _optimizer_of(self.model, "LearningRateScheduler")
        lr = self._new_learning_rate(epoch, float(opt.learning_rate))
        if hasattr(lr, "numpy") and not isinstance(lr, np.ndarray):  # a 0-d fastnn Tensor
            lr = lr.numpy()
        if isinstance(lr, np.ndarray) and lr.ndim == 0 and lr.dtype.kind == "f":
            lr = lr[()]
        if not isinstance(lr, (float, np.floating)):
            raise ValueError(f"The output of the `schedule` function should be a float. Got: {lr!r}")
        opt.learning_rate = float(lr)
        if self.verbose > 0:
            print(f"\nEpoch {epoch + 1}: LearningRateScheduler setting learning rate to {float(lr)}.")

    def on_epoch_end(self, epoch: int, logs: Logs = None) -> None:
        if logs is not None:
            logs["learning_rate"] = float(_optimizer_of(self.model, "LearningRateScheduler").learning_rate)


class ReduceLROnPlateau(Callback):
    """Multiplies the learning rate by `factor` when a monitored quantity has not improved for
    `patience` epochs (Keras 3 behaviour), and logs ``logs['learning_rate']`` every epoch.

    Args:
        monitor: the logged quantity to watch.
        factor: float in [0, 1): ``new_lr = max(lr * factor, min_lr)``.
        patience: epochs without improvement before the learning rate is reduced.
        verbose: 1 prints a line at each reduction.
        mode: 'min', 'max' or 'auto' (from the monitor's name and the model's metrics: losses
            go down, accuracies up; a name nothing tells about is minimised, as Keras).
        min_delta: an improvement must beat the best value by more than this.
        cooldown: epochs after a reduction during which the count of bad epochs stays 0.
        min_lr: the lower bound on the learning rate.

    The optimizer must hold a float learning rate: one built with a ``LearningRateSchedule``
    raises a TypeError at the first reduction (its learning rate is not settable).

    Example::

        reduce_lr = ReduceLROnPlateau(monitor="val_loss", factor=0.2, patience=5, min_lr=0.001)
        model.fit(x, y, validation_split=0.2, epochs=100, callbacks=[reduce_lr])
    """

    def __init__(self, monitor: str = "val_loss", factor: float = 0.1, patience: int = 10, verbose: int = 0,
                 mode: str = "auto", min_delta: float = 1e-4, cooldown: int = 0, min_lr: float = 0.0,
                 **kwargs: Any):
        super().__init__()
        if "epsilon" in kwargs:  # Keras 2's name of min_delta
            min_delta = kwargs.pop("epsilon")
            warnings.warn("ReduceLROnPlateau(epsilon=) is the Keras 2 spelling; use min_delta=",
                          DeprecationWarning, stacklevel=2)
        if kwargs:
            raise TypeError(f"ReduceLROnPlateau got unexpected keyword arguments {sorted(kwargs)}")
        if not isinstance(monitor, str):
            raise TypeError(f"monitor must be the name of a logged quantity, got monitor={monitor!r}")
        f = _real(factor)
        if f is None or math.isnan(f):
            raise ValueError(f"factor must be a number, got factor={factor!r}")
        if f >= 1.0:
            raise ValueError(f"ReduceLROnPlateau does not support a factor >= 1.0. Received factor={factor!r}")
        if f < 0.0:
            raise ValueError(
                f"ReduceLROnPlateau needs a factor >= 0 (new_lr = lr * factor). Received factor={factor!r}"
            )
        lo = _real(min_lr)
        if lo is None or not lo >= 0.0:
            raise ValueError(f"min_lr must be a number >= 0, got min_lr={min_lr!r}")
        md = _real(min_delta)
        if md is None or math.isnan(md):
            raise ValueError(f"min_delta must be a number, got min_delta={min_delta!r}")
        self.monitor = monitor
        self.factor = f
        self.min_lr = lo
        self.min_delta = md
        self.patience = _non_negative_int("patience", patience)
        self.verbose = verbose
        self.cooldown = _non_negative_int("cooldown", cooldown)
        self.cooldown_counter = 0
        self.wait = 0
        self.best = 0.0
        self.mode = mode
        self.monitor_op: Callable[[float, float], bool] | None = None
        self._reset()

    def _reset(self) -> None:
        """Reset the counts and the best value (at the start of each fit)."""
        if self.mode not in ("auto", "min", "max"):
            warnings.warn(f"Learning rate reduction mode {self.mode} is unknown, fallback to auto mode.",
                          stacklevel=3)
            self.mode = "auto"
        mode = self.mode
        if mode == "auto":
            mode = _monitor_direction(self.monitor, self.model) or "min"
        if mode == "min":
            self.monitor_op = lambda a, b: a < b - self.min_delta
            self.best = math.inf
        else:
            self.monitor_op = lambda a, b: a > b + self.min_delta
            self.best = -math.inf
        self.cooldown_counter = 0
        self.wait = 0

    def on_train_begin(self, logs: Logs = None) -> None:
        self._reset()

    def in_cooldown(self) -> bool:
        return self.cooldown_counter > 0

    def on_epoch_end(self, epoch: int, logs: Logs = None) -> None:
        logs = {} if logs is None else logs
        opt = _optimizer_of(self.model, "ReduceLROnPlateau")
        logs["learning_rate"] = float(opt.learning_rate)
        current = _float(logs.get(self.monitor))
        if current is None:
            warnings.warn(
                f"Learning rate reduction is conditioned on metric `{self.monitor}` which is not available. "
                f"Available metrics are: {','.join(logs.keys())}.",
                stacklevel=2,
            )
            return
        if self.in_cooldown():
            self.cooldown_counter -= 1
            self.wait = 0
        if self.monitor_op(current, self.best):
            self.best = current
            self.wait = 0
        elif not self.in_cooldown():
            self.wait += 1
            if self.wait >= self.patience:
                old_lr = float(opt.learning_rate)
                # compared in float32 as Keras does (its learning rate is a float32 variable), so
                # that a learning rate already at min_lr is not "reduced" again
                if np.float32(old_lr) > np.float32(self.min_lr):
                    new_lr = max(old_lr * self.factor, self.min_lr)
                    opt.learning_rate = new_lr
                    if self.verbose > 0:
                        print(f"\nEpoch {epoch + 1}: ReduceLROnPlateau reducing learning rate to {new_lr}.")
                    self.cooldown_counter = self.cooldown
                    self.wait = 0


class TerminateOnNaN(Callback):
    """Stops training as soon as a batch's loss is NaN or infinite.

    Example::

        model.fit(x, y, callbacks=[fastnn.callbacks.TerminateOnNaN()])
    """

    def on_batch_end(self, batch: int, logs: Logs = None) -> None:
        loss = _float((logs or {}).get("loss"))
        if loss is not None and (math.isnan(loss) or math.isinf(loss)):
            print(f"Batch {batch}: Invalid loss, terminating training")
            self.model.stop_training = True


class LambdaCallback(Callback):
    """A callback made of plain functions, for quick one-offs.

    Args:
        on_epoch_begin, on_epoch_end: ``f(epoch, logs)``.
        on_train_begin, on_train_end: ``f(logs)``.
        on_train_batch_begin, on_train_batch_end: ``f(batch, logs)``.
        **kwargs: any other hook by name (``on_batch_end``, ``on_test_end``, ...).

    Example::

        LambdaCallback(on_epoch_end=lambda epoch, logs: print(epoch, logs["loss"]))
    """

    def __init__(self, on_epoch_begin=None, on_epoch_end=None, on_train_begin=None, on_train_end=None,
                 on_train_batch_begin=None, on_train_batch_end=None, **kwargs):
        super().__init__()
        hooks = dict(on_epoch_begin=on_epoch_begin, on_epoch_end=on_epoch_end, on_train_begin=on_train_begin,
                     on_train_end=on_train_end, on_train_batch_begin=on_train_batch_begin,
                     on_train_batch_end=on_train_batch_end)
        for name, fn in kwargs.items():
            if name not in _HOOKS:
                raise TypeError(f"LambdaCallback got an unknown hook {name!r}; hooks are {', '.join(_HOOKS)}")
            hooks[name] = fn
        for name, fn in hooks.items():
            if fn is None:
                continue
            if not callable(fn):
                raise TypeError(f"{name} must be callable, got {fn!r}")
            setattr(self, name, _lambda_hook(fn, name))


def _lambda_hook(fn: Callable, name: str) -> Callable:
    if name.endswith(("train_begin", "train_end", "test_begin", "test_end", "predict_begin", "predict_end")):
        return lambda logs=None: fn(logs)
    return lambda index, logs=None: fn(index, logs)


class CSVLogger(Callback):
    """Streams each epoch's logs to a CSV file: a header row ``epoch,<sorted keys>``, then one
    row per epoch (0-based epoch numbers, as Keras).

    Args:
        filename: the CSV file.
        separator: the field separator.
        append: append to an existing file (no second header) instead of overwriting it.

    Example::

        model.fit(x, y, epochs=5, callbacks=[fastnn.callbacks.CSVLogger("training.log")])
    """

    def __init__(self, filename: str | os.PathLike, separator: str = ",", append: bool = False):
        super().__init__()
        self.sep = separator
        self.filename = os.fspath(filename)
        self.append = bool(append)
        self.writer = None
        self.keys: list[str] | None = None
        self.append_header = True
        self.csv_file = None

    def on_train_begin(self, logs: Logs = None) -> None:
        if self.append:
            if os.path.exists(self.filename):
                with open(self.filename, encoding="utf-8") as f:
                    self.append_header = not bool(len(f.readline()))
            mode = "a"
        else:
            mode = "w"
        self.csv_file = open(self.filename, mode, newline="", encoding="utf-8")  # noqa: SIM115
        self.writer = None
        self.keys = None

    @staticmethod
    def _handle_value(k: Any) -> Any:
        is_zero_dim = isinstance(k, np.ndarray) and k.ndim == 0
        if isinstance(k, str):
            return k
        if isinstance(k, collections.abc.Iterable) and not is_zero_dim:
            return f"\"[{', '.join(map(str, k))}]\""
        return k

    def on_epoch_end(self, epoch: int, logs: Logs = None) -> None:
        logs = logs or {}
        if self.csv_file is None:  # used without on_train_begin
            self.on_train_begin()
        if self.keys is None:
            self.keys = sorted(logs.keys())
            # with validation_freq > 1 the first epoch has no val_ keys: make room for them
            if self.keys and not any(k.startswith("val_") for k in self.keys):
                self.keys.extend(["val_" + k for k in self.keys])
        if self.writer is None:
            sep = self.sep

            class Dialect(csv.excel):
                delimiter = sep

            self.writer = csv.DictWriter(self.csv_file, fieldnames=["epoch"] + self.keys, dialect=Dialect)
            if self.append_header:
                self.writer.writeheader()
        row = collections.OrderedDict({"epoch": epoch})
        row.update((k, self._handle_value(logs.get(k, "NA"))) for k in self.keys)
        self.writer.writerow(row)
        self.csv_file.flush()

    def on_train_end(self, logs: Logs = None) -> None:
        if self.csv_file is not None:
            self.csv_file.close()
        self.csv_file = None
        self.writer = None
