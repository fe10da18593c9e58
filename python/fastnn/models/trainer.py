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

Custom training, as Keras 3: a subclass overrides ``train_step(data)`` (and ``test_step``,
``predict_step``); fit / evaluate / predict and the ``*_on_batch`` calls then hand it each batch
as ``x``, ``(x, y)`` or ``(x, y, sample_weight)`` of Tensors (``fastnn.utils.
unpack_x_y_sample_weight``) and show the dict of logs it returns. Inside a step:
``zero_grad()``, ``compute_loss(...)``, ``loss.backward()``, ``self.optimizer.apply(grads,
variables)``, ``compute_metrics(...)`` and ``self.metrics`` (reset at each epoch and evaluate
start). A subclass that overrides none of them runs the flat internal step (``_train_step``),
which computes the same numbers without building per-batch structures.
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
from ..functional.losses import LabelRangeError, find_bad_label
from ..layers import base as _base
from ..symbolic import flatten
from ..tensor import Tensor
from ..utils import unpack_x_y_sample_weight
from . import step_data as _sd

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
        self.loss_specs: list = []  # the losses as passed to compile, per output (for messages)
        self.loss_weights: list[float] = []
        self.metric_specs: list[list] = []
        self.weighted_specs: list[list] = []
        self.metrics: list | None = None  # (output index, metric, weighted) once resolved


class _CompileMetrics:
    """The compiled metrics as one metric, as Keras 3's CompileMetrics: update_state(y, y_pred,
    sample_weight) updates each (per output, weighted or not) and result() is a dict
    {logged name: value}. The metrics are resolved ('accuracy' -> which accuracy) from the
    shapes of the first batch."""

    name = "compile_metrics"

    def __init__(self, model: Trainer):
        self._owner = model  # a plain reference, so that a deep copy of the model points at the copy

    def update_state(self, y, y_pred, sample_weight=None) -> None:
        model = self._owner
        if y is None:
            raise ValueError(f"the compiled metrics of model '{model.name}' need targets, got y=None")
        ys = model._y_arrays(y)
        outs = model._pred_list(y_pred)
        if len(outs) != len(ys):
            raise ValueError(f"compute_metrics: got {len(ys)} targets for {len(outs)} predictions")
        sw = None if sample_weight is None else model._sample_weights([], sample_weight, None)
        model._resolve_metrics(ys, outs)
        model._update_metrics(ys, outs, sw)

    def result(self) -> dict:
        model = self._owner
        c = model._compiled
        if c is None or c.metrics is None:
            return {}
        out = {}
        for name, (_, m, _) in zip(model._metric_names, c.metrics):
            r = m.result()
            out[name] = float(r) if np.ndim(r) == 0 else np.asarray(r)
        return out

    def reset_state(self) -> None:
        self._owner._reset_metrics()

    def __repr__(self) -> str:
        return f"<CompileMetrics {self.result()}>"


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
        self._loss_tracker = None
        self._compile_metrics = None
        self._output_loss_trackers: list = []

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
        c.loss_specs = self._per_output(loss, n_out, names, "loss")
        c.losses = [self._resolve_loss(lo) for lo in c.loss_specs]
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
        metrics_mod = _module("metrics")
        self._loss_tracker = metrics_mod.Mean(name="loss")
        has_metrics = any(c.metric_specs) or any(c.weighted_specs)
        self._compile_metrics = _CompileMetrics(self) if has_metrics else None
        self._output_loss_trackers = (
            [metrics_mod.Mean(name=f"{nm}_loss") for nm in names] if n_out > 1 else []
        )
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

    # ------------------------------------------------------------------ integer labels
    def _sparse_label_user(self, i: int) -> str | None:
        """How the user named the first compiled loss or metric of output `i` that takes integer
        class labels and rejects those out of range (None when there is none)."""
        c = self._compiled
        losses_mod, metrics_mod = _module("losses"), _module("metrics")
        fn = c.losses[i]
        if isinstance(fn, losses_mod.SparseCategoricalCrossentropy) or (
            isinstance(fn, losses_mod.LossFunctionWrapper) and fn.fn is losses_mod.sparse_categorical_crossentropy
        ):
            return _loss_as_written(c.loss_specs[i])
        if fn is not None and (type(fn).__module__ != losses_mod.__name__ or (
                isinstance(fn, losses_mod.LossFunctionWrapper) and fn.fn not in losses_mod._FUNCTIONS.values())):
            return None  # a loss of the user's may take these labels too: the step names whichever fails
        for specs in (c.metric_specs, c.weighted_specs):
            for spec in specs[i] if i < len(specs) else []:
                if (isinstance(spec, str) and spec in _SPARSE_LABEL_METRICS) or isinstance(
                    spec, (metrics_mod.SparseTopKCategoricalAccuracy, metrics_mod.SparseCategoricalCrossentropy)
                ):
                    return f"the metric {spec if isinstance(spec, str) else spec.name!r}"
        return None

    def _check_labels(self, what: str, ys: list, data: str = "y") -> None:
        """Before fit / evaluate run on arrays: one vectorised pass over the targets of each output
        with a sparse (integer label) loss or metric, so that a label outside [0, classes) is reported
        with its index in the user's data, not in a shuffled batch. Needs the number of classes,
        the last axis of the output (outputs of unknown size are checked batch by batch)."""
        if not getattr(self, "_is_graph", False):
            return
        for i, y in enumerate(ys):
            c = self.outputs[i].shape[-1] if self.outputs[i].shape else None
            if c is None or not y.size or y.dtype.kind not in "iuf":
                continue
            user = self._sparse_label_user(i)
            if user is None:
                continue
            labels = y[..., 0] if y.ndim > 1 and y.shape[-1] == 1 else y
            found = find_bad_label(labels, c)  # NaN is left to the loss's integer check
            if found is None:
                continue
            index, label, count = found
            label = int(label) if float(label).is_integer() else float(label)
            raise ValueError(self._label_message(what, label, c, user, self._label_loc(i, data, index), count))

    def _label_loc(self, i: int, data: str, index: tuple, batch: str = "") -> str:
        """Where a label is: 'index 1234 of y', 'y[1234, 5] (sample 1234)', with the output's name for
        a model of several outputs and the batch for a source of batches."""
        name = data + (f" of output '{self.output_names[i]}'" if self._n_outputs() > 1 else "")
        if len(index) == 1:
            return f"index {index[0]} of {name}{batch}"
        return f"{name}[{', '.join(map(str, index))}] (sample {index[0]}){batch}"

    def _label_message(self, what: str, label, c: int, user: str, loc: str, count: int) -> str:
        if self._n_outputs() > 1:
            out = "that output"
        elif getattr(self, "_is_graph", False):
            out = f"the model's output '{self.output_names[0]}'"
        else:
            out = "the model's output"
        more = f" ({count} labels are out of range; this is the first)" if count > 1 else ""
        return (f"{what}: label {label} at {loc} is out of range for {user}: {out} has {c} classes, so labels "
                f"must be integers in [0, {c}){more}")

    def _label_error(self, e: LabelRangeError, what: str, yb: list, sample=None, data: str = "y",
                     batch: str = "") -> ValueError:
        """The ValueError for a label error raised inside a step: `sample` maps the index within the
        batch to the index in the user's data (None: report the index within the batch)."""
        i = getattr(e, "output", 0)
        index = tuple(e.index)
        y = yb[i] if i < len(yb) else None
        if y is not None and y.ndim > 1 and y.shape[-1] == 1 and len(index) == y.ndim:
            index = index[:-1]
        if sample is not None and index:
            index = (int(sample(index[0])),) + index[1:]
        user = getattr(e, "user", None) or "the loss"
        return ValueError(self._label_message(what, e.label, e.num_classes, user,
                                              self._label_loc(i, data, index or (0,), batch), e.count))

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
            try:
                val = fn(Tensor(yb[i]), outs[i], sample_weight=sw)
            except LabelRangeError as e:
                e.output, e.user = i, _loss_as_written(c.loss_specs[i] if c.loss_specs else fn)
                raise
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
            try:
                m.update_state(yb[i], outs[i].numpy(), sample_weight=swb if weighted else None)
            except LabelRangeError as e:
                e.output, e.user = i, f"the metric {m.name!r}"
                raise

    def _reset_metrics(self) -> None:
        c = self._compiled
        if c is not None and c.metrics:
            for _, m, _ in c.metrics:
                m.reset_state()

    def reset_metrics(self) -> None:
        """Reset every metric in ``metrics`` (fit does it at each epoch start, evaluate at its start)."""
        for m in self.metrics:
            m.reset_state()

    @property
    def metrics(self) -> list:
        """The metrics fit and evaluate reset and report, as Keras 3: after compile, the loss
        tracker (a Mean named 'loss'), the compiled metrics (one container named
        'compile_metrics' whose result is a dict), the per-output loss trackers of a model with
        several outputs; then the Metric objects assigned as attributes of a subclass (directly
        or in a list), in assignment order. A subclass may override this property."""
        out = []
        if self._loss_tracker is not None:
            out.append(self._loss_tracker)
        if self._compile_metrics is not None:
            out.append(self._compile_metrics)
        out.extend(self._output_loss_trackers)
        metric_cls = _module("metrics").Metric
        own = {id(m) for m in out}
        for key, value in self.__dict__.items():
            if key.startswith("_"):
                continue
            vals = value if isinstance(value, (list, tuple)) else (value,)
            for m in vals:
                if isinstance(m, metric_cls) and id(m) not in own:
                    own.add(id(m))
                    out.append(m)
        return out

    def get_metrics_result(self) -> dict:
        """The current result of every metric in ``metrics``: {name: float} (a dict result,
        such as compile_metrics's, is merged in)."""
        res = {}
        for m in self.metrics:
            r = m.result()
            if isinstance(r, dict):
                res.update(r)
            else:
                res[m.name] = r
        return _sd.step_logs(res, "get_metrics_result")

    def _metrics_or_logs(self, logs: dict) -> dict:
        """Epoch logs: the metrics' results when a step's logs have the same keys, else the
        last step's logs (custom steps may report anything), as Keras."""
        metric_logs = self.get_metrics_result()
        if set(logs) == set(metric_logs):
            return metric_logs
        return logs

    # ------------------------------------------------------------------ custom-step API
    def zero_grad(self) -> None:
        """Clear the gradients of every weight (``v.grad = None``), as torch's
        ``Module.zero_grad``: backward accumulates into ``.grad``."""
        for v in self.weights:
            v.grad = None

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training: bool = True) -> Tensor:
        """The total loss of a batch: the compiled loss(es) of ``y`` and ``y_pred`` (weighted by
        ``loss_weights`` and ``sample_weight``) plus the regularization penalties and the losses
        added with ``add_loss`` in the last forward pass. A scalar Tensor to call ``backward`` on.

        Args:
            x: the inputs (unused here; a subclass's override may use them).
            y: the targets (a list or dict for several outputs); may be None without a compiled loss.
            y_pred: the model's outputs for x.
            sample_weight: one weight per sample, or None.
        """
        c = self._check_compiled("compute_loss")
        if getattr(self, "_prepared_for", None) is not c:
            self._prepare_losses()
            self._prepared_for = c
        n = self._n_outputs()
        if any(fn is not None for fn in c.losses):
            if y is None:
                raise ValueError(
                    f"compute_loss: model '{self.name}' has a compiled loss, which needs targets, but got y=None"
                )
            if y_pred is None:
                raise ValueError("compute_loss: the compiled loss needs y_pred (the model's outputs), got y_pred=None")
            ys = self._y_arrays(y)
            outs = self._pred_list(y_pred)
            if len(outs) != n:
                raise ValueError(f"compute_loss: model '{self.name}' has {n} outputs, got {len(outs)} predictions")
            for i, (t, p) in enumerate(zip(ys, outs)):
                if len(t) != p.shape[0]:
                    raise ValueError(
                        f"compute_loss: targets of shape {t.shape} and predictions of shape {p.shape} "
                        f"(output {i}) differ in the number of samples"
                    )
        else:
            ys, outs = [None] * n, [None] * n
        sw = None
        if sample_weight is not None:
            sw = self._sample_weights([], sample_weight, None)
        total, parts = self._compute_loss(ys, outs, sw)
        if self._output_loss_trackers:
            bs = next(len(t) for t in ys if t is not None) if any(t is not None for t in ys) else 1
            for tracker, p in zip(self._output_loss_trackers, parts):
                if p is not None:
                    tracker.update_state(float(p.item()), sample_weight=bs)
        return total

    def _pred_list(self, y_pred) -> list:
        if isinstance(y_pred, dict) and getattr(self, "_is_graph", False):
            missing = [k for k in self.output_names if k not in y_pred]
            if missing:
                raise ValueError(f"y_pred is missing outputs {missing}; the outputs are {self.output_names}")
            flat = [y_pred[k] for k in self.output_names]
        else:
            flat = [y_pred] if isinstance(y_pred, (Tensor, np.ndarray)) else flatten(y_pred)
        return [p if isinstance(p, Tensor) else Tensor(_to_array(p, "y_pred")) for p in flat]

    def compute_metrics(self, x, y, y_pred, sample_weight=None) -> dict:
        """Update the compiled metrics with a batch and return every metric's current result
        (``get_metrics_result``). The loss tracker is not updated here: the steps do that."""
        if self._compile_metrics is not None:
            self._compile_metrics.update_state(y, y_pred, sample_weight=sample_weight)
        return self.get_metrics_result()

    @staticmethod
    def _batch_len(x) -> int:
        leaves = [a for a in flatten(x) if a is not None] if not isinstance(x, (Tensor, np.ndarray)) else [x]
        return int(leaves[0].shape[0]) if leaves and getattr(leaves[0], "ndim", 0) else 1

    def train_step(self, data) -> dict:
        """One training step on one batch; fit and train_on_batch call it once per batch.

        ``data`` is ``x``, ``(x, y)`` or ``(x, y, sample_weight)`` (see
        ``fastnn.utils.unpack_x_y_sample_weight``), as fastnn Tensors in the structure given to
        fit. Returns a dict of logs ({name: value}; Tensors, NumPy scalars or floats) that the
        progress bar, History and callbacks receive.

        Override it to customise fit (a GAN, a VAE, ...). This default forwards, computes
        ``compute_loss``, back-propagates, applies the optimizer to the compiled trainable
        weights, and returns ``compute_metrics``; when it is not overridden fit runs the same
        step on a faster internal path.

        Example::

            class MyModel(fastnn.models.Model):
                def train_step(self, data):
                    x, y, sw = fastnn.utils.unpack_x_y_sample_weight(data)
                    self.zero_grad()
                    y_pred = self(x, training=True)
                    loss = self.compute_loss(x, y, y_pred, sw)
                    loss.backward()
                    ws = self.trainable_weights
                    self.optimizer.apply([w.grad for w in ws], ws)
                    return self.compute_metrics(x, y, y_pred, sw)
        """
        self._check_compiled("train_step")
        x, y, sample_weight = unpack_x_y_sample_weight(data)
        self.zero_grad()
        y_pred = self(x, training=True)
        loss = self.compute_loss(x=x, y=y, y_pred=y_pred, sample_weight=sample_weight, training=True)
        self._loss_tracker.update_state(float(loss.item()), sample_weight=self._batch_len(x))
        loss.backward()
        train_vars = self._train_vars if self._train_vars is not None else self.trainable_weights
        pairs = [(v.grad, v) for v in train_vars if v.grad is not None]
        if pairs:
            self.optimizer.apply_gradients(pairs)
        for v in train_vars:
            v.grad = None
        return self.compute_metrics(x, y, y_pred, sample_weight=sample_weight)

    def test_step(self, data) -> dict:
        """One evaluation step on one batch (evaluate, test_on_batch and fit's validation call
        it, without gradient recording); ``data`` as for ``train_step``. Returns a dict of logs.
        The default forwards with training=False, updates the loss tracker with
        ``compute_loss`` and returns ``compute_metrics``."""
        self._check_compiled("test_step")
        x, y, sample_weight = unpack_x_y_sample_weight(data)
        y_pred = self(x, training=False)
        loss = self.compute_loss(x=x, y=y, y_pred=y_pred, sample_weight=sample_weight, training=False)
        self._loss_tracker.update_state(float(loss.item()), sample_weight=self._batch_len(x))
        return self.compute_metrics(x, y, y_pred, sample_weight=sample_weight)

    def predict_step(self, data):
        """The outputs for one batch (predict and predict_on_batch call it, without gradient
        recording); ``data`` is the batch of x. Return Tensors or arrays (or a list / dict of
        them); predict joins the batches along the first axis."""
        x, _, _ = unpack_x_y_sample_weight(data)
        return self(x, training=False)

    def _overridden(self, step: str) -> bool:
        """Whether a subclass replaced `step` (or, for the training and test steps, the loss or
        metric computation they call): then the loops call the public step."""
        t = type(self)
        if step == "predict_step":
            return t.predict_step is not _DEFAULT_PREDICT_STEP
        return (getattr(t, step) is not _DEFAULT_STEPS[step] or t.compute_loss is not _DEFAULT_STEPS["compute_loss"]
                or t.compute_metrics is not _DEFAULT_STEPS["compute_metrics"])

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
        # the fast path keeps its sums in tr; the trackers of `metrics` mirror them
        lt = self._loss_tracker
        if lt is not None:
            lt.total, lt.count = tr.total, float(tr.count)
        logs = {prefix + "loss": tr.total / max(tr.count, 1)}
        if self._n_outputs() > 1:
            for name, p, t in zip(self.output_names, tr.parts, self._output_loss_trackers or [None] * len(tr.parts)):
                logs[f"{prefix}{name}_loss"] = p / max(tr.count, 1)
                if t is not None:
                    t.total, t.count = p, float(tr.count)
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
        if self._overridden("train_step"):
            return self._fit_custom(x, y, batch_size, epochs, verbose, callbacks, validation_split, validation_data,
                                    shuffle, class_weight, sample_weight, initial_epoch, validation_batch_size,
                                    validation_freq, validation_steps)
        xs, ys = self._x_arrays(x), self._y_arrays(y)
        sw = self._sample_weights(ys, sample_weight, class_weight)
        n = self._check_cardinality(xs, ys, sw)
        if n:
            self._ensure_ready([a[:1] for a in xs])  # the output shapes give the number of classes
        self._check_labels("fit", ys)
        val = None
        custom_val = None
        val_origin = ("validation_data's y", 0)
        if self._overridden("test_step") and (validation_data is not None or validation_split):
            # the validation data (or the held-out part, split as below) in the structure given,
            # for the overridden test_step
            custom_val = self._validation_step_data(x, y, sample_weight, validation_data, validation_split)
        if validation_data is not None:
            if custom_val is None:
                val = self._unpack_validation(validation_data)
                self._check_labels("fit", val[1], "validation_data's y")
        elif validation_split:
            split = int(math.floor(n * (1.0 - float(validation_split))))
            if split == 0 or split == n:
                raise ValueError(
                    f"validation_split={validation_split} leaves {split} training and {n - split} validation "
                    f"samples out of {n}; use a different split"
                )
            if custom_val is None:
                val = ([a[split:] for a in xs], [a[split:] for a in ys], None if sw is None else sw[split:])
                val_origin = ("y", split)  # the held-out samples' indices in y start at split
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
            self.reset_metrics()
            cbs.on_epoch_begin(epoch)
            tr = self._Tracker(ny)
            perm = rng.permutation(n) if shuffle else None
            for step in range(steps):
                lo, hi = step * batch_size, min(n, (step + 1) * batch_size)
                batch = batcher.take(perm[lo:hi]) if perm is not None else batcher.slice(lo, hi)
                xb, yb, swb = batch[:nx], batch[nx : nx + ny], batch[-1]
                if batch_cbs:
                    cbs.on_train_batch_begin(step)
                try:
                    self._tracked_step(self._train_step, tr, xb, yb, swb, hi - lo)
                except LabelRangeError as e:
                    at = (lambda k, lo=lo, perm=perm: perm[lo + k]) if perm is not None else (lambda k, lo=lo: lo + k)
                    raise self._label_error(e, "fit", yb, at) from None
                if batch_cbs or (progbar is not None and progbar.wants_update(step)):
                    logs = self._logs(tr)
                    cbs.on_train_batch_end(step, logs)
                if self.stop_training:
                    break
            logs = self._logs(tr)
            if (val is not None or custom_val is not None) and (epoch + 1) % validation_freq == 0:
                vbs = validation_batch_size or batch_size
                if custom_val is not None:
                    vlogs = self._evaluate_custom(custom_val, vbs, steps=validation_steps)
                else:
                    vlogs = self._evaluate_arrays(*val, batch_size=vbs, what="fit", data=val_origin[0],
                                                  offset=val_origin[1])
                logs.update({"val_" + k: v for k, v in vlogs.items()})
            cbs.on_epoch_end(epoch, logs)
            if self.stop_training:
                break
        cbs.on_train_end(logs)
        history = cbs.history
        self.history = history
        return history

    # ------------------------------------------------------------------ overridden steps
    def _step_data(self, x, y=None, sample_weight=None, class_weight=None) -> _sd.StepData:
        """x / y / sample_weight as a StepData, with the default path's dtypes: float data as
        float32, integer x as float32 unless the model has an integer Input, integer y kept."""
        int_inputs = getattr(self, "_is_graph", False) and any(t.dtype != "float32" for t in self.inputs)
        sd = _sd.StepData(x, y, None, _to_array, int_x_to_float=not int_inputs)
        if sample_weight is not None or class_weight is not None:
            if class_weight is not None and not sd.has_y:
                raise ValueError("class_weight needs targets: pass y (got y=None)")
            sd.set_sample_weight(self._sample_weights(sd.y_arrays, sample_weight, class_weight))
        return sd

    def _validation_step_data(self, x, y, sample_weight, validation_data, validation_split):
        if validation_data is not None:
            if _is_batch_source(validation_data):
                return validation_data
            xv, yv, swv = unpack_x_y_sample_weight(validation_data)
            return self._step_data(xv, yv, swv)
        sd = self._step_data(x, y, sample_weight)
        split = int(math.floor(sd.n * (1.0 - float(validation_split))))
        return sd.split(split)[1]

    def _ensure_ready_custom(self, sd: _sd.StepData) -> None:
        """Build (by a forward pass on one sample, when the model defines call) and capture the
        trainable weights before the first overridden step."""
        if not self.built:
            if self._defines_call():
                first = sd.pack(sd.slice(0, 1))
                self(unpack_x_y_sample_weight(first)[0])
            else:
                self.built = True  # a model made only of sublayers used in its steps (a GAN)
        if self._train_vars is None:
            self._capture_trainable()
        if self._compiled is not None and getattr(self, "_prepared_for", None) is not self._compiled:
            self._prepare_losses()
            self._prepared_for = self._compiled

    def _defines_call(self) -> bool:
        from .model import Model

        return getattr(self, "_is_graph", False) or type(self).call is not Model.call

    def _run_train_step(self, data) -> dict:
        self._activate()
        return _sd.step_logs(self.train_step(data), "train_step")

    def _run_test_step(self, data) -> dict:
        with no_grad():
            return _sd.step_logs(self.test_step(data), "test_step")

    def _fit_custom(self, x, y, batch_size, epochs, verbose, callbacks, validation_split, validation_data, shuffle,
                    class_weight, sample_weight, initial_epoch, validation_batch_size, validation_freq,
                    validation_steps=None):
        """fit on arrays with an overridden train_step: each batch is handed to it as
        ``x``, ``(x, y)`` or ``(x, y, sample_weight)`` of Tensors."""
        sd = self._step_data(x, y, sample_weight, class_weight)
        val = None
        if validation_data is not None:
            if self._overridden("test_step"):
                val = self._validation_step_data(None, None, None, validation_data, 0.0)
            else:
                val = self._unpack_validation(validation_data)
        elif validation_split:
            split = int(math.floor(sd.n * (1.0 - float(validation_split))))
            if split == 0 or split == sd.n:
                raise ValueError(
                    f"validation_split={validation_split} leaves {split} training and {sd.n - split} validation "
                    f"samples out of {sd.n}; use a different split"
                )
            sd, vsd = sd.split(split)
            if self._overridden("test_step"):
                val = vsd
            else:
                vx, vy, vsw = vsd.structures()
                val = self._unpack_validation((vx, vy) if vsw is None else (vx, vy, vsw))
        n = sd.n
        if n == 0:
            raise ValueError("fit got no training samples")
        steps = math.ceil(n / batch_size)
        cb_mod = _module("callbacks")
        from .progbar import ProgbarLogger

        progbar = ProgbarLogger() if verbose else None
        cbs = cb_mod.CallbackList(callbacks, add_history=True, add_progbar=bool(verbose), model=self,
                                  progbar=progbar, verbose=verbose, epochs=epochs, steps=steps)
        batch_cbs = [cb for cb in cbs.callbacks if cb is not progbar and _overrides(cb, cb_mod.Callback)]
        self._ensure_ready_custom(sd)
        key, off = _random.default_generator.take(1)  # as the default path: the same shuffles
        rng = np.random.default_rng([key, off])
        self.stop_training = False
        cbs.on_train_begin()
        logs: dict = {}
        for epoch in range(initial_epoch, epochs):
            self.reset_metrics()
            cbs.on_epoch_begin(epoch)
            perm = rng.permutation(n) if shuffle else None
            step_logs: dict = {}
            for step in range(steps):
                lo, hi = step * batch_size, min(n, (step + 1) * batch_size)
                arrays = sd.take(perm[lo:hi]) if perm is not None else sd.slice(lo, hi)
                if batch_cbs:
                    cbs.on_train_batch_begin(step)
                step_logs = self._run_train_step(sd.pack(arrays))
                if batch_cbs or (progbar is not None and progbar.wants_update(step)):
                    cbs.on_train_batch_end(step, step_logs)
                if self.stop_training:
                    break
            logs = dict(self._metrics_or_logs(step_logs))
            if val is not None and (epoch + 1) % validation_freq == 0:
                vbs = validation_batch_size or batch_size
                if self._overridden("test_step"):
                    vlogs = self._evaluate_custom(val, vbs, steps=validation_steps)
                else:
                    vlogs = self._evaluate_arrays(*val, batch_size=vbs)
                logs.update({"val_" + k: v for k, v in vlogs.items()})
            cbs.on_epoch_end(epoch, logs)
            if self.stop_training:
                break
        cbs.on_train_end(logs)
        self.history = cbs.history
        return cbs.history

    def _evaluate_custom(self, sd, batch_size: int, cbs=None, steps=None) -> dict:
        """evaluate with an overridden test_step, on a StepData or a source of batches."""
        if not isinstance(sd, _sd.StepData):
            return self._evaluate_batches(sd, steps, cbs)
        self._ensure_ready_custom(sd)
        self.reset_metrics()
        logs: dict = {}
        for step in range(math.ceil(sd.n / batch_size)):
            lo, hi = step * batch_size, min(sd.n, (step + 1) * batch_size)
            if cbs is not None:
                cbs.on_test_batch_begin(step)
            logs = self._run_test_step(sd.pack(sd.slice(lo, hi)))
            if cbs is not None:
                cbs.on_test_batch_end(step, logs)
        return self._metrics_or_logs(logs)

    def _batch_step_data(self, batch, class_weight=None):
        """The data of one batch from a dataset or generator, for an overridden step: its
        structure kept, arrays as Tensors (class_weight folded into the sample weights)."""
        x, y, sw = unpack_x_y_sample_weight(batch)
        sd = self._step_data(x, y, sw, class_weight)
        return sd, sd.pack(sd.arrays)

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
        custom_train, custom_test = self._overridden("train_step"), self._overridden("test_step")
        if validation_data is not None and not _is_batch_source(validation_data):
            if custom_test:
                val_arrays = self._validation_step_data(None, None, None, validation_data, 0.0)
            else:
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
            self.reset_metrics()
            cbs.on_epoch_begin(epoch)
            tr = None
            step_logs = None
            for step, batch in enumerate(source.epoch()):
                if custom_train:
                    sd, step_data = self._batch_step_data(batch, class_weight)
                    if step_logs is None:
                        self._ensure_ready_custom(sd)
                    if batch_cbs:
                        cbs.on_train_batch_begin(step)
                    step_logs = self._run_train_step(step_data)
                    if batch_cbs or (progbar is not None and progbar.wants_update(step)):
                        cbs.on_train_batch_end(step, step_logs)
                    if self.stop_training:
                        break
                    continue
                xs, ys, sw = self._batch_arrays(batch, class_weight)
                if tr is None:
                    self._ensure_ready([a[:1] for a in xs])
                    tr = self._Tracker(len(ys))
                if batch_cbs:
                    cbs.on_train_batch_begin(step)
                try:
                    self._tracked_step(self._train_step, tr, xs, ys, sw, len(xs[0]))
                except LabelRangeError as e:
                    where = f" in batch {step} (counting from 0) of epoch {epoch + 1}"
                    raise self._label_error(e, "fit", ys, batch=where) from None
                if batch_cbs or (progbar is not None and progbar.wants_update(step)):
                    logs = self._logs(tr)
                    cbs.on_train_batch_end(step, logs)
                if self.stop_training:
                    break
            if tr is None and step_logs is None:
                raise ValueError(f"fit: the {type(data).__name__} yielded no batches in epoch {epoch + 1}")
            logs = dict(self._metrics_or_logs(step_logs)) if custom_train else self._logs(tr)
            if validation_data is not None and (epoch + 1) % validation_freq == 0:
                if val_arrays is not None and custom_test:
                    vlogs = self._evaluate_custom(val_arrays, 32)
                elif val_arrays is not None:
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
        self.reset_metrics()
        tr = None
        if self._overridden("test_step"):
            logs = None
            for step, batch in enumerate(source.epoch()):
                sd, step_data = self._batch_step_data(batch)
                if logs is None:
                    self._ensure_ready_custom(sd)
                if cbs is not None:
                    cbs.on_test_batch_begin(step)
                logs = self._run_test_step(step_data)
                if cbs is not None:
                    cbs.on_test_batch_end(step, logs)
            if logs is None:
                raise ValueError(f"evaluate: the {type(data).__name__} yielded no batches")
            return self._metrics_or_logs(logs)
        for step, batch in enumerate(source.epoch()):
            xs, ys, sw = self._batch_arrays(batch)
            if tr is None:
                self._ensure_ready([a[:1] for a in xs])
                tr = self._Tracker(len(ys))
            if cbs is not None:
                cbs.on_test_batch_begin(step)
            try:
                self._tracked_step(self._test_step, tr, xs, ys, sw, len(xs[0]))
            except LabelRangeError as e:
                raise self._label_error(e, "evaluate", ys, batch=f" in batch {step} (counting from 0)") from None
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

    def _evaluate_arrays(self, xs, ys, sw, batch_size: int, cbs=None, what: str = "evaluate",
                         data: str = "y", offset: int = 0) -> dict:
        n = len(xs[0])
        self._ensure_ready([a[:1] for a in xs])
        self.reset_metrics()
        tr = self._Tracker(len(ys))
        for step in range(math.ceil(n / batch_size)):
            lo, hi = step * batch_size, min(n, (step + 1) * batch_size)
            xb, yb = [a[lo:hi] for a in xs], [a[lo:hi] for a in ys]
            swb = None if sw is None else sw[lo:hi]
            if cbs is not None:
                cbs.on_test_batch_begin(step)
            try:
                self._tracked_step(self._test_step, tr, xb, yb, swb, hi - lo)
            except LabelRangeError as e:
                raise self._label_error(e, what, yb, lambda k, lo=lo: offset + lo + k, data) from None
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
        if self._overridden("test_step"):
            sd = self._step_data(x, y, sample_weight)
            cb_mod = _module("callbacks")
            from .progbar import ProgbarLogger

            progbar = ProgbarLogger(mode="test") if verbose else None
            cbs = cb_mod.CallbackList(callbacks, add_progbar=bool(verbose), progbar=progbar, model=self,
                                      verbose=verbose, epochs=1, steps=math.ceil(sd.n / batch_size))
            cbs.on_test_begin()
            logs = self._evaluate_custom(sd, batch_size, cbs)
            cbs.on_test_end(logs)
            return self._batch_result_logs(logs, return_dict)
        xs, ys = self._x_arrays(x), self._y_arrays(y)
        sw = self._sample_weights(ys, sample_weight, None)
        n = self._check_cardinality(xs, ys, sw)
        if n:
            self._ensure_ready([a[:1] for a in xs])
        self._check_labels("evaluate", ys)
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
        if self._overridden("predict_step"):
            return self._predict_custom(x, batch_size, verbose)
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

    def _predict_custom(self, x, batch_size: int, verbose: int):
        """predict with an overridden predict_step: each batch of x (its structure kept, as
        Tensors) goes to it; the outputs are joined along the batch axis, leaf by leaf."""
        sd = self._step_data(x)
        if not self.built and self._defines_call():
            with no_grad():
                self(unpack_x_y_sample_weight(sd.pack(sd.slice(0, 1)))[0])
        steps_n = math.ceil(sd.n / batch_size)
        progbar = None
        if verbose:
            from .progbar import Progbar

            progbar = Progbar(steps_n, verbose=verbose)
        chunks = []
        with no_grad():
            for step in range(steps_n):
                lo, hi = step * batch_size, min(sd.n, (step + 1) * batch_size)
                chunks.append(_sd.to_numpy_struct(self.predict_step(sd.pack(sd.slice(lo, hi)))))
                if progbar is not None:
                    progbar.update(step + 1, finalize=step + 1 == steps_n)
        if not chunks:
            raise ValueError("predict got no samples")
        return _sd.concat_structs(chunks)

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
        if type(self).predict_step is not _DEFAULT_PREDICT_STEP:
            sd = self._step_data(x)
            with no_grad():
                if not self.built and self._defines_call():
                    self(unpack_x_y_sample_weight(sd.pack(sd.slice(0, 1)))[0])
                return _sd.to_numpy_struct(self.predict_step(sd.pack(sd.arrays)))
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
        if self._overridden("train_step"):
            sd = self._step_data(x, y, sample_weight, class_weight)
            self._ensure_ready_custom(sd)
            self.reset_metrics()  # the result is this batch's, as the default path's
            return self._batch_result_logs(self._run_train_step(sd.pack(sd.arrays)), return_dict)
        xs, ys = self._x_arrays(x), self._y_arrays(y)
        sw = self._sample_weights(ys, sample_weight, class_weight)
        return self._batch_result(self._one_batch("train_on_batch", self._train_step, xs, ys, sw), return_dict)

    def test_on_batch(self, x, y=None, sample_weight=None, return_dict: bool = False):
        """The loss (and metrics) on one batch, without training."""
        self._check_compiled("test_on_batch")
        if self._overridden("test_step"):
            sd = self._step_data(x, y, sample_weight)
            self._ensure_ready_custom(sd)
            self.reset_metrics()
            return self._batch_result_logs(self._metrics_or_logs(self._run_test_step(sd.pack(sd.arrays))),
                                           return_dict)
        xs, ys = self._x_arrays(x), self._y_arrays(y)
        sw = self._sample_weights(ys, sample_weight, None)
        return self._batch_result(self._one_batch("test_on_batch", self._test_step, xs, ys, sw), return_dict)

    def _one_batch(self, what: str, step, xs: list, ys: list, sw):
        """train_on_batch / test_on_batch on the default path: one `step` on the batch, its loss
        in a fresh tracker and the compiled metrics updated; an out-of-range label is reported
        with its index in the batch the user passed."""
        self._check_cardinality(xs, ys, sw)
        self._ensure_ready([a[:1] for a in xs])
        self._reset_metrics()  # the compiled ones; the loss comes from this batch's tracker
        tr = self._Tracker(len(ys))
        try:
            self._tracked_step(step, tr, xs, ys, sw, len(xs[0]))
        except LabelRangeError as e:
            raise self._label_error(e, what, ys, int) from None
        return tr

    def _tracked_step(self, step, tr, xb: list, yb: list, swb, count: int) -> None:
        """One default train or test `step` on a batch of `count` samples: its losses into the
        tracker `tr`, the compiled metrics updated."""
        total, parts, outs = step(xb, yb, swb)
        tr.add(total, parts, count)
        self._resolve_metrics(yb, outs)
        self._update_metrics(yb, outs, swb)

    def _batch_result(self, tr, return_dict: bool):
        return self._batch_result_logs(self._logs(tr), return_dict)

    @staticmethod
    def _batch_result_logs(logs: dict, return_dict: bool):
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


_DEFAULT_STEPS = {nm: getattr(Trainer, nm) for nm in ("train_step", "test_step", "compute_loss", "compute_metrics")}
_DEFAULT_PREDICT_STEP = Trainer.predict_step


# metric names (as compile takes them) that need integer labels in [0, classes)
_SPARSE_LABEL_METRICS = frozenset({
    "sparse_top_k_categorical_accuracy", "SparseTopKCategoricalAccuracy",
    "sparse_categorical_crossentropy", "SparseCategoricalCrossentropy",
})


def _loss_as_written(spec) -> str:
    """A loss as the user passed it to compile, for messages: "loss='sparse_categorical_crossentropy'",
    "loss=SparseCategoricalCrossentropy(from_logits=True)", "loss=my_loss"."""
    if isinstance(spec, str):
        return f"loss={spec!r}"
    if isinstance(spec, type):
        return f"loss={spec.__name__}"
    losses_mod = _module("losses")
    if isinstance(spec, losses_mod.Loss):
        cls = type(spec)
        if cls is losses_mod.LossFunctionWrapper:
            return f"loss={getattr(spec.fn, '__name__', spec.name)}"
        args = []
        if getattr(spec, "from_logits", False):
            args.append("from_logits=True")
        try:
            default_name = cls().name
        except Exception:  # a subclass that needs arguments
            default_name = spec.name
        if spec.name != default_name:
            args.append(f"name={spec.name!r}")
        return f"loss={cls.__name__}({', '.join(args)})"
    if isinstance(spec, dict):
        return f"loss={spec.get('class_name', spec)!r}"
    return f"loss={getattr(spec, '__name__', repr(spec))}"


def _overrides(cb, base: type) -> bool:
    """Whether a callback overrides a per-batch hook (then it needs logs every batch)."""
    t = type(cb)
    own = getattr(cb, "__dict__", {})  # LambdaCallback sets its hooks on the instance
    for name in ("on_train_batch_begin", "on_train_batch_end", "on_batch_begin", "on_batch_end"):
        if name in own or getattr(t, name, None) is not getattr(base, name, None):
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
