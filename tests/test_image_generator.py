"""fastnn.preprocessing.image.ImageDataGenerator / flow, and model.fit / evaluate on sources of
batches (PyDataset-like objects and generators)."""

from __future__ import annotations

import warnings

import fastnn
import numpy as np
import pytest
from fastnn import layers as L
from fastnn.preprocessing import image as image_mod
from fastnn.preprocessing.image import ImageDataGenerator


def make(**kw) -> ImageDataGenerator:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        return ImageDataGenerator(**kw)


def data(n=20, h=6, w=7, c=2, seed=0):
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, (n, h, w, c)).astype(np.uint8), rng.integers(0, 3, n)


def test_deprecation_warning_once(monkeypatch):
    monkeypatch.setattr(image_mod, "_WARNED", [False])
    with pytest.warns(DeprecationWarning, match="removed in Keras 3.*RandomRotation.*Rescaling"):
        ImageDataGenerator()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ImageDataGenerator(horizontal_flip=True)  # no second warning


def test_flow_batches_without_augmentation():
    x, y = data()
    it = make(rescale=1 / 255).flow(x, y, batch_size=8, shuffle=False)
    assert len(it) == 3
    xs, ys = zip(*[it[i] for i in range(3)])
    assert [len(b) for b in xs] == [8, 8, 4]
    np.testing.assert_allclose(np.concatenate(xs), x.astype(np.float32) / 255, rtol=1e-6)
    np.testing.assert_array_equal(np.concatenate(ys), y)
    assert xs[0].dtype == np.float32
    xb = make().flow(x, batch_size=5, shuffle=False)[1]  # without y: images alone
    np.testing.assert_array_equal(xb, x[5:10])
    xb, yb, wb = make().flow(x, y, batch_size=4, sample_weight=np.arange(20), shuffle=False)[-1]
    np.testing.assert_array_equal(wb, [16, 17, 18, 19])
    with pytest.raises(IndexError, match="batch 3"):
        it[3]


def test_shuffle_seed_and_epochs():
    x, y = data()
    a = make().flow(x, y, batch_size=6, seed=3)
    b = make().flow(x, y, batch_size=6, seed=3)
    first = [a[i][1] for i in range(len(a))]
    assert [list(v) for v in first] == [list(b[i][1]) for i in range(len(b))]
    assert sorted(np.concatenate([a[i][0] for i in range(len(a))]).reshape(20, -1).tolist()) == sorted(
        x.reshape(20, -1).astype(np.float32).tolist())  # a permutation, images kept whole
    a.on_epoch_end()
    assert any(not np.array_equal(a[i][1], first[i]) for i in range(len(a)))
    # iteration cycles through epochs
    seen = [next(b)[1] for _ in range(2 * len(b))]
    assert sum(len(s) for s in seen) == 40


def test_validation_split_subsets():
    x, y = data()
    g = make(validation_split=0.25)
    val = g.flow(x, y, batch_size=100, shuffle=False, subset="validation")[0]
    tr = g.flow(x, y, batch_size=100, shuffle=False, subset="training")[0]
    np.testing.assert_array_equal(val[0], x[:5])  # the first fraction, as Keras
    np.testing.assert_array_equal(tr[1], y[5:])
    with pytest.raises(ValueError, match="validation_split"):
        make().flow(x, y, subset="validation")
    with pytest.raises(ValueError, match="subset"):
        g.flow(x, y, subset="test")


def test_featurewise_and_samplewise_standardization():
    x, _ = data(n=50)
    g = make(featurewise_center=True, featurewise_std_normalization=True)
    with pytest.raises(ValueError, match="fit"):
        g.flow(x, batch_size=50)[0]
    g.fit(x)
    xf = x.astype(np.float64)
    np.testing.assert_allclose(g.mean.reshape(-1), xf.mean(axis=(0, 1, 2)), rtol=1e-6)
    np.testing.assert_allclose(g.std.reshape(-1), xf.std(axis=(0, 1, 2)), rtol=1e-6)
    out = g.flow(x, batch_size=50, shuffle=False)[0]
    np.testing.assert_allclose(out.mean(axis=(0, 1, 2)), 0, atol=1e-5)
    np.testing.assert_allclose(out.std(axis=(0, 1, 2)), 1, atol=1e-5)
    s = make(samplewise_center=True, samplewise_std_normalization=True).flow(x, batch_size=50, shuffle=False)[0]
    np.testing.assert_allclose(s.reshape(50, -1).mean(axis=1), 0, atol=1e-5)
    np.testing.assert_allclose(s.reshape(50, -1).std(axis=1), 1, atol=1e-5)
    # channels first: the statistics are per channel on axis 1
    gc = make(featurewise_center=True, data_format="channels_first")
    gc.fit(x.transpose(0, 3, 1, 2))
    np.testing.assert_allclose(gc.mean.reshape(-1), xf.mean(axis=(0, 1, 2)), rtol=1e-6)


def test_flips_and_shifts_exact():
    x, y = data(n=16)
    xf = x.astype(np.float32)
    out = make(horizontal_flip=True).flow(x, y, batch_size=16, shuffle=False, seed=1)[0][0]
    flipped = [np.array_equal(o, a[:, ::-1]) for o, a in zip(out, xf)]
    assert all(f or np.array_equal(o, a) for f, o, a in zip(flipped, out, xf)) and 0 < sum(flipped) < 16
    g = make(width_shift_range=[2], fill_mode="constant", cval=-1.0)  # exactly +-2 pixels
    out = g.flow(x, y, batch_size=16, shuffle=False, seed=2)[0][0]
    right = np.full_like(xf, -1)
    right[:, :, 2:] = xf[:, :, :-2]
    left = np.full_like(xf, -1)
    left[:, :, :-2] = xf[:, :, 2:]
    kinds = [np.array_equal(o, r) - np.array_equal(o, lf) for o, r, lf in zip(out, right, left)]
    assert all(k != 0 for k in kinds) and len(set(kinds)) == 2
    ident = make(rotation_range=0, zoom_range=[1.0, 1.0], width_shift_range=0.0).flow(x, batch_size=16,
                                                                                     shuffle=False)[0]
    np.testing.assert_array_equal(ident, xf)


def test_geometric_transforms_keep_shape_and_stay_in_range():
    x, y = data(n=8, h=9, w=9, c=3)
    g = make(rotation_range=30, width_shift_range=0.2, height_shift_range=3.0, shear_range=10, zoom_range=0.2,
             channel_shift_range=5.0, vertical_flip=True, fill_mode="reflect")
    out = g.flow(x, y, batch_size=8, seed=4)[0][0]
    assert out.shape == x.shape and out.min() >= 0 and out.max() <= 255
    assert not np.array_equal(out, x.astype(np.float32))
    one = g.random_transform(x[0].astype(np.float32), seed=1)
    assert one.shape == x[0].shape
    np.testing.assert_array_equal(one, g.random_transform(x[0].astype(np.float32), seed=1))


@pytest.mark.parametrize("bad, err, match", [
    (lambda: make(zca_whitening=True), NotImplementedError, "zca"),
    (lambda: make(fill_mode="mirror"), ValueError, "fill_mode"),
    (lambda: make(zoom_range="big"), ValueError, "zoom_range"),
    (lambda: make(width_shift_range=-1), ValueError, "width_shift_range"),
    (lambda: make(validation_split=1.5), ValueError, "validation_split"),
    (lambda: make().flow(np.zeros((4, 5, 5))), ValueError, r"rank 4, got shape \(4, 5, 5\)"),
    (lambda: make().flow(np.zeros((4, 5, 5, 1)), np.zeros(3)), ValueError, "same length"),
    (lambda: make().flow(np.zeros((4, 5, 5, 1)), batch_size=0), ValueError, "batch_size"),
    (lambda: make().flow(np.zeros((4, 5, 5, 1)), save_to_dir="/tmp"), TypeError, "save_to_dir"),
])
def test_bad_arguments(bad, err, match):
    with pytest.raises(err, match=match):
        bad()


# ---------------------------------------------------------------------------- fit on batches
def small_model():
    fastnn.utils.set_random_seed(0)
    m = fastnn.models.Sequential([L.Input((6, 7, 2)), L.Flatten(), L.Dense(3, activation="softmax")])
    m.compile("sgd", "sparse_categorical_crossentropy", metrics=["accuracy"])
    return m


def test_fit_on_flow_equals_fit_on_arrays():
    x, y = data(n=40)
    xs = x.astype(np.float32) / 255
    a = small_model()
    ha = a.fit(xs, y, batch_size=16, epochs=3, shuffle=False, verbose=0)
    b = small_model()
    hb = b.fit(make(rescale=1 / 255).flow(x, y, batch_size=16, shuffle=False), epochs=3, verbose=0)
    for wa, wb in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_allclose(wb, wa, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(hb.history["loss"], ha.history["loss"], rtol=1e-6)
    np.testing.assert_allclose(hb.history["accuracy"], ha.history["accuracy"])
    ev = b.evaluate(make(rescale=1 / 255).flow(x, y, batch_size=16, shuffle=False), verbose=0)
    np.testing.assert_allclose(ev, b.evaluate(xs, y, batch_size=16, verbose=0), rtol=1e-6)


def test_fit_on_generators_and_validation_sources():
    x, y = data(n=40)
    xs = x.astype(np.float32) / 255
    calls = []

    def gen():
        while True:
            for i in range(0, 40, 10):
                calls.append(i)
                yield xs[i:i + 10], y[i:i + 10]

    m = small_model()
    with pytest.raises(ValueError, match="steps_per_epoch"):
        m.fit(gen(), epochs=1, verbose=0)
    h = m.fit(gen(), epochs=2, steps_per_epoch=3, verbose=0,
              validation_data=make(rescale=1 / 255).flow(x, y, batch_size=20))
    assert len(calls) == 6 and set(h.history) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    h = m.fit(gen(), epochs=1, steps_per_epoch=2, validation_data=gen(), validation_steps=4, verbose=0)
    assert len(calls) == 12 and "val_loss" in h.history
    with pytest.raises(ValueError, match="validation_steps"):
        m.fit(gen(), epochs=1, steps_per_epoch=1, validation_data=gen(), verbose=0)
    # a finite generator that runs out ends the epoch; sample weights as third element
    finite = ((xs[i:i + 10], y[i:i + 10], np.ones(10)) for i in range(0, 40, 10))
    h = m.fit(finite, epochs=1, steps_per_epoch=10, verbose=0)
    assert len(h.history["loss"]) == 1
    with pytest.raises(ValueError, match="y=None"):
        m.fit(make().flow(x, y), y, verbose=0)
    with pytest.raises(ValueError, match=r"\(x, y\)"):
        m.fit(make().flow(x), epochs=1, verbose=0)  # images alone: no targets to train on
    assert m.evaluate(gen(), steps=4, verbose=0)[0] > 0


def test_pydataset_like_object_and_epoch_end():
    x, y = data(n=30)
    xs = x.astype(np.float32)

    class Batches:
        def __init__(self):
            self.ends = 0

        def __len__(self):
            return 3

        def __getitem__(self, i):
            return xs[i * 10:(i + 1) * 10], y[i * 10:(i + 1) * 10]

        def on_epoch_end(self):
            self.ends += 1

    ds = Batches()
    m = small_model()
    h = m.fit(ds, epochs=4, verbose=0)
    assert ds.ends == 4 and len(h.history["loss"]) == 4


def test_augmented_flow_trains_a_model():
    x, y = data(n=64)
    g = make(rotation_range=10, width_shift_range=0.1, horizontal_flip=True, rescale=1 / 255)
    m = small_model()
    h = m.fit(g.flow(x, y, batch_size=16, seed=0), epochs=2, verbose=0)
    assert np.all(np.isfinite(h.history["loss"]))
