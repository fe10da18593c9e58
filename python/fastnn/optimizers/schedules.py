"""Learning rate schedules: the learning rate as a function of the optimizer's step, Keras 3
names, arguments and formulas (keras/src/optimizers/schedules/learning_rate_schedule.py).

A schedule is passed as an optimizer's ``learning_rate``; the optimizer calls it with its
``iterations`` (the number of steps applied so far, from 0) before each step. Values are
computed in float64 on the host (Keras computes them in float32), once per step, not per
variable. A schedule serializes inside the optimizer's config as
``{"class_name": ..., "config": ...}`` and so inside ``model.save`` and compile configs.

Example::

    from fastnn import optimizers
    lr = optimizers.schedules.ExponentialDecay(0.1, decay_steps=1000, decay_rate=0.96, staircase=True)
    opt = optimizers.SGD(learning_rate=lr)
    lr(2500)                     # 0.1 * 0.96 ** 2
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = [
    "LearningRateSchedule",
    "ExponentialDecay",
    "InverseTimeDecay",
    "PiecewiseConstantDecay",
    "PolynomialDecay",
    "CosineDecay",
    "CosineDecayRestarts",
    "serialize",
    "deserialize",
]


def _number(owner: str, name: str, value: Any, lo: float | None = None, *, positive: bool = False,
            hi: float | None = None) -> float:
    """`value` as a finite float (>= lo, > 0 when `positive`, <= hi); ValueError quoting it."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(float(value)):
        raise ValueError(f"{owner}: `{name}` must be a finite number, got {name}={value!r}")
    v = float(value)
    if positive and v <= 0:
        raise ValueError(f"{owner}: argument `{name}` must be > 0, got {name}={value!r}")
    if lo is not None and v < lo:
        raise ValueError(f"{owner}: argument `{name}` must be >= {lo:g}, got {name}={value!r}")
    if hi is not None and v > hi:
        raise ValueError(f"{owner}: argument `{name}` must be <= {hi:g}, got {name}={value!r}")
    return v


def _flag(owner: str, name: str, value: Any) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{owner}: `{name}` must be a bool, got {name}={value!r}")
    return bool(value)


def _step(owner: str, step: Any) -> float:
    """The step as a float: an int, a float, a 0-d array or a one-element Tensor."""
    if hasattr(step, "numpy") and not isinstance(step, np.ndarray):
        step = step.numpy()
    if isinstance(step, np.ndarray):
        if step.size != 1:
            raise ValueError(f"{owner}: the step must be a scalar, got an array of shape {step.shape}")
        step = step.reshape(()).item()
    if isinstance(step, bool) or not isinstance(step, numbers.Real):
        raise TypeError(f"{owner}: the step must be a number, got {step!r} of type {type(step).__name__}")
    s = float(step)
    if math.isnan(s):
        raise ValueError(f"{owner}: the step must be a number, got {step!r}")
    return s


class LearningRateSchedule:
    """Base class of the learning rate schedules: subclasses define ``__call__(step)`` (the
    learning rate at optimizer step `step`, a float) and, to be saved with a model,
    ``get_config()``; ``from_config(config)`` calls ``cls(**config)``.

    Example::

        class InverseSqrt(fastnn.optimizers.schedules.LearningRateSchedule):
            def __init__(self, initial_learning_rate):
                self.initial_learning_rate = initial_learning_rate

            def __call__(self, step):
                return self.initial_learning_rate / (step + 1) ** 0.5

            def get_config(self):
                return {"initial_learning_rate": self.initial_learning_rate}

        opt = fastnn.optimizers.SGD(learning_rate=InverseSqrt(0.1))
    """

    def __call__(self, step: int) -> float:
        raise NotImplementedError(
            f"Learning rate schedule '{type(self).__name__}' must override `__call__(self, step)`."
        )

    def get_config(self) -> dict:
        raise NotImplementedError(
            f"Learning rate schedule '{type(self).__name__}' must override `get_config()` in order to be "
            "serializable."
        )

    @classmethod
    def from_config(cls, config: dict) -> LearningRateSchedule:
        """A schedule from its ``get_config()``."""
        if not isinstance(config, dict):
            raise TypeError(f"{cls.__name__}.from_config expects a dict, got {config!r}")
        return cls(**config)

    def __repr__(self) -> str:
        try:
            args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        except NotImplementedError:
            args = ""
        return f"{type(self).__name__}({args})"


class ExponentialDecay(LearningRateSchedule):
    """``initial_learning_rate * decay_rate ** (step / decay_steps)``; with ``staircase=True``
    the exponent is ``floor(step / decay_steps)`` (the rate drops every `decay_steps` steps).

    Args:
        initial_learning_rate: float >= 0, the learning rate at step 0.
        decay_steps: number > 0.
        decay_rate: float >= 0, the factor applied every `decay_steps` steps.
        staircase: decay at discrete intervals.
        name: the schedule's name. Defaults to "ExponentialDecay".

    The same as torch.optim.lr_scheduler.ExponentialLR(gamma=decay_rate) for decay_steps=1,
    when torch steps the scheduler after every optimizer step.

    Example::

        lr = ExponentialDecay(0.1, decay_steps=100000, decay_rate=0.96, staircase=True)
        model.compile(optimizer=fastnn.optimizers.SGD(learning_rate=lr), loss="mse")
    """

    def __init__(self, initial_learning_rate: float, decay_steps: float, decay_rate: float,
                 staircase: bool = False, name: str = "ExponentialDecay"):
        o = type(self).__name__
        self._lr0 = _number(o, "initial_learning_rate", initial_learning_rate, 0.0)
        self._steps = _number(o, "decay_steps", decay_steps, positive=True)
        self._rate = _number(o, "decay_rate", decay_rate, 0.0)
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = decay_steps
        self.decay_rate = decay_rate
        self.staircase = _flag(o, "staircase", staircase)
        self.name = name

    def __call__(self, step: int) -> float:
        p = _step(type(self).__name__, step) / self._steps
        if self.staircase:
            p = math.floor(p)
        return self._lr0 * self._rate**p

    def get_config(self) -> dict:
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "decay_steps": self.decay_steps,
            "decay_rate": self.decay_rate,
            "staircase": self.staircase,
            "name": self.name,
        }


class InverseTimeDecay(LearningRateSchedule):
    """``initial_learning_rate / (1 + decay_rate * step / decay_steps)``; with
    ``staircase=True``, ``initial_learning_rate / (1 + decay_rate * floor(step / decay_steps))``.

    Args:
        initial_learning_rate: float >= 0, the learning rate at step 0.
        decay_steps: number > 0.
        decay_rate: float >= 0.
        staircase: decay at discrete intervals.
        name: the schedule's name. Defaults to "InverseTimeDecay".

    With decay_steps=1 it is the Keras 2 ``decay=decay_rate`` argument as a schedule.

    Example::

        lr = InverseTimeDecay(0.1, decay_steps=1.0, decay_rate=0.5)
        opt = fastnn.optimizers.SGD(learning_rate=lr)
    """

    def __init__(self, initial_learning_rate: float, decay_steps: float, decay_rate: float,
                 staircase: bool = False, name: str = "InverseTimeDecay"):
        o = type(self).__name__
        self._lr0 = _number(o, "initial_learning_rate", initial_learning_rate, 0.0)
        self._steps = _number(o, "decay_steps", decay_steps, positive=True)
        self._rate = _number(o, "decay_rate", decay_rate, 0.0)
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = decay_steps
        self.decay_rate = decay_rate
        self.staircase = _flag(o, "staircase", staircase)
        self.name = name

    def __call__(self, step: int) -> float:
        p = _step(type(self).__name__, step) / self._steps
        if self.staircase:
            p = math.floor(p)
        return self._lr0 / (1.0 + self._rate * p)

    def get_config(self) -> dict:
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "decay_steps": self.decay_steps,
            "decay_rate": self.decay_rate,
            "staircase": self.staircase,
            "name": self.name,
        }


class PiecewiseConstantDecay(LearningRateSchedule):
    """``values[0]`` while ``step <= boundaries[0]``, ``values[i]`` while
    ``boundaries[i-1] < step <= boundaries[i]``, ``values[-1]`` after ``boundaries[-1]``.

    Args:
        boundaries: strictly increasing numbers (at least one).
        values: numbers >= 0, one more than `boundaries`.
        name: the schedule's name. Defaults to "PiecewiseConstant".

    Like torch.optim.lr_scheduler.MultiStepLR, except that the change comes one step later:
    the value changes after the boundary step, not at it.

    Example::

        # 1.0 for steps 0..100000, 0.5 for the next 10000 steps, then 0.1
        lr = PiecewiseConstantDecay(boundaries=[100000, 110000], values=[1.0, 0.5, 0.1])
    """

    def __init__(self, boundaries: Sequence[float], values: Sequence[float], name: str = "PiecewiseConstant"):
        o = type(self).__name__
        if isinstance(boundaries, (str, bytes)) or not isinstance(boundaries, (Sequence, np.ndarray)):
            raise TypeError(f"{o}: `boundaries` must be a list of numbers, got boundaries={boundaries!r}")
        if isinstance(values, (str, bytes)) or not isinstance(values, (Sequence, np.ndarray)):
            raise TypeError(f"{o}: `values` must be a list of numbers, got values={values!r}")
        boundaries = [b.item() if isinstance(b, np.generic) else b for b in boundaries]
        values = [v.item() if isinstance(v, np.generic) else v for v in values]
        if len(boundaries) != len(values) - 1:
            raise ValueError(
                "The length of boundaries should be 1 less than the length of values. Received: "
                f"boundaries={boundaries} of length {len(boundaries)}, and values={values} of length {len(values)}."
            )
        if not boundaries:
            raise ValueError(f"{o}: `boundaries` must hold at least one step, got boundaries={boundaries!r}")
        self._b = [_number(o, f"boundaries[{i}]", b) for i, b in enumerate(boundaries)]
        self._v = [_number(o, f"values[{i}]", v, 0.0) for i, v in enumerate(values)]
        if any(a >= b for a, b in zip(self._b, self._b[1:])):
            raise ValueError(f"{o}: `boundaries` must be strictly increasing, got boundaries={boundaries!r}")
        self.boundaries = boundaries
        self.values = values
        self.name = name

    def __call__(self, step: int) -> float:
        s = _step(type(self).__name__, step)
        for b, v in zip(self._b, self._v):
            if s <= b:
                return v
        return self._v[-1]

    def get_config(self) -> dict:
        return {"boundaries": list(self.boundaries), "values": list(self.values), "name": self.name}


class PolynomialDecay(LearningRateSchedule):
    """From `initial_learning_rate` to `end_learning_rate` in `decay_steps` steps::

        step = min(step, decay_steps)        # cycle=True: decay_steps *= ceil(step / decay_steps)
        (initial_learning_rate - end_learning_rate) * (1 - step / decay_steps) ** power + end_learning_rate

    (with cycle=True the multiplier is 1 at step 0).

    Args:
        initial_learning_rate: float >= 0.
        decay_steps: number > 0.
        end_learning_rate: float >= 0, the final learning rate. Defaults to 0.0001.
        power: float >= 0, the power of the polynomial. Defaults to 1.0.
        cycle: restart the decay every `decay_steps` (to a longer period each time).
        name: the schedule's name. Defaults to "PolynomialDecay".

    The same as torch.optim.lr_scheduler.PolynomialLR(total_iters=decay_steps, power=power)
    when end_learning_rate is 0.

    Example::

        lr = PolynomialDecay(0.1, decay_steps=10000, end_learning_rate=0.01, power=0.5)
    """

    def __init__(self, initial_learning_rate: float, decay_steps: float, end_learning_rate: float = 0.0001,
                 power: float = 1.0, cycle: bool = False, name: str = "PolynomialDecay"):
        o = type(self).__name__
        self._lr0 = _number(o, "initial_learning_rate", initial_learning_rate, 0.0)
        self._steps = _number(o, "decay_steps", decay_steps, positive=True)
        self._end = _number(o, "end_learning_rate", end_learning_rate, 0.0)
        self._power = _number(o, "power", power, 0.0)
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = decay_steps
        self.end_learning_rate = end_learning_rate
        self.power = power
        self.cycle = _flag(o, "cycle", cycle)
        self.name = name

    def __call__(self, step: int) -> float:
        s = _step(type(self).__name__, step)
        steps = self._steps
        if self.cycle:
            # the first multiple of decay_steps at or above the step (1 at step 0)
            steps = steps * (1.0 if s == 0 else math.ceil(s / steps))
        else:
            s = min(s, steps)
        p = s / steps
        return (self._lr0 - self._end) * (1.0 - p) ** self._power + self._end

    def get_config(self) -> dict:
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "decay_steps": self.decay_steps,
            "end_learning_rate": self.end_learning_rate,
            "power": self.power,
            "cycle": self.cycle,
            "name": self.name,
        }


class CosineDecay(LearningRateSchedule):
    """Cosine decay (SGDR, Loshchilov & Hutter 2016) after an optional linear warmup.

    Without `warmup_target`::

        step = min(step, decay_steps)
        initial_learning_rate * ((1 - alpha) * 0.5 * (1 + cos(pi * step / decay_steps)) + alpha)

    With `warmup_target`, the learning rate rises linearly from `initial_learning_rate` to
    `warmup_target` over `warmup_steps` steps, then decays as above from `warmup_target` (to
    ``warmup_target * alpha``) over the next `decay_steps` steps.

    Args:
        initial_learning_rate: float >= 0.
        decay_steps: number > 0, the length of the decay.
        alpha: float in [0, 1], the final learning rate as a fraction of the decay's start.
        name: the schedule's name. Defaults to "CosineDecay".
        warmup_target: float >= 0 or None (no warmup).
        warmup_steps: number >= 0, the length of the warmup.

    Without warmup, the same as torch.optim.lr_scheduler.CosineAnnealingLR(T_max=decay_steps,
    eta_min=alpha * initial_learning_rate) for steps up to decay_steps.

    Example::

        lr = CosineDecay(0.0, decay_steps=1000, warmup_target=0.1, warmup_steps=100)
    """

    def __init__(self, initial_learning_rate: float, decay_steps: float, alpha: float = 0.0,
                 name: str = "CosineDecay", warmup_target: float | None = None, warmup_steps: float = 0):
        o = type(self).__name__
        self._lr0 = _number(o, "initial_learning_rate", initial_learning_rate, 0.0)
        self._steps = _number(o, "decay_steps", decay_steps, positive=True)
        self._alpha = _number(o, "alpha", alpha, 0.0, hi=1.0)
        self._target = None if warmup_target is None else _number(o, "warmup_target", warmup_target, 0.0)
        self._warmup = _number(o, "warmup_steps", warmup_steps, 0.0)
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = decay_steps
        self.alpha = alpha
        self.name = name
        self.warmup_target = warmup_target
        self.warmup_steps = warmup_steps

    def _decay(self, step: float, start_lr: float) -> float:
        cosine = 0.5 * (1.0 + math.cos(math.pi * (step / self._steps)))
        return start_lr * ((1.0 - self._alpha) * cosine + self._alpha)

    def __call__(self, step: int) -> float:
        s = _step(type(self).__name__, step)
        if self._target is None:
            return self._decay(min(s, self._steps), self._lr0)
        s = min(s, self._steps + self._warmup)
        if s < self._warmup:
            return (self._target - self._lr0) * (s / self._warmup) + self._lr0
        return self._decay(s - self._warmup, self._target)

    def get_config(self) -> dict:
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "decay_steps": self.decay_steps,
            "alpha": self.alpha,
            "name": self.name,
            "warmup_target": self.warmup_target,
            "warmup_steps": self.warmup_steps,
        }


class CosineDecayRestarts(LearningRateSchedule):
    """Cosine decay with warm restarts (SGDR): the multiplier decays from 1 to `alpha` over
    `first_decay_steps` steps, then restarts; period i lasts ``first_decay_steps * t_mul**i``
    steps and starts at ``initial_learning_rate * m_mul**i``.

    Args:
        initial_learning_rate: float >= 0.
        first_decay_steps: number > 0, the length of the first period.
        t_mul: float > 0, the growth of each period's length. Defaults to 2.0.
        m_mul: float >= 0, the factor on each restart's learning rate. Defaults to 1.0.
        alpha: float in [0, 1], the minimum as a fraction of the period's start. Defaults to 0.0.
        name: the schedule's name. Defaults to "SGDRDecay".

    The same as torch.optim.lr_scheduler.CosineAnnealingWarmRestarts(T_0=first_decay_steps,
    T_mult=t_mul, eta_min=0) for alpha=0, m_mul=1 and an integer t_mul. Keras's formula finds
    the period with a floating-point log, which can place a restart one step late (t_mul=3);
    fastnn corrects the period index on the exact partial sums, so restarts fall on their step.

    Example::

        lr = CosineDecayRestarts(0.1, first_decay_steps=1000)
    """

    def __init__(self, initial_learning_rate: float, first_decay_steps: float, t_mul: float = 2.0,
                 m_mul: float = 1.0, alpha: float = 0.0, name: str = "SGDRDecay"):
        o = type(self).__name__
        self._lr0 = _number(o, "initial_learning_rate", initial_learning_rate, 0.0)
        self._steps = _number(o, "first_decay_steps", first_decay_steps, positive=True)
        self._t = _number(o, "t_mul", t_mul, positive=True)
        self._m = _number(o, "m_mul", m_mul, 0.0)
        self._alpha = _number(o, "alpha", alpha, 0.0, hi=1.0)
        self.initial_learning_rate = initial_learning_rate
        self.first_decay_steps = first_decay_steps
        self._t_mul = t_mul
        self._m_mul = m_mul
        self.alpha = alpha
        self.name = name

    @property
    def t_mul(self) -> float:
        return self._t_mul

    @property
    def m_mul(self) -> float:
        return self._m_mul

    def __call__(self, step: int) -> float:
        frac = _step(type(self).__name__, step) / self._steps
        t = self._t
        if t == 1.0:
            i = math.floor(frac)
            frac -= i
        else:
            # the periods' lengths are a geometric series: invert its partial sum
            arg = 1.0 - frac * (1.0 - t)
            if arg <= 0.0:  # t_mul < 1: the periods shrink and their total length is finite
                raise ValueError(
                    f"CosineDecayRestarts: with t_mul={self._t_mul!r} < 1 the restarts end after "
                    f"{self._steps / (1.0 - t):g} steps, got step={step!r}"
                )
            i = math.floor(math.log(arg) / math.log(t))
            # at a restart step the rounded log can land just below the integer (t_mul=3 at the
            # 5th restart): settle i on the partial sums so that the restart happens on time
            while (1.0 - t ** (i + 1)) / (1.0 - t) <= frac:
                i += 1
            while i > 0 and (1.0 - t**i) / (1.0 - t) > frac:
                i -= 1
            sum_r = (1.0 - t**i) / (1.0 - t)
            frac = (frac - sum_r) / t**i
        cosine = 0.5 * self._m**i * (1.0 + math.cos(math.pi * frac))
        return self._lr0 * ((1.0 - self._alpha) * cosine + self._alpha)

    def get_config(self) -> dict:
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "first_decay_steps": self.first_decay_steps,
            "t_mul": self._t_mul,
            "m_mul": self._m_mul,
            "alpha": self.alpha,
            "name": self.name,
        }


_CLASSES: dict[str, type[LearningRateSchedule]] = {
    c.__name__: c
    for c in (ExponentialDecay, InverseTimeDecay, PiecewiseConstantDecay, PolynomialDecay, CosineDecay,
              CosineDecayRestarts)
}


def serialize(learning_rate_schedule: LearningRateSchedule) -> dict:
    """``{"class_name": ..., "config": ...}`` of a schedule (Keras layout).

    Example::

        serialize(ExponentialDecay(0.1, 1000, 0.9))["class_name"]     # 'ExponentialDecay'
    """
    if not hasattr(learning_rate_schedule, "get_config") or not callable(learning_rate_schedule):
        raise TypeError(
            f"serialize expects a LearningRateSchedule, got {learning_rate_schedule!r} of type "
            f"{type(learning_rate_schedule).__name__}"
        )
    return {"class_name": type(learning_rate_schedule).__name__, "config": learning_rate_schedule.get_config()}


def deserialize(config: dict, custom_objects: dict | None = None) -> LearningRateSchedule:
    """A schedule from ``serialize``'s dict. The class is looked up by name among fastnn's
    schedules, `custom_objects` and the serializable registry (never imported from the config).

    Example::

        deserialize({"class_name": "CosineDecay", "config": {"initial_learning_rate": 0.1, "decay_steps": 100}})
    """
    if not isinstance(config, dict) or "class_name" not in config:
        raise ValueError(f"a learning rate schedule config is a dict with 'class_name' and 'config', got {config!r}")
    from .. import saving

    name = config["class_name"]
    inner = config.get("config", {})
    cls = (custom_objects or {}).get(name) or _CLASSES.get(name) or saving.get_registered_object(
        config.get("registered_name") or name, custom_objects)
    if cls is None:
        raise ValueError(
            f"Unknown learning rate schedule {name!r}: known schedules are {', '.join(_CLASSES)}; pass a custom "
            f"one in custom_objects={{{name!r}: {name}}} or register it with @fastnn.saving.register_serializable"
        )
    if not isinstance(inner, dict):
        raise ValueError(f"the config of learning rate schedule {name!r} must be a dict, got {inner!r}")
    return cls.from_config(inner) if hasattr(cls, "from_config") else cls(**inner)
