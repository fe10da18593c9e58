"""The image resampling kernels (csrc/kernels/image.h) behind the augmentation layers: the
affine / projective pass and the half-pixel resize, on both layouts, against float64
references written independently of the kernels (the input extended with np.pad; resize as a
product of interpolation matrices), and against the vectorised NumPy implementation that the
layers used before the kernels (kept here as a second reference). Thread-count bit-identity,
bad arguments, and the CUDA kernels against the CPU ones where a GPU is present."""

from __future__ import annotations

import math

import fastnn
import numpy as np
import pytest
from fastnn import _C
from fastnn.layers.augmentation import affine_transform, resize
from oracle import TOL, assert_close

FILL_MODES = ["reflect", "wrap", "constant", "nearest"]
INTERPOLATIONS = ["bilinear", "nearest"]
_PAD = {"reflect": "symmetric", "wrap": "wrap", "nearest": "edge", "constant": "constant"}


def images(*shape, seed=0):
    return np.random.default_rng(seed).random(shape, dtype=np.float32)


# ---------------------------------------------------------------------------- references
def reference_affine(x, t, interpolation, fill_mode, fill_value, out_hw=None):
    """float64, (B, H, W, C): the input extended by the fill mode with np.pad, then sampled.
    Coordinates must stay within 4 max(H, W) of the image."""
    b, h, w, c = x.shape
    oh, ow = out_hw or (h, w)
    p = 4 * max(h, w) + 2
    kw = {"constant_values": fill_value} if fill_mode == "constant" else {}
    ext = np.pad(x.astype(np.float64), ((0, 0), (p, p), (p, p), (0, 0)), mode=_PAD[fill_mode], **kw)
    ys, xs = np.meshgrid(np.arange(oh, dtype=np.float64), np.arange(ow, dtype=np.float64), indexing="ij")
    out = np.empty((b, oh, ow, c))
    for i in range(b):
        a = np.broadcast_to(t, (b, 8))[i]
        k = a[6] * xs + a[7] * ys + 1.0
        X = (a[0] * xs + a[1] * ys + a[2]) / k
        Y = (a[3] * xs + a[4] * ys + a[5]) / k
        assert np.all(np.abs(X) < p - 2) and np.all(np.abs(Y) < p - 2)
        e = ext[i]
        if interpolation == "nearest":
            out[i] = e[np.rint(Y).astype(int) + p, np.rint(X).astype(int) + p]
            continue
        x0, y0 = np.floor(X), np.floor(Y)
        ax, ay = (X - x0)[..., None], (Y - y0)[..., None]
        r, q = y0.astype(int) + p, x0.astype(int) + p
        top = (1 - ax) * e[r, q] + ax * e[r, q + 1]
        bottom = (1 - ax) * e[r + 1, q] + ax * e[r + 1, q + 1]
        out[i] = (1 - ay) * top + ay * bottom
    return out


def numpy_affine_nhwc(images, transforms, interpolation, fill_mode, fill_value):
    """The vectorised NumPy pass that the augmentation layers ran before the kernels (float32
    values, float64 coordinates): the same rounding steps as the kernels."""
    b, h, w, c = images.shape
    ys, xs = np.meshgrid(np.arange(h, dtype=np.float64), np.arange(w, dtype=np.float64), indexing="ij")
    t = transforms[:, :, None, None]
    x_in = t[:, 0] * xs + t[:, 1] * ys + t[:, 2]
    y_in = t[:, 3] * xs + t[:, 4] * ys + t[:, 5]
    if np.any(transforms[:, 6:] != 0):
        k = t[:, 6] * xs + t[:, 7] * ys + 1.0
        x_in, y_in = x_in / k, y_in / k
    if fill_mode == "constant":
        images = np.pad(images, ((0, 0), (1, 1), (1, 1), (0, 0)), constant_values=np.float32(fill_value))
        h2, w2 = h + 2, w + 2
    else:
        h2, w2 = h, w
    flat = images.reshape(b * h2 * w2, c)
    base = (np.arange(b, dtype=np.int64) * (h2 * w2))[:, None, None]

    def fix(idx, n):
        if fill_mode == "constant":
            return np.clip(idx, -1, n) + 1
        if fill_mode == "reflect":
            m = np.mod(idx, 2 * n)
            return np.where(m < n, m, 2 * n - 1 - m)
        if fill_mode == "wrap":
            return np.mod(idx, n)
        return np.clip(idx, 0, n - 1)

    def read(rows, cols):
        return np.take(flat, (rows + cols).reshape(-1), axis=0).reshape(b, h, w, c)

    if interpolation == "nearest":
        return read(base + fix(np.rint(y_in).astype(np.int64), h) * w2, fix(np.rint(x_in).astype(np.int64), w))
    x0f, y0f = np.floor(x_in), np.floor(y_in)
    wx = (x_in - x0f).astype(np.float32)[..., None]
    wy = (y_in - y0f).astype(np.float32)[..., None]
    x0, y0 = x0f.astype(np.int64), y0f.astype(np.int64)
    xa, xb = fix(x0, w), fix(x0 + 1, w)
    ra, rb = base + fix(y0, h) * w2, base + fix(y0 + 1, h) * w2
    top = read(ra, xa)
    top += (read(ra, xb) - top) * wx
    bottom = read(rb, xa)
    bottom += (read(rb, xb) - bottom) * wx
    top += (bottom - top) * wy
    return top


def resize_matrix(n_in, n_out, interpolation):
    """(n_out, n_in) float64 interpolation matrix, half-pixel centres (TF 2 / JAX)."""
    m = np.zeros((n_out, n_in))
    scale = n_in / n_out
    for i in range(n_out):
        if interpolation == "nearest":
            m[i, min(math.floor((i + 0.5) * scale), n_in - 1)] = 1.0
            continue
        s = min(max((i + 0.5) * scale - 0.5, 0.0), n_in - 1)
        i0 = math.floor(s)
        i1 = min(i0 + 1, n_in - 1)
        m[i, i0] += 1 - (s - i0)
        m[i, i1] += s - i0
    return m


def reference_resize(x, size, interpolation):
    """float64, (B, H, W, C)."""
    my = resize_matrix(x.shape[1], size[0], interpolation)
    mx = resize_matrix(x.shape[2], size[1], interpolation)
    return np.einsum("yh,bhwc,xw->byxc", my, x.astype(np.float64), mx)


def random_rows(n, h, w, rng, projective=False):
    """Rotations, zooms (in and out, down to 0.4) and shifts of up to about twice the image, so
    that several periods of the extension are read; projective rows keep k in [0.8, 1.2]."""
    rows = []
    for _ in range(n):
        ang, z = rng.uniform(-math.pi, math.pi), rng.uniform(0.4, 2.5)
        c, s = math.cos(ang) * z, math.sin(ang) * z
        cx, cy = (w - 1) / 2, (h - 1) / 2
        dx, dy = rng.uniform(-1.5, 1.5) * w, rng.uniform(-1.5, 1.5) * h
        r = [c, -s, cx - c * cx + s * cy + dx, s, c, cy - s * cx - c * cy + dy, 0.0, 0.0]
        if projective:
            r[6], r[7] = rng.uniform(-0.2, 0.2) / max(w, 1), rng.uniform(-0.2, 0.2) / max(h, 1)
        rows.append(r)
    return np.array(rows)


def kernel_affine(x, t, interpolation, fill_mode, fill_value, channels_first=False, output_size=None):
    """The kernel on channels-last x, in either layout, returned channels-last."""
    if channels_first:
        out = _C.affine_transform(np.ascontiguousarray(x.transpose(0, 3, 1, 2)), t, output_size, interpolation,
                                  fill_mode, fill_value, True)
        return out.transpose(0, 2, 3, 1)
    return _C.affine_transform(x, t, output_size, interpolation, fill_mode, fill_value, False)


# ---------------------------------------------------------------------------- affine
@pytest.mark.parametrize("fill_mode", FILL_MODES)
@pytest.mark.parametrize("interpolation", INTERPOLATIONS)
@pytest.mark.parametrize("channels_first", [False, True], ids=["nhwc", "nchw"])
@pytest.mark.parametrize("shape", [(3, 7, 10, 1), (2, 9, 5, 3), (2, 6, 11, 64), (2, 1, 1, 3)])
def test_affine_against_float64_reference(fill_mode, interpolation, channels_first, shape):
    x = images(*shape)
    rng = np.random.default_rng(sum(shape))
    t = random_rows(shape[0], shape[1], shape[2], rng, projective=shape[3] == 3)
    got = kernel_affine(x, t, interpolation, fill_mode, -0.6, channels_first)
    assert got.shape == x.shape and got.dtype == np.float32
    assert_close(got, reference_affine(x, t, interpolation, fill_mode, -0.6), "image_affine", **TOL["resample"])


@pytest.mark.parametrize("fill_mode", FILL_MODES)
@pytest.mark.parametrize("interpolation", INTERPOLATIONS)
def test_affine_matches_the_numpy_implementation(fill_mode, interpolation):
    # the same float64 coordinates and float32 lerps as the NumPy pass it replaces: equal to the
    # last bit but for the fused multiply-adds of the SIMD clones
    x = images(4, 13, 8, 3, seed=2)
    t = random_rows(4, 13, 8, np.random.default_rng(3), projective=True)
    want = numpy_affine_nhwc(x, t, interpolation, fill_mode, 0.25)
    for cf in (False, True):
        got = kernel_affine(x, t, interpolation, fill_mode, 0.25, cf)
        np.testing.assert_allclose(got, want, rtol=0, atol=2.5e-7, err_msg=f"{fill_mode} {interpolation} cf={cf}")


@pytest.mark.parametrize("fill_mode", FILL_MODES)
def test_affine_output_size_and_shared_row(fill_mode):
    # an output grid of its own size (OH, OW), one transform row for the whole batch
    x = images(3, 6, 7, 2)
    t = random_rows(1, 6, 7, np.random.default_rng(4))
    for cf in (False, True):
        got = kernel_affine(x, t[0], "bilinear", fill_mode, 2.0, cf, output_size=(9, 4))
        assert got.shape == (3, 9, 4, 2)
        want = reference_affine(x, t[0], "bilinear", fill_mode, 2.0, out_hw=(9, 4))
        assert_close(got, want, "image_affine", **TOL["resample"])


def test_affine_identity_and_integer_shifts_are_exact():
    x = images(2, 5, 6, 3)
    ident = [1, 0, 0, 0, 1, 0, 0, 0]
    for interpolation in INTERPOLATIONS:
        for cf in (False, True):
            np.testing.assert_array_equal(kernel_affine(x, np.array([ident] * 2, float), interpolation, "constant", 0.0,
                                                        cf), x)
    shifted = _C.affine_transform(x, [1, 0, -2, 0, 1, 1, 0, 0], None, "bilinear", "wrap", 0.0, False)
    np.testing.assert_array_equal(shifted, np.roll(np.roll(x, 2, axis=2), -1, axis=1))


def test_affine_rounds_half_to_even():
    # nearest: a coordinate exactly halfway rounds to the even pixel, as np.rint / jnp.round
    row = np.arange(6, dtype=np.float32).reshape(1, 1, 6, 1)
    got = _C.affine_transform(row, [1, 0, 0.5, 0, 1, 0, 0, 0], None, "nearest", "nearest", 0.0, False)
    np.testing.assert_array_equal(got.ravel(), [0, 2, 2, 4, 4, 5])  # 0.5 1.5 2.5 3.5 4.5 5.5


def test_affine_degenerate_projective_row_is_defined():
    # k = c0 x + 1 crosses 0 inside the image: coordinates go to +-inf there; the kernel clamps
    # them (far outside the image), so the results are the fill value or edge pixels, never garbage
    x = images(1, 4, 5, 2)
    t = [1, 0, 0, 0, 1, 0, -0.5, 0]  # k = 0 at x = 2
    out = _C.affine_transform(x, t, None, "bilinear", "constant", 7.0, False)
    assert np.all(np.isfinite(out))
    np.testing.assert_array_equal(out[0, :, 2], np.full((4, 2), 7.0, np.float32))
    for mode in ("reflect", "wrap", "nearest"):
        out = _C.affine_transform(x, t, None, "nearest", mode, 0.0, False)
        assert np.all(np.isin(out, x))  # every value read from the image


def test_affine_thread_count_bit_identity():
    x = images(16, 33, 35, 3, seed=5)
    x64 = images(4, 17, 19, 64, seed=6)
    t = random_rows(16, 33, 35, np.random.default_rng(7), projective=True)
    before = fastnn.get_num_threads()
    try:
        for interpolation in INTERPOLATIONS:
            for mode in FILL_MODES:
                for cf in (False, True):
                    runs = []
                    for n in (1, 2, 3):
                        fastnn.set_num_threads(n)
                        runs.append((kernel_affine(x, t, interpolation, mode, 0.5, cf),
                                     kernel_affine(x64, t[:4], interpolation, mode, 0.5, cf),
                                     _C.resize(x, (20, 41), interpolation, None, cf)))
                    for r in runs[1:]:
                        for a, b in zip(runs[0], r):
                            np.testing.assert_array_equal(a, b)
    finally:
        fastnn.set_num_threads(before)


def test_affine_nan_pixel_reaches_the_outputs_whose_neighbourhood_holds_it():
    # bilinear reads a 2 x 2 neighbourhood even where a weight is 0 (as the float64 formula,
    # 0 * NaN = NaN): a shift by half a column puts the NaN at (2, 3) in four outputs
    x = images(1, 6, 6, 1)
    x[0, 2, 3, 0] = np.nan
    out = _C.affine_transform(x, [1, 0, 0.5, 0, 1, 0, 0, 0], None, "bilinear", "reflect", 0.0, False)
    np.testing.assert_array_equal(np.argwhere(np.isnan(out[0, :, :, 0])), [[1, 2], [1, 3], [2, 2], [2, 3]])
    near = _C.affine_transform(x, [1, 0, 0.4, 0, 1, 0, 0, 0], None, "nearest", "reflect", 0.0, False)
    np.testing.assert_array_equal(np.argwhere(np.isnan(near[0, :, :, 0])), [[2, 3]])


# ---------------------------------------------------------------------------- resize
@pytest.mark.parametrize("interpolation", INTERPOLATIONS)
@pytest.mark.parametrize("shape", [(2, 11, 12, 1), (1, 7, 5, 3), (2, 8, 9, 64)])
@pytest.mark.parametrize("size", [(5, 7), (16, 9), (1, 1), (13, 31)])
def test_resize_against_float64_reference(interpolation, shape, size):
    x = images(*shape)
    want = reference_resize(x, size, interpolation)
    got = _C.resize(x, size, interpolation, None, False)
    assert_close(got, want, "image_resize", **TOL["resample"])
    got = _C.resize(np.ascontiguousarray(x.transpose(0, 3, 1, 2)), size, interpolation, None, True)
    assert_close(got.transpose(0, 2, 3, 1), want, "image_resize", **TOL["resample"])


def test_resize_window():
    x = images(2, 10, 12, 3)
    for interpolation in INTERPOLATIONS:
        got = _C.resize(x, (4, 9), interpolation, (1, 2, 7, 8), False)
        assert_close(got, reference_resize(x[:, 1:8, 2:10], (4, 9), interpolation), "image_resize", **TOL["resample"])
    # the public function with crop_to_aspect_ratio: the centred 10 x 10 window
    got = resize(x, (5, 5), crop_to_aspect_ratio=True)
    assert_close(got, reference_resize(x[:, :, 1:11], (5, 5), "bilinear"), "image_resize", **TOL["resample"])


def test_single_image_and_empty_batch():
    x = images(7, 8, 3)
    out = _C.affine_transform(x, [1, 0, 0.5, 0, 1, 0, 0, 0], None, "bilinear", "reflect", 0.0, False)
    assert out.shape == (7, 8, 3)
    np.testing.assert_array_equal(out, _C.affine_transform(x[None], [1, 0, 0.5, 0, 1, 0, 0, 0], None, "bilinear",
                                                           "reflect", 0.0, False)[0])
    assert _C.resize(x, (3, 4), "bilinear", None, False).shape == (3, 4, 3)
    empty = np.zeros((0, 5, 5, 2), np.float32)
    assert _C.affine_transform(empty, np.zeros((0, 8)), None, "bilinear", "reflect", 0.0, False).shape == (0, 5, 5, 2)
    assert _C.resize(empty, (3, 3), "nearest", None, False).shape == (0, 3, 3, 2)


# ---------------------------------------------------------------------------- bad arguments
IDENT = [1, 0, 0, 0, 1, 0, 0, 0]


@pytest.mark.parametrize("call, exc, match", [
    (lambda x: _C.affine_transform(x[0, 0], IDENT), ValueError, r"rank 4 or one image of rank 3.*\(5, 3\)"),
    (lambda x: _C.affine_transform(x[None], IDENT), ValueError, r"rank 4 or one image.*\(1, 2, 4, 5, 3\)"),
    (lambda x: _C.affine_transform(x, np.zeros((3, 8))), ValueError, r"\(2, 8\).*\(2, 4, 5, 3\).*\(3, 8\)"),
    (lambda x: _C.affine_transform(x, np.zeros(6)), ValueError, r"shape \(6,\)"),
    (lambda x: _C.affine_transform(x, [1, 0, np.nan, 0, 1, 0, 0, 0]), ValueError, "finite"),
    (lambda x: _C.affine_transform(x, "abc"), TypeError, "transforms must be an array of numbers"),
    (lambda x: _C.affine_transform(x.astype(np.float64), IDENT), TypeError, "float32"),
    (lambda x: _C.affine_transform(x[:, :, ::2], IDENT), TypeError, "C-contiguous"),
    (lambda x: _C.affine_transform(x, IDENT, None, "bicubic"), ValueError, "interpolation='bicubic'"),
    (lambda x: _C.affine_transform(x, IDENT, None, "bilinear", "mirror"), ValueError, "fill_mode='mirror'"),
    (lambda x: _C.affine_transform(x, IDENT, (0, 3)), ValueError, r"output_size.*\(0, 3\)"),
    (lambda x: _C.affine_transform(x, IDENT, (3,)), ValueError, "output_size"),
    (lambda x: _C.affine_transform(np.zeros((2, 0, 5, 3), np.float32), IDENT, (3, 3)), ValueError,
     r"cannot sample images of shape \(2, 0, 5, 3\)"),
    (lambda x: _C.resize(x, (0, 2)), ValueError, "size must be"),
    (lambda x: _C.resize(x, (3, 3), "area"), ValueError, "interpolation='area'"),
    (lambda x: _C.resize(x, (3, 3), "bilinear", (1, 1, 4, 2)), ValueError, r"window.*\(2, 4, 5, 3\)"),
    (lambda x: _C.resize(x, (3, 3), "bilinear", (-1, 0, 2, 2)), ValueError, "window"),
    (lambda x: _C.resize(x, (3, 3), "bilinear", (0, 0, 2)), ValueError, "crop must be"),
    (lambda x: _C.resize(np.zeros((1, 0, 3, 1), np.float32), (3, 3)), ValueError, "window"),
    (lambda x: affine_transform(x, np.zeros((3, 8))), ValueError, r"transform must be \(8,\) or \(2, 8\)"),
    (lambda x: affine_transform(x[0, 0], IDENT), ValueError, r"rank 4.*\(5, 3\)"),
    (lambda x: resize(x[0, 0], (2, 2)), ValueError, r"rank 4.*\(5, 3\)"),
])
def test_bad_arguments(call, exc, match):
    x = images(2, 4, 5, 3)
    with pytest.raises(exc, match=match):
        call(x)


def test_public_functions_accept_other_dtypes_and_layouts():
    x = images(2, 4, 5, 3)
    want = affine_transform(x, IDENT)
    np.testing.assert_array_equal(affine_transform(x.astype(np.float64), IDENT), want)
    strided = np.repeat(x, 2, axis=2)[:, :, ::2]  # not contiguous
    np.testing.assert_array_equal(affine_transform(strided, IDENT), want)
    np.testing.assert_array_equal(resize(fastnn.tensor(x), (4, 5)), x)


# ---------------------------------------------------------------------------- CUDA
cuda = pytest.mark.skipif(not (_C.cuda_built() and _C.cuda_device_count() > 0), reason="no CUDA device")


@cuda
@pytest.mark.parametrize("channels_first", [False, True], ids=["nhwc", "nchw"])
def test_cuda_kernels_match_cpu(channels_first):
    x = images(3, 9, 11, 3)
    if channels_first:
        x = np.ascontiguousarray(x.transpose(0, 3, 1, 2))
    t = random_rows(3, 9, 11, np.random.default_rng(8), projective=True)
    d = _C.to_device(x)
    for interpolation in INTERPOLATIONS:
        for mode in FILL_MODES:
            cpu = _C.affine_transform(x, t, (7, 12), interpolation, mode, 0.3, channels_first)
            gpu = _C.to_host(_C.affine_transform(d, t, (7, 12), interpolation, mode, 0.3, channels_first))
            assert_close(gpu, cpu, "image_affine_cuda", **TOL["resample"])
        cpu = _C.resize(x, (5, 17), interpolation, (1, 2, 7, 8), channels_first)
        gpu = _C.to_host(_C.resize(d, (5, 17), interpolation, (1, 2, 7, 8), channels_first))
        assert_close(gpu, cpu, "image_resize_cuda", **TOL["resample"])


@cuda
def test_cuda_layers_stay_on_the_device():
    x = fastnn.tensor(images(4, 8, 9, 3)).to("cuda")
    for layer in (fastnn.layers.RandomRotation(0.2, seed=1), fastnn.layers.RandomZoom(0.2, seed=2),
                  fastnn.layers.RandomTranslation(0.2, 0.2, seed=3), fastnn.layers.Resizing(5, 6)):
        out = layer(x, training=True)
        assert out.device == "cuda"
        same = type(layer).from_config(layer.get_config())
        np.testing.assert_allclose(out.numpy(), same(x.cpu(), training=True).numpy(), rtol=1e-5, atol=2e-6)
