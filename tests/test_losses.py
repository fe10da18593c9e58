"""Loss functions (Keras semantics, per-sample results) against torch and a float64 NumPy
reference of Keras's formulas where torch has no clipped equivalent."""

import fastnn
import fastnn.functional as F
import numpy as np
import pytest
import torch
import torch.nn.functional as TF
from oracle import TOL, assert_close, check_op, rand, randn

SHAPES = [(1, 1), (7,), (6, 5), (13, 17), (3, 4, 7), (2, 1031)]
EPS = np.float32(1e-7)


def _tol(shape):
    return TOL["reduction"](shape[-1])


def _probs(*shape, seed=0):
    return rand(*shape, low=0.02, high=0.98, seed=seed)


# ---------------------------------------------------------------------- mse / mae
@pytest.mark.parametrize("shape", SHAPES)
def test_mse(shape):
    t, p = randn(*shape, seed=1), randn(*shape, seed=2)
    check_op(
        lambda a, b: F.mean_squared_error(a, b),
        lambda a, b: TF.mse_loss(b, a, reduction="none").mean(-1),
        [t, p],
        name="mse",
        tol=_tol(shape),
    )


@pytest.mark.parametrize("shape", SHAPES)
def test_mae(shape):
    t, p = randn(*shape, seed=3), randn(*shape, seed=4)
    t.flat[0] = p.flat[0]  # |0|: gradient 0 as in torch
    check_op(
        lambda a, b: F.mae(a, b),
        lambda a, b: TF.l1_loss(b, a, reduction="none").mean(-1),
        [t, p],
        name="mae",
        tol=_tol(shape),
    )


def test_aliases_and_nan():
    assert F.mse is F.mean_squared_error and F.mae is F.mean_absolute_error
    p = randn(4, 6)
    p[2, 3] = np.nan
    y = F.mse(np.zeros_like(p), p).numpy()
    assert np.isnan(y).tolist() == [False, False, True, False]
    for fn in (F.mae, F.binary_crossentropy, F.categorical_crossentropy):
        assert np.isnan(fn(np.zeros_like(p), p).numpy()).tolist() == [False, False, True, False]
    assert np.isnan(
        F.sparse_categorical_crossentropy(np.zeros(4, np.int64), p, from_logits=True).numpy()
    ).tolist() == [False, False, True, False]


# ---------------------------------------------------------------------- shape alignment
def test_alignment_n_against_n1():
    t, p = rand(9, seed=1), rand(9, 1, seed=2)
    out = check_op(
        lambda a, b: F.mse(a, b), lambda a, b: ((b - a[:, None]) ** 2).mean(-1), [t, p], name="mse (N,)"
    )
    assert out.shape == (9,)
    out = F.binary_crossentropy(np.array([0, 1, 1, 0]), _probs(4, 1))  # int labels are accepted
    assert out.shape == (4,)
    assert F.mse(rand(5, 1), rand(5)).shape == ()


def test_incompatible_shapes_name_both():
    with pytest.raises(ValueError, match=r"\(5,\).*\(5, 3\)"):
        F.mse(rand(5), rand(5, 3))
    with pytest.raises(ValueError, match=r"\(4, 3\).*\(4, 2\)"):
        F.categorical_crossentropy(rand(4, 3), rand(4, 2))
    with pytest.raises(ValueError, match=r"\(4, 2\)"):
        F.sparse_categorical_crossentropy(np.zeros(5, np.int64), rand(4, 2))
    with pytest.raises(TypeError):
        F.mse(rand(3, 2), np.arange(6).reshape(3, 2))
    with pytest.raises(ValueError):
        F.binary_crossentropy(rand(3), rand(3), label_smoothing=1.5)


# ---------------------------------------------------------------------- binary cross-entropy
@pytest.mark.parametrize("shape", SHAPES)
def test_bce_probabilities_interior(shape):
    t, p = rand(*shape, low=0, high=1, seed=5), _probs(*shape, seed=6)
    check_op(
        lambda a, b: F.binary_crossentropy(a, b),
        lambda a, b: TF.binary_cross_entropy(b, a, reduction="none").mean(-1),
        [t, p],
        name="bce",
        tol=TOL["transcendental"],
        grad=[False, True],
    )


def _keras_bce64(t, p, ls=0.0):
    """Keras 3: clip (in float32, as on float32 tensors), then the formula in float64."""
    t = t.astype(np.float64) * (1 - ls) + 0.5 * ls
    c = np.clip(p, EPS, np.float32(1) - EPS).astype(np.float64)
    loss = -(t * np.log(c) + (1 - t) * np.log(1 - c))
    inside = (p >= EPS) & (p <= np.float32(1) - EPS)
    dp = np.where(inside, (1 - t) / (1 - c) - t / c, 0.0) / p.shape[-1]
    return loss.mean(-1), dp


def test_bce_probabilities_edges_keras_reference():
    p = np.array([[0.0, 1.0, 1e-9, 1 - 1e-9, 0.5], [1.0, 0.0, 0.3, 1.0, 0.0]], np.float32)
    t = np.array([[1.0, 0.0, 1.0, 0.0, 1.0], [1.0, 0.0, 0.0, 0.0, 1.0]], np.float32)
    x = fastnn.tensor(p, requires_grad=True)
    loss = F.binary_crossentropy(t, x)
    want, dwant = _keras_bce64(t, p)
    assert np.isfinite(loss.numpy()).all()
    assert_close(loss.numpy(), want, "bce edges", **TOL["transcendental"])
    loss.backward(fastnn.tensor(np.ones(2, np.float32)))
    assert_close(x.grad.numpy(), dwant, "bce edges", "grad[1]", **TOL["transcendental"])


@pytest.mark.parametrize("ls", [0.1, 0.3])
def test_bce_label_smoothing(ls):
    t, p = (rand(6, 5, seed=7) > 0).astype(np.float32), _probs(6, 5, seed=8)
    want, _ = _keras_bce64(t, p, ls)
    assert_close(
        F.binary_crossentropy(t, p, label_smoothing=ls).numpy(), want, "bce ls", **TOL["transcendental"]
    )
    x = randn(6, 5, seed=9) * 3
    check_op(
        lambda a, b: F.binary_crossentropy(a, b, from_logits=True, label_smoothing=ls),
        lambda a, b: TF.binary_cross_entropy_with_logits(b, a * (1 - ls) + 0.5 * ls, reduction="none").mean(
            -1
        ),
        [t, x],
        name="bce logits ls",
        tol=TOL["transcendental"],
        grad=[False, True],
    )


@pytest.mark.parametrize("shape", SHAPES)
def test_bce_logits(shape):
    t, x = rand(*shape, low=0, high=1, seed=10), randn(*shape, seed=11) * 4
    x.flat[0] = 1e4
    if x.size > 1:
        x.flat[1] = -1e4
    out = check_op(
        lambda a, b: F.binary_crossentropy(a, b, from_logits=True),
        lambda a, b: TF.binary_cross_entropy_with_logits(b, a, reduction="none").mean(-1),
        [t, x],
        name="bce logits",
        tol=TOL["transcendental"],
        grad=[False, True],
    )
    assert np.isfinite(out.numpy()).all()


# ---------------------------------------------------------------------- categorical
def _smooth(t, ls):
    return t * (1 - ls) + ls / t.shape[-1]


def _onehot(n, c, seed=0):
    lab = np.random.default_rng(seed).integers(0, c, n)
    return np.eye(c, dtype=np.float32)[lab], lab


@pytest.mark.parametrize("shape", [(1, 1), (6, 5), (13, 17), (3, 4, 7), (2, 1031)])
@pytest.mark.parametrize("ls", [0.0, 0.1])
@pytest.mark.parametrize("soft", [False, True])
def test_cce_logits(shape, ls, soft):
    x = randn(*shape, seed=12) * 3
    if soft:
        t = rand(*shape, low=0, high=1, seed=13)
        t /= t.sum(-1, keepdims=True)
    else:
        t = np.eye(shape[-1], dtype=np.float32)[np.random.default_rng(1).integers(0, shape[-1], shape[:-1])]
    if len(shape) == 2:
        ref = lambda a, b: TF.cross_entropy(b, a, reduction="none", label_smoothing=ls)  # noqa: E731
    else:
        ref = lambda a, b: -(_smooth(a, ls) * torch.log_softmax(b, -1)).sum(-1)  # noqa: E731
    check_op(
        lambda a, b: F.categorical_crossentropy(a, b, from_logits=True, label_smoothing=ls),
        ref,
        [t, x],
        name="cce logits",
        tol=TOL["transcendental"],
        grad=[False, True],
    )


def test_cce_logits_large():
    x = np.array([[1e4, 0.0, -1e4], [-1e4, 1e4, 1e4]], np.float32)
    t = np.array([[0.0, 1.0, 0.0], [0.5, 0.25, 0.25]], np.float32)
    out = check_op(
        lambda a, b: F.categorical_crossentropy(a, b, from_logits=True),
        lambda a, b: TF.cross_entropy(b, a, reduction="none"),
        [t, x],
        name="cce 1e4",
        tol=TOL["transcendental"],
        grad=[False, True],
    )
    assert np.isfinite(out.numpy()).all()


@pytest.mark.parametrize("shape", [(1, 1), (6, 5), (13, 17), (3, 4, 7)])
@pytest.mark.parametrize("ls", [0.0, 0.2])
def test_cce_probabilities(shape, ls):
    p = _probs(*shape, seed=14)  # unnormalised on purpose: Keras divides by the row sum
    t = rand(*shape, low=0, high=1, seed=15)
    t /= t.sum(-1, keepdims=True)

    def ref(a, b):  # cross-entropy on the log of the normalised probabilities
        return -(_smooth(a, ls) * torch.log(b / b.sum(-1, keepdim=True))).sum(-1)

    check_op(
        lambda a, b: F.categorical_crossentropy(a, b, label_smoothing=ls),
        ref,
        [t, p],
        name="cce",
        tol=TOL["transcendental"],
        grad=[False, True],
    )


def test_cce_probabilities_clipped_keras_reference():
    p = np.array([[0.0, 1.0, 0.0], [0.2, 0.0, 0.6]], np.float32)
    t = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]], np.float32)
    q = p / p.sum(-1, keepdims=True)
    want = -(t * np.log(np.clip(q, EPS, 1 - EPS).astype(np.float64))).sum(-1)
    assert_close(F.categorical_crossentropy(t, p).numpy(), want, "cce edges", **TOL["transcendental"])


# ---------------------------------------------------------------------- sparse
@pytest.mark.parametrize("shape", [(1, 1), (6, 5), (13, 17), (2, 1031), (3, 4, 7)])
def test_sparse_logits(shape):
    x = randn(*shape, seed=16) * 3
    lab = np.random.default_rng(2).integers(0, shape[-1], shape[:-1])
    def ref(a, b):
        return TF.cross_entropy(b.reshape(-1, shape[-1]), a.reshape(-1), reduction="none").reshape(shape[:-1])

    check_op(
        lambda a, b: F.sparse_categorical_crossentropy(a, b, from_logits=True),
        ref,
        [lab, x],
        name="sparse cce logits",
        tol=TOL["transcendental"],
        grad=[False, True],
    )


@pytest.mark.parametrize("shape", [(1, 1), (6, 5), (13, 17), (3, 4, 7)])
def test_sparse_probabilities(shape):
    p = _probs(*shape, seed=17)
    lab = np.random.default_rng(3).integers(0, shape[-1], shape[:-1])
    def ref(a, b):  # nll on the log of the normalised probabilities
        logp = torch.log(b / b.sum(-1, keepdim=True)).reshape(-1, shape[-1])
        return TF.nll_loss(logp, a.reshape(-1), reduction="none").reshape(shape[:-1])

    check_op(
        lambda a, b: F.sparse_categorical_crossentropy(a, b),
        ref,
        [lab, p],
        name="sparse cce",
        tol=TOL["transcendental"],
        grad=[False, True],
    )


def test_sparse_label_forms_and_range():
    x = randn(5, 4)
    lab = np.array([0, 3, 1, 2, 3])
    want = F.sparse_categorical_crossentropy(lab, x, from_logits=True).numpy()
    np.testing.assert_array_equal(
        F.sparse_categorical_crossentropy(lab[:, None], x, from_logits=True).numpy(), want
    )
    np.testing.assert_array_equal(
        F.sparse_categorical_crossentropy(lab.astype(np.float32), x, from_logits=True).numpy(), want
    )
    for bad in ([0, 4, 1, 2, 3], [0, -1, 1, 2, 3]):
        for logits in (True, False):
            with pytest.raises(ValueError, match="out of range"):
                F.sparse_categorical_crossentropy(np.array(bad), x, from_logits=logits)
    with pytest.raises(ValueError, match="integers"):
        F.sparse_categorical_crossentropy(np.array([0.5, 1, 1, 2, 3]), x)


def test_kernel_errors():
    from fastnn import _C

    with pytest.raises(ValueError, match="unknown loss kind"):
        _C.loss_forward("no_such_loss", rand(2, 3), rand(2, 3))
    with pytest.raises(TypeError):
        _C.loss_forward("sparse_cce", rand(2, 3), rand(2))
    with pytest.raises(ValueError, match=r"\(2, 3\)"):
        _C.loss_forward("mse", rand(2, 3), rand(3, 2))


# ---------------------------------------------------------------------- threads
def test_one_and_two_threads_bit_identical():
    n, c = 4000, 37
    x, p = randn(n, c, seed=20) * 3, _probs(n, c, seed=21)
    t = rand(n, c, low=0, high=1, seed=22)
    lab = np.random.default_rng(4).integers(0, c, n)

    def run():
        res = []
        for fn, yt, yp in [
            (lambda a, b: F.mse(a, b), t, x),
            (lambda a, b: F.mae(a, b), t, x),
            (lambda a, b: F.binary_crossentropy(a, b), t, p),
            (lambda a, b: F.binary_crossentropy(a, b, from_logits=True), t, x),
            (lambda a, b: F.categorical_crossentropy(a, b, label_smoothing=0.1), t, p),
            (lambda a, b: F.categorical_crossentropy(a, b, from_logits=True), t, x),
            (lambda a, b: F.sparse_categorical_crossentropy(a, b), lab, p),
            (lambda a, b: F.sparse_categorical_crossentropy(a, b, from_logits=True), lab, x),
        ]:
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
