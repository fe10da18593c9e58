"""Layers: output shapes (symbolic and concrete), weight counts, get_config round trips,
initializers, regularizers, error cases."""

import math

import fastnn
import numpy as np
import pytest
from fastnn import initializers, regularizers
from fastnn import layers as L
from fastnn.layers.base import clear_session
from oracle import TOL, assert_close


@pytest.fixture(autouse=True)
def _names():
    clear_session()
    yield


def _x(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


CASES = [
    # layer factory, input shapes (without batch), expected output shape (without batch), weights, params
    (lambda: L.Dense(5), [(3,)], (5,), 2, 20),
    (lambda: L.Dense(5, use_bias=False, activation="relu"), [(3,)], (5,), 1, 15),
    (lambda: L.Dense(4, activation="softmax"), [(2, 3)], (2, 4), 2, 16),
    (lambda: L.Activation("tanh"), [(3,)], (3,), 0, 0),
    (lambda: L.Dropout(0.3), [(3,)], (3,), 0, 0),
    (lambda: L.Flatten(), [(2, 3, 4)], (24,), 0, 0),
    (lambda: L.Reshape((3, 4)), [(12,)], (3, 4), 0, 0),
    (lambda: L.Reshape((-1, 2)), [(12,)], (6, 2), 0, 0),
    (lambda: L.RepeatVector(3), [(4,)], (3, 4), 0, 0),
    (lambda: L.Add(), [(4,), (4,)], (4,), 0, 0),
    (lambda: L.Subtract(), [(4,), (4,)], (4,), 0, 0),
    (lambda: L.Multiply(), [(4,), (4,), (4,)], (4,), 0, 0),
    (lambda: L.Average(), [(4,), (4,)], (4,), 0, 0),
    (lambda: L.Maximum(), [(4,), (4,)], (4,), 0, 0),
    (lambda: L.Concatenate(), [(3,), (5,)], (8,), 0, 0),
    (lambda: L.Concatenate(axis=1), [(2, 3), (4, 3)], (6, 3), 0, 0),
    (lambda: L.Normalization(), [(3,)], (3,), 2, 6),
]


@pytest.mark.parametrize("make, in_shapes, out_shape, n_weights, n_params", CASES)
def test_layer_shapes_weights_config(make, in_shapes, out_shape, n_weights, n_params):
    layer = make()
    sym = [L.Input(s) for s in in_shapes]
    out = layer(sym if len(sym) > 1 else sym[0])
    assert out.shape == (None,) + out_shape
    xs = [_x(7, *s, seed=i) for i, s in enumerate(in_shapes)]
    y = layer(xs if len(xs) > 1 else xs[0])
    assert y.shape == (7,) + out_shape
    assert len(layer.weights) == n_weights
    assert layer.count_params() == n_params
    config = layer.get_config()
    clone = type(layer).from_config(config)
    assert clone.get_config() == config
    clone(xs if len(xs) > 1 else xs[0])
    assert [w.shape for w in clone.weights] == [w.shape for w in layer.weights]


def test_dense_matches_numpy_and_keras_layout():
    layer = L.Dense(3, activation="relu")
    x = _x(4, 5)
    y = layer(x).numpy()
    k, b = layer.kernel.numpy(), layer.bias.numpy()
    assert k.shape == (5, 3) and b.shape == (3,)
    np.testing.assert_allclose(y, np.maximum(x @ k + b, 0), rtol=1e-5, atol=1e-6)
    assert [w.path for w in layer.weights] == ["dense/kernel", "dense/bias"]


def test_unique_names():
    assert [L.Dense(1).name for _ in range(3)] == ["dense", "dense_1", "dense_2"]
    assert L.Dense(1, name="mine").name == "mine"
    assert L.Concatenate().name == "concatenate"


def test_dropout_only_in_training_and_inverted():
    d = L.Dropout(0.5)
    x = np.ones((200, 50), np.float32)
    np.testing.assert_array_equal(d(x).numpy(), x)
    np.testing.assert_array_equal(d(x, training=False).numpy(), x)
    y = d(x, training=True).numpy()
    assert set(np.unique(y)) <= {0.0, 2.0}
    assert 0.45 < (y == 0).mean() < 0.55
    # a seeded layer gives reproducible but different masks from call to call
    a, b = L.Dropout(0.5, seed=3), L.Dropout(0.5, seed=3)
    m1, m2 = a(x, training=True).numpy(), b(x, training=True).numpy()
    np.testing.assert_array_equal(m1, m2)
    assert not np.array_equal(m1, a(x, training=True).numpy())


@pytest.mark.parametrize(
    "shape,noise_shape",
    [
        ((6, 40, 5), (None, 1, None)),  # the same features dropped at every time step
        ((6, 40, 5), (6, 1, 5)),
        ((6, 40, 5), (1, None, 1)),
        ((6, 40, 5), (None, 1, 1)),  # whole samples
        ((4, 5, 7, 3), (None, 1, 1, None)),  # SpatialDropout2D's mask
        ((4, 5, 7, 3), (1, 5, 1, 3)),
    ],
)
def test_dropout_noise_shape_mask_is_constant_along_broadcast_axes(shape, noise_shape):
    rate = 0.4
    d = L.Dropout(rate, noise_shape=noise_shape, seed=11)
    x = fastnn.tensor(_x(*shape), requires_grad=True)
    y = d(x, training=True)
    # dropout is linear in its input: the gradient of sum(y) is the mask itself
    y.backward(fastnn.ones(*shape))
    mask = x.grad.numpy()
    np.testing.assert_array_equal(y.numpy(), x.numpy() * mask)
    kept = np.unique(mask[mask != 0])
    assert kept.size == 1 and abs(kept[0] - 1 / (1 - rate)) < 1e-6 and (mask == 0).any()
    concrete = tuple(s if n is None else n for n, s in zip(noise_shape, shape))
    for ax, n in enumerate(concrete):
        if n == 1:  # every slice along a broadcast axis equals the first
            first = np.take(mask, [0], axis=ax)
            np.testing.assert_array_equal(mask, np.broadcast_to(first, mask.shape))
    # inference is the identity, also through predict
    np.testing.assert_array_equal(d(x).numpy(), x.numpy())
    np.testing.assert_array_equal(d(x, training=False).numpy(), x.numpy())
    m = fastnn.models.Sequential([L.Input(shape[1:]), d])
    np.testing.assert_array_equal(m.predict(x.numpy(), verbose=0), x.numpy())


def test_dropout_noise_shape_keep_fraction_and_expected_value():
    rate = 0.3
    d = L.Dropout(rate, noise_shape=(None, 1, None), seed=5)
    x = np.ones((400, 7, 50), np.float32)
    y = d(x, training=True).numpy()
    draws = y[:, 0, :]  # one independent draw per (sample, feature)
    n = draws.size
    kept = (draws != 0).mean()
    assert_close(kept, 1 - rate, "noise_shape keep fraction", **TOL["sample_mean"](math.sqrt(rate * (1 - rate)), n))
    sigma = math.sqrt(rate / (1 - rate))  # std of a mask entry: 0 or 1 / (1 - rate), mean 1
    assert_close(draws.mean(), 1.0, "noise_shape expected value", **TOL["sample_mean"](sigma, n))
    # seeded layers repeat their masks; successive calls differ
    a, b = L.Dropout(rate, noise_shape=(None, 1, None), seed=2), L.Dropout(rate, noise_shape=(None, 1, None), seed=2)
    m1 = a(x, training=True).numpy()
    np.testing.assert_array_equal(m1, b(x, training=True).numpy())
    assert not np.array_equal(m1, a(x, training=True).numpy())


def test_dropout_full_noise_shape_is_plain_dropout():
    x = _x(8, 9)
    full = L.Dropout(0.5, noise_shape=(None, 9), seed=4)(x, training=True).numpy()
    plain = L.Dropout(0.5, seed=4)(x, training=True).numpy()
    np.testing.assert_array_equal(full, plain)


def test_dropout_noise_shape_config_and_training():
    d = L.Dropout(0.25, noise_shape=[None, 1, 4], seed=1)
    assert d.noise_shape == (None, 1, 4)
    config = d.get_config()
    assert config["noise_shape"] == [None, 1, 4]
    clone = L.Dropout.from_config(config)
    assert clone.noise_shape == (None, 1, 4) and clone.get_config() == config
    assert L.Dropout(0.5).get_config()["noise_shape"] is None
    m = fastnn.models.Sequential([L.Input((6, 4)), L.Dropout(0.3, noise_shape=(None, 1, None)), L.LSTM(3)])
    m.compile(optimizer="adam", loss="mse")
    hist = m.fit(_x(16, 6, 4), _x(16, 3), epochs=2, batch_size=5, verbose=0)
    assert all(np.isfinite(v) for v in hist.history["loss"])


def test_dropout_bad_noise_shape():
    d = L.Dropout(0.5, noise_shape=(None, 1, None))
    with pytest.raises(ValueError, match=r"noise_shape=\(None, 1, None\) has 3 entries .*input shape \(4, 5\)"):
        d(_x(4, 5), training=True)
    with pytest.raises(ValueError, match=r"input shape \(4, 5\)"):
        d(_x(4, 5))  # checked at inference too, so a bad shape does not wait for training
    bad = L.Dropout(0.5, noise_shape=(None, 2, None))
    with pytest.raises(ValueError, match=r"noise_shape=\(None, 2, None\) does not broadcast to the input shape "
                                         r"\(4, 5, 3\): axis 1 has size 2"):
        bad(_x(4, 5, 3), training=True)
    with pytest.raises(ValueError, match=r"noise_shape=\(None, 2, None\) does not broadcast.*\(None, 5, 3\)"):
        bad(L.Input((5, 3)))
    for value, msg in [((None, 0), r"got 0 at index 1"), ((2, -1), r"got -1 at index 1"),
                       ((None, 1.5), r"got 1.5 at index 1"), ("abc", r"noise_shape='abc'"), (3, r"noise_shape=3")]:
        with pytest.raises(ValueError, match=msg):
            L.Dropout(0.5, noise_shape=value)


def test_normalization_adapt_and_invert():
    data = _x(500, 3) * np.array([1.0, 5.0, 0.1], np.float32) + np.array([2.0, -1.0, 7.0], np.float32)
    norm = L.Normalization()
    norm.adapt(data)
    out = norm(data).numpy()
    np.testing.assert_allclose(out.mean(0), 0, atol=1e-4)
    np.testing.assert_allclose(out.std(0), 1, atol=1e-3)
    assert norm.trainable_weights == [] and len(norm.non_trainable_weights) == 2
    inv = L.Normalization(mean=norm.mean.numpy(), variance=norm.variance.numpy(), invert=True)
    np.testing.assert_allclose(inv(out).numpy(), data, rtol=1e-4, atol=1e-4)


def test_lambda_and_tensor_arithmetic():
    x = L.Input((3,))
    y = L.Lambda(lambda t: t * 2.0)(x)
    assert y.shape == (None, 3)
    z = (y + 1.0) * x - x / 2.0
    assert z.shape == (None, 3)
    m = fastnn.models.Model(x, z)
    a = _x(4, 3)
    np.testing.assert_allclose(m(a).numpy(), (a * 2 + 1) * a - a / 2, rtol=1e-6)
    def my_squash(t):
        return t * 0.5

    cfg = L.Lambda(my_squash, name="lam").get_config()
    with pytest.raises(ValueError, match="custom_objects"):
        L.Lambda.from_config(cfg)
    assert L.Lambda.from_config(cfg, custom_objects={"my_squash": my_squash}).function is my_squash


def test_add_weight_regularizer_losses_and_trainable():
    layer = L.Dense(2, kernel_regularizer=regularizers.L2(0.1), bias_regularizer="l1")
    layer(np.ones((1, 3), np.float32))
    k = layer.kernel.numpy()
    losses = layer.losses
    assert len(losses) == 2
    np.testing.assert_allclose(losses[0].item(), 0.1 * (k**2).sum(), rtol=1e-5)
    layer.trainable = False
    assert layer.trainable_weights == [] and len(layer.non_trainable_weights) == 2
    layer.trainable = True
    assert len(layer.trainable_weights) == 2


def test_activity_regularizer_and_add_loss_in_call():
    class Penalised(L.Layer):
        def call(self, x):
            self.add_loss(x.abs().sum() * 0.5)
            return x

    layer = Penalised()
    layer(np.ones((2, 2), np.float32))
    assert len(layer.losses) == 1 and layer.losses[0].item() == 2.0
    layer(np.ones((1, 2), np.float32))  # the losses of the previous call are dropped
    assert len(layer.losses) == 1 and layer.losses[0].item() == 1.0
    d = L.Dense(2, activity_regularizer=regularizers.L1(0.01), kernel_initializer="ones")
    d(np.ones((1, 2), np.float32))
    np.testing.assert_allclose(d.losses[0].item(), 0.01 * 4.0, rtol=1e-6)


@pytest.mark.parametrize("name", ["glorot_uniform", "glorot_normal", "he_uniform", "he_normal", "lecun_uniform",
                                  "lecun_normal", "random_normal", "random_uniform", "truncated_normal",
                                  "orthogonal", "zeros", "ones", "identity"])
def test_initializers(name):
    init = initializers.get(name)
    w = init((64, 32)).numpy()
    assert w.shape == (64, 32) and w.dtype == np.float32
    if name == "glorot_uniform":
        limit = np.sqrt(6 / 96)
        assert np.abs(w).max() <= limit and np.abs(w).max() > 0.9 * limit
    if name == "he_normal":
        np.testing.assert_allclose(w.std(), np.sqrt(2 / 64), rtol=0.1)
    if name == "orthogonal":
        np.testing.assert_allclose(w.T @ w, np.eye(32), atol=1e-5)
    if name == "truncated_normal":
        assert np.abs(w).max() <= 0.1 + 1e-7
    back = initializers.deserialize(initializers.serialize(init))
    assert type(back) is type(init)


def test_seeded_initializer_reproducible():
    a = initializers.GlorotUniform(seed=1)((5, 5)).numpy()
    b = initializers.GlorotUniform(seed=1)((5, 5)).numpy()
    np.testing.assert_array_equal(a, b)
    fastnn.random.seed(5)
    c = L.Dense(3)
    c.build((None, 4))
    fastnn.random.seed(5)
    d = L.Dense(3)
    d.build((None, 4))
    np.testing.assert_array_equal(c.kernel.numpy(), d.kernel.numpy())


def test_activations_module():
    assert fastnn.activations.get("relu") is fastnn.functional.relu
    assert fastnn.activations.serialize(fastnn.activations.get("softmax")) == "softmax"
    with pytest.raises(ValueError, match="unknown activation 'nope'"):
        fastnn.activations.get("nope")


def test_errors_quote_bad_values():
    with pytest.raises(ValueError, match="units=-3"):
        L.Dense(-3)
    with pytest.raises(ValueError, match="rate=1.5"):
        L.Dropout(1.5)
    with pytest.raises(TypeError, match="Unrecognized keyword arguments passed to Dense"):
        L.Dense(3, foo=1)
    with pytest.raises(ValueError, match="unknown initializer 'nope'"):
        L.Dense(3, kernel_initializer="nope")
    with pytest.raises(ValueError, match="unknown regularizer"):
        L.Dense(3, kernel_regularizer="l3")
    with pytest.raises(ValueError, match="target_shape"):
        L.Reshape((2, -1, -1))
    d = L.Dense(2)
    d(np.ones((1, 3), np.float32))
    with pytest.raises(ValueError, match=r"expected the last axis to have size 3.*\(2, 4\)"):
        d(np.ones((2, 4), np.float32))
    with pytest.raises(ValueError, match="at least 2 inputs"):
        L.Add()([L.Input((3,))])
    with pytest.raises(ValueError, match="cannot be merged"):
        L.Add()([L.Input((3,)), L.Input((4,))])
    with pytest.raises(ValueError, match="matching shapes except along axis"):
        L.Concatenate()([L.Input((2, 3)), L.Input((3, 3))])
    with pytest.raises(ValueError, match="count_params"):
        L.Dense(2).count_params()
    with pytest.raises(ValueError, match="Input needs a shape"):
        L.Input()
