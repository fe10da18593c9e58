"""Fast smoke test of every op, forward and backward, without torch.

It runs each op on odd shapes, empty tensors and NaN inputs and checks only that the results
have the right shapes and that NaN propagates. CI also runs this file against a build with
AddressSanitizer and UndefinedBehaviorSanitizer (.ci/run), which is why it must not import
torch: it exercises every kernel's edge tiles and bounds under the sanitizers.
"""

import fastnn
import fastnn.functional as F
import numpy as np
import pytest

SHAPES = [(1,), (7,), (3, 5), (2, 3, 17), (0, 4)]

UNARY = ["neg", "abs", "exp", "log", "sqrt", "square", "sigmoid", "tanh", "relu", "leaky_relu", "elu", "selu",
         "gelu", "softplus", "swish", "hard_sigmoid", "step", "linear"]
BINARY = ["add", "sub", "mul", "div", "pow", "maximum", "minimum"]


def _x(shape, seed=0, low=0.1, high=2.0):
    return fastnn.tensor(np.random.default_rng(seed).uniform(low, high, shape).astype(np.float32), requires_grad=True)


def _grad_of(y):
    y.backward(fastnn.ones(y.shape))


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("name", UNARY)
def test_unary(name, shape):
    x = _x(shape)
    y = getattr(F, name)(x)
    assert y.shape == shape
    if y.requires_grad:
        _grad_of(y)
        assert x.grad.shape == shape


@pytest.mark.parametrize("name", BINARY)
@pytest.mark.parametrize("sa, sb", [((3, 5), (3, 5)), ((3, 1), (1, 5)), ((2, 3, 5), (5,)), ((7,), ()), ((0, 3), (3,))])
def test_binary(name, sa, sb):
    a, b = _x(sa, 1), _x(sb, 2)
    y = getattr(F, name)(a, b)
    assert y.shape == np.broadcast_shapes(sa, sb)
    _grad_of(y)
    assert a.grad.shape == sa and b.grad.shape == sb


@pytest.mark.parametrize("shape", [(7,), (3, 5), (2, 3, 17), (4, 1, 6)])
def test_reductions_and_softmax(shape):
    for fn in (F.sum, F.mean, F.max, F.min, F.var):
        for axis in [None] + list(range(len(shape))):
            x = _x(shape)
            y = fn(x, axis=axis)
            _grad_of(y)
            assert x.grad.shape == shape
    for fn in (F.softmax, F.log_softmax):
        x = _x(shape)
        _grad_of(fn(x, axis=-1) * fastnn.tensor(np.arange(shape[-1], dtype=np.float32)))
    assert F.argmax(_x(shape), axis=0).dtype == fastnn.int64


@pytest.mark.parametrize("n, c", [(1, 1), (7, 3), (33, 17), (0, 5)])
def test_losses(n, c):
    rng = np.random.default_rng(0)
    onehot = np.eye(c, dtype=np.float32)[rng.integers(0, c, n)]
    labels = fastnn.tensor(rng.integers(0, c, n))
    probs = F.softmax(fastnn.tensor(rng.standard_normal((n, c)).astype(np.float32)))
    for fn, yt, from_logits in [
        (F.mean_squared_error, onehot, False), (F.mean_absolute_error, onehot, False),
        (F.binary_crossentropy, onehot, False), (F.binary_crossentropy, onehot, True),
        (F.categorical_crossentropy, onehot, False), (F.categorical_crossentropy, onehot, True),
        (F.sparse_categorical_crossentropy, labels, False), (F.sparse_categorical_crossentropy, labels, True),
    ]:
        p = fastnn.tensor(probs.numpy().copy(), requires_grad=True)
        kw = {} if fn in (F.mean_squared_error, F.mean_absolute_error) else {"from_logits": from_logits}
        loss = fn(yt, p, **kw)
        assert loss.shape == (n,)
        _grad_of(loss)
        assert p.grad.shape == (n, c)


@pytest.mark.parametrize("m, k, n", [(1, 1, 1), (7, 13, 5), (65, 33, 17), (0, 3, 4), (3, 0, 4)])
def test_matmul(m, k, n):
    a, b = _x((m, k), 1), _x((k, n), 2)
    y = a @ b
    assert y.shape == (m, n)
    _grad_of(y)
    assert a.grad.shape == (m, k) and b.grad.shape == (k, n)
    c = fastnn.matmul(_x((3, m, k)), _x((k, n)))
    assert c.shape == (3, m, n)


def test_dropout_embedding_shape_ops():
    x = _x((5, 7))
    _grad_of(F.dropout(x, 0.5, seed=3))
    w = _x((11, 4))
    _grad_of(F.embedding(fastnn.tensor(np.array([[0, 10], [3, 3]])), w))
    assert w.grad.shape == (11, 4)
    y = _x((2, 3, 4))
    _grad_of(fastnn.concatenate([y.permute(2, 0, 1)[1:, ::-1], y.broadcast_to((1, 2, 3, 4))[0].permute(2, 0, 1)]))
    assert y.grad.shape == (2, 3, 4)


def test_nan_propagates():
    nan = fastnn.tensor(np.array([np.nan, 1.0, -1.0], np.float32))
    for name in ["exp", "sigmoid", "tanh", "relu", "gelu", "softplus", "abs", "square"]:
        assert np.isnan(getattr(F, name)(nan).numpy()[0]), name
    assert np.isnan(F.sum(nan).item()) and np.isnan(F.max(nan).item()) and np.isnan(F.softmax(nan).numpy()).all()
    m = fastnn.tensor(np.array([[np.nan, 1.0], [2.0, 3.0]], np.float32))
    assert np.isnan((m @ m).numpy()[0]).all()


def test_random():
    fastnn.random.seed(1)
    a = fastnn.randn(3, 5)
    fastnn.random.seed(1)
    np.testing.assert_array_equal(a.numpy(), fastnn.randn(3, 5).numpy())
    assert fastnn.rand(7).shape == (7,)


@pytest.mark.parametrize("shape", SHAPES + [(70001,)])
@pytest.mark.parametrize("name", ["sgd", "adagrad", "rmsprop", "adam", "adamw", "adamax", "nadam", "adadelta"])
def test_optimizers(name, shape):
    from fastnn import optimizers

    opts = [optimizers.get(name)]
    if name == "sgd":
        opts.append(optimizers.SGD(momentum=0.9, nesterov=True, clipnorm=1.0))
    if name == "rmsprop":
        opts.append(optimizers.RMSprop(momentum=0.5, centered=True, clipvalue=0.1))
    if name == "adam":
        opts.append(optimizers.Adam(amsgrad=True, global_clipnorm=1.0, weight_decay=0.01))
    for opt in opts:
        w = fastnn.tensor(np.ones(shape, np.float32))
        data = w._data
        g = np.full(shape, 0.5, np.float32)
        for _ in range(2):
            opt.apply_gradients([(g, w)])
        assert w._data is data and w.shape == shape
        assert np.isfinite(w.numpy()).all()
        if w.size:
            assert (w.numpy() < 1).all()
        g[...] = np.nan
        opt.apply_gradients([(g, w)])
        assert np.isnan(w.numpy()).all()
