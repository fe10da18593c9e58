"""fastnn.optimizers: 50-step trajectories against torch.optim where the formulas coincide and
against a float64 NumPy implementation of the Keras 3 formulas everywhere (default epsilons,
clipping, weight decay, schedules, Keras 2 lr= and decay=), state save/restore, bad arguments,
and thread-count independence.

Where Keras 3 and torch differ (see the optimizer docstrings):
  SGD momentum: Keras v = mu v - lr g, w += v; torch b = mu b + g, w -= lr b. The same for a
      constant learning rate (v = -lr b); Nesterov likewise.
  SGD weight_decay: Keras decays w before the step (w -= w wd lr); torch adds wd w to g. The same
      without momentum.
  Adagrad / RMSprop: Keras sqrt(a + eps), torch sqrt(a) + eps: compared with eps = 0.
  RMSprop momentum: Keras keeps lr inside the buffer; the same for a constant learning rate.
  Adam / AdamW: Keras folds the bias correction into the step; torch's eps is Keras's divided by
      sqrt(1 - beta_2^t): compared with eps = 0.
"""

from __future__ import annotations

import math
import warnings

import fastnn
import numpy as np
import pytest
import torch
from fastnn import optimizers
from oracle import TOL, assert_close

SHAPES = [(1,), (7,), (13, 31), (2, 3, 7), (1031,)]
STEPS = 50


def make_problem(seed: int = 0, shapes=SHAPES, steps: int = STEPS, scale: float = 1.0):
    rng = np.random.default_rng(seed)
    params = [rng.standard_normal(s).astype(np.float32) for s in shapes]
    grads = [[(scale * rng.standard_normal(s)).astype(np.float32) for s in shapes] for _ in range(steps)]
    return params, grads


def run_fastnn(opt, params, grads):
    """Trajectory of fastnn params (list over steps of lists of arrays)."""
    ts = [fastnn.tensor(p.copy()) for p in params]
    ids = [id(t._data) for t in ts]
    traj = []
    for gs in grads:
        opt.apply_gradients(zip([fastnn.tensor(g.copy()) for g in gs], ts))
        traj.append([t.numpy().copy() for t in ts])
    assert [id(t._data) for t in ts] == ids, "the variables' storage must be updated in place"
    assert opt.iterations == len(grads)
    return traj


def run_torch(make_opt, params, grads):
    ps = [torch.tensor(p.copy(), requires_grad=True) for p in params]
    opt = make_opt(ps)
    traj = []
    for gs in grads:
        for p, g in zip(ps, gs):
            p.grad = torch.from_numpy(g.copy())
        opt.step()
        traj.append([p.detach().numpy().copy() for p in ps])
    return traj


# ---------------------------------------------------------------------------- the Keras reference
def keras_reference(kind: str, params, grads, **cfg):
    """Keras 3 update rules in float64 (keras/src/optimizers/*.py and base_optimizer.py)."""
    lr0 = cfg.get("learning_rate", 0.01 if kind == "sgd" else 0.001)
    decay = cfg.get("decay", 0.0)
    wd = cfg.get("weight_decay", 0.004 if kind == "adamw" else None)
    clipnorm, clipvalue, gclip = cfg.get("clipnorm"), cfg.get("clipvalue"), cfg.get("global_clipnorm")
    eps = cfg.get("epsilon", 1e-7)
    ws = [p.astype(np.float64) for p in params]
    st = [dict() for _ in ws]
    traj = []
    for t, gs in enumerate(grads):
        lr = lr0(t) if callable(lr0) else lr0
        lr = lr / (1.0 + decay * t)
        gs = [g.astype(np.float64) for g in gs]
        if clipnorm:
            gs = [g * clipnorm / max(np.sqrt(np.sum(g * g)), clipnorm) for g in gs]
        elif gclip:
            norm = np.sqrt(sum(np.sum(g * g) for g in gs))
            gs = [g * gclip * min(1.0 / norm, 1.0 / gclip) for g in gs]
        elif clipvalue:
            gs = [np.clip(g, -clipvalue, clipvalue) for g in gs]
        for i, (w, g) in enumerate(zip(ws, gs)):
            s = st[i]
            if wd:
                w = w - w * wd * lr
            if kind == "sgd":
                mu = cfg.get("momentum", 0.0)
                if mu:
                    v = s.get("v", 0.0) * mu - g * lr
                    s["v"] = v
                    w = w + (v * mu - g * lr if cfg.get("nesterov") else v)
                else:
                    w = w - g * lr
            elif kind == "adagrad":
                a = s.get("a", cfg.get("initial_accumulator_value", 0.1)) + g * g
                s["a"] = a
                w = w - lr * g / np.sqrt(a + eps)
            elif kind == "rmsprop":
                rho, mu = cfg.get("rho", 0.9), cfg.get("momentum", 0.0)
                v = rho * s.get("v", 0.0) + (1 - rho) * g * g
                s["v"] = v
                if cfg.get("centered"):
                    ga = rho * s.get("ga", 0.0) + (1 - rho) * g
                    s["ga"] = ga
                    den = v - ga * ga + eps
                else:
                    den = v + eps
                inc = lr * g / np.sqrt(den)
                if mu > 0:
                    m = mu * s.get("m", 0.0) + inc
                    s["m"] = m
                    w = w - m
                else:
                    w = w - inc
            elif kind in ("adam", "adamw"):
                b1, b2 = cfg.get("beta_1", 0.9), cfg.get("beta_2", 0.999)
                m = s.get("m", 0.0) + (g - s.get("m", 0.0)) * (1 - b1)
                v = s.get("v", 0.0) + (g * g - s.get("v", 0.0)) * (1 - b2)
                s["m"], s["v"] = m, v
                if cfg.get("amsgrad"):
                    v = np.maximum(s.get("vh", 0.0), v)
                    s["vh"] = v
                alpha = lr * math.sqrt(1 - b2 ** (t + 1)) / (1 - b1 ** (t + 1))
                w = w - alpha * m / (np.sqrt(v) + eps)
            ws[i] = w
        traj.append([w.copy() for w in ws])
    return traj


CLASSES = {
    "sgd": optimizers.SGD,
    "adagrad": optimizers.Adagrad,
    "rmsprop": optimizers.RMSprop,
    "adam": optimizers.Adam,
    "adamw": optimizers.AdamW,
}


def flat(traj) -> np.ndarray:
    """A trajectory (steps of lists of arrays) as one (steps, total size) array."""
    return np.stack([np.concatenate([np.ravel(a) for a in step]) for step in traj])


def compare(name, got, want, tol=None):
    """Every step of two trajectories; on failure the message names the first bad step."""
    tol = tol or TOL["optimizer"]
    g, w = flat(got), flat(want).astype(np.float32)
    bad = ~np.isclose(g, w, rtol=tol["rtol"], atol=tol["atol"], equal_nan=True)
    first = int(np.argmax(bad.any(axis=1))) if bad.any() else None
    assert_close(g, w, name, f"trajectory (first bad step {first})" if first is not None else "trajectory", **tol)


# ---------------------------------------------------------------------------- against torch
TORCH_CASES = [
    ("sgd", dict(learning_rate=0.1), lambda ps: torch.optim.SGD(ps, lr=0.1)),
    ("sgd", dict(learning_rate=0.05, momentum=0.9), lambda ps: torch.optim.SGD(ps, lr=0.05, momentum=0.9)),
    (
        "sgd",
        dict(learning_rate=0.05, momentum=0.9, nesterov=True),
        lambda ps: torch.optim.SGD(ps, lr=0.05, momentum=0.9, nesterov=True),
    ),
    ("sgd", dict(learning_rate=0.1, weight_decay=0.05), lambda ps: torch.optim.SGD(ps, lr=0.1, weight_decay=0.05)),
    (
        "adagrad",
        dict(learning_rate=0.1, epsilon=0.0),
        lambda ps: torch.optim.Adagrad(ps, lr=0.1, eps=0.0, initial_accumulator_value=0.1),
    ),
    ("rmsprop", dict(learning_rate=0.01, epsilon=0.0), lambda ps: torch.optim.RMSprop(ps, lr=0.01, alpha=0.9, eps=0.0)),
    (
        "rmsprop",
        dict(learning_rate=0.01, rho=0.8, momentum=0.5, centered=True, epsilon=0.0),
        lambda ps: torch.optim.RMSprop(ps, lr=0.01, alpha=0.8, eps=0.0, momentum=0.5, centered=True),
    ),
    (
        "rmsprop",
        dict(learning_rate=0.01, momentum=0.9, epsilon=0.0),
        lambda ps: torch.optim.RMSprop(ps, lr=0.01, alpha=0.9, eps=0.0, momentum=0.9),
    ),
    ("adam", dict(learning_rate=0.01, epsilon=0.0), lambda ps: torch.optim.Adam(ps, lr=0.01, eps=0.0)),
    (
        "adam",
        dict(learning_rate=0.01, beta_1=0.8, beta_2=0.99, epsilon=0.0, amsgrad=True),
        lambda ps: torch.optim.Adam(ps, lr=0.01, betas=(0.8, 0.99), eps=0.0, amsgrad=True),
    ),
    (
        "adamw",
        dict(learning_rate=0.01, weight_decay=0.1, epsilon=0.0),
        lambda ps: torch.optim.AdamW(ps, lr=0.01, weight_decay=0.1, eps=0.0),
    ),
]


@pytest.mark.parametrize("kind,cfg,make_torch", TORCH_CASES, ids=[f"{k}-{i}" for i, (k, _, _) in enumerate(TORCH_CASES)])
def test_against_torch(kind, cfg, make_torch):
    params, grads = make_problem(seed=1)
    got = run_fastnn(CLASSES[kind](**cfg), params, grads)
    want = run_torch(make_torch, params, grads)
    compare(f"{kind} vs torch", got, want)


# ---------------------------------------------------------------------------- against the Keras formulas
KERAS_CASES = [
    ("sgd", dict()),
    ("sgd", dict(learning_rate=0.05, momentum=0.9)),
    ("sgd", dict(learning_rate=0.05, momentum=0.9, nesterov=True, weight_decay=0.01)),
    ("adagrad", dict()),
    ("adagrad", dict(learning_rate=0.1, initial_accumulator_value=0.0, epsilon=1e-3)),
    ("rmsprop", dict()),
    ("rmsprop", dict(momentum=0.9)),
    ("rmsprop", dict(centered=True, rho=0.95)),
    ("rmsprop", dict(centered=True, momentum=0.5, weight_decay=0.1)),
    ("adam", dict()),
    ("adam", dict(amsgrad=True, epsilon=1e-3)),
    ("adam", dict(learning_rate=0.01, weight_decay=0.02)),
    ("adamw", dict()),
    ("adamw", dict(weight_decay=0.1, amsgrad=True)),
    ("sgd", dict(learning_rate=0.1, clipnorm=1.0)),
    ("adam", dict(clipnorm=0.5)),
    ("sgd", dict(learning_rate=0.1, global_clipnorm=2.0)),
    ("rmsprop", dict(global_clipnorm=1.0, momentum=0.9)),
    ("sgd", dict(learning_rate=0.1, clipvalue=0.5)),
    ("adagrad", dict(clipvalue=0.1)),
    ("adam", dict(learning_rate=lambda t: 0.01 * 0.9**t)),
    ("sgd", dict(learning_rate=lambda t: 0.1 / (1 + t), momentum=0.5)),
]


@pytest.mark.parametrize("kind,cfg", KERAS_CASES, ids=[f"{k}-{i}" for i, (k, _) in enumerate(KERAS_CASES)])
def test_against_keras_formula(kind, cfg):
    params, grads = make_problem(seed=2)
    got = run_fastnn(CLASSES[kind](**cfg), params, grads)
    want = keras_reference(kind, params, grads, **cfg)
    compare(f"{kind} vs keras", got, want)


def test_zero_argument_schedule():
    """A Keras 3 style callable with no argument is called as it is each step."""
    calls = []

    def lr():
        calls.append(1)
        return 0.1

    params, grads = make_problem(seed=3, steps=5)
    got = run_fastnn(optimizers.SGD(learning_rate=lr), params, grads)
    compare("sgd callable lr", got, keras_reference("sgd", params, grads, learning_rate=0.1))
    assert len(calls) == 5


def test_clipping_leaves_gradients_untouched():
    params, grads = make_problem(seed=4, steps=3)
    opt = optimizers.Adam(clipvalue=0.1)
    w = fastnn.tensor(params[2].copy())
    g = fastnn.tensor(grads[0][2].copy())
    opt.apply_gradients([(g, w)])
    np.testing.assert_array_equal(g.numpy(), grads[0][2])


def test_clipnorm_of_zero_gradient_and_global_norm_scale():
    w = fastnn.tensor(np.ones(5, np.float32))
    optimizers.SGD(learning_rate=1.0, clipnorm=1.0).apply_gradients([(np.zeros(5, np.float32), w)])
    np.testing.assert_array_equal(w.numpy(), np.ones(5, np.float32))
    # two gradients of norm 3 and 4: global norm 5, clipped to 1 -> each scaled by 1/5
    a, b = fastnn.tensor(np.zeros(1, np.float32)), fastnn.tensor(np.zeros(1, np.float32))
    optimizers.SGD(learning_rate=1.0, global_clipnorm=1.0).apply_gradients(
        [(np.array([3.0], np.float32), a), (np.array([4.0], np.float32), b)]
    )
    np.testing.assert_allclose([a.item(), b.item()], [-0.6, -0.8], rtol=1e-6)


def test_sum_squares():
    x = np.random.default_rng(0).standard_normal(100_003).astype(np.float32)
    got = fastnn._C.sum_squares(x)
    want = float(np.sum(x.astype(np.float64) ** 2))
    assert abs(got - want) <= 1e-6 * want
    assert fastnn._C.sum_squares(np.zeros(0, np.float32)) == 0.0


# ---------------------------------------------------------------------------- Keras 2 arguments
def test_lr_alias_warns():
    with pytest.warns(DeprecationWarning, match="learning_rate=0.003"):
        opt = optimizers.SGD(lr=0.003)
    assert opt.learning_rate == 0.003
    params, grads = make_problem(seed=5, steps=5)
    compare("sgd lr=", run_fastnn(opt, params, grads), keras_reference("sgd", params, grads, learning_rate=0.003))
    with pytest.raises(ValueError, match="lr=0.2"), pytest.warns(DeprecationWarning):
        optimizers.SGD(learning_rate=0.1, lr=0.2)


@pytest.mark.parametrize("kind", ["sgd", "adam", "rmsprop"])
def test_decay_keras2_meaning(kind):
    with pytest.warns(DeprecationWarning, match="InverseTimeDecay"):
        opt = CLASSES[kind](learning_rate=0.05, decay=0.1)
    params, grads = make_problem(seed=6)
    got = run_fastnn(opt, params, grads)
    compare(f"{kind} decay=", got, keras_reference(kind, params, grads, learning_rate=0.05, decay=0.1))
    # the config keeps it, and from_config does not warn again
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        again = type(opt).from_config(opt.get_config())
    assert again.decay == 0.1


# ---------------------------------------------------------------------------- state
@pytest.mark.parametrize(
    "kind,cfg",
    [("sgd", dict(momentum=0.9)), ("adagrad", {}), ("rmsprop", dict(momentum=0.5, centered=True)),
     ("adam", dict(amsgrad=True)), ("adamw", {})],
)
def test_state_roundtrip_continues_exactly(kind, cfg):
    params, grads = make_problem(seed=7)
    full = run_fastnn(CLASSES[kind](**cfg), params, grads)

    opt = CLASSES[kind](**cfg)
    ts = [fastnn.tensor(p.copy()) for p in params]
    for gs in grads[:25]:
        opt.apply_gradients(zip([fastnn.tensor(g) for g in gs], ts))
    state = opt.get_weights()
    saved = [t.numpy().copy() for t in ts]
    assert state[0].shape == () and int(state[0]) == 25
    store = {}
    opt.save_own_variables(store)

    ts2 = [fastnn.tensor(p.copy()) for p in saved]
    opt2 = CLASSES[kind].from_config(opt.get_config())
    opt2.build(ts2)
    opt2.load_own_variables(store)
    assert opt2.iterations == 25
    for gs in grads[25:]:
        opt2.apply_gradients(zip([fastnn.tensor(g) for g in gs], ts2))
    for a, b in zip(ts2, full[-1]):
        np.testing.assert_array_equal(a.numpy(), b)


def test_set_weights_errors():
    opt = optimizers.Adam()
    with pytest.raises(ValueError, match="build"):
        opt.set_weights([np.array(3)])
    w = fastnn.tensor(np.zeros((2, 3), np.float32))
    opt.build([w])
    with pytest.raises(ValueError, match=r"\(2, 3\)"):
        opt.set_weights([np.array(3), np.zeros((3, 2)), np.zeros((2, 3))])
    opt.set_weights([np.array(3), np.ones((2, 3)), np.ones((2, 3))])
    assert opt.iterations == 3
    assert len(opt.variables) == 3


# ---------------------------------------------------------------------------- get / config
def test_get_and_config():
    for name, cls in CLASSES.items():
        assert type(optimizers.get(name)) is cls
        assert type(optimizers.get(cls.__name__)) is cls
        opt = cls(learning_rate=0.5)
        assert optimizers.get(opt) is opt
        again = optimizers.deserialize(optimizers.serialize(opt))
        assert type(again) is cls and again.get_config() == opt.get_config()
    sgd = optimizers.get({"class_name": "SGD", "config": {"learning_rate": 0.1, "momentum": 0.9}})
    assert sgd.momentum == 0.9 and sgd.learning_rate == 0.1
    # Keras 3 defaults
    assert optimizers.SGD().learning_rate == 0.01
    a = optimizers.Adam()
    assert (a.learning_rate, a.beta_1, a.beta_2, a.epsilon, a.amsgrad) == (0.001, 0.9, 0.999, 1e-7, False)
    r = optimizers.RMSprop()
    assert (r.learning_rate, r.rho, r.momentum, r.epsilon, r.centered) == (0.001, 0.9, 0.0, 1e-7, False)
    g = optimizers.Adagrad()
    assert (g.learning_rate, g.initial_accumulator_value, g.epsilon) == (0.001, 0.1, 1e-7)
    assert optimizers.AdamW().weight_decay == 0.004


# ---------------------------------------------------------------------------- bad arguments
@pytest.mark.parametrize(
    "make,match",
    [
        (lambda: optimizers.SGD(learning_rate=-0.1), "learning_rate=-0.1"),
        (lambda: optimizers.Adam(learning_rate="fast"), "learning_rate='fast'"),
        (lambda: optimizers.SGD(momentum=1.5), "momentum=1.5"),
        (lambda: optimizers.SGD(momentum=-0.1), "momentum=-0.1"),
        (lambda: optimizers.RMSprop(momentum=2.0), "momentum=2.0"),
        (lambda: optimizers.RMSprop(rho=1.1), "rho=1.1"),
        (lambda: optimizers.Adam(beta_1=1.0), "beta_1=1.0"),
        (lambda: optimizers.Adam(epsilon=-1e-7), "epsilon=-1e-07"),
        (lambda: optimizers.Adagrad(initial_accumulator_value=-1.0), "initial_accumulator_value=-1.0"),
        (lambda: optimizers.SGD(clipnorm=1.0, clipvalue=1.0), "only one of"),
        (lambda: optimizers.SGD(clipnorm=-1.0), "clipnorm=-1.0"),
        (lambda: optimizers.AdamW(weight_decay=None), "weight_decay=None"),
        (lambda: optimizers.SGD(weight_decay=-0.1), "weight_decay=-0.1"),
        (lambda: optimizers.Adam(foo=1), "foo"),
        (lambda: optimizers.get("adamx"), "'adamx'"),
        (lambda: optimizers.get(42), "42"),
        (lambda: optimizers.get({"class_name": "Nope", "config": {}}), "'Nope'"),
    ],
)
def test_bad_arguments(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_bad_gradients():
    w = fastnn.tensor(np.zeros((3, 4), np.float32))
    opt = optimizers.Adam()
    with pytest.raises(ValueError, match=r"\(4, 3\).*\(3, 4\)"):
        opt.apply_gradients([(np.zeros((4, 3), np.float32), w)])
    with pytest.raises(TypeError, match="float32"):
        opt.apply_gradients([(np.zeros(3, np.float32), fastnn.tensor(np.zeros(3, np.int64)))])
    with pytest.raises(ValueError, match="no gradients"):
        opt.apply_gradients([(None, w)])
    with pytest.raises(ValueError, match="2 gradients for 1 variables"):
        opt.apply([np.zeros((3, 4), np.float32)] * 2, [w])
    v = fastnn.tensor(np.zeros(2, np.float32))
    with pytest.warns(UserWarning, match="gradients do not exist"):
        opt.apply_gradients([(np.ones((3, 4), np.float32), w), (None, v)])
    assert opt.iterations == 1
    ro = np.zeros(3, np.float32)
    ro.flags.writeable = False
    with pytest.raises(ValueError, match="read-only"):
        fastnn._C.sgd_update(ro, None, np.zeros(3, np.float32), 0.1, 0.0, False, 1.0, math.inf, 0.0)


def test_apply_without_variables_uses_built_ones():
    params, grads = make_problem(seed=8, steps=3)
    ts = [fastnn.tensor(p.copy()) for p in params]
    opt = optimizers.SGD(learning_rate=0.1)
    with pytest.raises(ValueError, match="build"):
        opt.apply(grads[0])
    opt.build(ts)
    opt.apply(grads[0])
    for t, p, g in zip(ts, params, grads[0]):
        np.testing.assert_allclose(t.numpy(), p - 0.1 * g, **TOL["elementwise"])


# ---------------------------------------------------------------------------- threads
@pytest.mark.parametrize(
    "kind,cfg",
    [("sgd", dict(momentum=0.9, nesterov=True, weight_decay=0.01)), ("adagrad", dict(clipvalue=0.5)),
     ("rmsprop", dict(momentum=0.9, centered=True)), ("adam", dict(amsgrad=True, clipnorm=1.0)),
     ("adamw", dict(global_clipnorm=10.0))],
)
def test_threads_bit_identical(kind, cfg):
    params, grads = make_problem(seed=9, shapes=[(1000, 301)], steps=3)
    out = []
    for n in (1, 2):
        fastnn.set_num_threads(n)
        out.append(run_fastnn(CLASSES[kind](**cfg), params, grads))
    for a, b in zip(out[0][-1], out[1][-1]):
        np.testing.assert_array_equal(a, b)
    x = grads[0][0]
    fastnn.set_num_threads(1)
    s1 = fastnn._C.sum_squares(x)
    fastnn.set_num_threads(2)
    assert fastnn._C.sum_squares(x) == s1


# ---------------------------------------------------------------------------- CUDA
@pytest.mark.cuda
@pytest.mark.skipif(not fastnn.cuda.is_available(), reason="needs a CUDA device")
@pytest.mark.parametrize(
    "kind,cfg",
    [("sgd", dict(momentum=0.9, nesterov=True)), ("adagrad", {}), ("rmsprop", dict(momentum=0.5, centered=True)),
     ("adam", dict(amsgrad=True, clipnorm=1.0)), ("adamw", dict(global_clipnorm=1.0))],
)
def test_cuda_matches_cpu(kind, cfg):
    params, grads = make_problem(seed=10, steps=10)
    cpu = run_fastnn(CLASSES[kind](**cfg), params, grads)
    opt = CLASSES[kind](**cfg)
    ts = [fastnn.tensor(p.copy(), device="cuda") for p in params]
    for gs in grads:
        opt.apply_gradients(zip([fastnn.tensor(g, device="cuda") for g in gs], ts))
    for t, want in zip(ts, cpu[-1]):
        assert_close(t.numpy(), want, f"{kind} cuda", "vs cpu", **TOL["optimizer"])
