"""Pooling, upsampling, padding and cropping: kernels against torch (forward and backward),
TensorFlow's 'same' padding against explicitly padded torch pooling, thread-count bit identity,
errors, and the Keras layers (shapes, configs, save / load, SpatialDropout2D's masks)."""

import itertools
import math

import fastnn
import fastnn.functional as F
import numpy as np
import pytest
import torch
import torch.nn.functional as TF
from fastnn import layers as L
from oracle import TOL, assert_close, check_op, randn


def tf_same_pads(n, k, s):
    """TensorFlow's 'same' padding along one axis: (before, after), the extra cell after."""
    out = -(-n // s)
    total = max((out - 1) * s + k - n, 0)
    return total // 2, total - total // 2


def to_nchw(t, cl):
    return t.permute(0, 3, 1, 2) if cl else t


def from_nchw(t, cl):
    return t.permute(0, 2, 3, 1) if cl else t


def torch_pool2d(kind, x, k, s, padding, cl):
    """torch pooling with TensorFlow's 'same': max pads with -inf; average divides the sum of
    the zero-padded window by the number of valid cells (a pooled mask of ones)."""
    t = to_nchw(x, cl)
    pad = (0, 0, 0, 0)
    if padding == "same":
        (pt, pb), (pl, pr) = tf_same_pads(t.shape[2], k[0], s[0]), tf_same_pads(t.shape[3], k[1], s[1])
        pad = (pl, pr, pt, pb)
    if kind == "max":
        y = TF.max_pool2d(TF.pad(t, pad, value=-math.inf), k, s)
    else:
        total = TF.avg_pool2d(TF.pad(t, pad), k, s, divisor_override=1)
        count = TF.avg_pool2d(TF.pad(torch.ones_like(t), pad), k, s, divisor_override=1)
        y = total / count
    return from_nchw(y, cl)


GRID = list(itertools.product([1, 2, 3, 4], [1, 2, 3], ["valid", "same"], [True, False]))


@pytest.mark.parametrize("kind", ["max", "avg"])
@pytest.mark.parametrize("k,s,padding,cl", GRID)
def test_pool2d_against_torch(kind, k, s, padding, cl):
    x = randn(2, 9, 7, 3, seed=k * 10 + s) if cl else randn(2, 3, 9, 7, seed=k * 10 + s)
    kk, ss = (k, max(1, k - 1)), (s, 3 if s == 1 else s)  # non-square windows and strides too
    fn = F.max_pool2d if kind == "max" else F.avg_pool2d
    fmt = "channels_last" if cl else "channels_first"
    tol = TOL["exact"] if kind == "max" else TOL["reduction"](kk[0] * kk[1])
    check_op(
        lambda t: fn(t, kk, ss, padding, fmt),
        lambda t: torch_pool2d(kind, t, kk, ss, padding, cl),
        [x], name=f"{kind}_pool2d", tol=tol,
    )


@pytest.mark.parametrize("kind", ["max", "avg"])
@pytest.mark.parametrize("k,s,padding", [(3, 2, "same"), (2, 2, "valid"), (4, 1, "same"), (3, 3, "same")])
def test_pool2d_many_channels_last_against_torch(kind, k, s, padding):
    # 20 channels: the channels_last vector paths (fewer than 16 channels take the scalar ones)
    x = randn(2, 7, 9, 20, seed=k + s)
    fn = F.max_pool2d if kind == "max" else F.avg_pool2d
    tol = TOL["exact"] if kind == "max" else TOL["reduction"](k * k)
    check_op(lambda t: fn(t, k, s, padding, "channels_last"),
             lambda t: torch_pool2d(kind, t, (k, k), (s, s), padding, True), [x], name=f"{kind}_pool2d", tol=tol)


@pytest.mark.parametrize("kind", ["max", "avg"])
@pytest.mark.parametrize("k,s,padding,cl", [(2, None, "valid", True), (3, 2, "same", True), (4, 3, "same", False),
                                            (1, 1, "valid", False), (5, 1, "same", True)])
def test_pool1d_against_torch(kind, k, s, padding, cl):
    x = randn(3, 11, 4) if cl else randn(3, 4, 11)
    fn = F.max_pool1d if kind == "max" else F.avg_pool1d
    fmt = "channels_last" if cl else "channels_first"

    def ref(t):
        img = t.unsqueeze(1) if cl else t.unsqueeze(2)  # (N, 1, L, C) or (N, C, 1, L)
        y = torch_pool2d(kind, img, (1, k), (1, s or k), padding, cl)
        return y.squeeze(1) if cl else y.squeeze(2)

    tol = TOL["exact"] if kind == "max" else TOL["reduction"](k)
    check_op(lambda t: fn(t, k, s, padding, fmt), ref, [x], name=f"{kind}_pool1d", tol=tol)


def test_default_strides_are_the_pool_size():
    x = fastnn.tensor(randn(1, 12, 12, 2))
    assert F.max_pool2d(x, 3).shape == (1, 4, 4, 2)
    assert F.avg_pool2d(x, (3, 4)).shape == (1, 4, 3, 2)
    assert L.MaxPooling2D((3, 2)).strides == (3, 2)
    assert L.AveragePooling1D(5).strides == (5,)


def test_same_padding_puts_the_extra_cell_at_the_end():
    # 4 columns, window 2, stride 3 -> 2 outputs, total padding 1, all of it on the right.
    x = fastnn.tensor(np.arange(4, dtype=np.float32).reshape(1, 1, 4, 1))
    assert F.max_pool2d(x, (1, 2), (1, 3), "same").numpy().ravel().tolist() == [1.0, 3.0]
    assert F.avg_pool2d(x, (1, 2), (1, 3), "same").numpy().ravel().tolist() == [0.5, 3.0]


@pytest.mark.parametrize("channels", [3, 20])  # channels_last: scalar path below 16 channels, vector path above
@pytest.mark.parametrize("cl", [False, True])
def test_max_pool_nan_ties_and_inf_follow_torch(cl, channels):
    x = randn(1, channels, 6, 6)
    x[0, 0, 1, 1] = np.nan
    x[0, 1] = 1.0  # every window a tie: the gradient goes to the first maximum
    x[0, 2, :2, :2] = -np.inf  # a window of -inf only: its first element is the argmax
    x[0, 2, 4, 5] = -np.inf
    fmt = "channels_last" if cl else "channels_first"
    xin = np.ascontiguousarray(x.transpose(0, 2, 3, 1)) if cl else x
    check_op(lambda t: F.max_pool2d(t, 3, 2, "same", fmt),
             lambda t: torch_pool2d("max", t, (3, 3), (2, 2), "same", cl), [xin], name="max_pool2d", tol=TOL["exact"])
    check_op(lambda t: F.max_pool2d(t, 2, data_format=fmt),
             lambda t: torch_pool2d("max", t, (2, 2), (2, 2), "valid", cl), [xin], name="max_pool2d", tol=TOL["exact"])


@pytest.mark.parametrize("cl", [True, False])
@pytest.mark.parametrize("kind", ["avg", "max"])
@pytest.mark.parametrize("keepdims", [False, True])
def test_global_pooling_against_torch(cl, kind, keepdims):
    fmt = "channels_last" if cl else "channels_first"
    axes2, axes1 = ((1, 2), (1,)) if cl else ((2, 3), (2,))
    fn2 = F.global_avg_pool2d if kind == "avg" else F.global_max_pool2d
    fn1 = F.global_avg_pool1d if kind == "avg" else F.global_max_pool1d

    def red(t, axes):
        return t.mean(axes, keepdim=keepdims) if kind == "avg" else t.amax(axes, keepdim=keepdims)

    tol = TOL["reduction"](35)
    check_op(lambda t: fn2(t, fmt, keepdims), lambda t: red(t, axes2), [randn(3, 5, 7, 4)],
             name="global_pool2d", tol=tol)
    check_op(lambda t: fn1(t, fmt, keepdims), lambda t: red(t, axes1), [randn(3, 7, 4)], name="global_pool1d", tol=tol)


@pytest.mark.parametrize("cl", [True, False])
@pytest.mark.parametrize("size", [(2, 2), (1, 3), (3, 1), 2])
def test_upsample_nearest_and_bilinear_against_torch(cl, size):
    x = randn(2, 5, 3, 4) if cl else randn(2, 4, 5, 3)
    fmt = "channels_last" if cl else "channels_first"
    fh, fw = (size, size) if isinstance(size, int) else size
    for interp in ("nearest", "bilinear"):
        def ref(t, interp=interp):
            n = to_nchw(t, cl)
            out = (fh * n.shape[2], fw * n.shape[3])
            y = TF.interpolate(n, size=out, mode="nearest") if interp == "nearest" else TF.interpolate(
                n, size=out, mode="bilinear", align_corners=False)
            return from_nchw(y, cl)

        tol = TOL["exact"] if interp == "nearest" else TOL["resize"]
        grad_tol = TOL["reduction"](fh * fw) if interp == "nearest" else TOL["resize"]
        check_op(lambda t, interp=interp: F.upsample2d(t, size, interp, fmt), ref, [x], name=f"upsample_{interp}",
                 tol=tol, grad_tol=grad_tol)


@pytest.mark.parametrize("cl", [True, False])
def test_zero_pad_and_crop_against_torch(cl):
    fmt = "channels_last" if cl else "channels_first"
    x = randn(2, 6, 5, 3) if cl else randn(2, 3, 6, 5)
    for pad, tp in [(1, (1, 1, 1, 1)), ((2, 1), (1, 1, 2, 2)), (((1, 0), (0, 3)), (0, 3, 1, 0))]:
        check_op(lambda t, p=pad: F.zero_pad2d(t, p, fmt), lambda t, p=tp: from_nchw(TF.pad(to_nchw(t, cl), p), cl),
                 [x], name="zero_pad2d", tol=TOL["exact"])
    for crop, (t0, b0, l0, r0) in [(1, (1, 1, 1, 1)), ((2, 1), (2, 2, 1, 1)), (((0, 3), (1, 0)), (0, 3, 1, 0))]:
        check_op(lambda t, c=crop: F.crop2d(t, c, fmt),
                 lambda t, c=(t0, b0, l0, r0): from_nchw(to_nchw(t, cl)[:, :, c[0]:6 - c[1], c[2]:5 - c[3]], cl),
                 [x], name="crop2d", tol=TOL["exact"])


def test_kernels_bit_identical_for_any_thread_count():
    x = randn(64, 28, 28, 6)
    xf = randn(16, 6, 17, 13)
    g = randn(64, 14, 14, 6)

    def run():
        out = []
        for a, cl in ((x, True), (xf, False)):
            for kind in ("max", "avg"):
                t = fastnn.tensor(a.copy(), requires_grad=True)
                fn = F.max_pool2d if kind == "max" else F.avg_pool2d
                y = fn(t, 3, 2, "same", "channels_last" if cl else "channels_first")
                y.backward(fastnn.tensor(randn(*y.shape, seed=3)))
                out += [y.numpy().copy(), t.grad.numpy().copy()]
        t = fastnn.tensor(g.copy(), requires_grad=True)
        y = F.upsample2d(t, 2, "bilinear")
        y.backward(fastnn.tensor(randn(*y.shape, seed=4)))
        return out + [y.numpy().copy(), t.grad.numpy().copy()]

    fastnn.set_num_threads(1)
    one = run()
    fastnn.set_num_threads(2)
    two = run()
    for a, b in zip(one, two):
        assert np.array_equal(a, b)


def test_bad_inputs_raise_clear_errors():
    x = fastnn.tensor(randn(2, 5, 5, 3))
    with pytest.raises(ValueError, match=r"4-D input.*\(2, 5, 3\)"):
        F.max_pool2d(fastnn.tensor(randn(2, 5, 3)), 2)
    with pytest.raises(ValueError, match=r"must fit.*\(5, 5\)"):
        F.max_pool2d(x, 6)
    with pytest.raises(ValueError, match="padding"):
        F.avg_pool2d(x, 2, padding="full")
    with pytest.raises(ValueError, match="strides"):
        F.max_pool2d(x, 2, 0)
    with pytest.raises(ValueError, match="pool_size"):
        F.max_pool2d(x, (2, 2, 2))
    with pytest.raises(ValueError, match="data_format"):
        F.max_pool2d(x, 2, data_format="NHWC")
    with pytest.raises(TypeError, match="float32"):
        F.max_pool2d(fastnn.tensor(np.zeros((1, 4, 4, 1), np.int64)), 2)
    with pytest.raises(ValueError, match="interpolation"):
        F.upsample2d(x, 2, "bicubic")
    with pytest.raises(ValueError, match="removes every row"):
        F.crop2d(x, ((3, 2), (0, 0)))
    with pytest.raises(ValueError, match="padding"):
        F.zero_pad2d(x, -1)
    with pytest.raises(ValueError, match=r"4-D input.*\(2, 5, 3\)"):
        L.MaxPooling2D()(fastnn.tensor(randn(2, 5, 3)))
    from fastnn import _C

    with pytest.raises(ValueError, match="argmax"):
        _C.max_pool2d_backward(np.zeros((1, 2, 2, 1), np.float32), np.zeros((1, 3, 3, 1), np.int64),
                               (1, 4, 4, 1), 2, 2, 2, 2, "valid", True)


# ---------------------------------------------------------------------- layers
ALL_LAYERS = [
    (lambda: L.MaxPooling2D(), (None, 28, 28, 6), (None, 14, 14, 6)),
    (lambda: L.MaxPooling2D(3, 2, "same", "channels_first"), (None, 6, 9, 9), (None, 6, 5, 5)),
    (lambda: L.AveragePooling2D((2, 3), padding="same"), (None, 7, 7, 2), (None, 4, 3, 2)),
    (lambda: L.MaxPooling1D(), (None, 9, 4), (None, 4, 4)),
    (lambda: L.AveragePooling1D(3, 1, "same"), (None, 9, 4), (None, 9, 4)),
    (lambda: L.GlobalAveragePooling2D(), (None, 5, 5, 8), (None, 8)),
    (lambda: L.GlobalMaxPooling2D(keepdims=True), (None, 5, 5, 8), (None, 1, 1, 8)),
    (lambda: L.GlobalAveragePooling1D(data_format="channels_first"), (None, 8, 5), (None, 8)),
    (lambda: L.GlobalMaxPooling1D(), (None, 5, 8), (None, 8)),
    (lambda: L.UpSampling2D((2, 3), interpolation="bilinear"), (None, 4, 5, 2), (None, 8, 15, 2)),
    (lambda: L.ZeroPadding2D(((1, 0), (2, 3))), (None, 4, 5, 2), (None, 5, 10, 2)),
    (lambda: L.Cropping2D((1, 2)), (None, 6, 7, 2), (None, 4, 3, 2)),
    (lambda: L.SpatialDropout2D(0.3, seed=1), (None, 4, 5, 2), (None, 4, 5, 2)),
]


@pytest.mark.parametrize("make,in_shape,out_shape", ALL_LAYERS)
def test_layer_shapes_params_and_config(make, in_shape, out_shape):
    layer = make()
    assert layer.compute_output_shape(in_shape) == out_shape
    x = fastnn.tensor(randn(2, *in_shape[1:]))
    assert layer(x).shape == (2,) + out_shape[1:]
    assert layer.count_params() == 0
    config = layer.get_config()
    clone = type(layer).from_config(config)
    assert clone.get_config() == config
    assert np.array_equal(clone(x).numpy(), layer(x).numpy())


def test_layer_names_and_aliases_follow_keras():
    fastnn.layers.clear_session()
    assert L.MaxPooling2D().name == "max_pooling2d"
    assert L.GlobalAveragePooling1D().name == "global_average_pooling1d"
    assert L.UpSampling2D().name == "up_sampling2d"
    assert L.MaxPool2D is L.MaxPooling2D and L.GlobalAvgPool2D is L.GlobalAveragePooling2D


def test_model_with_every_layer_saves_and_loads(tmp_path):
    model = fastnn.models.Sequential([
        L.Input((12, 12, 3)),
        L.ZeroPadding2D(2),
        L.MaxPooling2D(2),
        L.AveragePooling2D(3, 1, "same"),
        L.UpSampling2D(2, interpolation="bilinear"),
        L.Cropping2D(((1, 2), (3, 0))),
        L.SpatialDropout2D(0.2),
        L.UpSampling2D(),
        L.GlobalMaxPooling2D(),
        L.Dense(2),
    ])
    x = randn(4, 12, 12, 3)
    model.compile(optimizer="sgd", loss="mse")
    model.fit(x, randn(4, 2), epochs=1, verbose=0)
    path = tmp_path / "m.keras"
    model.save(path)
    loaded = fastnn.models.load_model(path)
    assert [type(a).__name__ for a in loaded.layers] == [type(a).__name__ for a in model.layers]
    assert [a.get_config() for a in loaded.layers] == [a.get_config() for a in model.layers]
    assert np.array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))


def test_pooling_layer_inference_path_matches_call():
    model = fastnn.models.Sequential([L.Input((9, 9, 4)), L.MaxPooling2D(3, 2, "same"), L.AveragePooling2D(2)])
    x = randn(3, 9, 9, 4)
    want = F.avg_pool2d(F.max_pool2d(fastnn.tensor(x), 3, 2, "same"), 2).numpy()
    assert np.array_equal(model.predict(x, verbose=0), want)


@pytest.mark.parametrize("cl", [True, False])
def test_spatial_dropout_drops_whole_maps_with_philox_masks(cl):
    n, c = 4, 16
    x = randn(n, 5, 6, c) if cl else randn(n, c, 5, 6)
    layer = L.SpatialDropout2D(0.4, data_format="channels_last" if cl else "channels_first", seed=7)
    t = fastnn.tensor(x, requires_grad=True)
    y = layer(t, training=True)
    keep = fastnn.random.Generator(7).uniform((n * c,)).numpy().reshape(n, c) >= np.float32(0.4)
    scale = np.float32(1.0) / np.float32(1.0 - 0.4)
    mask = keep.reshape(n, 1, 1, c) if cl else keep.reshape(n, c, 1, 1)
    assert_close(y.numpy(), np.where(mask, x * scale, 0.0), "spatial_dropout2d", **TOL["elementwise"])
    assert 0 < keep.sum() < keep.size
    g = randn(*x.shape, seed=2)
    y.backward(fastnn.tensor(g))
    assert_close(t.grad.numpy(), np.where(mask, g * scale, 0.0), "spatial_dropout2d", "grad", **TOL["elementwise"])
    assert layer(fastnn.tensor(x), training=False).numpy() is not None
    assert np.array_equal(layer(fastnn.tensor(x)).numpy(), x)
    # The next call draws new words: another mask.
    y2 = layer(fastnn.tensor(x), training=True).numpy()
    assert not np.array_equal(y2, y.numpy())
    with pytest.raises(ValueError, match="rate"):
        L.SpatialDropout2D(1.5)  # Keras 3 accepts 1.0: tests/test_dropout_rate.py
