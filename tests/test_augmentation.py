"""Image preprocessing / augmentation layers: shapes, inference rules, seeding, exact results
for deterministic cases, fill modes against a float64 reference, resize against torch, configs."""

from __future__ import annotations

import json
import math

import fastnn
import numpy as np
import pytest
import torch
from fastnn import layers as L
from fastnn.layers.augmentation import affine_transform, resize
from oracle import TOL, assert_close

RANDOM = [
    lambda **k: L.RandomFlip(**k),
    lambda **k: L.RandomTranslation(0.2, 0.3, **k),
    lambda **k: L.RandomRotation(0.1, **k),
    lambda **k: L.RandomZoom(0.2, **k),
    lambda **k: L.RandomContrast(0.3, **k),
]


def images(*shape, seed=0):
    return np.random.default_rng(seed).random(shape, dtype=np.float32)


# ---------------------------------------------------------------------------- float64 reference
_PAD = {"reflect": "symmetric", "wrap": "wrap", "nearest": "edge", "constant": "constant"}


def reference_affine(img, t, interpolation, fill_mode, fill_value):
    """One image (H, W, C), float64: extend the input by the fill mode (np.pad), then sample
    each output pixel from the extended grid, one pixel at a time."""
    h, w, c = img.shape
    p = 4 * max(h, w)
    kw = {"constant_values": fill_value} if fill_mode == "constant" else {}
    ext = np.pad(img.astype(np.float64), ((p, p), (p, p), (0, 0)), mode=_PAD[fill_mode], **kw)
    out = np.zeros((h, w, c))
    for y in range(h):
        for x in range(w):
            xi = t[0] * x + t[1] * y + t[2]
            yi = t[3] * x + t[4] * y + t[5]
            if interpolation == "nearest":
                out[y, x] = ext[int(np.rint(yi)) + p, int(np.rint(xi)) + p]
                continue
            x0, y0 = math.floor(xi), math.floor(yi)
            ax, ay = xi - x0, yi - y0
            v = ext[y0 + p : y0 + p + 2, x0 + p : x0 + p + 2]
            out[y, x] = (1 - ay) * ((1 - ax) * v[0, 0] + ax * v[0, 1]) + ay * ((1 - ax) * v[1, 0] + ax * v[1, 1])
    return out


def rot_zoom_shift(angle, zoom, dx, dy, h, w):
    c, s = math.cos(angle) * zoom, math.sin(angle) * zoom
    cx, cy = (w - 1) / 2, (h - 1) / 2
    return [c, -s, cx - c * cx + s * cy + dx, s, c, cy - s * cx - c * cy + dy, 0.0, 0.0]


@pytest.mark.parametrize("fill_mode", ["reflect", "wrap", "nearest", "constant"])
@pytest.mark.parametrize("interpolation", ["bilinear", "nearest"])
def test_affine_fill_modes_against_float64_reference(fill_mode, interpolation):
    h, w, c = 7, 10, 2  # odd and even sizes, more than one channel
    x = images(3, h, w, c)
    rng = np.random.default_rng(1)
    ts = []
    for _ in range(3):  # large shifts and zooms out, so several periods of the extension are read
        ts.append(rot_zoom_shift(rng.uniform(-3, 3), rng.uniform(0.5, 2.5), rng.uniform(-15, 15),
                                 rng.uniform(-12, 12), h, w))
    got = affine_transform(x, np.array(ts), interpolation, fill_mode, fill_value=0.7)
    for i in range(3):
        want = reference_affine(x[i], ts[i], interpolation, fill_mode, 0.7)
        assert_close(got[i], want, "affine_transform", **TOL["resample"])


def test_fill_mode_patterns_on_a_row():
    # the value read at input column k of the row (a b c d) = (1 2 3 4), for k = -6 .. 5: the
    # first output pixel of a shift by k
    row = np.array([1, 2, 3, 4], np.float32).reshape(1, 1, 4, 1)
    want = {
        "reflect": [3, 4, 4, 3, 2, 1, 1, 2, 3, 4, 4, 3],  # (d c b a | a b c d | d c b a)
        "wrap": [3, 4, 1, 2, 3, 4, 1, 2, 3, 4, 1, 2],  # (a b c d | a b c d | a b c d)
        "nearest": [1, 1, 1, 1, 1, 1, 1, 2, 3, 4, 4, 4],  # (a a a a | a b c d | d d d d)
        "constant": [9, 9, 9, 9, 9, 9, 1, 2, 3, 4, 9, 9],  # (k k k k | a b c d | k k k k)
    }
    for mode, w in want.items():
        for interpolation in ("nearest", "bilinear"):
            got = [affine_transform(row, [1, 0, k, 0, 1, 0, 0, 0], interpolation, mode, 9.0)[0, 0, 0, 0]
                   for k in range(-6, 6)]
            np.testing.assert_array_equal(got, np.array(w, np.float32), err_msg=f"{mode} {interpolation}")
    # half a pixel beyond the edge, bilinear blends the edge pixel with the extension
    got = affine_transform(row, [1, 0, -0.5, 0, 1, 0, 0, 0], "bilinear", "constant", 9.0)[0, 0, 0, 0]
    assert got == np.float32(5.0)


# ---------------------------------------------------------------------------- exact cases
def test_flip_exact():
    x = images(16, 5, 6, 3)
    out = L.RandomFlip("horizontal", seed=3)(x, training=True).numpy()
    flipped = [np.array_equal(o, xi[:, ::-1]) for o, xi in zip(out, x)]
    same = [np.array_equal(o, xi) for o, xi in zip(out, x)]
    assert all(f or s for f, s in zip(flipped, same)) and any(flipped) and any(same)
    out = L.RandomFlip("vertical", seed=3)(x, training=True).numpy()
    assert all(np.array_equal(o, xi[::-1]) or np.array_equal(o, xi) for o, xi in zip(out, x))
    out = L.RandomFlip(seed=4)(x, training=True).numpy()
    kinds = set()
    for o, xi in zip(out, x):
        k = [k for k, v in {"none": xi, "h": xi[:, ::-1], "v": xi[::-1], "hv": xi[::-1, ::-1]}.items()
             if np.array_equal(o, v)]
        assert k
        kinds.add(k[0])
    assert len(kinds) >= 3  # the two flips are drawn independently


@pytest.mark.parametrize("interpolation", ["nearest", "bilinear"])
def test_rotation_90_degrees(interpolation):
    x = images(2, 6, 6, 2)
    out = L.RandomRotation((0.25, 0.25), interpolation=interpolation)(x, training=True).numpy()
    np.testing.assert_allclose(out, np.rot90(x, k=1, axes=(1, 2)), rtol=0, atol=1e-6)  # counter-clockwise
    out = L.RandomRotation((-0.5, -0.5), interpolation=interpolation)(x, training=True).numpy()
    np.testing.assert_allclose(out, np.rot90(x, k=2, axes=(1, 2)), rtol=0, atol=1e-6)


def test_integer_translation_exact():
    x = images(1, 8, 8, 1)
    out = L.RandomTranslation((0.25, 0.25), (-0.5, -0.5), fill_mode="constant", fill_value=-1)(
        x, training=True).numpy()
    want = np.full_like(x, -1)
    want[:, 2:, :4] = x[:, :6, 4:]  # 2 rows down, 4 columns left
    np.testing.assert_array_equal(out, want)
    out = L.RandomTranslation((0.25, 0.25), 0.0, fill_mode="wrap")(x, training=True).numpy()
    np.testing.assert_array_equal(out, np.roll(x, 2, axis=1))


def test_zoom_zero_is_identity_and_zoom_halves():
    x = images(3, 9, 9, 2)
    np.testing.assert_array_equal(L.RandomZoom(0.0)(x, training=True).numpy(), x)
    # zoom out by 100% (factor 2) with nearest: output (x, y) reads 2 (p - c) + c
    out = L.RandomZoom((1.0, 1.0), interpolation="nearest", fill_mode="constant")(x, training=True).numpy()
    np.testing.assert_array_equal(out[:, 2:7, 2:7], x[:, 0:9:2, 0:9:2])
    assert np.all(out[:, :2] == 0) and np.all(out[:, 7:] == 0)
    # a width factor zooms the width alone
    out = L.RandomZoom(0.0, (-0.5, -0.5), interpolation="nearest")(x, training=True).numpy()
    np.testing.assert_array_equal(out[:, :, 4], x[:, :, 4])


def test_contrast_formula():
    x = images(4, 5, 6, 3)
    layer = L.RandomContrast((0.5, 0.5), value_range=(0, 1), seed=7)
    out = layer(x, training=True).numpy()
    c = fastnn.random.Generator(7).uniform((4,), 0.5, 1.5).numpy().astype(np.float64)
    mean = x.mean(axis=(1, 2), keepdims=True, dtype=np.float64)
    want = np.clip((x - mean) * c[:, None, None, None] + mean, 0, 1)  # per image and channel
    assert np.any(want == 0) and np.any(want == 1)  # the clip is exercised
    assert_close(out, want, "random_contrast", **TOL["elementwise"])
    # factor f draws c in [1 - f, 1 + f]: a fixed factor 0 is the identity (x already in range)
    np.testing.assert_allclose(L.RandomContrast(0.0)(x * 255, training=True).numpy(), x * 255, rtol=1e-6, atol=1e-4)
    out = L.RandomContrast((1.0, 0.0), value_range=(0, 1))(x, training=True).numpy()
    assert out.min() >= 0 and out.max() <= 1


def test_rescaling():
    x = images(2, 3, 3, 3) * 255
    np.testing.assert_allclose(L.Rescaling(1 / 127.5, -1)(x).numpy(), x / 127.5 - 1, rtol=1e-6, atol=1e-6)
    out = L.Rescaling([1.0, 2.0, 3.0], offset=[0.0, 1.0, 2.0])(x).numpy()
    np.testing.assert_allclose(out, x * [1, 2, 3] + [0, 1, 2], rtol=1e-6)
    t = fastnn.tensor(x, requires_grad=True)
    L.Rescaling(0.5)(t).sum().backward()
    np.testing.assert_allclose(t.grad.numpy(), np.full_like(x, 0.5))


# ---------------------------------------------------------------------------- resize / crop
@pytest.mark.parametrize("size", [(5, 7), (16, 9), (3, 3), (11, 12)])
@pytest.mark.parametrize("interpolation", ["bilinear", "nearest"])
def test_resize_against_torch(size, interpolation):
    x = images(2, 11, 12, 3)
    got = resize(x, size, interpolation)
    mode = {"bilinear": "bilinear", "nearest": "nearest-exact"}[interpolation]
    kw = {"align_corners": False} if mode == "bilinear" else {}
    want = torch.nn.functional.interpolate(torch.from_numpy(x).permute(0, 3, 1, 2), size=size, mode=mode, **kw)
    assert_close(got, want.permute(0, 2, 3, 1).numpy(), "resize", **TOL["resample"])
    lay = L.Resizing(*size, interpolation=interpolation, data_format="channels_first")
    got = lay(np.ascontiguousarray(x.transpose(0, 3, 1, 2))).numpy()
    assert_close(got, want.numpy(), "resize", **TOL["resample"])


def test_resizing_aspect_ratio_options():
    x = images(1, 6, 10, 1)
    out = L.Resizing(6, 6, crop_to_aspect_ratio=True)(x).numpy()
    np.testing.assert_array_equal(out, x[:, :, 2:8])
    out = L.Resizing(10, 10, pad_to_aspect_ratio=True, fill_value=5.0)(x).numpy()
    np.testing.assert_array_equal(out[:, :2], 5.0)
    np.testing.assert_array_equal(out[:, 2:8], x)
    with pytest.raises(ValueError, match="only one of"):
        L.Resizing(4, 4, crop_to_aspect_ratio=True, pad_to_aspect_ratio=True)


def test_random_crop_training_and_inference():
    x = images(4, 10, 12, 2)
    lay = L.RandomCrop(6, 7, seed=2)
    out = lay(x, training=True).numpy()
    assert out.shape == (4, 6, 7, 2)
    hits = [(i, j) for i in range(5) for j in range(6) if np.array_equal(out, x[:, i:i + 6, j:j + 7])]
    assert len(hits) == 1  # one window, the same for the whole batch
    # inference: the largest centred 6:7 window (10 x 11, starting at column 0), resized
    inf = lay(x).numpy()
    np.testing.assert_allclose(inf, resize(x[:, :, 0:11], (6, 7)), rtol=0, atol=1e-6)
    same = L.RandomCrop(10, 12)
    np.testing.assert_array_equal(same(x, training=True).numpy(), x)
    np.testing.assert_array_equal(same(x).numpy(), x)
    # training on an input that is not larger in both dimensions: the inference path
    small = L.RandomCrop(10, 6, seed=1)
    np.testing.assert_array_equal(small(x, training=True).numpy(), small(x).numpy())
    np.testing.assert_array_equal(small(x).numpy(), x[:, :, 3:9])


# ---------------------------------------------------------------------------- contract
@pytest.mark.parametrize("make", RANDOM)
def test_inference_identity_and_shapes(make):
    x = images(3, 8, 9, 2)
    lay = make()
    np.testing.assert_array_equal(lay(x).numpy(), x)
    np.testing.assert_array_equal(lay(x, training=False).numpy(), x)
    out = lay(x, training=True).numpy()
    assert out.shape == x.shape and out.dtype == np.float32
    assert not np.array_equal(out, x) or isinstance(lay, L.RandomFlip)
    single = lay(x[0], training=True).numpy()
    assert single.shape == x[0].shape
    with pytest.raises(ValueError, match=r"rank 4.*shape \(3, 8\)"):
        make()(np.zeros((3, 8), np.float32), training=True)


@pytest.mark.parametrize("make", RANDOM + [lambda **k: L.RandomCrop(5, 6, **k)])
def test_seed_reproducibility(make):
    x = images(6, 8, 9, 3)
    a = make(seed=11)
    b = make(seed=11)
    first = a(x, training=True).numpy()
    np.testing.assert_array_equal(first, b(x, training=True).numpy())
    np.testing.assert_array_equal(a(x, training=True).numpy(), b(x, training=True).numpy())
    assert not np.array_equal(first, a(x, training=True).numpy())  # the stream advances
    if not isinstance(a, L.RandomCrop):
        assert not np.array_equal(first, make(seed=12)(x, training=True).numpy())
    # without a seed: the global generator, reproducible from fastnn.random.seed
    fastnn.random.seed(5)
    u = make()(x, training=True).numpy()
    fastnn.random.seed(5)
    np.testing.assert_array_equal(u, make()(x, training=True).numpy())


@pytest.mark.parametrize("make", [
    lambda **k: L.RandomFlip(**k),
    lambda **k: L.RandomTranslation(0.2, 0.3, fill_mode="constant", **k),
    lambda **k: L.RandomRotation(0.1, fill_mode="wrap", **k),
    lambda **k: L.RandomZoom((-0.3, 0.2), (0.1, 0.2), **k),
    lambda **k: L.RandomContrast(0.3, **k),
    lambda **k: L.RandomCrop(5, 6, **k),
    lambda **k: L.Resizing(5, 6, **k),
])
def test_channels_first_matches_channels_last(make):
    x = images(4, 8, 9, 3)
    kw = {} if "Resizing" in repr(make()) else {"seed": 3}
    last = make(**kw)(x, training=True).numpy()
    first = make(data_format="channels_first", **kw)(np.ascontiguousarray(x.transpose(0, 3, 1, 2)), training=True)
    np.testing.assert_allclose(first.numpy().transpose(0, 2, 3, 1), last, rtol=1e-6, atol=1e-6)


CONFIG_LAYERS = [
    L.Rescaling(1 / 255, offset=0.5),
    L.Rescaling([1.0, 2.0], [0.0, 1.0]),
    L.Resizing(4, 5, interpolation="nearest", crop_to_aspect_ratio=True, data_format="channels_first"),
    L.RandomFlip("vertical", seed=3),
    L.RandomTranslation((-0.1, 0.2), 0.3, fill_mode="nearest", interpolation="nearest", seed=4, fill_value=1.5),
    L.RandomRotation((-0.2, 0.1), fill_mode="constant", seed=5, fill_value=2.0, data_format="channels_first"),
    L.RandomZoom(0.2, (0.1, 0.3), fill_mode="wrap"),
    L.RandomCrop(6, 7, seed=8),
    L.RandomContrast((0.1, 0.4), value_range=[0, 1], seed=9),
]


@pytest.mark.parametrize("layer", CONFIG_LAYERS, ids=lambda lyr: type(lyr).__name__)
def test_config_round_trip(layer):
    cfg = json.loads(json.dumps(L.serialize(layer)))
    again = L.deserialize(cfg)
    assert type(again) is type(layer)
    assert again.get_config() == layer.get_config()
    x = images(2, 8, 9, 2)
    if getattr(layer, "data_format", "channels_last") == "channels_first":
        x = np.ascontiguousarray(x.transpose(0, 3, 1, 2))
    if layer.get_config().get("seed") is not None:
        fresh = L.deserialize(cfg)
        np.testing.assert_array_equal(L.deserialize(cfg)(x, training=True).numpy(), fresh(x, training=True).numpy())


@pytest.mark.parametrize("bad, match", [
    (lambda: L.RandomRotation(1.5), "factor must be"),
    (lambda: L.RandomRotation((0.1, 0.2, 0.3)), "factor must be"),
    (lambda: L.RandomTranslation("a", 0.1), "height_factor"),
    (lambda: L.RandomTranslation(0.1, (0.0, 2.0)), "width_factor"),
    (lambda: L.RandomZoom(0.1, fill_mode="mirror"), "fill_mode"),
    (lambda: L.RandomZoom(0.1, interpolation="bicubic"), "interpolation"),
    (lambda: L.RandomFlip("diagonal"), "mode"),
    (lambda: L.RandomContrast(-0.1), r"\[0, 1\]"),
    (lambda: L.RandomContrast(0.1, value_range=(1, 0)), "value_range"),
    (lambda: L.RandomCrop(0, 3), "height"),
    (lambda: L.RandomCrop(3, 3, seed=-1), "seed"),
    (lambda: L.RandomFlip(data_format="nhwc"), "data_format"),
    (lambda: L.Rescaling("x"), "scale"),
    (lambda: L.Resizing(3, 3, fill_mode="reflect"), "fill_mode"),
])
def test_bad_arguments(bad, match):
    with pytest.raises(ValueError, match=match):
        bad()


def test_in_a_model_fit_and_predict():
    fastnn.utils.set_random_seed(0)
    x = images(64, 8, 8, 1) * 255
    y = (x.mean(axis=(1, 2, 3)) > 127).astype(np.float32)
    model = fastnn.models.Sequential([
        L.Input((8, 8, 1)),
        L.Rescaling(1 / 255),
        L.RandomFlip("horizontal", seed=1),
        L.RandomRotation(0.05, seed=2),
        L.RandomZoom(0.1, seed=3),
        L.RandomTranslation(0.1, 0.1, seed=4),
        L.RandomContrast(0.1, value_range=(0, 1), seed=5),
        L.Flatten(),
        L.Dense(1, activation="sigmoid"),
    ])
    assert model.output_shape == (None, 1)
    model.compile("adam", "binary_crossentropy")
    model.fit(x, y, epochs=2, batch_size=16, verbose=0)
    # inference: the random layers are the identity, so predict equals the plain Dense on x / 255
    dense = model.layers[-1]
    w, b = dense.get_weights()
    want = 1 / (1 + np.exp(-((x / 255).reshape(64, -1) @ w + b)))
    np.testing.assert_allclose(model.predict(x, verbose=0), want, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(model.predict_on_batch(x), want, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(model(fastnn.tensor(x)).numpy(), want, rtol=1e-5, atol=1e-6)


def test_crop_and_resize_in_a_functional_model():
    inp = L.Input((10, 12, 3))
    h = L.RandomCrop(6, 8)(inp)
    out = L.Resizing(4, 4)(h)
    model = fastnn.models.Model(inp, out)
    assert model.output_shape == (None, 4, 4, 3)
    x = images(2, 10, 12, 3)
    assert model.predict(x, verbose=0).shape == (2, 4, 4, 3)
