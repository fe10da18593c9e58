"""The regression, probabilistic, hinge, focal and similarity losses (per-sample results, Keras
semantics) against torch's own losses where torch has them and otherwise against torch ops
composing Keras's formula; forward and the gradient to y_pred (and to y_true where it exists)."""

import math

import fastnn
import fastnn.functional as F
import numpy as np
import pytest
import torch
import torch.nn.functional as TF
from oracle import TOL, assert_close, check_op, rand, randn

SHAPES = [(1, 1), (7,), (6, 5), (13, 17), (3, 4, 7), (2, 1031)]
EPS = 1e-7
TT = TOL["transcendental"]


def _signed(*shape, seed=0):
    """Values of both signs, away from 0 (a divisor for mape)."""
    r = np.random.default_rng(seed)
    return (r.uniform(0.5, 2.0, shape) * r.choice([-1.0, 1.0], shape)).astype(np.float32)


def _pm1(*shape, seed=0):
    return np.random.default_rng(seed).choice([-1.0, 1.0], shape).astype(np.float32)


# ---------------------------------------------------------------------- regression
@pytest.mark.parametrize("shape", SHAPES)
def test_mape(shape):
    t, p = _signed(*shape, seed=1), randn(*shape, seed=2)
    check_op(
        lambda a, b: F.mean_absolute_percentage_error(a, b),
        lambda a, b: (100 * ((a - b) / torch.clamp_min(a.abs(), EPS)).abs()).mean(-1),
        [t, p], name="mape", tol=TT, grad=[False, True],
    )


def test_mape_zero_target_uses_epsilon():
    t = np.array([[0.0, 2.0]], np.float32)
    p = np.array([[1e-6, 1.0]], np.float32)
    want = 100 * (abs(-1e-6) / 1e-7 + 0.5) / 2
    assert F.mape(t, p).item() == pytest.approx(want, rel=1e-5)


@pytest.mark.parametrize("shape", SHAPES)
def test_msle(shape):
    t = rand(*shape, low=0.0, high=4.0, seed=3)
    p = rand(*shape, low=-0.5, high=4.0, seed=4)  # negatives count as epsilon, no gradient there
    check_op(
        lambda a, b: F.mean_squared_logarithmic_error(a, b),
        lambda a, b: ((torch.log1p(torch.clamp_min(b, EPS)) - torch.log1p(torch.clamp_min(a, EPS))) ** 2).mean(-1),
        [t, p], name="msle", tol=TT, grad=[False, True],
    )


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("delta", [1.0, 0.3, 2.5])
def test_huber(shape, delta):
    t, p = randn(*shape, seed=5) * 2, randn(*shape, seed=6) * 2
    check_op(
        lambda a, b: F.huber(a, b, delta=delta),
        lambda a, b: TF.huber_loss(b, a, reduction="none", delta=delta).mean(-1),
        [t, p], name="huber", tol=TOL["reduction"](shape[-1]),
    )


@pytest.mark.parametrize("shape", SHAPES)
def test_log_cosh(shape):
    t, p = randn(*shape, seed=7) * 3, randn(*shape, seed=8) * 3
    check_op(
        lambda a, b: F.log_cosh(a, b),
        lambda a, b: torch.log(torch.cosh(b - a)).mean(-1),
        [t, p], name="log_cosh", tol=TT,
    )


def test_log_cosh_large_errors_do_not_overflow():
    p = np.array([[1e4, -1e4, 100.0, 0.0]], np.float32)
    x = fastnn.tensor(p, requires_grad=True)
    per = F.log_cosh(np.zeros_like(p), x)
    want = (1e4 + 1e4 + 100.0 - 3 * math.log(2.0)) / 4
    assert np.isfinite(per.numpy()).all() and per.item() == pytest.approx(want, rel=1e-6)
    per.backward()
    np.testing.assert_allclose(x.grad.numpy(), [[0.25, -0.25, 0.25, 0.0]], atol=1e-7)


@pytest.mark.parametrize("shape", SHAPES)
def test_cosine_similarity(shape):
    t, p = randn(*shape, seed=9), randn(*shape, seed=10)
    if shape[-1] == 1:
        t, p = np.abs(t) + 0.1, np.abs(p) + 0.1  # 1-d vectors: +-1 only
    check_op(
        lambda a, b: F.cosine_similarity(a, b),
        lambda a, b: -TF.cosine_similarity(b, a, dim=-1, eps=EPS),
        [t, p], name="cosine_similarity", tol=TT, grad=[False, True],
    )


def _keras_cosine(t, p):
    """Keras's formula: x * min(rsqrt(sum x^2), 1 / eps), written with a clamp so that the
    capped branch has the zero gradient of a constant."""
    def norm(v):
        return v * torch.rsqrt(torch.clamp_min((v * v).sum(-1, keepdim=True), EPS * EPS))

    return -(norm(t) * norm(p)).sum(-1)


def test_cosine_zero_vectors():
    t = np.array([[0.0, 0.0, 0.0], [1.0, 2.0, 2.0], [0.0, 0.0, 0.0], [3.0, 0.0, 4.0]], np.float32)
    p = np.array([[1.0, 2.0, 3.0], [0.0, 0.0, 0.0], [0.0, 0.0, 0.0], [1e-9, 0.0, 0.0]], np.float32)
    out = check_op(lambda a, b: F.cosine_similarity(a, b), _keras_cosine, [t, p], name="cosine zero",
                   tol=TT, grad=[False, True])
    np.testing.assert_array_equal(out.numpy()[:3], [0.0, 0.0, 0.0])


def test_cosine_keras_example():
    got = F.cosine_similarity([[0.0, 1.0], [1.0, 1.0], [1.0, 1.0]],
                              np.array([[1.0, 0.0], [1.0, 1.0], [-1.0, -1.0]], np.float32)).numpy()
    np.testing.assert_allclose(got, [0.0, -0.99999994, 0.99999994], atol=1e-7)


# ---------------------------------------------------------------------- probabilistic
@pytest.mark.parametrize("shape", SHAPES)
def test_poisson(shape):
    t = rand(*shape, low=0.0, high=5.0, seed=11)
    p = rand(*shape, low=0.05, high=5.0, seed=12)
    check_op(
        lambda a, b: F.poisson(a, b),
        # Keras's epsilon is 1e-7 (torch's default 1e-8): passed explicitly
        lambda a, b: TF.poisson_nll_loss(b, a, log_input=False, full=False, eps=EPS, reduction="none").mean(-1),
        [t, p], name="poisson", tol=TT, grad=[False, True],
    )


@pytest.mark.parametrize("shape", SHAPES)
def test_kl_divergence(shape):
    t = rand(*shape, low=0.01, high=1.0, seed=13)
    p = rand(*shape, low=0.01, high=1.0, seed=14)
    check_op(
        lambda a, b: F.kl_divergence(a, b),
        lambda a, b: TF.kl_div(torch.log(b), a, reduction="none").sum(-1),
        [t, p], name="kl_divergence", tol=TT,
        grad=[False, True],
    )


def test_kl_divergence_clipped_edges():
    t = np.array([[0.0, 1.0, 0.5, 0.2], [1.0, 0.0, 1.5, -0.1]], np.float32)
    p = np.array([[0.3, 0.0, 1.0, 1.2], [1e-9, 1.0, 0.5, 0.4]], np.float32)

    def ref(a, b):
        a, b = torch.clamp(a, EPS, 1.0), torch.clamp(b, EPS, 1.0)
        return (a * torch.log(a / b)).sum(-1)

    out = check_op(lambda a, b: F.kl_divergence(a, b), ref, [t, p], name="kld edges", tol=TT, grad=[False, True])
    assert np.isfinite(out.numpy()).all()


def _focal_ref(t, x, gamma, alpha, balance, logits):
    """Keras's binary focal cross-entropy in torch ops; on logits the torchvision
    sigmoid_focal_loss form (bce with logits, the factor from sigmoid(x))."""
    if logits:
        p = torch.sigmoid(x)
        ce = TF.binary_cross_entropy_with_logits(x, t, reduction="none")
    else:
        p = x
        c = torch.clamp(x, EPS, 1 - EPS)
        ce = -(t * torch.log(c) + (1 - t) * torch.log(1 - c))
    loss = (1 - (t * p + (1 - t) * (1 - p))) ** gamma * ce
    if balance:
        loss = (t * alpha + (1 - t) * (1 - alpha)) * loss
    return loss.mean(-1)


FOCAL = [(2.0, 0.25, False), (2.0, 0.25, True), (0.0, 0.25, False), (1.5, 0.6, True), (3.0, 0.1, True)]


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("gamma,alpha,balance", FOCAL)
def test_focal_probabilities(shape, gamma, alpha, balance):
    t = (rand(*shape, seed=15) > 0).astype(np.float32)
    p = rand(*shape, low=0.02, high=0.98, seed=16)
    check_op(
        lambda a, b: F.binary_focal_crossentropy(a, b, apply_class_balancing=balance, alpha=alpha, gamma=gamma),
        lambda a, b: _focal_ref(a, b, gamma, alpha, balance, False),
        [t, p], name="binary_focal", tol=TT, grad=[False, True],
    )


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("gamma,alpha,balance", FOCAL)
def test_focal_logits(shape, gamma, alpha, balance):
    t = (rand(*shape, seed=17) > 0).astype(np.float32)
    x = randn(*shape, seed=18) * 4
    x.flat[0] = 1e4
    if x.size > 1:
        x.flat[1] = -1e4
    out = check_op(
        lambda a, b: F.binary_focal_crossentropy(a, b, apply_class_balancing=balance, alpha=alpha, gamma=gamma,
                                                 from_logits=True),
        lambda a, b: _focal_ref(a, b, gamma, alpha, balance, True),
        [t, x], name="binary_focal logits", tol=TT, grad=[False, True],
    )
    assert np.isfinite(out.numpy()).all()


def test_focal_edges_and_smoothing():
    # probabilities exactly 0 and 1: the bce is clipped at 1e-7, the focal factor is not
    p = np.array([[0.0, 1.0, 0.0, 1.0, 0.5]], np.float32)
    t = np.array([[1.0, 0.0, 0.0, 1.0, 1.0]], np.float32)
    out = check_op(lambda a, b: F.binary_focal_crossentropy(a, b),
                   lambda a, b: _focal_ref(a, b, 2.0, 0.25, False, False),
                   [t, p], name="focal edges", tol=TT, grad=[False, True])
    assert np.isfinite(out.numpy()).all()
    ls = 0.2
    t2, p2 = (rand(4, 6, seed=19) > 0).astype(np.float32), rand(4, 6, low=0.05, high=0.95, seed=20)
    check_op(
        lambda a, b: F.binary_focal_crossentropy(a, b, label_smoothing=ls, apply_class_balancing=True),
        lambda a, b: _focal_ref(a * (1 - ls) + 0.5 * ls, b, 2.0, 0.25, True, False),
        [t2, p2], name="focal ls", tol=TT, grad=[False, True],
    )
    # gamma = 0 is the binary cross-entropy
    np.testing.assert_allclose(F.binary_focal_crossentropy(t2, p2, gamma=0.0).numpy(),
                               F.binary_crossentropy(t2, p2).numpy(), rtol=1e-6)


def test_focal_keras_example():
    got = F.binary_focal_crossentropy([[0, 1], [0, 0]], np.array([[0.6, 0.4], [0.4, 0.6]], np.float32), gamma=2)
    np.testing.assert_allclose(got.numpy(), [0.330, 0.206], atol=5e-4)


# ---------------------------------------------------------------------- hinge
@pytest.mark.parametrize("shape", SHAPES)
def test_hinge(shape):
    t, p = _pm1(*shape, seed=21), randn(*shape, seed=22) * 2
    check_op(lambda a, b: F.hinge(a, b), lambda a, b: torch.relu(1 - a * b).mean(-1), [t, p], name="hinge",
             tol=TOL["reduction"](shape[-1]), grad=[False, True])


@pytest.mark.parametrize("shape", SHAPES)
def test_squared_hinge(shape):
    t, p = _pm1(*shape, seed=23), randn(*shape, seed=24) * 2
    check_op(lambda a, b: F.squared_hinge(a, b), lambda a, b: (torch.relu(1 - a * b) ** 2).mean(-1), [t, p],
             name="squared_hinge", tol=TOL["reduction"](shape[-1]), grad=[False, True])


@pytest.mark.parametrize("fn", [F.hinge, F.squared_hinge])
def test_hinge_label_conversion(fn):
    p = randn(5, 4, seed=25)
    labels01 = (rand(5, 4, seed=26) > 0).astype(np.float32)
    np.testing.assert_array_equal(fn(labels01, p).numpy(), fn(2 * labels01 - 1, p).numpy())
    np.testing.assert_array_equal(fn(labels01.astype(np.int64), p).numpy(), fn(2 * labels01 - 1, p).numpy())
    # not all in {0, 1}: used as they are (Keras decides over the whole batch)
    mixed = labels01.copy()
    mixed[0, 0] = 0.5
    want = torch.relu(1 - torch.from_numpy(mixed) * torch.from_numpy(p))
    want = (want if fn is F.hinge else want**2).mean(-1).numpy()
    assert_close(fn(mixed, p).numpy(), want, "hinge mixed labels", **TT)


@pytest.mark.parametrize("shape", [(1, 1), (6, 5), (13, 17), (3, 4, 7), (2, 1031)])
def test_categorical_hinge(shape):
    t = np.eye(shape[-1], dtype=np.float32)[np.random.default_rng(27).integers(0, shape[-1], shape[:-1])]
    p = randn(*shape, seed=28)
    check_op(
        lambda a, b: F.categorical_hinge(a, b),
        lambda a, b: torch.relu(((1 - a) * b).amax(-1) - (a * b).sum(-1) + 1),
        [t, p], name="categorical_hinge", tol=TT, grad=[False, True],
    )


def test_categorical_hinge_ties_and_margin():
    # two equal maxima share the gradient (as torch.amax); a satisfied margin gives 0
    t = np.array([[0, 1, 0, 0], [1, 0, 0, 0], [0, 0, 1, 0]], np.float32)
    p = np.array([[0.7, 0.2, 0.7, -1.0], [5.0, 1.0, 0.5, 0.0], [-0.5, -0.2, 0.1, -0.3]], np.float32)
    out = check_op(
        lambda a, b: F.categorical_hinge(a, b),
        lambda a, b: torch.relu(((1 - a) * b).amax(-1) - (a * b).sum(-1) + 1),
        [t, p], name="categorical_hinge ties", tol=TT, grad=[False, True],
    )
    assert out.numpy()[1] == 0.0
    assert F.categorical_hinge([[0, 1, 0]], np.array([[0.2, 0.5, 0.3]], np.float32)).item() == pytest.approx(0.8)


# ---------------------------------------------------------------------- Keras numbers
def test_keras_docstring_values():
    assert F.huber([[0, 1], [0, 0]], np.array([[0.6, 0.4], [0.4, 0.6]], np.float32)).numpy().mean() == (
        pytest.approx(0.155, abs=5e-4))
    assert F.log_cosh([[0.0, 1.0], [0.0, 0.0]], np.array([[1.0, 1.0], [0.0, 0.0]], np.float32)).numpy().mean() == (
        pytest.approx(0.108, abs=5e-4))


# ---------------------------------------------------------------------- aliases, NaN, errors
def test_function_aliases():
    assert F.mape is F.mean_absolute_percentage_error and F.msle is F.mean_squared_logarithmic_error
    assert F.kld is F.kl_divergence and F.kullback_leibler_divergence is F.kl_divergence
    assert F.logcosh is F.log_cosh


NEW = [
    ("mape", lambda t, p: F.mape(t + 1, p)),
    ("msle", lambda t, p: F.msle(np.abs(t), p)),
    ("huber", lambda t, p: F.huber(t, p)),
    ("log_cosh", lambda t, p: F.log_cosh(t, p)),
    ("cosine", lambda t, p: F.cosine_similarity(t + 1, p)),
    ("poisson", lambda t, p: F.poisson(np.abs(t), p)),
    ("kld", lambda t, p: F.kl_divergence(np.abs(t), p)),
    ("hinge", lambda t, p: F.hinge(np.sign(t), p)),
    ("squared_hinge", lambda t, p: F.squared_hinge(np.sign(t), p)),
    ("categorical_hinge", lambda t, p: F.categorical_hinge(np.eye(p.shape[-1], dtype=np.float32)[[0, 1, 2, 3]], p)),
    ("focal", lambda t, p: F.binary_focal_crossentropy((t > 0).astype(np.float32), p)),
    ("focal logits", lambda t, p: F.binary_focal_crossentropy((t > 0).astype(np.float32), p, from_logits=True)),
]


@pytest.mark.parametrize("name,fn", NEW)
def test_nan_propagates_per_sample(name, fn):
    t = rand(4, 6, seed=30)
    p = rand(4, 6, low=0.1, high=0.9, seed=31)
    p[2, 3] = np.nan
    x = fastnn.tensor(p, requires_grad=True)
    out = fn(t, x)
    assert np.isnan(out.numpy()).tolist() == [False, False, True, False], name
    out.backward(fastnn.tensor(np.ones(4, np.float32)))
    g = x.grad.numpy()
    assert np.isfinite(g[[0, 1, 3]]).all() and np.isnan(g[2]).any(), name


def test_bad_shapes_and_arguments():
    with pytest.raises(ValueError, match=r"\(4, 3\).*\(4, 2\)"):
        F.huber(rand(4, 3), rand(4, 2))
    with pytest.raises(ValueError, match=r"\(5,\).*\(5, 3\)"):
        F.cosine_similarity(rand(5), rand(5, 3))
    with pytest.raises(ValueError, match=r"\(2, 3\).*\(3, 2\)"):
        F.categorical_hinge(rand(2, 3), rand(3, 2))
    with pytest.raises(ValueError, match="delta=0.0"):
        F.huber(rand(2, 2), rand(2, 2), delta=0.0)
    with pytest.raises(ValueError, match="gamma=-1.0"):
        F.binary_focal_crossentropy(rand(2, 2), rand(2, 2), gamma=-1.0)
    with pytest.raises(ValueError, match="label_smoothing"):
        F.binary_focal_crossentropy(rand(2, 2), rand(2, 2), label_smoothing=1.5)
    with pytest.raises(ValueError, match="axis=0"):
        F.cosine_similarity(rand(2, 3), rand(2, 3), axis=0)
    with pytest.raises(ValueError, match="axis=0"):
        F.binary_crossentropy(rand(2, 3), rand(2, 3), axis=0)
    with pytest.raises(TypeError):
        F.poisson(rand(3, 2), np.arange(6).reshape(3, 2))
    from fastnn import _C

    with pytest.raises(ValueError, match="delta must be a positive"):
        _C.loss_forward("huber", rand(2, 3), rand(2, 3), delta=-1.0)
    with pytest.raises(ValueError, match="gamma must be"):
        _C.loss_backward("focal", rand(2), rand(2, 3), rand(2, 3), gamma=float("nan"))
    with pytest.raises(ValueError, match=r"kld: y_true has shape \(3, 2\)"):
        _C.loss_forward("kld", rand(2, 3), rand(3, 2))


def test_one_and_two_threads_bit_identical():
    n, c = 3000, 37
    x, p = randn(n, c, seed=40) * 3, rand(n, c, low=0.02, high=0.98, seed=41)
    t = rand(n, c, low=0.0, high=1.0, seed=42)
    lab = (t > 0.5).astype(np.float32)
    onehot = np.eye(c, dtype=np.float32)[np.random.default_rng(5).integers(0, c, n)]
    cases = [(F.mape, t + 1, x), (F.msle, t, x), (F.huber, t, x), (F.log_cosh, t, x), (F.poisson, t, p),
             (F.kld, t, p), (F.hinge, lab, x), (F.squared_hinge, lab, x), (F.categorical_hinge, onehot, x),
             (F.cosine_similarity, t, x), (F.binary_focal_crossentropy, lab, p),
             (lambda a, b: F.binary_focal_crossentropy(a, b, from_logits=True, gamma=1.5), lab, x)]

    def run():
        res = []
        for fn, yt, yp in cases:
            xp = fastnn.tensor(yp.copy(), requires_grad=True)
            out = fn(yt, xp)
            out.backward(fastnn.tensor(np.ones(out.shape, np.float32)))
            res += [out.numpy().copy(), xp.grad.numpy().copy()]
        return res

    fastnn.set_num_threads(1)
    a = run()
    fastnn.set_num_threads(2)
    b = run()
    for u, v in zip(a, b):
        np.testing.assert_array_equal(u, v)
