"""The training loop of fastnn models: compile, fit, evaluate, predict and the *_on_batch calls.

One training step is one forward pass, one backward pass and one ``apply_gradients``; the
metrics are updated from that forward's outputs (no second forward), and batches are gathered
into reused buffers when shuffling.

Trainable state is captured at compile time, as Keras 2 did: ``compile`` records which weights
are trainable then, and later ``layer.trainable = False`` changes ``summary()`` but not what an
already compiled model updates. This is what the classic GAN recipe relies on::

    discriminator.compile(optimizer="adam", loss="binary_crossentropy")
    discriminator.trainable = False
    gan = Sequential([generator, discriminator])
    gan.compile(optimizer="adam", loss="binary_crossentropy")
    discriminator.train_on_batch(x, y)   # updates the discriminator (compiled while trainable)
    gan.train_on_batch(z, ones)          # updates only the generator

Compile again after changing ``trainable`` to make the change count. A model compiled before it
is built (a Sequential without an input shape) captures its trainable weights at its first
training step.
"""

from __future__ import annotations

import importlib
import math
import warnings
import weakref

import numpy as np

from .. import layers as _layers_mod
from .. import random as _random
from ..autograd import no_grad
from ..layers import base as _base
from ..symbolic import flatten
from ..tensor import Tensor

__all__ = ["Trainer"]

_ACTIVE: list = [None]  # weakref to the model whose trainable set the variables' requires_grad reflect


def _module(name: str):
    return importlib.import_module(f"fastnn.{name}")


def _to_array(x, what: str) -> np.ndarray:
    if isinstance(x, Tensor):
        a = x.numpy()
    else:
        try:
            a = np.asarray(x)
        except ValueError as e:
            raise ValueError(f"{what}: cannot convert the data to an array: {e}") from None
    if a.dtype.kind == "f":
        if a.dtype != np.float32:
            a = a.astype(np.float32)
    elif a.dtype.kind in "iu":
        if a.dtype != np.int64:
            a = a.astype(np.int64)
    elif a.dtype.kind == "b":
        a = a.astype(np.float32)
    else:
        raise TypeError(f"{what}: expected numeric data, got an array of dtype {a.dtype}")
    if a.ndim == 0:
        raise ValueError(f"{what}: expected an array with a batch dimension, got a scalar")
    return np.ascontiguousarray(a)


class _Batcher:
    """Gathers batches of several arrays by index into reused buffers."""

    def __init__(self, arrays: list, batch_size: int):
        self.arrays = arrays
        self.bufs = [None if a is None else np.empty((batch_size,) + a.shape[1:], a.dtype) for a in arrays]
        self.batch_size = batch_size

    def take(self, idx: np.ndarray) -> list:
        out = []
        full = len(idx) == self.batch_size
        for a, buf in zip(self.arrays, self.bufs):
            if a is None:
                out.append(None)
            elif full:
                np.take(a, idx, axis=0, out=buf)
                out.append(buf)
            else:
                out.append(np.take(a, idx, axis=0))
        return out

    def slice(self, lo: int, hi: int) -> list:
        return [None if a is None else a[lo:hi] for a in self.arrays]


class _Compiled:
    """What compile resolved: the optimizer, per-output losses, weights and metrics."""

    def __init__(self):
        self.optimizer = None
        self.losses: list = []
        self.loss_weights: list[float] = []
        self.metric_specs: list[list] = []
        self.weighted_specs: list[list] = []
        self.metrics: list | None = None  # (output index, metric, weighted) once resolved


class Trainer:
    """compile / fit / evaluate / predict for fastnn.models.Model (mixed in)."""

    def _init_trainer(self) -> None:
        self._compiled: _Compiled | None = None
        self._train_vars: list | None = None
        self._train_ids: set = set()
        self.stop_training = False
        self.history = None
        self.optimizer = None
        self.compiled_loss = None

    # ------------------------------------------------------------------ compile
    def compile(
        self,
        optimizer="rmsprop",
        loss=None,
        metrics=None,
        loss_weights=None,
        weighted_metrics=None,
        run_eagerly=None,
        steps_per_execution=1,
        jit_compile=None,
        **kwargs,
    ) -> None:
        """Configure training.

        Args:
            optimizer: a name ('sgd', 'adam', ...) or an optimizer object.
            loss: a name, a Loss, a function ``fn(y_true, y_pred)`` of per-sample losses, or a
                list / dict (by output name) of those for several outputs.
            metrics: a list of names ('accuracy', 'mae', ...) or Metric objects (for several
                outputs: applied to each, or a list of lists / a dict by output name).
                'accuracy' becomes binary, categorical or sparse categorical accuracy from the
                loss and the shapes, as Keras.
            loss_weights: a list or dict of per-output loss weights.

        The weights trainable now are the ones fit will update (see this module's docstring).
        """
        if kwargs:
            raise TypeError(f"compile() got unexpected keyword arguments {sorted(kwargs)}")
        c = _Compiled()
        if optimizer is None:
            raise ValueError("compile needs an optimizer, got optimizer=None")
        if hasattr(optimizer, "apply_gradients"):
            c.optimizer = optimizer
        else:
            c.optimizer = _module("optimizers").get(optimizer)
        n_out = len(self.outputs) if getattr(self, "_is_graph", False) else 1
        names = self.output_names if getattr(self, "_is_graph", False) else ["output"]
        c.losses = [self._resolve_loss(lo) for lo in self._per_output(loss, n_out, names, "loss")]
        if loss_weights is None:
            c.loss_weights = [1.0] * n_out
        else:
            lw = self._per_output(loss_weights, n_out, names, "loss_weights", scalar_ok=False)
            c.loss_weights = [1.0 if w is None else float(w) for w in lw]
        c.metric_specs = self._metric_specs(metrics, n_out, names)
        c.weighted_specs = self._metric_specs(weighted_metrics, n_out, names)
        self._compiled = c
        self.optimizer = c.optimizer
        self.compiled_loss = c.losses
        self._capture_trainable()

    def _per_output(self, spec, n: int, names: list, what: str, scalar_ok: bool = True) -> list:
        if isinstance(spec, dict):
            unknown = [k for k in spec if k not in names]
            if unknown:
                raise ValueError(f"{what}: unknown output names {unknown}; the model's outputs are {names}")
            return [spec.get(k) for k in names]
        if isinstance(spec, (list, tuple)):
            if len(spec) != n:
                raise ValueError(f"{what}: got {len(spec)} entries for a model with {n} outputs ({names})")
            return list(spec)
        if not scalar_ok and n > 1:
            raise ValueError(f"{what} must be a list or dict for a model with {n} outputs, got {spec!r}")
        return [spec] * n

    @staticmethod
    def _resolve_loss(identifier):
        if identifier is None:
            return None
        return _module("losses").get(identifier)

    def _metric_specs(self, metrics, n: int, names: list) -> list[list]:
        if metrics is None:
            return [[] for _ in range(n)]
        if isinstance(metrics, dict):
            unknown = [k for k in metrics if k not in names]
            if unknown:
                raise ValueError(f"metrics: unknown output names {unknown}; the model's outputs are {names}")
            out = []
            for k in names:
                m = metrics.get(k, [])
                out.append(list(m) if isinstance(m, (list, tuple)) else [m])
            return out
        if isinstance(metrics, (str,)) or not isinstance(metrics, (list, tuple)):
            metrics = [metrics]
        if n > 1 and len(metrics) == n and all(isinstance(m, (list, tuple)) or m is None for m in metrics):
            return [list(m or []) for m in metrics]
        return [list(metrics) for _ in range(n)]

    def _capture_trainable(self) -> None:
        if not self.built:
            self._train_vars = None
            return
        self._train_vars = list(self.trainable_weights)
        self._train_ids = {id(v) for v in self._train_vars}
        self._all_vars = list(self.weights)
        _ACTIVE[0] = None

    def _activate(self) -> None:
        """Make requires_grad follow this model's compiled trainable set (cheap when it already does)."""
        active = _ACTIVE[0]
        if active is not None and active() is self:
            return
        ids = self._train_ids
        for v in self._all_vars:
            v.requires_grad = id(v) in ids
        _ACTIVE[0] = weakref.ref(self)

    def _check_compiled(self, what: str) -> _Compiled:
        if self._compiled is None:
            raise RuntimeError(f"You must call compile() before using {what} on model '{self.name}'")
        return self._compiled

    # ------------------------------------------------------------------ data
    def _n_outputs(self) -> int:
        return len(self.outputs) if getattr(self, "_is_graph", False) else 1

    def _x_arrays(self, x) -> list[np.ndarray]:
        if x is None:
            raise ValueError("x is None: pass the input data")
        if getattr(self, "_is_graph", False):
            flat = self._flat_inputs(x)
        elif isinstance(x, (list, tuple)) and x and isinstance(x[0], (np.ndarray, Tensor)) and len(x) == 1:
            flat = [x[0]]
        else:
            flat = [x]
        arrs = [_to_array(a, "x") for a in flat]
        if getattr(self, "_is_graph", False):
            for t, a in zip(self.inputs, arrs):
                if t.dtype == "float32" and a.dtype != np.float32:
                    a = a.astype(np.float32)
                want = t.shape
                if a.ndim != len(want) or any(w is not None and w != s for w, s in zip(want[1:], a.shape[1:])):
                    raise ValueError(
                        f"Input '{t._history[0].name}' of model '{self.name}' is incompatible: expected shape "
                        f"{want}, but received input data of shape {a.shape}"
                    )
            arrs = [
                a.astype(np.float32) if t.dtype == "float32" and a.dtype != np.float32 else a
                for t, a in zip(self.inputs, arrs)
            ]
        else:
            arrs = [a.astype(np.float32) if a.dtype != np.float32 else a for a in arrs]
        return arrs

    def _y_arrays(self, y) -> list[np.ndarray]:
        n = self._n_outputs()
        if y is None:
            raise ValueError("y is None: pass the target data")
        if isinstance(y, dict):
            names = self.output_names
            missing = [k for k in names if k not in y]
            if missing:
                raise ValueError(f"y is missing targets for outputs {missing}; the outputs are {names}")
            flat = [y[k] for k in names]
        elif n > 1:
            if not isinstance(y, (list, tuple)) or len(y) != n:
                raise ValueError(f"model '{self.name}' has {n} outputs; pass y as a list or dict of {n} arrays")
            flat = list(y)
        else:
            flat = (
                [y[0]]
                if isinstance(y, (list, tuple)) and len(y) == 1 and isinstance(y[0], (np.ndarray, Tensor))
                else [y]
            )
        return [_to_array(a, "y") for a in flat]

    @staticmethod
    def _check_cardinality(xs, ys, sw=None) -> int:
        sizes_x = [len(a) for a in xs]
        sizes_y = [len(a) for a in ys]
        sizes = sizes_x + sizes_y + ([len(sw)] if sw is not None else [])
        if len(set(sizes)) > 1:
            raise ValueError(
                f"Data cardinality is ambiguous: x sizes: {', '.join(map(str, sizes_x))}, y sizes: "
                f"{', '.join(map(str, sizes_y))}"
                + (f", sample_weight size: {len(sw)}" if sw is not None else "")
                + ". Make sure all arrays contain the same number of samples."
            )
        return sizes[0]

    @staticmethod
    def _sample_weights(ys, sample_weight, class_weight) -> np.ndarray | None:
        sw = None
        if sample_weight is not None:
            sw = np.asarray(
                sample_weight.numpy() if isinstance(sample_weight, Tensor) else sample_weight, dtype=np.float32
            )
            if sw.ndim == 2 and sw.shape[1] == 1:
                sw = sw[:, 0]
            if sw.ndim != 1:
                raise ValueError(f"sample_weight must be one weight per sample (shape (N,)), got shape {sw.shape}")
        if class_weight is not None:
            if not isinstance(class_weight, dict):
                raise TypeError(f"class_weight must be a dict {{class: weight}}, got {class_weight!r}")
            if len(ys) != 1:
                raise ValueError("class_weight is only supported for models with a single output")
            y = ys[0]
            labels = y.argmax(axis=-1) if y.ndim == 2 and y.shape[1] > 1 else np.rint(y.reshape(len(y), -1)[:, 0])
            cw = np.array([float(class_weight.get(int(c), 1.0)) for c in labels], dtype=np.float32)
            sw = cw if sw is None else sw * cw
        return None if sw is None else np.ascontiguousarray(sw, dtype=np.float32)

    # ------------------------------------------------------------------ steps
    def _forward(self, xb: list, training: bool) -> list:
        out = self(xb[0] if len(xb) == 1 else list(xb), training=training)
        return [out] if isinstance(out, Tensor) else flatten(out)

    def _extra_losses(self) -> list:
        """Regularization penalties, losses added in the forward pass just run, callable losses."""
        extra = []
        for v, reg in self._reg_terms:
            extra.append(reg(v))
        for lyr in _base._LOSS_LAYERS:
            extra.extend(lyr._call_losses)
        for fn in self._callable_loss_fns:
            val = fn()
            extra.append(val if isinstance(val, Tensor) else Tensor(np.asarray(val, np.float32)))
        return extra

    def _prepare_losses(self) -> None:
        layers = [self] + self._flat_layers()
        self._reg_terms = [(w, w.regularizer) for lyr in layers for w in lyr._own_weights if w.regularizer is not None]
        self._callable_loss_fns = [fn for lyr in layers for fn in lyr._callable_losses]

    def _compute_loss(self, yb: list, outs: list, swb):
        c = self._compiled
        total, parts = None, []
        sw = None if swb is None else Tensor(swb)
        for i, (fn, w) in enumerate(zip(c.losses, c.loss_weights)):
            if fn is None:
                parts.append(None)
                continue
            val = fn(Tensor(yb[i]), outs[i], sample_weight=sw)
            parts.append(val)
            term = val if w == 1.0 else val * w
            total = term if total is None else total + term
        for e in self._extra_losses():
            e = e if e.ndim == 0 else e.sum()
            total = e if total is None else total + e
        if total is None:
            raise ValueError(f"model '{self.name}' has no loss to optimise: pass loss= to compile() or use add_loss")
        return total, parts

    def _resolve_metrics(self, yb: list, outs: list) -> None:
        c = self._compiled
        if c.metrics is not None:
            return
        metrics_mod = _module("metrics")
        resolved = []
        for weighted, specs in ((False, c.metric_specs), (True, c.weighted_specs)):
            for i, mlist in enumerate(specs):
                for spec in mlist:
                    if isinstance(spec, str) and spec.lower() in ("accuracy", "acc"):
                        m = metrics_mod.resolve_accuracy(
                            c.losses[i], tuple(outs[i].shape), tuple(yb[i].shape), name=spec
                        )
                    else:
                        m = metrics_mod.get(spec)
                        if m is None:
                            continue
                        if isinstance(spec, str):
                            m.name = spec  # Keras 3: a metric given by a string logs under that string
                    resolved.append((i, m, weighted))
        multi = self._n_outputs() > 1
        names = self.output_names
        self._metric_names = [
            (f"{names[i]}_" if multi else "")
            + ("weighted_" if w and any(m.name == m2.name for j, m2, w2 in resolved if not w2 and j == i) else "")
            + m.name
            for i, m, w in resolved
        ]
        c.metrics = resolved

    def _update_metrics(self, yb: list, outs: list, swb) -> None:
        for i, m, weighted in self._compiled.metrics:
            m.update_state(yb[i], outs[i].numpy(), sample_weight=swb if weighted else None)

    def _reset_metrics(self) -> None:
        c = self._compiled
        if c is not None and c.metrics:
            for _, m, _ in c.metrics:
                m.reset_state()

    def reset_metrics(self) -> None:
        """Reset the state of the compiled metrics."""
        self._reset_metrics()

    @property
    def metrics_names(self) -> list[str]:
        names = ["loss"]
        if self._n_outputs() > 1:
            names += [f"{n}_loss" for n in self.output_names]
        if self._compiled is not None and self._compiled.metrics is not None:
            names += list(self._metric_names)
        return names

    def _ensure_ready(self, xb: list) -> None:
        if not self.built:
            self(Tensor(xb[0][:1]) if len(xb) == 1 else [Tensor(a[:1]) for a in xb])
        if self._train_vars is None:
            self._capture_trainable()
        if not hasattr(self, "_reg_terms") or self._prepared_for is not self._compiled:
            self._prepare_losses()
            self._prepared_for = self._compiled

    def _train_step(self, xb: list, yb: list, swb) -> tuple:
        self._activate()
        outs = self._forward(xb, training=True)
        total, parts = self._compute_loss(yb, outs, swb)
        total.backward()
        pairs = [(v.grad, v) for v in self._train_vars if v.grad is not None]
        if pairs:
            self._compiled.optimizer.apply_gradients(pairs)
        for v in self._train_vars:
            v.grad = None
        return total, parts, outs

    def _test_step(self, xb: list, yb: list, swb) -> tuple:
        with no_grad():
            outs = self._forward(xb, training=False)
            total, parts = self._compute_loss(yb, outs, swb)
        return total, parts, outs

    # ------------------------------------------------------------------ logs
    class _Tracker:
        __slots__ = ("total", "count", "parts")

        def __init__(self, n: int):
            self.total, self.count, self.parts = 0.0, 0, [0.0] * n

        def add(self, total, parts, bs: int) -> None:
            self.total += float(total.item()) * bs
            for j, p in enumerate(parts):
                if p is not None:
                    self.parts[j] += float(p.item()) * bs
            self.count += bs

    def _logs(self, tr: _Tracker, prefix: str = "") -> dict:
        logs = {prefix + "loss": tr.total / max(tr.count, 1)}
        if self._n_outputs() > 1:
            for name, p in zip(self.output_names, tr.parts):
                logs[f"{prefix}{name}_loss"] = p / max(tr.count, 1)
        if self._compiled.metrics:
            for name, (_, m, _) in zip(self._metric_names, self._compiled.metrics):
                r = m.result()
                # one value per threshold (Precision(thresholds=[...])) stays an array, as in Keras
                logs[prefix + name] = float(r) if np.ndim(r) == 0 else np.asarray(r)
        return logs

    # ------------------------------------------------------------------ fit
    def fit(
        self,
        x=None,
        y=None,
        batch_size: int | None = None,
        epochs: int = 1,
        verbose="auto",
        callbacks=None,
        validation_split: float = 0.0,
        validation_data=None,
        shuffle: bool = True,
        class_weight=None,
        sample_weight=None,
        initial_epoch: int = 0,
        steps_per_epoch=None,
        validation_steps=None,
        validation_batch_size=None,
        validation_freq: int = 1,
        **kwargs,
    ):
        """Train for `epochs` epochs; returns a History (``history.history['loss']``, ...).

        Args:
            x: an array / Tensor, or a list or dict of them for several inputs.
            y: the targets (a list or dict for several outputs).
            batch_size: samples per step (32 by default).
            verbose: 0 silent, 1 progress bar ('auto'), 2 one line per epoch.
            validation_split: the last fraction of the data (taken before shuffling) is held out.
            validation_data: (x_val, y_val) or (x_val, y_val, sample_weight_val), or a source of
                batches as x.
            steps_per_epoch: with a source of batches, the steps of one epoch (by default its
                length; needed for a generator without one).
            validation_steps: with a source of validation batches, how many to evaluate (by
                default its length).

        x may also be a source of (x, y) or (x, y, sample_weight) batches, as Keras 3 accepts: a
        ``PyDataset`` / ``keras.utils.Sequence``-like object (``__len__`` and ``__getitem__``,
        optionally ``on_epoch_end``, such as ``ImageDataGenerator.flow``) or a generator.
            shuffle: reshuffle the training data every epoch (reproducible from
                fastnn.utils.set_random_seed / fastnn.random.seed).
            class_weight: {class: weight}, multiplied into the sample weights.
        """
        if "nb_epoch" in kwargs:
            warnings.warn("fit(nb_epoch=) is the Keras 1 spelling; use epochs=", DeprecationWarning, stacklevel=2)
            epochs = kwargs.pop("nb_epoch")
        if kwargs:
            raise TypeError(f"fit() got unexpected keyword arguments {sorted(kwargs)}")
        self._check_compiled("fit")
        batch_size = self._check_batch_size(batch_size)
        if isinstance(epochs, bool) or not isinstance(epochs, (int, np.integer)) or epochs < 0:
            raise ValueError(f"epochs must be a non-negative integer, got epochs={epochs!r}")
        if not 0.0 <= float(validation_split) < 1.0:
            raise ValueError(f"validation_split must be in [0, 1), got validation_split={validation_split!r}")
        verbose = self._verbose(verbose)
        if _is_batch_source(x):
            if y is not None or sample_weight is not None:
                raise ValueError(
                    f"fit got a {type(x).__name__} of batches as x: it yields (x, y) or (x, y, sample_weight) "
                    "itself, so pass y=None and sample_weight=None"
                )
            return self._fit_batches(x, epochs, verbose, callbacks, validation_data, class_weight, initial_epoch,
                                     steps_per_epoch, validation_steps, validation_freq)
        xs, ys = self._x_arrays(x), self._y_arrays(y)
        sw = self._sample_weights(ys, sample_weight, class_weight)
        n = self._check_cardinality(xs, ys, sw)
        val = None
        if validation_data is not None:
            val = self._unpack_validation(validation_data)
        elif validation_split:
            split = int(math.floor(n * (1.0 - float(validation_split))))
            if split == 0 or split == n:
                raise ValueError(
                    f"validation_split={validation_split} leaves {split} training and {n - split} validation "
                    f"samples out of {n}; use a different split"
                )
            val = ([a[split:] for a in xs], [a[split:] for a in ys], None if sw is None else sw[split:])
            xs, ys = [a[:split] for a in xs], [a[:split] for a in ys]
            sw = None if sw is None else sw[:split]
            n = split
        if n == 0:
            raise ValueError("fit got no training samples")
        steps = math.ceil(n / batch_size)
        cb_mod = _module("callbacks")
        from .progbar import ProgbarLogger

        progbar = ProgbarLogger() if verbose else None
        cbs = cb_mod.CallbackList(
            callbacks,
            add_history=True,
            add_progbar=bool(verbose),
            model=self,
            progbar=progbar,
            verbose=verbose,
            epochs=epochs,
            steps=steps,
        )
        batch_cbs = [cb for cb in cbs.callbacks if cb is not progbar and _overrides(cb, cb_mod.Callback)]
        arrays = xs + ys + [sw]
        batcher = _Batcher(arrays, batch_size)
        nx, ny = len(xs), len(ys)
        self._ensure_ready([a[:1] for a in xs])
        key, off = _random.default_generator.take(1)
        rng = np.random.default_rng([key, off])
        self.stop_training = False
        cbs.on_train_begin()
        logs: dict = {}
        epoch = initial_epoch
        for epoch in range(initial_epoch, epochs):
            self._reset_metrics()
            cbs.on_epoch_begin(epoch)
            tr = self._Tracker(ny)
            perm = rng.permutation(n) if shuffle else None
            for step in range(steps):
                lo, hi = step * batch_size, min(n, (step + 1) * batch_size)
                batch = batcher.take(perm[lo:hi]) if perm is not None else batcher.slice(lo, hi)
                xb, yb, swb = batch[:nx], batch[nx : nx + ny], batch[-1]
                if batch_cbs:
                    cbs.on_train_batch_begin(step)
                total, parts, outs = self._train_step(xb, yb, swb)
                tr.add(total, parts, hi - lo)
                self._resolve_metrics(yb, outs)
                self._update_metrics(yb, outs, swb)
                if batch_cbs or (progbar is not None and progbar.wants_update(step)):
                    logs = self._logs(tr)
                    cbs.on_train_batch_end(step, logs)
                if self.stop_training:
                    break
            logs = self._logs(tr)
            if val is not None and (epoch + 1) % validation_freq == 0:
                vlogs = self._evaluate_arrays(*val, batch_size=validation_batch_size or batch_size)
                logs.update({"val_" + k: v for k, v in vlogs.items()})
            cbs.on_epoch_end(epoch, logs)
            if self.stop_training:
                break
        cbs.on_train_end(logs)
        history = cbs.history
        self.history = history
        return history

    # ------------------------------------------------------------------ sources of batches
    def _batch_arrays(self, batch, class_weight=None):
        """(xs, ys, sw) of one (x, y) or (x, y, sample_weight) batch from a dataset or generator."""
        if not isinstance(batch, (tuple, list)) or len(batch) not in (2, 3):
            raise ValueError(
                "a source of batches must yield (x, y) or (x, y, sample_weight) tuples, got "
                f"{type(batch).__name__}" + (f" of length {len(batch)}" if isinstance(batch, (tuple, list)) else "")
            )
        xs, ys = self._x_arrays(batch[0]), self._y_arrays(batch[1])
        sw = self._sample_weights(ys, batch[2] if len(batch) == 3 else None, class_weight)
        self._check_cardinality(xs, ys, sw)
        return xs, ys, sw

    def _fit_batches(self, data, epochs, verbose, callbacks, validation_data, class_weight, initial_epoch,
                     steps_per_epoch, validation_steps, validation_freq):
        """fit on a source of batches: a PyDataset / Sequence-like object or a generator."""
        source = _BatchSource(data, steps_per_epoch, "fit")
        if validation_data is not None and not _is_batch_source(validation_data):
            val_arrays = self._unpack_validation(validation_data)
        else:
            val_arrays = None
        cb_mod = _module("callbacks")
        from .progbar import ProgbarLogger

        progbar = ProgbarLogger() if verbose else None
        cbs = cb_mod.CallbackList(callbacks, add_history=True, add_progbar=bool(verbose), model=self,
                                  progbar=progbar, verbose=verbose, epochs=epochs, steps=source.steps)
        batch_cbs = [cb for cb in cbs.callbacks if cb is not progbar and _overrides(cb, cb_mod.Callback)]
        self.stop_training = False
        cbs.on_train_begin()
        logs: dict = {}
        for epoch in range(initial_epoch, epochs):
            self._reset_metrics()
            cbs.on_epoch_begin(epoch)
            tr = None
            for step, batch in enumerate(source.epoch()):
                xs, ys, sw = self._batch_arrays(batch, class_weight)
                if tr is None:
                    self._ensure_ready([a[:1] for a in xs])
                    tr = self._Tracker(len(ys))
                if batch_cbs:
                    cbs.on_train_batch_begin(step)
                total, parts, outs = self._train_step(xs, ys, sw)
                tr.add(total, parts, len(xs[0]))
                self._resolve_metrics(ys, outs)
                self._update_metrics(ys, outs, sw)
                if batch_cbs or (progbar is not None and progbar.wants_update(step)):
                    logs = self._logs(tr)
                    cbs.on_train_batch_end(step, logs)
                if self.stop_training:
                    break
            if tr is None:
                raise ValueError(f"fit: the {type(data).__name__} yielded no batches in epoch {epoch + 1}")
            logs = self._logs(tr)
            if validation_data is not None and (epoch + 1) % validation_freq == 0:
                if val_arrays is not None:
                    vlogs = self._evaluate_arrays(*val_arrays, batch_size=32)
                else:
                    vlogs = self._evaluate_batches(validation_data, validation_steps)
                logs.update({"val_" + k: v for k, v in vlogs.items()})
            cbs.on_epoch_end(epoch, logs)
            if self.stop_training:
                break
        cbs.on_train_end(logs)
        self.history = cbs.history
        return cbs.history

    def _evaluate_batches(self, data, steps, cbs=None) -> dict:
        source = _BatchSource(data, steps, "evaluate")
        self._reset_metrics()
        tr = None
        for step, batch in enumerate(source.epoch()):
            xs, ys, sw = self._batch_arrays(batch)
            if tr is None:
                self._ensure_ready([a[:1] for a in xs])
                tr = self._Tracker(len(ys))
            if cbs is not None:
                cbs.on_test_batch_begin(step)
            total, parts, outs = self._test_step(xs, ys, sw)
            tr.add(total, parts, len(xs[0]))
            self._resolve_metrics(ys, outs)
            self._update_metrics(ys, outs, sw)
            if cbs is not None:
                cbs.on_test_batch_end(step, self._logs(tr))
        if tr is None:
            raise ValueError(f"evaluate: the {type(data).__name__} yielded no batches")
        return self._logs(tr)

    def _unpack_validation(self, data):
        if not isinstance(data, (list, tuple)) or len(data) not in (2, 3):
            raise ValueError(
                "validation_data must be a tuple (x_val, y_val) or (x_val, y_val, sample_weight_val), "
                f"got {type(data).__name__} of length {len(data) if hasattr(data, '__len__') else '?'}"
            )
        xv, yv = self._x_arrays(data[0]), self._y_arrays(data[1])
        swv = self._sample_weights(yv, data[2], None) if len(data) == 3 else None
        self._check_cardinality(xv, yv, swv)
        return xv, yv, swv

    @staticmethod
    def _check_batch_size(batch_size) -> int:
        if batch_size is None:
            return 32
        if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size <= 0:
            raise ValueError(f"batch_size must be a positive integer, got batch_size={batch_size!r}")
        return int(batch_size)

    @staticmethod
    def _verbose(verbose) -> int:
        if verbose == "auto":
            return 1
        if verbose not in (0, 1, 2) or isinstance(verbose, bool):
            raise ValueError(f"verbose must be 0, 1, 2 or 'auto', got verbose={verbose!r}")
        return int(verbose)

    def _evaluate_arrays(self, xs, ys, sw, batch_size: int, cbs=None) -> dict:
        n = len(xs[0])
        self._ensure_ready([a[:1] for a in xs])
        self._reset_metrics()
        tr = self._Tracker(len(ys))
        for step in range(math.ceil(n / batch_size)):
            lo, hi = step * batch_size, min(n, (step + 1) * batch_size)
            xb, yb = [a[lo:hi] for a in xs], [a[lo:hi] for a in ys]
            swb = None if sw is None else sw[lo:hi]
            if cbs is not None:
                cbs.on_test_batch_begin(step)
            total, parts, outs = self._test_step(xb, yb, swb)
            tr.add(total, parts, hi - lo)
            self._resolve_metrics(yb, outs)
            self._update_metrics(yb, outs, swb)
            if cbs is not None:
                cbs.on_test_batch_end(step, self._logs(tr))
        return self._logs(tr)

    # ------------------------------------------------------------------ evaluate / predict
    def evaluate(
        self,
        x=None,
        y=None,
        batch_size: int | None = None,
        verbose="auto",
        sample_weight=None,
        steps=None,
        callbacks=None,
        return_dict: bool = False,
        **kwargs,
    ):
        """The loss (and metrics) on the data: a float, a list [loss, metrics...] or, with
        return_dict=True, a dict."""
        if kwargs:
            raise TypeError(f"evaluate() got unexpected keyword arguments {sorted(kwargs)}")
        self._check_compiled("evaluate")
        batch_size = self._check_batch_size(batch_size)
        verbose = self._verbose(verbose)
        if _is_batch_source(x):
            if y is not None:
                raise ValueError(f"evaluate got a {type(x).__name__} of batches as x: pass y=None")
            cb_mod = _module("callbacks")
            cbs = cb_mod.CallbackList(callbacks, model=self, verbose=0, epochs=1, steps=steps)
            cbs.on_test_begin()
            logs = self._evaluate_batches(x, steps, cbs)
            cbs.on_test_end(logs)
            if return_dict:
                return logs
            vals = list(logs.values())
            return vals[0] if len(vals) == 1 else vals
        xs, ys = self._x_arrays(x), self._y_arrays(y)
        sw = self._sample_weights(ys, sample_weight, None)
        n = self._check_cardinality(xs, ys, sw)
        cb_mod = _module("callbacks")
        from .progbar import ProgbarLogger

        steps_n = math.ceil(n / batch_size)
        progbar = ProgbarLogger(mode="test") if verbose else None
        cbs = cb_mod.CallbackList(
            callbacks, add_progbar=bool(verbose), progbar=progbar, model=self, verbose=verbose, epochs=1, steps=steps_n
        )
        cbs.on_test_begin()
        logs = self._evaluate_arrays(xs, ys, sw, batch_size, cbs)
        cbs.on_test_end(logs)
        if return_dict:
            return logs
        vals = list(logs.values())
        return vals[0] if len(vals) == 1 else vals

    def predict(self, x, batch_size: int | None = None, verbose="auto", steps=None, callbacks=None):
        """Outputs for `x` as NumPy arrays (a list for several outputs), computed in batches."""
        batch_size = self._check_batch_size(batch_size)
        verbose = self._verbose(verbose)
        xs = self._x_arrays(x)
        n = self._check_cardinality(xs, [])
        if not self.built:
            self(Tensor(xs[0][:1]) if len(xs) == 1 else [Tensor(a[:1]) for a in xs])
        steps_n = math.ceil(n / batch_size)
        progbar = None
        if verbose:
            from .progbar import Progbar

            progbar = Progbar(steps_n, verbose=verbose)
        chunks: list[list] = []
        with no_grad():
            for step in range(steps_n):
                lo, hi = step * batch_size, min(n, (step + 1) * batch_size)
                batch = [a[lo:hi] for a in xs]
                direct = self._direct_inference(batch)
                if direct is not None:
                    chunks.append(direct)
                else:
                    chunks.append([o.numpy() for o in self._forward(batch, training=False)])
                if progbar is not None:
                    progbar.update(step + 1, finalize=step + 1 == steps_n)
        if not chunks:
            raise ValueError("predict got no samples")
        res = [
            np.concatenate([c[j] for c in chunks], axis=0) if len(chunks) > 1 else np.array(chunks[0][j])
            for j in range(len(chunks[0]))
        ]
        return self._pack_result(res)

    def _pack_result(self, res: list):
        if getattr(self, "_is_graph", False) and not isinstance(self._output_struct, _layers_mod.core.KerasTensor):
            from ..symbolic import pack_like

            return pack_like(self._output_struct, res)
        return res[0] if len(res) == 1 else res

    def _direct_inference(self, xs: list) -> list | None:
        """Models with a direct inference path (Sequential) return the outputs of raw input
        arrays here; None sends the batch through the general forward."""
        return None

    def predict_on_batch(self, x):
        """Outputs for one batch, as NumPy arrays."""
        if type(x) is np.ndarray:
            direct = self._direct_inference([x])
            if direct is not None:
                return direct[0]
        with no_grad():
            if isinstance(x, np.ndarray) and x.dtype == np.float32:
                out = self(Tensor(x), training=False)
                if isinstance(out, Tensor):
                    return out.numpy()
            else:
                out = self(x if isinstance(x, (Tensor, list, dict, tuple)) else _to_array(x, "x"), training=False)
        if isinstance(out, Tensor):
            return out.numpy()
        res = [o.numpy() for o in flatten(out)]
        return self._pack_result(res)

    def train_on_batch(self, x, y=None, sample_weight=None, class_weight=None, return_dict: bool = False):
        """One training step on one batch; returns this batch's loss (and metrics), as Keras 2."""
        self._check_compiled("train_on_batch")
        xs, ys = self._x_arrays(x), self._y_arrays(y)
        sw = self._sample_weights(ys, sample_weight, class_weight)
        self._check_cardinality(xs, ys, sw)
        self._ensure_ready([a[:1] for a in xs])
        self._reset_metrics()
        total, parts, outs = self._train_step(xs, ys, sw)
        tr = self._Tracker(len(ys))
        tr.add(total, parts, len(xs[0]))
        self._resolve_metrics(ys, outs)
        self._update_metrics(ys, outs, sw)
        return self._batch_result(tr, return_dict)

    def test_on_batch(self, x, y=None, sample_weight=None, return_dict: bool = False):
        """The loss (and metrics) on one batch, without training."""
        self._check_compiled("test_on_batch")
        xs, ys = self._x_arrays(x), self._y_arrays(y)
        sw = self._sample_weights(ys, sample_weight, None)
        self._check_cardinality(xs, ys, sw)
        self._ensure_ready([a[:1] for a in xs])
        self._reset_metrics()
        total, parts, outs = self._test_step(xs, ys, sw)
        tr = self._Tracker(len(ys))
        tr.add(total, parts, len(xs[0]))
        self._resolve_metrics(ys, outs)
        self._update_metrics(ys, outs, sw)
        return self._batch_result(tr, return_dict)

    def _batch_result(self, tr, return_dict: bool):
        logs = self._logs(tr)
        if return_dict:
            return logs
        vals = list(logs.values())
        return vals[0] if len(vals) == 1 else vals

    # ------------------------------------------------------------------ Keras 2 leftovers
    def predict_classes(self, x, batch_size: int = 32, verbose: int = 0) -> np.ndarray:
        """Class predictions (removed in Keras 2.6, kept here): argmax for several output units,
        (p > 0.5) as int32 of shape (N, 1) for one sigmoid unit."""
        warnings.warn(
            "predict_classes() was removed from Keras; use np.argmax(model.predict(x), axis=-1) for softmax "
            "outputs or (model.predict(x) > 0.5).astype('int32') for a sigmoid output",
            DeprecationWarning,
            stacklevel=2,
        )
        proba = self.predict(x, batch_size=batch_size, verbose=verbose)
        if isinstance(proba, (list, dict)):
            raise ValueError("predict_classes needs a model with a single output")
        if proba.shape[-1] > 1:
            return proba.argmax(axis=-1)
        return (proba > 0.5).astype("int32")

    def predict_proba(self, x, batch_size: int = 32, verbose: int = 0) -> np.ndarray:
        """Class probabilities (removed in Keras 2.6, kept here). For one sigmoid unit, two columns
        (1 - p, p), as scikit-learn's predict_proba, so tools such as LIME work."""
        warnings.warn(
            "predict_proba() was removed from Keras; use model.predict(x) (for one sigmoid unit, "
            "np.hstack([1 - p, p]))",
            DeprecationWarning,
            stacklevel=2,
        )
        proba = self.predict(x, batch_size=batch_size, verbose=verbose)
        if isinstance(proba, (list, dict)):
            raise ValueError("predict_proba needs a model with a single output")
        if proba.ndim == 2 and proba.shape[1] == 1:
            return np.hstack([1.0 - proba, proba])
        return proba


def _overrides(cb, base: type) -> bool:
    """Whether a callback overrides a per-batch hook (then it needs logs every batch)."""
    t = type(cb)
    for name in ("on_train_batch_begin", "on_train_batch_end", "on_batch_begin", "on_batch_end"):
        if getattr(t, name, None) is not getattr(base, name, None):
            return True
    return False



def _is_batch_source(x) -> bool:
    """Whether x is a source of batches (a PyDataset / Sequence-like object or an iterator)
    rather than arrays."""
    if x is None or isinstance(x, (np.ndarray, Tensor, list, tuple, dict, str, bytes)):
        return False
    if hasattr(x, "__getitem__") and hasattr(x, "__len__"):
        return not hasattr(x, "shape") and not hasattr(x, "dtype")  # array-likes are data, not batches
    return hasattr(x, "__next__")


class _BatchSource:
    """One epoch at a time of a PyDataset / Sequence-like object (indexed; its on_epoch_end is
    called when a pass over it ends) or of an iterator (drawn from; an epoch ends early when it
    runs out)."""

    def __init__(self, data, steps, what: str):
        self.data = data
        self.indexed = hasattr(data, "__getitem__") and hasattr(data, "__len__")
        if steps is not None and (isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or steps <= 0):
            raise ValueError(f"{what}: steps must be a positive integer, got {steps!r}")
        if steps is None:
            if not self.indexed:
                raise ValueError(
                    f"{what}: a generator has no length; pass steps_per_epoch= (validation_steps= for validation "
                    "data, steps= to evaluate)"
                )
            steps = len(data)
        self.steps = int(steps)
        self.pos = 0
        self.it = None if self.indexed else iter(data)

    def epoch(self):
        n = len(self.data) if self.indexed else None
        for _ in range(self.steps):
            if self.indexed:
                if n == 0:
                    return
                batch = self.data[self.pos]
                self.pos += 1
                if self.pos == n:
                    self.pos = 0
                    end = getattr(self.data, "on_epoch_end", None)
                    if callable(end):
                        end()
            else:
                try:
                    batch = next(self.it)
                except StopIteration:
                    return
            yield batch
