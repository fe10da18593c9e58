"""CUDA kernels against fastnn's own CPU path, through the public API, forward and backward.

Each case builds the same inputs on both devices, runs one op, drives backward with the same
random upstream gradient, and compares the output and every input gradient. The whole module
is skipped when no CUDA device is available.
"""

import fastnn
import fastnn.functional as F
import numpy as np
import pytest

pytestmark = [
    pytest.mark.cuda,
    pytest.mark.skipif(not fastnn.cuda.is_available(), reason="needs a CUDA device"),
]

RTOL, ATOL = 1e-5, 1e-5


def _run(fn, arrays, device, grad_seed, backward):
    ts = []
    for a in arrays:
        t = fastnn.tensor(a).to(device)
        if backward and a.dtype == np.float32:
            t.requires_grad = True
        ts.append(t)
    out = fn(*ts)
    res = [out.numpy()]
    if backward:
        g = np.random.default_rng(grad_seed).standard_normal(res[0].shape).astype(np.float32)
        out.backward(fastnn.tensor(g).to(device))
        res += [t.grad.numpy() for t in ts if t.requires_grad]
    return res


def check(fn, *arrays, backward=True, rtol=RTOL, atol=ATOL):
    """fn(*tensors) on CUDA matches fn on the CPU: output, then each float input's gradient."""
    cpu = _run(fn, arrays, "cpu", 1, backward)
    gpu = _run(fn, arrays, "cuda", 1, backward)
    assert len(cpu) == len(gpu)
    for k, (c, d) in enumerate(zip(cpu, gpu)):
        what = "output" if k == 0 else f"grad of input {k - 1}"
        assert d.shape == c.shape and d.dtype == c.dtype, what
        np.testing.assert_allclose(d, c, rtol=rtol, atol=atol, err_msg=what)


def randn(*shape, scale=1.0, seed=0):
    return (np.random.default_rng(seed).standard_normal(shape) * scale).astype(np.float32)


def positive(*shape, seed=0):
    return np.abs(randn(*shape, seed=seed)) + 0.1


# ---- elementwise

UNARY = [
    ("neg", (), {}),
    ("abs", (), {}),
    ("exp", (), {}),
    ("log", (), {}),
    ("sqrt", (), {}),
    ("square", (), {}),
    ("sigmoid", (), {}),
    ("tanh", (), {}),
    ("relu", (), {}),
    ("leaky_relu", (0.2,), {}),
    ("elu", (0.7,), {}),
    ("selu", (), {}),
    ("gelu", (), {"approximate": False}),
    ("gelu", (), {"approximate": True}),
    ("softplus", (), {}),
    ("swish", (), {}),
    ("hard_sigmoid", (), {}),
    ("step", (), {}),
    ("clip", (-0.5, 0.8), {}),
]


@pytest.mark.parametrize("name,args,kwargs", UNARY, ids=lambda v: str(v))
@pytest.mark.parametrize("shape", [(1,), (7, 13), (3, 5, 67)])
def test_unary(name, args, kwargs, shape):
    x = positive(*shape) if name in ("log", "sqrt") else randn(*shape, scale=3.0)
    check(lambda t: getattr(F, name)(t, *args, **kwargs), x)


BROADCAST = [((5, 7), (5, 7)), ((5, 7), (7,)), ((4, 1, 3), (5, 1)), ((3,), ()), ((1, 6), (2, 1))]


@pytest.mark.parametrize("name", ["add", "sub", "mul", "div", "pow", "maximum", "minimum"])
@pytest.mark.parametrize("sa,sb", BROADCAST)
def test_binary(name, sa, sb):
    a, b = randn(*sa, seed=1), randn(*sb, seed=2)
    if name == "pow":
        a = positive(*sa, seed=1)
    if name == "div":
        b = np.where(np.abs(b) < 0.1, 0.5, b).astype(np.float32)
    if name in ("maximum", "minimum") and a.size and b.size:
        a.flat[0] = b.flat[0]  # a tie: the gradient is split half and half
    check(getattr(F, name), a, b)


def test_where():
    cond = (np.random.default_rng(3).random((6, 9)) > 0.5).astype(np.float32)
    a, b = randn(6, 9, seed=1), randn(6, 9, seed=2)
    c = fastnn.tensor(cond)
    check(lambda x, y: F.where(c.to(x.device), x, y), a, b)


# ---- reductions and softmax

REDUCE_CASES = [
    ((4, 300), 1),
    ((3, 20000), 1),
    ((3000, 2), 0),
    ((6, 50, 3), 1),
    ((6, 50, 3), None),
    ((5, 7), 0),
    ((5, 7), -1),
    ((1,), 0),
]


@pytest.mark.parametrize("name", ["sum", "mean", "max", "min", "var", "std"])
@pytest.mark.parametrize("shape,axis", REDUCE_CASES)
def test_reduce(name, shape, axis):
    x = randn(*shape)
    if name in ("max", "min"):  # small integers: many ties, which share the gradient
        x = np.random.default_rng(0).integers(-3, 4, shape).astype(np.float32)
    n = x.size if axis is None else x.shape[axis]
    if name in ("var", "std") and n == 1:
        pytest.skip("the variance of one value has no finite std gradient")
    tol = RTOL * max(1.0, np.sqrt(n) / 10)
    check(lambda t: getattr(F, name)(t, axis=axis), x, rtol=tol, atol=tol)


@pytest.mark.parametrize("shape,axis", [((4, 300), 1), ((6, 50, 3), 1), ((9, 5), 0), ((2, 70000), 1)])
def test_argmax(shape, axis):
    x = np.random.default_rng(0).integers(-20, 20, shape).astype(np.float32)  # ties: first index
    check(lambda t: F.argmax(t, axis=axis), x, backward=False)


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
@pytest.mark.parametrize("shape,axis", [((8, 10), -1), ((3, 1000), -1), ((4, 5, 6), 1), ((2, 3), 0)])
def test_softmax(name, shape, axis):
    check(lambda t: getattr(F, name)(t, axis=axis), randn(*shape, scale=5.0))


def test_sum_is_deterministic():
    x = fastnn.tensor(randn(3, 100003)).to("cuda")
    assert np.array_equal(F.sum(x, axis=1).numpy(), F.sum(x, axis=1).numpy())


# ---- matmul


@pytest.mark.parametrize(
    "sa,sb",
    [
        ((1, 1), (1, 1)),
        ((5, 3), (3, 7)),
        ((64, 64), (64, 64)),
        ((65, 17), (17, 63)),
        ((130, 100), (100, 3)),
        ((4, 33, 9), (4, 9, 17)),
        ((3, 10, 8), (8, 5)),
        ((7,), (7, 4)),
    ],
)
def test_matmul(sa, sb):
    tol = 1e-4 * max(1.0, np.sqrt(sa[-1]) / 3)  # summation order differs: scale with K
    check(F.matmul, randn(*sa, seed=1), randn(*sb, seed=2), rtol=tol, atol=tol)


# ---- losses (Keras argument order: y_true, y_pred; per-sample losses)


def _probs(n, c, seed=0):
    p = np.exp(randn(n, c, seed=seed))
    return (p / p.sum(-1, keepdims=True)).astype(np.float32)


@pytest.mark.parametrize("shape", [(1, 1), (9, 3), (4, 300)])
@pytest.mark.parametrize("name", ["mse", "mae"])
def test_regression_loss(name, shape):
    y = randn(*shape, seed=5)
    check(lambda p: getattr(F, name)(fastnn.tensor(y).to(p.device), p), randn(*shape))


@pytest.mark.parametrize("from_logits", [False, True])
@pytest.mark.parametrize("shape", [(9, 1), (4, 300)])
def test_binary_crossentropy(from_logits, shape):
    y = (randn(*shape, seed=5) > 0).astype(np.float32)
    p = randn(*shape) if from_logits else 1 / (1 + np.exp(-randn(*shape) * 3))
    p = p.astype(np.float32)
    check(lambda t: F.binary_crossentropy(fastnn.tensor(y).to(t.device), t, from_logits=from_logits), p)


@pytest.mark.parametrize("from_logits", [False, True])
@pytest.mark.parametrize("label_smoothing", [0.0, 0.1])
@pytest.mark.parametrize("n,c", [(5, 3), (4, 1000)])
def test_categorical_crossentropy(from_logits, label_smoothing, n, c):
    y = _probs(n, c, seed=5)
    p = randn(n, c) if from_logits else _probs(n, c)
    check(
        lambda t: F.categorical_crossentropy(
            fastnn.tensor(y).to(t.device), t, from_logits=from_logits, label_smoothing=label_smoothing
        ),
        p,
    )


@pytest.mark.parametrize("from_logits", [False, True])
@pytest.mark.parametrize("n,c", [(5, 3), (4, 1000)])
def test_sparse_categorical_crossentropy(from_logits, n, c):
    labels = np.random.default_rng(5).integers(0, c, n).astype(np.int64)
    p = randn(n, c) if from_logits else _probs(n, c)
    check(
        lambda t: F.sparse_categorical_crossentropy(
            fastnn.tensor(labels).to(t.device), t, from_logits=from_logits
        ),
        p,
    )


# ---- random and indexing


@pytest.mark.parametrize("n", [1, 13, 4099])
def test_dropout_same_mask_on_both_devices(n):
    check(lambda t: F.dropout(t, 0.3, seed=1234), randn(n), rtol=0, atol=0)


@pytest.mark.parametrize("v,d,idx_shape", [(10, 4, (6,)), (50, 33, (3, 40)), (7, 1, (2, 2))])
def test_embedding(v, d, idx_shape):
    idx = np.random.default_rng(0).integers(0, v, idx_shape).astype(np.int64)  # repeats: scatter-add
    check(lambda w: F.embedding(fastnn.tensor(idx).to(w.device), w), randn(v, d))


# ---- weight constraints and noise-shaped dropout


@pytest.mark.parametrize(
    "constraint",
    [
        fastnn.constraints.MaxNorm(0.5),
        fastnn.constraints.MaxNorm(1.0, axis=[0, 1, 2]),
        fastnn.constraints.MinMaxNorm(0.2, 0.6, rate=0.5, axis=-1),
        fastnn.constraints.UnitNorm(axis=None),
        fastnn.constraints.NonNeg(),
    ],
)
def test_constraint_after_an_optimizer_step(constraint):
    w0, g = randn(3, 3, 4, 5, scale=2.0), randn(3, 3, 4, 5, seed=1)
    out = []
    for device in ("cpu", "cuda"):
        v = fastnn.Variable(fastnn.tensor(w0.copy()).to(device), constraint=constraint)
        storage = v._data
        fastnn.optimizers.SGD(0.1).apply_gradients([(fastnn.tensor(g).to(device), v)])
        assert v._data is storage  # projected in place on both devices
        out.append(v.numpy())
    np.testing.assert_allclose(out[1], out[0], rtol=RTOL, atol=ATOL)


def test_dropout_noise_shape_same_mask_on_both_devices():
    check(
        lambda t: fastnn.layers.Dropout(0.3, noise_shape=(None, 1, None), seed=7)(t, training=True),
        randn(4, 6, 5),
        rtol=0,
        atol=0,
    )
