"""Activations against torch: forward and backward over odd shapes, values around each
function's kinks and thresholds, large values, NaN, bad dtype, thread-count independence."""

import fastnn
import fastnn.functional as F
import numpy as np
import pytest
import torch
import torch.nn.functional as TF
from oracle import ODD_SHAPES, TOL, check_op, randn

EW = TOL["elementwise"]
TR = TOL["transcendental"]

# name, fastnn fn, torch fn, tolerance. Inputs are 3 * randn, so both sides of every kink show up.
ACTS = [
    ("sigmoid", F.sigmoid, torch.sigmoid, TR),
    ("tanh", F.tanh, torch.tanh, TR),
    ("relu", F.relu, torch.relu, EW),
    ("leaky_relu", F.leaky_relu, lambda t: TF.leaky_relu(t, 0.2), EW),
    ("leaky_relu_0.01", lambda x: F.leaky_relu(x, negative_slope=0.01), lambda t: TF.leaky_relu(t, 0.01), EW),
    ("elu", F.elu, TF.elu, TR),
    ("elu_0.5", lambda x: F.elu(x, alpha=0.5), lambda t: TF.elu(t, alpha=0.5), TR),
    ("selu", F.selu, TF.selu, TR),
    ("gelu", F.gelu, TF.gelu, TR),
    ("gelu_tanh", lambda x: F.gelu(x, approximate=True), lambda t: TF.gelu(t, approximate="tanh"), TR),
    ("softplus", F.softplus, TF.softplus, TR),
    ("swish", F.swish, TF.silu, TR),
    ("silu", F.silu, TF.silu, TR),
    ("hard_sigmoid", F.hard_sigmoid, TF.hardsigmoid, EW),
    ("relu6", F.relu6, TF.relu6, EW),
    ("linear", F.linear, lambda t: t * 1.0, EW),
]
IDS = [a[0] for a in ACTS]


@pytest.mark.parametrize("shape", ODD_SHAPES)
@pytest.mark.parametrize("name,fn,tfn,tol", ACTS, ids=IDS)
def test_activation(name, fn, tfn, tol, shape):
    check_op(fn, tfn, [randn(*shape, seed=len(shape)) * 3], name=name, tol=tol)


# Points where formulas switch branches or saturate (kinks, polynomial/exp boundaries of
# vec_math, softplus's threshold 20, hard_sigmoid's +-3 (excluded: the gradient is one-sided)).
EDGES = np.array([-1e4, -200.0, -104.0, -88.0, -30.0, -20.5, -20.0, -19.5, -9.0, -3.5, -2.9, -1.0,
                  -0.625, -0.624, -0.3, -1e-3, -1e-7, 0.0, 1e-7, 1e-3, 0.3, 0.624, 0.625, 1.0, 2.9,
                  3.5, 3.92, 9.0, 19.5, 20.0, 20.5, 30.0, 88.0, 200.0, 1e4], np.float32)


@pytest.mark.parametrize("name,fn,tfn,tol", ACTS, ids=IDS)
def test_activation_edges_and_large_values(name, fn, tfn, tol):
    check_op(fn, tfn, [EDGES], name=f"{name} edges", tol=tol)


def test_saturation():
    x = fastnn.tensor(np.array([-1e4, 1e4], np.float32))
    np.testing.assert_array_equal(F.sigmoid(x).numpy(), [0.0, 1.0])
    np.testing.assert_array_equal(F.tanh(x).numpy(), [-1.0, 1.0])
    np.testing.assert_array_equal(F.softplus(x).numpy(), [0.0, 1e4])
    np.testing.assert_array_equal(F.gelu(x).numpy(), [-0.0, 1e4])
    np.testing.assert_array_equal(F.elu(x).numpy(), [-1.0, 1e4])
    assert np.isfinite(F.swish(x).numpy()).all()


@pytest.mark.parametrize("name,fn,tfn,tol", ACTS, ids=IDS)
def test_activation_nan(name, fn, tfn, tol):
    x = np.array([np.nan, 1.0, -1.0, np.nan], np.float32)
    got = fn(fastnn.tensor(x)).numpy()
    assert np.isnan(got[[0, 3]]).all() and np.isfinite(got[[1, 2]]).all(), got
    want = tfn(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(got, want, equal_nan=True, **tol)


def test_step():
    x = np.array([-2.0, -1e-30, 0.0, 1e-30, 3.0], np.float32)
    check_op(F.step, lambda t: torch.heaviside(t, torch.tensor(0.0)), [x], name="step", grad=False)
    t = fastnn.tensor(randn(5, 7), requires_grad=True)
    F.step(t).backward(np.ones((5, 7), np.float32))
    np.testing.assert_array_equal(t.grad.numpy(), np.zeros((5, 7), np.float32))  # zero everywhere
    assert np.isnan(F.step(fastnn.tensor([np.nan])).numpy()).all()  # NaN propagates
    assert "perceptron" in F.step.__doc__


def test_relu_gradient_at_zero():
    x = np.array([-1.0, 0.0, -0.0, 2.0], np.float32)
    check_op(F.relu, torch.relu, [x], name="relu")  # torch: 0 at x <= 0


def test_relu_keras_arguments():
    x = randn(13, 31, seed=4) * 3
    check_op(lambda t: F.relu(t, max_value=2.0), lambda t: torch.clamp(torch.relu(t), max=2.0), [x],
             name="relu max")
    check_op(lambda t: F.relu(t, negative_slope=0.1), lambda t: TF.leaky_relu(t, 0.1), [x], name="relu slope")
    check_op(lambda t: F.relu(t, threshold=0.5, negative_slope=0.1),
             lambda t: torch.where(t >= 0.5, t, 0.1 * (t - 0.5)), [x], name="relu threshold")


def test_tensor_methods():
    x = randn(6, 5)
    t = fastnn.tensor(x)
    np.testing.assert_array_equal(t.relu().numpy(), F.relu(t).numpy())
    np.testing.assert_array_equal(t.sigmoid().numpy(), F.sigmoid(t).numpy())
    np.testing.assert_array_equal(t.tanh().numpy(), F.tanh(t).numpy())
    np.testing.assert_array_equal(F.sigmoid(x).numpy(), F.sigmoid(t).numpy())  # NumPy input works
    assert F.linear(t) is t


def test_wrong_dtype():
    i = fastnn.arange(6)
    for fn in [F.sigmoid, F.relu, F.gelu, F.tanh, F.step]:
        with pytest.raises(TypeError, match=r"expected a float32 tensor, got int64"):
            fn(i)


def test_empty():
    x = np.zeros((0, 3), np.float32)
    for name, fn, tfn, tol in ACTS:
        check_op(fn, tfn, [x], name=f"{name} empty", tol=tol)


def test_threads_bit_identical():
    x = randn(1_000_003, seed=9) * 5
    for fn in [F.sigmoid, F.tanh, F.gelu, lambda t: F.gelu(t, approximate=True), F.softplus, F.elu,
               F.selu, F.swish]:
        outs, grads = [], []
        for n in (1, 2):
            fastnn.set_num_threads(n)
            t = fastnn.tensor(x.copy(), requires_grad=True)
            y = fn(t)
            y.backward(np.ones_like(x))
            outs.append(y.numpy().copy())
            grads.append(t.grad.numpy().copy())
        np.testing.assert_array_equal(outs[0], outs[1])
        np.testing.assert_array_equal(grads[0], grads[1])
