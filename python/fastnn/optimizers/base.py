"""The Optimizer base class: the bookkeeping shared by every optimizer.

The base class keeps the iteration counter, evaluates the learning rate (a float or a schedule
of the iteration), creates the slot variables of each variable lazily the first time it sees
it, computes the gradient clipping factors (clipnorm, global_clipnorm; clipvalue is passed
through) and the weight decay factor, and hands each (gradient, variable) pair to the
subclass's ``update_step``, which is one fused in-place kernel call (csrc/kernels/optim.h).

Keras 3 order of a step (keras/src/optimizers/base_optimizer.py): clip the gradients, decay the
variables (``w -= w * weight_decay * lr``), apply the update rule, project each variable that
has a ``constraint`` (fastnn.constraints), then ``iterations += 1``. The first three happen
inside the one kernel call per variable here; the projection follows, in place.

A row-sparse gradient (fastnn.sparse.RowSparseGrad, from Embedding(sparse=True)) goes to the
``_sparse`` twin of the kernel: rows outside the gradient see g = 0 as Keras does (slots decay
there), in the same pass, without a dense gradient array; its norm for clipnorm and
global_clipnorm is the norm of its rows (the same up to summation order).
"""

from __future__ import annotations

import inspect
import math
import numbers
import re
import warnings
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Union

import numpy as np

from .. import _C, _raw
from .. import constraints as _constraints
from ..sparse import RowSparseGrad
from ..tensor import Tensor

LearningRate = Union[float, Callable[..., float]]

_INF = math.inf


def _is_number(x: Any) -> bool:
    return isinstance(x, numbers.Real) and not isinstance(x, bool)


def check_float(
    name: str,
    value: Any,
    lo: float | None = None,
    hi: float | None = None,
    *,
    lo_open: bool = False,
    hi_open: bool = False,
) -> float:
    """`value` as a float within [lo, hi] (open ends where asked); ValueError quoting it otherwise."""
    if not _is_number(value) or (isinstance(value, float) and math.isnan(value)):
        raise ValueError(f"{name} must be a number, got {name}={value!r}")
    v = float(value)
    bad = (lo is not None and (v < lo or (lo_open and v == lo))) or (
        hi is not None and (v > hi or (hi_open and v == hi))
    )
    if bad:
        lb = "(" if lo_open else "["
        rb = ")" if hi_open else "]"
        lo_s = "-inf" if lo is None else f"{lo:g}"
        hi_s = "inf" if hi is None else f"{hi:g}"
        raise ValueError(f"{name} must be in {lb}{lo_s}, {hi_s}{rb}, got {name}={value!r}")
    return v


def _check_positive_or_none(name: str, value: Any) -> float | None:
    if value is None:
        return None
    return check_float(name, value, 0.0, lo_open=True)


class Optimizer:
    """Base class of the optimizers (Keras 3 API).

    Args:
        learning_rate: a non-negative float, or a schedule: a callable taking the iteration
            count (``LearningRateSchedule`` style) or no argument (Keras 3 callable style).
        weight_decay: if set, ``w -= w * weight_decay * learning_rate`` before each update
            (decoupled weight decay, as Keras applies it to every optimizer).
        clipnorm: if set, each gradient is scaled so that its L2 norm is at most this value.
        clipvalue: if set, each gradient is clipped to ``[-clipvalue, clipvalue]``.
        global_clipnorm: if set, all gradients are scaled together so that the norm of their
            concatenation is at most this value. At most one of the three clipping arguments.
        name: the optimizer's name.
        lr: Keras 2 spelling of ``learning_rate`` (DeprecationWarning).
        decay: Keras 2 time decay: the learning rate of step ``t`` (counted from 0) is
            ``learning_rate / (1 + decay * t)`` (DeprecationWarning; Keras 3 ignores it, fastnn
            applies it so that old tutorials train as they did).

    Subclasses define ``_slot_specs(self)`` (the slot names and initial values they need) and
    ``update_step(gradient, variable, learning_rate)``.

    Example::

        opt = fastnn.optimizers.Adam(learning_rate=1e-3)
        w = fastnn.randn(3, 2, requires_grad=True)
        (w * w).sum().backward()
        opt.apply_gradients([(w.grad, w)])   # w is updated in place
        opt.iterations                        # 1
    """

    _DEFAULT_NAME = "optimizer"
    _DEFAULT_LR = 0.001

    def __init__(
        self,
        learning_rate: LearningRate = 0.001,
        weight_decay: float | None = None,
        clipnorm: float | None = None,
        clipvalue: float | None = None,
        global_clipnorm: float | None = None,
        name: str | None = None,
        **kwargs: Any,
    ):
        if "lr" in kwargs:
            lr = kwargs.pop("lr")
            warnings.warn(
                f"`lr` is deprecated (a Keras 2 argument): use `learning_rate={lr!r}` instead",
                DeprecationWarning,
                stacklevel=3,
            )
            if learning_rate is not lr and learning_rate != self._DEFAULT_LR and learning_rate != lr:
                raise ValueError(
                    f"both `learning_rate={learning_rate!r}` and its deprecated alias `lr={lr!r}` were given"
                )
            learning_rate = lr
        decay = kwargs.pop("decay", None)
        if decay is not None:
            decay = check_float("decay", decay, 0.0)
            warnings.warn(
                f"`decay={decay!r}` is a Keras 2 argument (learning rate lr / (1 + decay * iterations)); "
                "Keras 3 spells it learning_rate=keras.optimizers.schedules.InverseTimeDecay("
                f"initial_learning_rate, decay_steps=1, decay_rate={decay!r})",
                DeprecationWarning,
                stacklevel=3,
            )
        if kwargs:
            raise ValueError(f"argument(s) not recognized by {type(self).__name__}: {kwargs}")
        self.decay = float(decay or 0.0)
        self.name = name if name is not None else self._DEFAULT_NAME
        self.weight_decay = None if weight_decay is None else check_float("weight_decay", weight_decay, 0.0)
        self.clipnorm = _check_positive_or_none("clipnorm", clipnorm)
        self.clipvalue = _check_positive_or_none("clipvalue", clipvalue)
        self.global_clipnorm = _check_positive_or_none("global_clipnorm", global_clipnorm)
        n_clip = sum(a is not None for a in (clipnorm, clipvalue, global_clipnorm))
        if n_clip > 1:
            raise ValueError(
                "only one of `clipnorm`, `clipvalue` and `global_clipnorm` can be set, got "
                f"clipnorm={clipnorm!r}, clipvalue={clipvalue!r}, global_clipnorm={global_clipnorm!r}"
            )
        self.learning_rate = learning_rate
        self._iterations = 0
        self._vars: list[Tensor] = []  # variables in the order first seen (kept alive: ids stay valid)
        self._index: dict[int, int] = {}  # id(variable) -> position in _vars
        self._slots: list[dict[str, Any]] = []  # per variable: slot name -> raw storage array
        self._exclude_ids: set[int] = set()
        self._exclude_pattern: re.Pattern | None = None

    def __deepcopy__(self, memo: dict) -> Optimizer:
        # _index and _exclude_ids are keyed by id(variable): move them to the copied variables.
        from .._copying import deepcopy_fields, remap_ids

        new = deepcopy_fields(self, memo)
        new._index = remap_ids(self._index, memo)
        new._exclude_ids = remap_ids(self._exclude_ids, memo)
        return new

    # ------------------------------------------------------------------ learning rate
    @property
    def learning_rate(self) -> float:
        """The learning rate of the next step (a schedule is evaluated at ``iterations``; the
        Keras 2 ``decay`` is not applied here, see ``current_learning_rate``). Assign a float or
        a schedule to change it; a float cannot replace a ``LearningRateSchedule`` (TypeError, as
        in Keras: callbacks that set the learning rate need a float one)."""
        lr = self._learning_rate
        if callable(lr):
            lr = lr(self._iterations) if self._lr_takes_step else lr()
            lr = float(np.asarray(lr.numpy() if isinstance(lr, Tensor) else lr))
        return lr

    @learning_rate.setter
    def learning_rate(self, value: LearningRate) -> None:
        if not callable(value) and _is_schedule(getattr(self, "_learning_rate", None)):
            # Keras 3 raises here too: a float would silently throw the schedule away
            raise TypeError(
                f"{self.name}: this optimizer was created with a `LearningRateSchedule` object "
                f"({type(self._learning_rate).__name__}) as its `learning_rate` constructor argument, hence its "
                f"learning rate is not settable (got learning_rate={value!r}). If you need the learning rate to "
                "be settable, you should instantiate the optimizer with a float `learning_rate` argument."
            )
        if callable(value):
            self._learning_rate = value
            self._lr_takes_step = _takes_argument(value)
            return
        self._learning_rate = check_float("learning_rate", value, 0.0)
        self._lr_takes_step = False

    # Keras 2 attribute name, used by callbacks written for it.
    lr = learning_rate

    def current_learning_rate(self) -> float:
        """The learning rate of the next step: the schedule evaluated at ``iterations`` and the
        Keras 2 ``decay`` applied."""
        lr = self.learning_rate
        if self.decay:
            lr = lr / (1.0 + self.decay * self._iterations)
        return float(lr)

    @property
    def iterations(self) -> int:
        """Steps applied so far (``apply`` calls)."""
        return self._iterations

    @iterations.setter
    def iterations(self, value: int) -> None:
        if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value < 0:
            raise ValueError(f"iterations must be a non-negative integer, got iterations={value!r}")
        self._iterations = int(value)

    # ------------------------------------------------------------------ slots
    def _slot_specs(self) -> list[tuple[str, float]]:
        """(slot name, initial value) for each slot a variable needs, in a fixed order."""
        return []

    def _slots_of(self, variable: Tensor) -> dict[str, Any]:
        k = self._index.get(id(variable))
        if k is None:
            k = self._add_variable(variable)
        return self._slots[k]

    def _add_variable(self, variable: Tensor) -> int:
        if not isinstance(variable, Tensor):
            raise TypeError(f"{self.name}: variables must be fastnn Tensors, got {type(variable).__name__}")
        if variable.dtype != np.float32:
            raise TypeError(f"{self.name}: variables must be float32, got {variable.dtype} of shape {variable.shape}")
        raw = variable._data
        dev = _raw.device_of(raw)
        slots = {}
        for slot_name, init in self._slot_specs():
            slots[slot_name] = _raw.full(raw.shape, init, dev) if init else _raw.zeros(raw.shape, dev)
        self._index[id(variable)] = len(self._vars)
        self._vars.append(variable)
        self._slots.append(slots)
        return len(self._vars) - 1

    def build(self, var_list: Iterable[Tensor]) -> None:
        """Create the slots of every variable in `var_list` now (otherwise they are created at
        the first update of each variable). Call it before ``set_weights`` on a fresh optimizer."""
        for v in var_list:
            if id(v) not in self._index:
                self._add_variable(v)

    @property
    def built(self) -> bool:
        return bool(self._vars)

    def exclude_from_weight_decay(
        self, var_list: Sequence[Tensor] | None = None, var_names: Sequence[str] | None = None
    ) -> None:
        """Exclude variables (by identity, or whose ``name`` contains one of `var_names`) from
        weight decay."""
        self._exclude_ids = {id(v) for v in (var_list or [])}
        self._exclude_pattern = re.compile("|".join(map(re.escape, set(var_names)))) if var_names else None

    def _use_weight_decay(self, variable: Tensor) -> bool:
        if id(variable) in self._exclude_ids:
            return False
        if self._exclude_pattern is not None:
            name = getattr(variable, "name", None)
            if isinstance(name, str) and self._exclude_pattern.search(name):
                return False
        return True

    # ------------------------------------------------------------------ state
    @property
    def variables(self) -> list[np.ndarray]:
        """The optimizer state as arrays: the iteration count (a 0-d int64 array) first, then
        every slot, by variable (in the order first seen) and slot name (in ``_slot_specs``
        order). Slots are the live storage arrays on the CPU (host copies for CUDA variables)."""
        out = [np.array(self._iterations, dtype=np.int64)]
        for slots in self._slots:
            for a in slots.values():
                out.append(a if isinstance(a, np.ndarray) else _C.to_host(a))
        return out

    def get_weights(self) -> list[np.ndarray]:
        """Copies of ``variables``: enough, with the model's weights, to resume training exactly."""
        return [np.array(a, copy=True) for a in self.variables]

    def set_weights(self, weights: Sequence[np.ndarray]) -> None:
        """Restore a state from ``get_weights()``. The optimizer must know the same variables
        in the same order (``build(var_list)`` first on a fresh optimizer)."""
        weights = list(weights)
        if not self._vars:
            raise ValueError(f"{self.name}: set_weights on an optimizer without variables: call build(var_list) first")
        slots = [(slots, name) for slots in self._slots for name in slots]
        if len(weights) != 1 + len(slots):
            raise ValueError(
                f"{self.name}: expected {1 + len(slots)} arrays (the iteration count and {len(slots)} slots), "
                f"got {len(weights)}"
            )
        it = np.asarray(weights[0])
        if it.shape != () or it.dtype.kind not in "iu" or int(it) < 0:
            raise ValueError(f"{self.name}: the first array must be the iteration count, got {weights[0]!r}")
        for (slot_dict, name), w in zip(slots, weights[1:]):
            w = np.asarray(w)
            cur = slot_dict[name]
            if tuple(w.shape) != tuple(cur.shape):
                raise ValueError(
                    f"{self.name}: slot '{name}' has shape {tuple(cur.shape)}, got an array of shape {w.shape}"
                )
        for (slot_dict, name), w in zip(slots, weights[1:]):
            w = np.ascontiguousarray(w, dtype=np.float32)
            cur = slot_dict[name]
            if isinstance(cur, np.ndarray):
                cur[...] = w
            else:
                slot_dict[name] = _C.to_device(w)
        self._iterations = int(it)

    def save_own_variables(self, store: dict) -> None:
        """Write the state into `store` under the keys "0", "1", ... (Keras's layout)."""
        for i, a in enumerate(self.get_weights()):
            store[str(i)] = a

    def load_own_variables(self, store: dict) -> None:
        """Read a state written by ``save_own_variables``."""
        self.set_weights([store[str(i)] for i in range(len(store))])

    # ------------------------------------------------------------------ applying gradients
    def apply_gradients(self, grads_and_vars: Iterable[tuple[Any, Tensor]]) -> int:
        """Apply one step to each variable from its gradient (Keras API); returns ``iterations``.

        Args:
            grads_and_vars: (gradient, variable) pairs. A gradient is a Tensor or an array of
                the variable's shape, a ``fastnn.sparse.RowSparseGrad`` (an Embedding(sparse=True)
                gradient: applied by the row-sparse kernels, with the dense gradient's result), or
                None (that variable is skipped with a warning). Each variable is updated in place:
                its storage array keeps its identity.
        """
        pairs = list(grads_and_vars)
        if not pairs:
            return self._iterations
        grads, variables = zip(*pairs)
        self.apply(grads, variables)
        return self._iterations

    def apply(self, grads: Sequence[Any], trainable_variables: Sequence[Tensor] | None = None) -> None:
        """Apply one step: ``grads[i]`` updates ``trainable_variables[i]`` (default: the
        variables the optimizer was built with, in order)."""
        grads = list(grads)
        if not grads:
            return
        if trainable_variables is None:
            if not self._vars:
                raise ValueError(
                    f"{self.name}: apply(grads) without variables needs a built optimizer: call build(var_list)"
                )
            trainable_variables = self._vars
        variables = list(trainable_variables)
        if len(grads) != len(variables):
            raise ValueError(f"{self.name}: got {len(grads)} gradients for {len(variables)} variables")
        raw_grads, keep, missing = [], [], []
        for g, v in zip(grads, variables):
            if g is None:
                missing.append(getattr(v, "name", None) or f"variable of shape {getattr(v, 'shape', '?')}")
                continue
            raw_grads.append(_raw_grad(g))
            keep.append(v)
        if not keep:
            raise ValueError(f"{self.name}: no gradients provided for any variable")
        if missing:
            warnings.warn(f"gradients do not exist for variables {missing} when minimizing the loss", stacklevel=3)
        lr = self.current_learning_rate()
        scales = self._clip_scales(raw_grads)
        clip = self.clipvalue if self.clipvalue is not None else _INF
        wd = self.weight_decay
        for g, v, s in zip(raw_grads, keep, scales):
            decay = wd * lr if wd and self._use_weight_decay(v) else 0.0
            self.update_step(g, v, lr, s, clip, decay)
        # Keras applies each variable's constraint right after the update of every variable
        # (the whole variable, also for a row-sparse gradient).
        for v in keep:
            if getattr(v, "constraint", None) is not None:
                _constraints.apply_to_variable(v)
        self._iterations += 1

    def _clip_scales(self, grads: list) -> list[float]:
        """Per-gradient scale factors of clipnorm / global_clipnorm (Keras 3 formulas)."""
        if self.clipnorm is not None:
            c = self.clipnorm
            out = []
            for g in grads:
                norm = math.sqrt(_sum_squares(g))  # NaN stays NaN
                out.append(c / max(norm, c) if not math.isnan(norm) else math.nan)
            return out
        if self.global_clipnorm is not None:
            c = self.global_clipnorm
            norm = math.sqrt(math.fsum(_sum_squares(g) for g in grads))
            # c * min(1 / norm, 1 / c): 1 for norm <= c (norm == 0 included); NaN for inf or NaN.
            if math.isnan(norm) or math.isinf(norm):
                scale = math.nan
            else:
                scale = 1.0 if norm <= c else c / norm
            return [scale] * len(grads)
        return [1.0] * len(grads)

    def update_step(
        self,
        gradient,
        variable: Tensor,
        learning_rate: float,
        grad_scale: float = 1.0,
        clip_value: float = _INF,
        decay: float = 0.0,
    ) -> None:
        """One fused in-place kernel call: update `variable` (and its slots) from the raw
        `gradient` array. `grad_scale`, `clip_value` and `decay` are the clipping and weight
        decay factors the base class computed."""
        raise NotImplementedError

    @staticmethod
    def _run_kernel(dense_kernel, sparse_kernel, *args) -> None:
        """Call `dense_kernel(*args)`, or, when one argument is a RowSparseGrad, `sparse_kernel`
        with that argument replaced by its (indices, values): the row-sparse kernels give the
        dense result without materialising the dense gradient (csrc/kernels/optim.h)."""
        for i, a in enumerate(args):
            if isinstance(a, RowSparseGrad):
                sparse_kernel(*args[:i], a._indices, a._values, *args[i + 1 :])
                return
        dense_kernel(*args)

    # ------------------------------------------------------------------ config
    def get_config(self) -> dict:
        """The constructor arguments (JSON-friendly unless the learning rate is a plain callable)."""
        lr = self._learning_rate
        if callable(lr) and hasattr(lr, "get_config"):
            lr = {"class_name": type(lr).__name__, "config": lr.get_config()}
        config = {
            "name": self.name,
            "learning_rate": lr,
            "weight_decay": self.weight_decay,
            "clipnorm": self.clipnorm,
            "global_clipnorm": self.global_clipnorm,
            "clipvalue": self.clipvalue,
        }
        if self.decay:
            config["decay"] = self.decay
        return config

    @classmethod
    def from_config(cls, config: dict, custom_objects: dict | None = None):
        """Rebuild an optimizer (without its state) from ``get_config()``."""
        config = dict(config)
        lr = config.get("learning_rate")
        if isinstance(lr, dict):
            config["learning_rate"] = _deserialize_schedule(lr, custom_objects)
        if config.get("decay"):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DeprecationWarning)
                return cls(**config)
        config.pop("decay", None)
        return cls(**config)

    def __repr__(self) -> str:
        cls, lr = type(self).__name__, self._learning_rate
        return f"<{cls} name={self.name!r} learning_rate={lr!r} iterations={self._iterations}>"


def _sum_squares(g) -> float:
    # A RowSparseGrad's rows are unique, so its values hold every non-zero of the gradient.
    return _C.sum_squares(g._values if isinstance(g, RowSparseGrad) else g)


def _takes_argument(fn: Callable) -> bool:
    """True when `fn` can be called with the iteration count (one positional argument)."""
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):
        return True
    params = [p for p in sig.parameters.values() if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    if any(p.kind == p.VAR_POSITIONAL for p in sig.parameters.values()):
        return True
    return len(params) >= 1


def _raw_grad(g):
    if isinstance(g, RowSparseGrad):
        return g
    if isinstance(g, Tensor):
        return g._data
    if isinstance(g, np.ndarray):
        return g if g.dtype == np.float32 and g.flags.c_contiguous else np.ascontiguousarray(g, dtype=np.float32)
    if isinstance(g, _C.DeviceArray):
        return g
    return np.ascontiguousarray(g, dtype=np.float32)


def _is_schedule(lr: Any) -> bool:
    from .schedules import LearningRateSchedule

    return isinstance(lr, LearningRateSchedule)


def _deserialize_schedule(cfg: dict, custom_objects: dict | None):
    """A learning rate from an optimizer config's dict: a schedule, or a function stored by name."""
    from .. import saving
    from . import schedules

    if cfg.get("class_name") == "function":
        name = str(cfg.get("config"))
        return saving.resolve_function(name, custom_objects, owner="the optimizer's learning rate")
    return schedules.deserialize(cfg, custom_objects)
