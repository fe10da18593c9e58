"""Initializers: Keras 3 names, aliases and defaults, fans of Dense and convolution kernels,
sample statistics and bounds (tolerances from the sample size), orthogonality (including the
recurrent (units, 4 * units) kernel), seeding, config round trips and bad arguments."""

import json
import math

import fastnn
import numpy as np
import pytest
from fastnn import initializers as I
from fastnn import layers as L
from fastnn.layers.base import clear_session
from oracle import TOL

TRUNC = 0.87962566103423978  # std of N(0, 1) truncated to [-2, 2]: Keras's correction factor


@pytest.mark.parametrize("shape,fans", [
    ((), (1, 1)), ((7,), (7, 7)), ((300, 200), (300, 200)),
    ((5, 8, 12), (5 * 8, 5 * 12)),  # Conv1D kernel (k, cin, cout)
    ((3, 3, 16, 32), (9 * 16, 9 * 32)),  # Conv2D kernel (kh, kw, cin, cout)
    ((2, 3, 3, 4, 6), (18 * 4, 18 * 6)),  # Conv3D
])
def test_compute_fans_as_keras(shape, fans):
    assert I.compute_fans(shape) == fans


def _expected(name, fan_in, fan_out):
    """(kind, std of the draws, bound): Keras's formulas for each initializer."""
    avg = (fan_in + fan_out) / 2
    table = {
        "glorot_uniform": ("uniform", math.sqrt(3 / avg)),
        "he_uniform": ("uniform", math.sqrt(6 / fan_in)),
        "lecun_uniform": ("uniform", math.sqrt(3 / fan_in)),
        "random_uniform": ("uniform", 0.05),
        "glorot_normal": ("truncated", math.sqrt(1 / avg)),
        "he_normal": ("truncated", math.sqrt(2 / fan_in)),
        "lecun_normal": ("truncated", math.sqrt(1 / fan_in)),
        "variance_scaling": ("truncated", math.sqrt(1 / fan_in)),
        "truncated_normal": ("truncated", 0.05 * TRUNC),
        "random_normal": ("normal", 0.05),
    }
    kind, v = table[name]
    if kind == "uniform":
        return kind, v / math.sqrt(3), v  # limit v
    if kind == "truncated":
        return kind, v, 2 * v / TRUNC  # the draws have std v; the cut is at 2 of the untruncated stddevs
    return kind, v, None


NAMES = ["glorot_uniform", "glorot_normal", "he_uniform", "he_normal", "lecun_uniform", "lecun_normal",
         "random_normal", "random_uniform", "truncated_normal", "variance_scaling"]


@pytest.mark.parametrize("shape", [(300, 200), (3, 3, 16, 32), (5, 8, 12)])
@pytest.mark.parametrize("name", NAMES)
def test_statistics_and_bounds(name, shape):
    fastnn.random.seed(len(shape))
    t = I.get(name)(shape)
    assert t.shape == shape and t.dtype == np.float32
    w = t.numpy().astype(np.float64)
    kind, std, bound = _expected(name, *I.compute_fans(shape))
    n = w.size
    np.testing.assert_allclose(w.mean(), 0.0, **TOL["sample_mean"](std, n))
    np.testing.assert_allclose(w.std(), std, **TOL["sample_std"](std, n))
    if bound is not None:
        assert np.abs(w).max() <= bound * (1 + 1e-6)
        # and the draws reach close to it: no draw within the outer 20/n (uniform) or 100/n
        # (truncated normal, thinner there) of the range has probability below e^-20
        assert np.abs(w).max() > bound * (1 - (20 if kind == "uniform" else 100) / n)


def test_truncated_normal_bounds_and_shift():
    w = I.TruncatedNormal(mean=1.0, stddev=0.5, seed=3)((400, 250)).numpy().astype(np.float64)
    assert np.all(np.abs(w - 1.0) <= 1.0 + 1e-6)  # 2 stddev
    assert np.abs(w - 1.0).max() > 0.99
    np.testing.assert_allclose(w.mean(), 1.0, **TOL["sample_mean"](0.5 * TRUNC, w.size))
    np.testing.assert_allclose(w.std(), 0.5 * TRUNC, **TOL["sample_std"](0.5 * TRUNC, w.size))


def test_variance_scaling_modes_and_distributions():
    shape = (3, 3, 20, 40)
    fan_in, fan_out = I.compute_fans(shape)
    for mode, n in (("fan_in", fan_in), ("fan_out", fan_out), ("fan_avg", (fan_in + fan_out) / 2)):
        for dist in ("truncated_normal", "untruncated_normal", "uniform"):
            w = I.VarianceScaling(scale=2.0, mode=mode, distribution=dist, seed=1)(shape).numpy().astype(np.float64)
            std = math.sqrt(2.0 / n)
            np.testing.assert_allclose(w.std(), std, **TOL["sample_std"](std, w.size))
    assert I.VarianceScaling(distribution="normal").distribution == "truncated_normal"  # Keras's alias


def test_orthogonal_dense_recurrent_and_conv_shapes():
    w = I.Orthogonal(seed=0)((64, 32)).numpy().astype(np.float64)
    np.testing.assert_allclose(w.T @ w, np.eye(32), atol=1e-5)
    units = 16  # an LSTM recurrent kernel: one (units, 4 * units) matrix, rows orthonormal
    r = I.Orthogonal(seed=1)((units, 4 * units)).numpy().astype(np.float64)
    np.testing.assert_allclose(r @ r.T, np.eye(units), atol=1e-5)
    g = I.Orthogonal(gain=2.0, seed=1)((units, 4 * units)).numpy().astype(np.float64)
    np.testing.assert_allclose(g, 2.0 * r, rtol=1e-6, atol=1e-7)
    k = I.Orthogonal(seed=2)((3, 3, 4, 8)).numpy().reshape(36, 8).astype(np.float64)
    np.testing.assert_allclose(k.T @ k, np.eye(8), atol=1e-5)
    with pytest.raises(ValueError, match=r"at least a 2-D shape.*\(5,\)"):
        I.Orthogonal()((5,))


def test_constants_and_identity():
    np.testing.assert_array_equal(I.get("zeros")((2, 3)).numpy(), np.zeros((2, 3)))
    np.testing.assert_array_equal(I.get("ones")((4,)).numpy(), np.ones(4))
    np.testing.assert_array_equal(I.Constant(0.25)((2, 2)).numpy(), np.full((2, 2), 0.25))
    np.testing.assert_array_equal(I.Identity(gain=3.0)((2, 4)).numpy(), 3.0 * np.eye(2, 4))
    with pytest.raises(ValueError, match=r"2-D shape.*\(2, 2, 2\)"):
        I.Identity()((2, 2, 2))


def test_seeding():
    for name in NAMES + ["orthogonal"]:
        cls = type(I.get(name))
        a, b, c = cls(seed=7), cls(seed=7), cls(seed=8)
        wa = a((20, 30)).numpy()
        np.testing.assert_array_equal(wa, b((20, 30)).numpy())  # same seed, same values
        np.testing.assert_array_equal(wa, a((20, 30)).numpy())  # Keras 3: a seeded instance repeats itself
        assert not np.array_equal(wa, c((20, 30)).numpy())
        u = cls()  # unseeded: the global generator, so each call differs ...
        assert not np.array_equal(u((20, 30)).numpy(), u((20, 30)).numpy())
        fastnn.random.seed(11)  # ... and fastnn.random.seed makes the sequence reproducible
        x1 = u((20, 30)).numpy()
        fastnn.random.seed(11)
        np.testing.assert_array_equal(x1, u((20, 30)).numpy())


def test_keras_names_aliases_and_defaults():
    defaults = {
        "zeros": (I.Zeros, {}), "zero": (I.Zeros, {}), "ones": (I.Ones, {}), "one": (I.Ones, {}),
        "constant": (I.Constant, {"value": 0.0}),
        "random_normal": (I.RandomNormal, {"mean": 0.0, "stddev": 0.05, "seed": None}),
        "normal": (I.RandomNormal, {"mean": 0.0, "stddev": 0.05, "seed": None}),
        "random_uniform": (I.RandomUniform, {"minval": -0.05, "maxval": 0.05, "seed": None}),
        "uniform": (I.RandomUniform, {"minval": -0.05, "maxval": 0.05, "seed": None}),
        "truncated_normal": (I.TruncatedNormal, {"mean": 0.0, "stddev": 0.05, "seed": None}),
        "variance_scaling": (I.VarianceScaling, {"scale": 1.0, "mode": "fan_in", "distribution": "truncated_normal",
                                                 "seed": None}),
        "glorot_uniform": (I.GlorotUniform, {"seed": None}), "glorot_normal": (I.GlorotNormal, {"seed": None}),
        "he_uniform": (I.HeUniform, {"seed": None}), "he_normal": (I.HeNormal, {"seed": None}),
        "lecun_uniform": (I.LecunUniform, {"seed": None}), "lecun_normal": (I.LecunNormal, {"seed": None}),
        "identity": (I.Identity, {"gain": 1.0}), "orthogonal": (I.Orthogonal, {"gain": 1.0, "seed": None}),
        "Orthogonal": (I.Orthogonal, {"gain": 1.0, "seed": None}),
        "OrthogonalInitializer": (I.Orthogonal, {"gain": 1.0, "seed": None}),
        "IdentityInitializer": (I.Identity, {"gain": 1.0}),
        "GlorotUniform": (I.GlorotUniform, {"seed": None}),
    }
    for key, (cls, config) in defaults.items():
        init = I.get(key)
        assert type(init) is cls, key
        assert init.get_config() == config, key
    for cls, (scale, mode, dist) in ((I.GlorotUniform, (1.0, "fan_avg", "uniform")),
                                      (I.GlorotNormal, (1.0, "fan_avg", "truncated_normal")),
                                      (I.HeUniform, (2.0, "fan_in", "uniform")),
                                      (I.HeNormal, (2.0, "fan_in", "truncated_normal")),
                                      (I.LecunUniform, (1.0, "fan_in", "uniform")),
                                      (I.LecunNormal, (1.0, "fan_in", "truncated_normal"))):
        init = cls()
        assert isinstance(init, I.VarianceScaling)
        assert (init.scale, init.mode, init.distribution) == (scale, mode, dist)


def test_dense_kernel_uses_keras_fans():
    clear_session()
    fastnn.random.seed(0)
    layer = L.Dense(200)
    layer.build((None, 300))
    w = layer.kernel.numpy()
    limit = math.sqrt(6 / (300 + 200))  # glorot_uniform on (in, out)
    assert w.shape == (300, 200) and np.abs(w).max() <= limit
    np.testing.assert_allclose(w.std(), limit / math.sqrt(3), **TOL["sample_std"](limit / math.sqrt(3), w.size))
    np.testing.assert_array_equal(layer.bias.numpy(), np.zeros(200))


@pytest.mark.parametrize("init", [
    I.RandomNormal(mean=0.5, stddev=0.1, seed=3), I.RandomUniform(-1.0, 2.0, seed=4),
    I.TruncatedNormal(stddev=0.3, seed=5), I.VarianceScaling(0.5, "fan_avg", "uniform", seed=6),
    I.GlorotNormal(seed=7), I.HeUniform(), I.Orthogonal(gain=1.5, seed=8), I.Identity(gain=0.5),
    I.Constant(2.5), I.Zeros(), I.Ones(),
])
def test_config_round_trip(init):
    cfg = json.loads(json.dumps(I.serialize(init)))
    again = I.deserialize(cfg)
    assert type(again) is type(init) and again.get_config() == init.get_config()
    if getattr(init, "seed", None) is not None or not hasattr(init, "seed"):
        np.testing.assert_array_equal(again((6, 4)).numpy(), init((6, 4)).numpy())


def test_bad_arguments():
    with pytest.raises(ValueError, match="scale must be positive.*scale=0"):
        I.VarianceScaling(scale=0)
    with pytest.raises(ValueError, match="mode must be.*'fan'"):
        I.VarianceScaling(mode="fan")
    with pytest.raises(ValueError, match="distribution must be.*'gaussian'"):
        I.VarianceScaling(distribution="gaussian")
    with pytest.raises(ValueError, match="stddev must be >= 0.*-1"):
        I.RandomNormal(stddev=-1.0)
    with pytest.raises(ValueError, match="minval must be <= maxval.*minval=1"):
        I.RandomUniform(1.0, 0.0)
    with pytest.raises(TypeError, match="mean must be a finite number.*'a'"):
        I.TruncatedNormal(mean="a")
    with pytest.raises(TypeError, match="gain must be a finite number.*nan"):
        I.Orthogonal(gain=float("nan"))
    for seed in ("1", 1.5, True):
        with pytest.raises(TypeError, match="seed must be an integer or None"):
            I.GlorotUniform(seed=seed)
    with pytest.raises(TypeError, match="Constant: value must be a number.*'x'"):
        I.Constant("x")
    with pytest.raises(ValueError, match=r"negative dimensions.*\(3, -1\)"):
        I.HeNormal()((3, -1))
    with pytest.raises(TypeError, match="shape of integers.*'ab'"):
        I.Zeros()("ab")
    with pytest.raises(ValueError, match="unknown initializer 'glorot'"):
        I.get("glorot")
    with pytest.raises(TypeError, match="cannot interpret 3 as an initializer"):
        I.get(3)
