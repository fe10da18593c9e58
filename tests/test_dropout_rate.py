"""Dropout rates as Keras 3 accepts them: [0, 1]; rate=1 zeroes everything in training (as
torch's dropout with p=1) and is the identity at inference."""

import fastnn
import numpy as np
import pytest
import torch
from fastnn import layers as L
from oracle import TOL, assert_close

rng = np.random.default_rng(5)


def _x(*shape):
    return rng.standard_normal(shape).astype(np.float32)


FACTORIES = [
    lambda rate: L.Dropout(rate),
    lambda rate: L.Dropout(rate, noise_shape=(None, 1, None, None)),
    lambda rate: L.SpatialDropout2D(rate),
    lambda rate: L.SpatialDropout2D(rate, data_format="channels_first"),
]


@pytest.mark.parametrize("factory", FACTORIES)
def test_rate_one_drops_everything_in_training(factory):
    layer = factory(1.0)
    assert layer.rate == 1.0 and layer.get_config()["rate"] == 1.0
    xv = _x(2, 3, 4, 5)
    x = fastnn.tensor(xv, requires_grad=True)
    y = layer(x, training=True)
    want = torch.nn.functional.dropout(torch.from_numpy(xv), p=1.0, training=True)
    assert_close(y.numpy(), want.numpy(), "dropout rate=1", **TOL["exact"])
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.zeros_like(xv))
    np.testing.assert_array_equal(layer(x, training=False).numpy(), xv)
    np.testing.assert_array_equal(layer(x).numpy(), xv)
    assert type(layer).from_config(layer.get_config()).rate == 1.0


@pytest.mark.parametrize("factory", FACTORIES)
def test_rate_zero_is_the_identity(factory):
    xv = _x(2, 3, 4, 5)
    np.testing.assert_array_equal(factory(0.0)(fastnn.tensor(xv), training=True).numpy(), xv)


def test_rate_one_trains_in_a_model():
    m = fastnn.models.Sequential([L.Input((4,)), L.Dense(3), L.Dropout(1.0), L.Dense(1)])
    m.compile(optimizer="sgd", loss="mse")
    before = m.layers[0].kernel.numpy().copy()
    loss = m.train_on_batch(_x(8, 4), _x(8, 1))
    assert np.isfinite(loss)
    np.testing.assert_array_equal(m.layers[0].kernel.numpy(), before)  # no gradient reaches it
    assert np.isfinite(m.predict(_x(3, 4), verbose=0)).all()


def test_rate_one_keeps_the_generator_stream():
    a, b = L.Dropout(1.0, seed=3), L.Dropout(0.5, seed=3)
    x = fastnn.ones(4, 6)
    a(x, training=True)
    b(x, training=True)
    assert a._gen.offset == b._gen.offset


@pytest.mark.parametrize("cls", [L.Dropout, L.SpatialDropout2D])
@pytest.mark.parametrize("rate", [-0.1, 1.0001, 2, float("nan"), "0.5", None, True])
def test_bad_rates_are_refused(cls, rate):
    with pytest.raises(ValueError, match=r"rate must be a number in \[0, 1\], got rate="):
        cls(rate)
