"""Batch and layer normalization: kernels against torch (training with Keras's momentum
converted to torch's, inference, no affine), moving statistics (biased variance, Keras's update),
thread-count bit identity, errors, and the BatchNormalization / LayerNormalization layers
(weights, parameter counts, trainable=False inference mode, fit() moving statistics against a
NumPy transcription of Keras's update, config and save / load)."""

import fastnn
import fastnn.functional as F
import numpy as np
import pytest
import torch
import torch.nn.functional as TF
from fastnn import layers as L
from oracle import TOL, assert_close, check_op, randn


def channel_axis_to_1(t, axis):
    return t.movedim(axis, 1) if axis not in (1, -t.ndim + 1) else t


@pytest.mark.parametrize("shape,axis", [((16, 5), -1), ((4, 7, 9, 3), -1), ((3, 6, 5, 7), 1), ((2, 3, 11), 1),
                                        ((64, 1), -1)])
@pytest.mark.parametrize("affine", [True, False])
def test_batch_norm_training_against_torch(shape, axis, affine):
    c = shape[axis]
    x = randn(*shape) * 3 + 1.5
    gamma = np.random.default_rng(1).uniform(0.5, 1.5, c).astype(np.float32)
    beta = randn(c, seed=2)
    n = x.size // c
    tol = TOL["reduction"](n)

    def ours(t, g, b):
        return F.batch_norm(t, None, None, g if affine else None, b if affine else None, training=True, axis=axis)

    def ref(t, g, b):
        y = TF.batch_norm(channel_axis_to_1(t, axis), None, None, g if affine else None, b if affine else None,
                          training=True, momentum=0.01, eps=1e-3)
        return y.movedim(1, axis) if axis not in (1,) else y

    check_op(ours, ref, [x, gamma, beta], name="batch_norm", tol=tol, grad=[True, affine, affine])


@pytest.mark.parametrize("c", [1, 3, 17, 32, 33])
@pytest.mark.parametrize("axis", [-1, 1])
def test_batch_norm_training_odd_channels_against_torch(c, axis):
    # channels_last runs the channels 16 at a time (17 and 33 leave a tail, 1 and 3 are all tail);
    # channels_first runs each channel's 5 * 7 = 35 pixels 16 at a time plus a tail of 3
    shape = (3, 5, 7, c) if axis == -1 else (3, c, 5, 7)
    x = randn(*shape) * 2 - 0.5
    gamma = np.random.default_rng(1).uniform(0.5, 1.5, c).astype(np.float32)
    beta = randn(c, seed=2)

    def ours(t, g, b):
        return F.batch_norm(t, None, None, g, b, training=True, axis=axis)

    def ref(t, g, b):
        y = TF.batch_norm(channel_axis_to_1(t, axis), None, None, g, b, training=True, momentum=0.01, eps=1e-3)
        return y.movedim(1, axis) if axis == -1 else y

    check_op(ours, ref, [x, gamma, beta], name="batch_norm_odd_channels", tol=TOL["reduction"](x.size // c))


@pytest.mark.parametrize("axis", [-1, 1])
def test_batch_norm_moments_with_a_large_mean(axis):
    # one-pass statistics: the mean 1000 times the spread must not cancel the variance away
    shape = (64, 6, 5, 17) if axis == -1 else (64, 17, 6, 5)
    x = (randn(*shape) * 0.5 + 500.0).astype(np.float32)
    mean, var = F.batch_norm_moments(fastnn.tensor(x), axis=axis)
    red = tuple(i for i in range(4) if i != axis % 4)
    x64 = x.astype(np.float64)
    n = x.size // 17
    assert_close(mean.numpy(), x64.mean(red).astype(np.float32), "bn_large_mean", **TOL["reduction"](n))
    assert_close(var.numpy(), x64.var(red).astype(np.float32), "bn_large_mean_var", **TOL["reduction"](n))


@pytest.mark.parametrize("axis", [-1, 1])
def test_batch_norm_moments_propagate_non_finite_values(axis):
    x = randn(4, 3, 3, 5) if axis == -1 else randn(4, 5, 3, 3)
    idx_inf = (0, 0, 0, 2) if axis == -1 else (0, 2, 0, 0)  # first element of channel 2
    idx_nan = (2, 1, 1, 4) if axis == -1 else (2, 4, 1, 1)
    x[idx_inf] = np.inf
    x[idx_nan] = np.nan
    mean, var = (t.numpy() for t in F.batch_norm_moments(fastnn.tensor(x), axis=axis))
    assert mean[2] == np.inf and np.isnan(var[2])
    assert np.isnan(mean[4]) and np.isnan(var[4])
    assert np.all(np.isfinite(mean[[0, 1, 3]])) and np.all(np.isfinite(var[[0, 1, 3]]))


@pytest.mark.parametrize("axis", [-1, 1])
def test_batch_norm_inference_against_torch(axis):
    x = randn(4, 6, 5, 3) if axis == -1 else randn(4, 3, 6, 5)
    rng = np.random.default_rng(3)
    mm, mv = randn(3, seed=4), rng.uniform(0.5, 2.0, 3).astype(np.float32)
    gamma, beta = rng.uniform(0.5, 1.5, 3).astype(np.float32), randn(3, seed=5)

    def ours(t, g, b):
        return F.batch_norm(t, fastnn.tensor(mm), fastnn.tensor(mv), g, b, training=False, axis=axis)

    def ref(t, g, b):
        y = TF.batch_norm(channel_axis_to_1(t, axis), torch.tensor(mm), torch.tensor(mv), g, b, False, 0.01, 1e-3)
        return y.movedim(1, axis) if axis == -1 else y

    check_op(ours, ref, [x, gamma, beta], name="batch_norm_inference", tol=TOL["reduction"](x.size // 3))


def test_moving_statistics_follow_keras_not_torch():
    x = randn(32, 4) * 2 + 1
    mm, mv = fastnn.tensor(np.full(4, 0.5, np.float32)), fastnn.tensor(np.full(4, 2.0, np.float32))
    F.batch_norm(fastnn.tensor(x), mm, mv, training=True, momentum=0.9)
    mean, var = x.astype(np.float64).mean(0).astype(np.float32), x.astype(np.float64).var(0).astype(np.float32)
    assert_close(mm.numpy(), np.float32(0.5) * np.float32(0.9) + mean * np.float32(0.1), "moving_mean",
                 **TOL["moving_stats"])
    # Keras keeps the biased variance (torch's running_var would use n - 1).
    assert_close(mv.numpy(), np.float32(2.0) * np.float32(0.9) + var * np.float32(0.1), "moving_var",
                 **TOL["moving_stats"])
    rm, rv = torch.full((4,), 0.5), torch.full((4,), 2.0)
    TF.batch_norm(torch.tensor(x), rm, rv, training=True, momentum=0.1, eps=1e-3)
    assert_close(mm.numpy(), rm.numpy(), "moving_mean_vs_torch", **TOL["moving_stats"])
    assert not np.allclose(mv.numpy(), rv.numpy(), rtol=1e-4)


@pytest.mark.parametrize("shape,axis", [((5, 7), -1), ((3, 4, 33), -1), ((2, 3, 4, 5), (-2, -1)), ((6, 1), -1)])
@pytest.mark.parametrize("affine", [True, False])
def test_layer_norm_against_torch(shape, axis, affine):
    nd = len(axis) if isinstance(axis, tuple) else 1
    ns = shape[len(shape) - nd:]
    x = randn(*shape) * 2 + 0.5
    gamma = np.random.default_rng(1).uniform(0.5, 1.5, ns).astype(np.float32)
    beta = randn(*ns, seed=2)
    check_op(
        lambda t, g, b: F.layer_norm(t, g if affine else None, b if affine else None, axis=axis),
        lambda t, g, b: TF.layer_norm(t, ns, g if affine else None, b if affine else None, 1e-3),
        [x, gamma, beta], name="layer_norm", tol=TOL["reduction"](int(np.prod(ns))), grad=[True, affine, affine],
    )


def test_norm_kernels_bit_identical_for_any_thread_count():
    x_cl, x_cf = randn(64, 14, 14, 32), randn(32, 16, 15, 15)
    g = randn(32, seed=1)

    def run():
        out = []
        for x, axis, c in ((x_cl, -1, 32), (x_cf, 1, 16)):
            t = fastnn.tensor(x.copy(), requires_grad=True)
            gm = fastnn.tensor(g[:c].copy(), requires_grad=True)
            y = F.batch_norm(t, None, None, gm, None, training=True, axis=axis)
            y.backward(fastnn.tensor(randn(*x.shape, seed=2)))
            out += [y.numpy().copy(), t.grad.numpy().copy(), gm.grad.numpy().copy()]
        t = fastnn.tensor(x_cl.reshape(-1, 32).copy(), requires_grad=True)
        gm = fastnn.tensor(g.copy(), requires_grad=True)
        y = F.layer_norm(t, gm)
        y.backward(fastnn.tensor(randn(*t.shape, seed=3)))
        return out + [y.numpy().copy(), t.grad.numpy().copy(), gm.grad.numpy().copy()]

    fastnn.set_num_threads(1)
    one = run()
    fastnn.set_num_threads(2)
    two = run()
    for a, b in zip(one, two):
        assert np.array_equal(a, b)


def test_norm_bad_inputs_raise_clear_errors():
    x = fastnn.tensor(randn(4, 3))
    with pytest.raises(ValueError, match=r"gamma must have shape \(3,\), got shape \(4,\)"):
        F.batch_norm(x, gamma=fastnn.ones(4), training=True)
    with pytest.raises(ValueError, match="axis 2 is out of range"):
        F.batch_norm(x, training=True, axis=2)
    with pytest.raises(ValueError, match="moving_mean and moving_variance"):
        F.batch_norm(x, training=False)
    with pytest.raises(ValueError, match="empty input"):
        F.batch_norm(fastnn.tensor(np.zeros((0, 3), np.float32)), training=True)
    with pytest.raises(ValueError, match="epsilon"):
        F.batch_norm(x, training=True, epsilon=0.0)
    with pytest.raises(ValueError, match="trailing axes"):
        F.layer_norm(fastnn.tensor(randn(2, 3, 4)), axis=1)
    with pytest.raises(TypeError, match="float32"):
        F.layer_norm(fastnn.tensor(np.zeros((2, 3), np.int64)))
    with pytest.raises(ValueError, match="momentum"):
        L.BatchNormalization(momentum=1.5)
    bn = L.BatchNormalization()
    bn(fastnn.tensor(randn(2, 3)))
    with pytest.raises(ValueError, match=r"incompatible.*\(2, 5\)"):
        bn(fastnn.tensor(randn(2, 5)))


# ---------------------------------------------------------------------- layers
def test_batch_normalization_weights_and_params_match_keras():
    model = fastnn.models.Sequential([L.Input((8, 8, 16)), L.BatchNormalization()])
    bn = model.layers[0]
    assert [w.name for w in bn.weights] == ["gamma", "beta", "moving_mean", "moving_variance"]
    assert [w.name for w in bn.trainable_weights] == ["gamma", "beta"]
    assert [w.name for w in bn.non_trainable_weights] == ["moving_mean", "moving_variance"]
    assert bn.count_params() == 4 * 16
    assert sum(w.size for w in model.non_trainable_weights) == 2 * 16
    assert L.BatchNormalization(center=False, scale=False).get_config()["center"] is False
    nb = L.BatchNormalization(scale=False)
    nb(fastnn.tensor(randn(2, 3)))
    assert nb.count_params() == 9


def test_batch_normalization_training_flag_and_trainable_false():
    x = randn(16, 4) * 3 + 2
    bn = L.BatchNormalization(momentum=0.5)
    y_inf = bn(fastnn.tensor(x)).numpy()  # moving stats 0 / 1: y = x / sqrt(1 + eps)
    assert_close(y_inf, x / np.sqrt(np.float32(1.001)), "bn_inference", **TOL["elementwise"])
    assert np.array_equal(bn.moving_mean.numpy(), np.zeros(4, np.float32))
    y_tr = bn(fastnn.tensor(x), training=True).numpy()
    assert abs(y_tr.mean()) < 1e-5 and not np.array_equal(bn.moving_mean.numpy(), np.zeros(4, np.float32))
    bn.trainable = False  # Keras 3: inference mode even with training=True
    before = bn.moving_mean.numpy().copy()
    y_frozen = bn(fastnn.tensor(x), training=True).numpy()
    assert np.array_equal(bn.moving_mean.numpy(), before)
    want = F.batch_norm(fastnn.tensor(x), bn.moving_mean, bn.moving_variance, bn.gamma, bn.beta).numpy()
    assert np.array_equal(y_frozen, want)


def test_moving_statistics_after_fit_equal_keras_update():
    rng = np.random.default_rng(0)
    x = (rng.standard_normal((96, 5, 5, 3)) * 2 + 1).astype(np.float32)
    y = rng.standard_normal((96, 2)).astype(np.float32)
    model = fastnn.models.Sequential([L.Input((5, 5, 3)), L.BatchNormalization(momentum=0.9), L.Flatten(), L.Dense(2)])
    model.compile(optimizer="sgd", loss="mse")
    model.fit(x, y, batch_size=32, epochs=2, shuffle=False, verbose=0)
    mm, mv = np.zeros(3, np.float32), np.ones(3, np.float32)
    momentum = 0.9
    for _ in range(2):
        for b in range(0, 96, 32):
            xb = x[b:b + 32].astype(np.float64)
            mean = xb.mean((0, 1, 2)).astype(np.float32)
            var = xb.var((0, 1, 2)).astype(np.float32)
            # keras/src/layers/normalization/batch_normalization.py, in float32
            mm = mm * np.float32(momentum) + mean * np.float32(1.0 - momentum)
            mv = mv * np.float32(momentum) + var * np.float32(1.0 - momentum)
    bn = model.layers[0]
    assert_close(bn.moving_mean.numpy(), mm, "fit_moving_mean", **TOL["moving_stats"])
    assert_close(bn.moving_variance.numpy(), mv, "fit_moving_variance", **TOL["moving_stats"])
    # predict runs in inference mode: the moving statistics normalise.
    want = F.batch_norm(fastnn.tensor(x), bn.moving_mean, bn.moving_variance, bn.gamma, bn.beta).numpy()
    got = fastnn.models.Sequential([L.Input((5, 5, 3)), bn]).predict(x, verbose=0)
    assert_close(got, want, "bn_predict", **TOL["elementwise"])


def test_norm_layers_config_and_save_load(tmp_path):
    model = fastnn.models.Sequential([
        L.Input((6, 6, 4)),
        L.BatchNormalization(momentum=0.8, epsilon=1e-4, gamma_initializer="random_normal"),
        L.LayerNormalization(epsilon=1e-5),
        L.BatchNormalization(axis=1, center=False),
        L.Flatten(),
        L.Dense(2),
    ])
    ln = model.layers[1]
    assert [w.name for w in ln.weights] == ["gamma", "beta"] and ln.count_params() == 8
    x, y = randn(8, 6, 6, 4), randn(8, 2)
    model.compile(optimizer="adam", loss="mse")
    model.fit(x, y, epochs=2, batch_size=4, verbose=0)
    for layer in model.layers[:3]:
        config = layer.get_config()
        assert type(layer).from_config(config).get_config() == config
    path = tmp_path / "bn.keras"
    model.save(path)
    loaded = fastnn.models.load_model(path)
    for a, b in zip(model.get_weights(), loaded.get_weights()):
        assert np.array_equal(a, b)
    assert np.array_equal(model.predict(x, verbose=0), loaded.predict(x, verbose=0))
    assert loaded.layers[0].momentum == 0.8 and loaded.layers[2].axis == 1
