"""fastnn.optimizers.schedules: every schedule against a float64 NumPy transcription of the
Keras 3 formulas (keras/src/optimizers/schedules/learning_rate_schedule.py) at many steps, and
against torch.optim.lr_scheduler where the two coincide; schedules inside optimizers (50 steps
against the same optimizer with the learning rate set by hand, the Keras 2 decay on top of a
schedule); config round trips; bad arguments."""

from __future__ import annotations

import json
import math
import warnings

import fastnn
import numpy as np
import pytest
import torch
from fastnn import optimizers
from fastnn.optimizers import schedules as S
from oracle import TOL, assert_close

STEPS = np.arange(0, 400, dtype=np.float64)


def values(schedule, steps=STEPS) -> np.ndarray:
    out = np.array([schedule(int(s)) for s in steps])
    assert all(isinstance(schedule(int(s)), float) for s in steps[:3])
    return out


# ------------------------------------------------------- NumPy transcriptions of Keras's formulas
def np_exponential(step, initial_learning_rate, decay_steps, decay_rate, staircase=False):
    lr0 = initial_learning_rate
    p = step / decay_steps
    if staircase:
        p = np.floor(p)
    return lr0 * np.power(decay_rate, p)


def np_inverse_time(step, initial_learning_rate, decay_steps, decay_rate, staircase=False):
    lr0 = initial_learning_rate
    p = step / decay_steps
    if staircase:
        p = np.floor(p)
    return lr0 / (1.0 + decay_rate * p)


def np_piecewise(step, boundaries, values):
    values_ = values
    out = (step <= boundaries[0]) * values_[0] + (step > boundaries[-1]) * values_[-1]
    for low, high, v in zip(boundaries[:-1], boundaries[1:], values_[1:-1]):
        out = out + ((step > low) & (step <= high)) * v
    return out


def np_polynomial(step, initial_learning_rate, decay_steps, end_learning_rate=0.0001, power=1.0, cycle=False):
    lr0, end = initial_learning_rate, end_learning_rate
    if cycle:
        mult = np.where(step == 0, 1.0, np.ceil(step / decay_steps))
        ds = decay_steps * mult
    else:
        ds = decay_steps
        step = np.minimum(step, ds)
    p = step / ds
    return (lr0 - end) * np.power(1 - p, power) + end


def np_cosine(step, initial_learning_rate, decay_steps, alpha=0.0, warmup_target=None, warmup_steps=0):
    lr0 = initial_learning_rate

    def decay(s, start):
        c = 0.5 * (1.0 + np.cos(np.pi * (s / decay_steps)))
        return start * ((1 - alpha) * c + alpha)

    if warmup_target is None:
        return decay(np.minimum(step, decay_steps), lr0)
    s = np.minimum(step, decay_steps + warmup_steps)
    with np.errstate(divide="ignore", invalid="ignore"):
        warm = (warmup_target - lr0) * (s / warmup_steps) + lr0
    return np.where(s < warmup_steps, warm, decay(s - warmup_steps, warmup_target))


def np_cosine_restarts(step, initial_learning_rate, first_decay_steps, t_mul=2.0, m_mul=1.0, alpha=0.0):
    lr0, first = initial_learning_rate, first_decay_steps
    frac = step / first
    if t_mul == 1.0:
        i = np.floor(frac)
        frac = frac - i
    else:
        i = np.floor(np.log(1.0 - frac * (1.0 - t_mul)) / np.log(t_mul))
        sum_r = (1.0 - t_mul**i) / (1.0 - t_mul)
        frac = (frac - sum_r) / t_mul**i
    cos = 0.5 * m_mul**i * (1.0 + np.cos(np.pi * frac))
    return lr0 * ((1 - alpha) * cos + alpha)


CASES = [
    (S.ExponentialDecay, dict(initial_learning_rate=0.1, decay_steps=7, decay_rate=0.9), np_exponential),
    (S.ExponentialDecay, dict(initial_learning_rate=0.1, decay_steps=7, decay_rate=0.9, staircase=True),
     np_exponential),
    (S.ExponentialDecay, dict(initial_learning_rate=1.0, decay_steps=2.5, decay_rate=0.5), np_exponential),
    (S.InverseTimeDecay, dict(initial_learning_rate=0.1, decay_steps=1.0, decay_rate=0.5), np_inverse_time),
    (S.InverseTimeDecay, dict(initial_learning_rate=0.3, decay_steps=13, decay_rate=2.0, staircase=True),
     np_inverse_time),
    (S.PiecewiseConstantDecay, dict(boundaries=[10], values=[1.0, 0.5]), np_piecewise),
    (S.PiecewiseConstantDecay, dict(boundaries=[10, 100, 101, 250], values=[1.0, 0.5, 0.25, 0.1, 0.01]),
     np_piecewise),
    (S.PolynomialDecay, dict(initial_learning_rate=0.1, decay_steps=150), np_polynomial),
    (S.PolynomialDecay, dict(initial_learning_rate=0.1, decay_steps=150, end_learning_rate=0.01, power=0.5),
     np_polynomial),
    (S.PolynomialDecay, dict(initial_learning_rate=0.1, decay_steps=37, end_learning_rate=0.001, power=2.0,
                             cycle=True), np_polynomial),
    (S.CosineDecay, dict(initial_learning_rate=0.1, decay_steps=200), np_cosine),
    (S.CosineDecay, dict(initial_learning_rate=0.1, decay_steps=123, alpha=0.1), np_cosine),
    (S.CosineDecay, dict(initial_learning_rate=0.0, decay_steps=200, warmup_target=0.1, warmup_steps=50),
     np_cosine),
    (S.CosineDecay, dict(initial_learning_rate=0.01, decay_steps=100, alpha=0.2, warmup_target=0.5,
                         warmup_steps=17), np_cosine),
    (S.CosineDecay, dict(initial_learning_rate=0.1, decay_steps=100, warmup_target=0.2, warmup_steps=0),
     np_cosine),
    (S.CosineDecayRestarts, dict(initial_learning_rate=0.1, first_decay_steps=20), np_cosine_restarts),
    (S.CosineDecayRestarts, dict(initial_learning_rate=0.1, first_decay_steps=30, t_mul=1.0, m_mul=0.5,
                                 alpha=0.1), np_cosine_restarts),
    (S.CosineDecayRestarts, dict(initial_learning_rate=1.0, first_decay_steps=11, t_mul=1.5, m_mul=0.9),
     np_cosine_restarts),
]


@pytest.mark.parametrize("cls,cfg,ref", CASES, ids=[f"{c.__name__}-{i}" for i, (c, _, _) in enumerate(CASES)])
def test_against_keras_formula(cls, cfg, ref):
    got = values(cls(**cfg))
    want = ref(STEPS, **cfg)
    assert_close(got, want, cls.__name__, "vs keras formula", **TOL["schedule"])


def test_staircase_and_boundaries_step_exactly():
    ed = S.ExponentialDecay(1.0, decay_steps=10, decay_rate=0.5, staircase=True)
    assert [ed(s) for s in (0, 9, 10, 19, 20)] == [1.0, 1.0, 0.5, 0.5, 0.25]
    it = S.InverseTimeDecay(1.0, decay_steps=10, decay_rate=1.0, staircase=True)
    assert [it(s) for s in (9, 10, 20)] == [1.0, 0.5, 1.0 / 3.0]
    pc = S.PiecewiseConstantDecay([5, 10], [1.0, 0.5, 0.1])
    assert [pc(s) for s in (0, 5, 6, 10, 11, 1000)] == [1.0, 1.0, 0.5, 0.5, 0.1, 0.1]
    pd = S.PolynomialDecay(1.0, 10, end_learning_rate=0.0, cycle=True)
    assert [pd(s) for s in (0, 5, 10, 15, 20)] == [1.0, 0.5, 0.0, 0.25, 0.0]
    assert S.PolynomialDecay(1.0, 10, end_learning_rate=0.1)(1000) == pytest.approx(0.1, abs=1e-15)
    cd = S.CosineDecay(0.0, 10, warmup_target=1.0, warmup_steps=4)
    assert [cd(s) for s in (0, 1, 2, 4)] == [0.0, 0.25, 0.5, 1.0]
    assert cd(14) == 0.0 and cd(1000) == 0.0


def test_step_types():
    s = S.ExponentialDecay(0.1, 10, 0.5)
    want = s(7)
    for step in (7.0, np.int64(7), np.array(7), fastnn.tensor(np.array(7.0, np.float32))):
        assert s(step) == want
    with pytest.raises(TypeError, match="step must be a number"):
        s("7")
    with pytest.raises(ValueError, match=r"shape \(2,\)"):
        s(np.array([1, 2]))


# ---------------------------------------------------------------------- against torch
def torch_values(make_sched, lr0: float, n: int) -> np.ndarray:
    p = torch.zeros(1, requires_grad=True)
    opt = torch.optim.SGD([p], lr=lr0)
    sched = make_sched(opt)
    out = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # torch warns when step() precedes opt.step()
        for _ in range(n):
            out.append(opt.param_groups[0]["lr"])
            opt.step()
            sched.step()
    return np.array(out)


TORCH_CASES = [
    ("ExponentialLR", S.ExponentialDecay(0.1, decay_steps=1, decay_rate=0.97), 0.1,
     lambda o: torch.optim.lr_scheduler.ExponentialLR(o, gamma=0.97), 300),
    ("StepLR", S.ExponentialDecay(0.1, decay_steps=30, decay_rate=0.5, staircase=True), 0.1,
     lambda o: torch.optim.lr_scheduler.StepLR(o, step_size=30, gamma=0.5), 300),
    ("CosineAnnealingLR", S.CosineDecay(0.1, decay_steps=200), 0.1,
     lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, T_max=200), 201),
    ("CosineAnnealingLR-eta_min", S.CosineDecay(0.1, decay_steps=77, alpha=0.25), 0.1,
     lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, T_max=77, eta_min=0.025), 78),
    ("PolynomialLR", S.PolynomialDecay(0.1, decay_steps=50, end_learning_rate=0.0, power=2.0), 0.1,
     lambda o: torch.optim.lr_scheduler.PolynomialLR(o, total_iters=50, power=2.0), 120),
    ("CosineAnnealingWarmRestarts", S.CosineDecayRestarts(0.1, first_decay_steps=10), 0.1,
     lambda o: torch.optim.lr_scheduler.CosineAnnealingWarmRestarts(o, T_0=10, T_mult=2), 400),
    ("CosineAnnealingWarmRestarts-3", S.CosineDecayRestarts(0.1, first_decay_steps=1, t_mul=3.0), 0.1,
     lambda o: torch.optim.lr_scheduler.CosineAnnealingWarmRestarts(o, T_0=1, T_mult=3), 400),
    ("CosineAnnealingWarmRestarts-1", S.CosineDecayRestarts(0.1, first_decay_steps=7, t_mul=1.0), 0.1,
     lambda o: torch.optim.lr_scheduler.CosineAnnealingWarmRestarts(o, T_0=7, T_mult=1), 100),
    ("LinearLR-warmup", S.CosineDecay(0.0, decay_steps=1, warmup_target=0.1, warmup_steps=20), 0.1,
     lambda o: torch.optim.lr_scheduler.LambdaLR(o, lambda t: min(t / 20, 1.0)), 21),
]


@pytest.mark.parametrize("name,sched,lr0,make,n", TORCH_CASES, ids=[c[0] for c in TORCH_CASES])
def test_against_torch_schedulers(name, sched, lr0, make, n):
    got = values(sched, np.arange(n))
    want = torch_values(make, lr0, n)
    assert_close(got, want, name, "vs torch", **TOL["schedule"])


def test_restarts_fall_on_their_step():
    """Keras's float log puts the 5th restart of t_mul=3 one step late; fastnn does not."""
    s = S.CosineDecayRestarts(1.0, first_decay_steps=1, t_mul=3.0)
    start = sum(3**i for i in range(5))  # 121
    assert s(start) == 1.0 and s(start - 1) < 0.01
    keras = np_cosine_restarts(np.array([float(start)]), 1.0, 1, t_mul=3.0)
    assert keras[0] < 0.01  # what the transcription gives at that step


# --------------------------------------------------------------------- inside optimizers
def _problem(seed=0, steps=50):
    rng = np.random.default_rng(seed)
    shapes = [(7,), (13, 5)]
    params = [rng.standard_normal(s).astype(np.float32) for s in shapes]
    grads = [[rng.standard_normal(s).astype(np.float32) for s in shapes] for _ in range(steps)]
    return params, grads


SCHEDULES = [
    S.ExponentialDecay(0.05, decay_steps=5, decay_rate=0.8),
    S.PiecewiseConstantDecay([10, 30], [0.05, 0.02, 0.005]),
    S.CosineDecay(0.0, decay_steps=40, warmup_target=0.05, warmup_steps=10),
    S.CosineDecayRestarts(0.05, first_decay_steps=8),
    S.PolynomialDecay(0.05, decay_steps=30, cycle=True),
]
OPTIMIZERS = [
    ("SGD", dict(momentum=0.9)),
    ("Adam", dict()),
    ("RMSprop", dict(momentum=0.5)),
    ("AdamW", dict(weight_decay=0.1)),
    ("Nadam", dict()),
]


@pytest.mark.parametrize("kind,kw", OPTIMIZERS, ids=[k for k, _ in OPTIMIZERS])
@pytest.mark.parametrize("schedule", SCHEDULES, ids=[type(s).__name__ for s in SCHEDULES])
def test_schedule_in_optimizer_equals_lr_set_by_hand(kind, kw, schedule):
    params, grads = _problem()
    cls = getattr(optimizers, kind)
    a, b = cls(learning_rate=schedule, **kw), cls(learning_rate=1.0, **kw)
    ta = [fastnn.tensor(p.copy()) for p in params]
    tb = [fastnn.tensor(p.copy()) for p in params]
    for gs in grads:
        assert a.learning_rate == schedule(a.iterations)
        b.learning_rate = schedule(b.iterations)
        a.apply_gradients(zip([fastnn.tensor(g) for g in gs], ta))
        b.apply_gradients(zip([fastnn.tensor(g) for g in gs], tb))
    assert a.iterations == b.iterations == len(grads)
    for x, y in zip(ta, tb):
        np.testing.assert_array_equal(x.numpy(), y.numpy())


def test_keras2_decay_applies_on_top_of_a_schedule():
    """Keras 2: lr_t = schedule(t) / (1 + decay * t)."""
    params, grads = _problem(seed=1, steps=20)
    sched = S.ExponentialDecay(0.1, decay_steps=3, decay_rate=0.7)
    with pytest.warns(DeprecationWarning, match="decay"):
        a = optimizers.SGD(learning_rate=sched, decay=0.05)
    b = optimizers.SGD(learning_rate=1.0)
    ta = [fastnn.tensor(p.copy()) for p in params]
    tb = [fastnn.tensor(p.copy()) for p in params]
    for t, gs in enumerate(grads):
        assert a.current_learning_rate() == sched(t) / (1 + 0.05 * t)
        b.learning_rate = sched(t) / (1 + 0.05 * t)
        a.apply_gradients(zip([fastnn.tensor(g) for g in gs], ta))
        b.apply_gradients(zip([fastnn.tensor(g) for g in gs], tb))
    for x, y in zip(ta, tb):
        np.testing.assert_array_equal(x.numpy(), y.numpy())
    cfg = a.get_config()
    assert cfg["decay"] == 0.05 and cfg["learning_rate"]["class_name"] == "ExponentialDecay"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        c = optimizers.SGD.from_config(json.loads(json.dumps(cfg)))
    c.iterations = 7
    assert c.current_learning_rate() == sched(7) / (1 + 0.05 * 7)


def test_learning_rate_of_a_schedule_is_not_settable():
    opt = optimizers.Adam(learning_rate=S.CosineDecay(0.1, 100))
    with pytest.raises(TypeError, match=r"LearningRateSchedule.*not settable.*learning_rate=0.01"):
        opt.learning_rate = 0.01
    opt.learning_rate = S.ExponentialDecay(0.1, 10, 0.5)  # another schedule is fine, as in Keras
    assert opt.learning_rate == 0.1
    plain = optimizers.SGD(learning_rate=lambda t: 0.1)
    plain.learning_rate = 0.2  # a plain callable is not a schedule object: it may be replaced
    assert plain.learning_rate == 0.2


# ------------------------------------------------------------------------ serialization
ALL = [cls(**cfg) for cls, cfg, _ in CASES]


@pytest.mark.parametrize("schedule", ALL, ids=[f"{type(s).__name__}-{i}" for i, s in enumerate(ALL)])
def test_config_round_trip(schedule):
    cfg = schedule.get_config()
    again = type(schedule).from_config(json.loads(json.dumps(cfg)))
    assert again.get_config() == cfg
    assert [again(s) for s in range(0, 300, 7)] == [schedule(s) for s in range(0, 300, 7)]
    d = S.serialize(schedule)
    assert d["class_name"] == type(schedule).__name__
    assert S.deserialize(d).get_config() == cfg
    opt = optimizers.Adam(learning_rate=schedule)
    opt2 = optimizers.deserialize(json.loads(json.dumps(optimizers.serialize(opt))))
    assert type(opt2._learning_rate) is type(schedule) and opt2._learning_rate.get_config() == cfg


def test_keras_serialized_form_loads():
    """A config as keras.optimizers.schedules.serialize writes it (with module and registered_name)."""
    cfg = {"module": "keras.optimizers.schedules", "class_name": "PolynomialDecay",
           "config": {"cycle": False, "decay_steps": 10000, "end_learning_rate": 0.01,
                      "initial_learning_rate": 0.1, "name": None, "power": 0.5},
           "registered_name": None}
    s = S.deserialize(cfg)
    assert isinstance(s, S.PolynomialDecay) and s(10000) == pytest.approx(0.01)
    opt = optimizers.get({"class_name": "SGD", "config": {"learning_rate": cfg}})
    assert isinstance(opt._learning_rate, S.PolynomialDecay)


class HalfLife(S.LearningRateSchedule):
    def __init__(self, lr0, half_life):
        self.lr0, self.half_life = lr0, half_life

    def __call__(self, step):
        return self.lr0 * 0.5 ** (step / self.half_life)

    def get_config(self):
        return {"lr0": self.lr0, "half_life": self.half_life}


def test_custom_schedule_needs_custom_objects():
    opt = optimizers.SGD(learning_rate=HalfLife(0.1, 10))
    cfg = json.loads(json.dumps(optimizers.serialize(opt)))
    with pytest.raises(ValueError, match=r"Unknown learning rate schedule 'HalfLife'.*custom_objects"):
        optimizers.deserialize(cfg)
    opt2 = optimizers.deserialize(cfg, custom_objects={"HalfLife": HalfLife})
    assert opt2.learning_rate == 0.1
    opt2.iterations = 10
    assert opt2.learning_rate == pytest.approx(0.05)
    with fastnn.saving.custom_object_scope({"HalfLife": HalfLife}):
        assert isinstance(optimizers.deserialize(cfg)._learning_rate, HalfLife)


def test_base_class_contract():
    class NoCall(S.LearningRateSchedule):
        pass

    with pytest.raises(NotImplementedError, match="NoCall.*__call__"):
        NoCall()(0)
    with pytest.raises(NotImplementedError, match="NoCall.*get_config"):
        NoCall().get_config()
    assert "HalfLife" in repr(HalfLife(0.1, 2))
    with pytest.raises(TypeError, match="serialize expects a LearningRateSchedule"):
        S.serialize(0.1)
    with pytest.raises(ValueError, match="'class_name'"):
        S.deserialize({"config": {}})


# ------------------------------------------------------------------------- bad arguments
@pytest.mark.parametrize(
    "make,match",
    [
        (lambda: S.ExponentialDecay(0.1, 0, 0.9), r"decay_steps.*> 0.*decay_steps=0"),
        (lambda: S.ExponentialDecay(0.1, -5, 0.9), r"decay_steps=-5"),
        (lambda: S.ExponentialDecay(0.1, "10", 0.9), r"decay_steps.*finite number.*'10'"),
        (lambda: S.ExponentialDecay(0.1, 10, -0.5), r"decay_rate=-0.5"),
        (lambda: S.ExponentialDecay(-0.1, 10, 0.5), r"initial_learning_rate=-0.1"),
        (lambda: S.ExponentialDecay(float("nan"), 10, 0.5), r"initial_learning_rate=nan"),
        (lambda: S.InverseTimeDecay(0.1, 0.0, 0.5), r"decay_steps=0.0"),
        (lambda: S.PolynomialDecay(0.1, 0), r"decay_steps=0"),
        (lambda: S.PolynomialDecay(0.1, 10, power=-1), r"power=-1"),
        (lambda: S.PolynomialDecay(0.1, 10, end_learning_rate=-1e-3), r"end_learning_rate=-0.001"),
        (lambda: S.CosineDecay(0.1, 0), r"decay_steps=0"),
        (lambda: S.CosineDecay(0.1, 10, alpha=1.5), r"alpha=1.5"),
        (lambda: S.CosineDecay(0.1, 10, warmup_target=-1.0), r"warmup_target=-1.0"),
        (lambda: S.CosineDecay(0.1, 10, warmup_steps=-3), r"warmup_steps=-3"),
        (lambda: S.CosineDecayRestarts(0.1, 0), r"first_decay_steps=0"),
        (lambda: S.CosineDecayRestarts(0.1, 10, t_mul=0.0), r"t_mul=0.0"),
        (lambda: S.CosineDecayRestarts(0.1, 10, m_mul=-1.0), r"m_mul=-1.0"),
        (lambda: S.PiecewiseConstantDecay([10, 20], [1.0, 0.5]), r"length of boundaries.*\[10, 20\].*length 2"),
        (lambda: S.PiecewiseConstantDecay([], [1.0]), r"at least one"),
        (lambda: S.PiecewiseConstantDecay([20, 10], [1.0, 0.5, 0.1]), r"strictly increasing.*\[20, 10\]"),
        (lambda: S.PiecewiseConstantDecay([10], [1.0, -0.5]), r"values\[1\]=-0.5"),
    ],
)
def test_bad_arguments(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_bad_argument_types():
    with pytest.raises(TypeError, match="staircase.*bool.*'yes'"):
        S.ExponentialDecay(0.1, 10, 0.5, staircase="yes")
    with pytest.raises(TypeError, match="cycle"):
        S.PolynomialDecay(0.1, 10, cycle=1)
    with pytest.raises(TypeError, match="boundaries.*list"):
        S.PiecewiseConstantDecay(10, [1.0, 0.5])
    with pytest.raises(TypeError, match="values.*list"):
        S.PiecewiseConstantDecay([10], "ab")


def test_shrinking_restarts_end_with_a_clear_error():
    s = S.CosineDecayRestarts(0.1, first_decay_steps=10, t_mul=0.5)
    assert s(10) == s(15) == pytest.approx(0.1)  # periods of 10, 5, 2.5, ... steps: restarts at 10, 15
    with pytest.raises(ValueError, match=r"t_mul=0.5 < 1.*20 steps.*step=25"):
        s(25)
    assert math.isfinite(s(19))
