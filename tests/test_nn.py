"""dropout (counter-based mask) and embedding (gather / scatter-add) against torch."""

import fastnn
import numpy as np
import pytest
import torch
from fastnn.functional import dropout, embedding
from oracle import TOL, assert_close, check_op, rand


# ------------------------------------------------------------------ dropout
def mask_of(shape, rate, seed):
    """fastnn's keep mask for (rate, seed), read off the forward pass on ones."""
    return dropout(fastnn.ones(*shape), rate, seed=seed).numpy() != 0


def test_dropout_mask_reproducible():
    x = fastnn.tensor(rand(40, 33))
    a, b = dropout(x, 0.3, seed=5).numpy(), dropout(x, 0.3, seed=5).numpy()
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, dropout(x, 0.3, seed=6).numpy())
    fastnn.random.seed(11)
    g1, g2 = dropout(x, 0.3).numpy(), dropout(x, 0.3).numpy()
    assert not np.array_equal(g1, g2)  # the global generator advances
    fastnn.random.seed(11)
    np.testing.assert_array_equal(dropout(x, 0.3).numpy(), g1)
    np.testing.assert_array_equal(dropout(x, 0.3).numpy(), g2)


def test_dropout_threads_identical():
    x = fastnn.tensor(rand(1000, 301))
    outs = []
    for t in (1, 2):
        fastnn.set_num_threads(t)
        xt = fastnn.tensor(x.numpy().copy(), requires_grad=True)
        y = dropout(xt, 0.4, seed=3)
        y.backward(fastnn.tensor(rand(*y.shape, seed=1)))
        outs.append((y.numpy(), xt.grad.numpy()))
    for a, b in zip(*outs):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("rate", [0.1, 0.5, 0.9])
def test_dropout_keep_fraction_and_scaling(rate):
    n = 200_000
    x = rand(n, low=0.5, high=2.0)
    y = dropout(fastnn.tensor(x), rate, seed=1).numpy()
    keep = y != 0
    p = 1 - rate
    assert abs(keep.mean() - p) < 5 * np.sqrt(p * (1 - p) / n)
    # the kernel multiplies by scale = 1 / (1 - rate), computed in float32 from the float32 rate
    scale = np.float32(1) / (np.float32(1) - np.float32(rate))
    np.testing.assert_array_equal(y[keep], x[keep] * scale)


@pytest.mark.parametrize("shape", [(1,), (7,), (13, 31), (2, 3, 7), (1031,)])
@pytest.mark.parametrize("rate", [0.25, 0.7])
def test_dropout_vs_torch(shape, rate):
    mask = torch.from_numpy(mask_of(shape, rate, 42).astype(np.float32))
    check_op(lambda x: dropout(x, rate, seed=42), lambda x: x * mask / (1 - rate), [rand(*shape)],
             "dropout", tol=TOL["elementwise"])


def test_dropout_gradient_is_mask_times_scale():
    x = fastnn.tensor(rand(50, 20), requires_grad=True)
    y = dropout(x, 0.35, seed=8)
    y.backward(fastnn.ones(50, 20))
    m = mask_of((50, 20), 0.35, 8)
    want = np.where(m, np.float32(1) / np.float32(0.65), 0).astype(np.float32)
    np.testing.assert_array_equal(x.grad.numpy(), want)


def test_dropout_identity_cases():
    x = fastnn.tensor(rand(4, 5))
    assert dropout(x, 0.0) is x
    assert dropout(x, 0.5, training=False) is x
    e = dropout(fastnn.tensor(rand(0, 3)), 0.5)
    assert e.shape == (0, 3)


def test_dropout_nan_and_bad_input():
    x = np.full(1000, np.nan, np.float32)
    y = dropout(fastnn.tensor(x), 0.5, seed=1).numpy()
    assert np.isnan(y[mask_of((1000,), 0.5, 1)]).all()
    for bad in (-0.1, 1.0, 1.5):
        with pytest.raises(ValueError, match=f"rate={bad}"):
            dropout(fastnn.tensor(rand(3)), bad)
    with pytest.raises(TypeError):
        dropout(fastnn.tensor(rand(3)), "0.5")
    with pytest.raises(TypeError):
        dropout(fastnn.tensor(np.ones(3, np.int64)), 0.5)


# ------------------------------------------------------------------ embedding
@pytest.mark.parametrize("idx_shape", [(1,), (5,), (3, 4), (2, 3, 5), (0,)])
@pytest.mark.parametrize("vd", [(11, 7), (1, 3), (50, 16)])
def test_embedding_vs_torch(idx_shape, vd):
    V, D = vd
    idx = np.random.default_rng(3).integers(0, V, idx_shape).astype(np.int64)  # repeats included
    check_op(embedding, torch.nn.functional.embedding, [idx, rand(V, D)], "embedding",
             grad=[False, True], tol=TOL["exact"], grad_tol=TOL["reduction"](idx.size))


def test_embedding_repeated_indices_accumulate():
    idx = np.array([[2, 2, 2], [0, 2, 4]], np.int64)
    w = fastnn.tensor(rand(5, 3), requires_grad=True)
    out = embedding(idx, w)
    g = rand(2, 3, 3, seed=1)
    out.backward(fastnn.tensor(g))
    want = np.zeros((5, 3), np.float64)
    np.add.at(want, idx.reshape(-1), g.reshape(-1, 3))
    assert_close(w.grad.numpy(), want, "embedding", "grad[1]", **TOL["reduction"](4))
    assert (w.grad.numpy()[[1, 3]] == 0).all()


def test_embedding_threads_identical():
    idx = np.random.default_rng(0).integers(0, 37, (400, 50)).astype(np.int64)
    outs = []
    for t in (1, 2):
        fastnn.set_num_threads(t)
        w = fastnn.tensor(rand(37, 64), requires_grad=True)
        y = embedding(idx, w)
        y.backward(fastnn.tensor(rand(*y.shape, seed=1)))
        outs.append((y.numpy(), w.grad.numpy()))
    for a, b in zip(*outs):
        np.testing.assert_array_equal(a, b)


def test_embedding_bad_input():
    w = fastnn.tensor(rand(5, 3))
    with pytest.raises(ValueError, match=r"index 5 is out of range.*\(5, 3\)"):
        embedding(np.array([0, 5]), w)
    with pytest.raises(ValueError, match="index -1"):
        embedding(np.array([-1, 2]), w)
    with pytest.raises(TypeError, match="integer"):
        embedding(np.array([0.0, 1.0]), w)
    with pytest.raises(ValueError, match="2-D"):
        embedding(np.array([0]), fastnn.tensor(rand(5)))
    assert embedding(fastnn.tensor(np.array([[1, 4]])), w).shape == (1, 2, 3)
