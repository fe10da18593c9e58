"""Convolution kernels, functional ops and layers against torch (NHWC by permuting), with
TensorFlow's 'same' padding compared against explicitly padded torch convolutions."""

from __future__ import annotations

import fastnn
import fastnn.functional as F
import numpy as np
import pytest
import torch
import torch.nn.functional as TF
from fastnn import _C
from fastnn import layers as L
from oracle import TOL, assert_close, check_op, randn


def tf_same(n: int, k: int, s: int, d: int = 1) -> tuple[int, int]:
    """TensorFlow's 'same' padding of one axis: output ceil(n / s), the odd pixel at the end."""
    keff = (k - 1) * d + 1
    out = -(-n // s)
    total = max((out - 1) * s + keff - n, 0)
    return total // 2, total - total // 2


def torch_conv2d(x, w, b, strides, pads, dil, groups, cl, act=None):
    """Keras-layout conv on torch: x NHWC (or NCHW), w (kh, kw, cin/g, cout), pads (t, b, l, r)."""
    xn = x.permute(0, 3, 1, 2) if cl else x
    xn = TF.pad(xn, (pads[2], pads[3], pads[0], pads[1]))
    y = TF.conv2d(xn, w.permute(3, 2, 0, 1), b, stride=strides, dilation=dil, groups=groups)
    if act is not None:
        y = getattr(torch, act)(y)
    return y.permute(0, 2, 3, 1) if cl else y


def conv_tol(*ks: int) -> dict:
    return TOL["gemm"](max(ks))


# (N, H, W, C, OC, (kh, kw), strides, padding, dilation, groups)
CASES = [
    (2, 7, 9, 3, 4, (3, 3), (1, 1), "valid", (1, 1), 1),
    (3, 11, 10, 4, 6, (5, 2), (2, 3), "same", (1, 1), 2),
    (1, 13, 13, 2, 5, (7, 7), (3, 3), "same", (1, 1), 1),
    (2, 12, 9, 3, 2, (4, 4), (2, 2), "same", (1, 1), 1),
    (2, 5, 6, 4, 8, (1, 1), (1, 1), "valid", (1, 1), 1),  # the direct 1x1 path
    (2, 5, 6, 4, 8, (1, 1), (1, 1), "valid", (1, 1), 4),
    (2, 9, 7, 4, 6, (1, 1), (2, 2), "valid", (1, 1), 2),  # 1x1 with strides: im2col
    (2, 9, 9, 5, 10, (3, 3), (2, 2), "same", (1, 1), 5),  # depthwise, multiplier 2
    (2, 11, 12, 3, 4, (3, 2), (1, 1), "same", (2, 3), 1),  # dilation
    (2, 10, 8, 6, 6, (3, 3), (1, 1), "valid", (2, 1), 3),
    (1, 1, 17, 3, 5, (1, 6), (1, 2), "same", (1, 1), 1),  # height 1 (Conv1D's shape)
    (4, 8, 8, 17, 33, (2, 2), (1, 1), ((1, 0), (2, 1)), (1, 1), 1),  # explicit padding
    (3, 28, 28, 1, 6, (5, 5), (1, 1), "same", (1, 1), 1),  # LeNet-5: few filters, product transposed
    (2, 14, 14, 6, 16, (5, 5), (1, 1), "valid", (1, 1), 1),
    (2, 11, 10, 16, 16, (3, 3), (2, 1), "same", (1, 2), 16),  # depthwise, multiplier 1: direct
    (3, 9, 9, 7, 7, (5, 5), (1, 1), "valid", (1, 1), 7),
    (2, 6, 5, 3, 3, (1, 1), (1, 1), "valid", (1, 1), 3),
]


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
@pytest.mark.parametrize("case", CASES, ids=[f"case{i}" for i in range(len(CASES))])
def test_conv2d_matches_torch(case, data_format):
    n, h, w, c, oc, ks, s, padding, d, groups = case
    cl = data_format == "channels_last"
    x = randn(*((n, h, w, c) if cl else (n, c, h, w)), seed=1)
    k = randn(ks[0], ks[1], c // groups, oc, seed=2)
    b = randn(oc, seed=3)
    if padding == "same":
        pads = tf_same(h, ks[0], s[0], d[0]) + tf_same(w, ks[1], s[1], d[1])
    elif padding == "valid":
        pads = (0, 0, 0, 0)
    else:
        pads = padding[0] + padding[1]
    out = check_op(
        lambda x_, k_, b_: F.conv2d(x_, k_, b_, s, padding, data_format, d, groups),
        lambda x_, k_, b_: torch_conv2d(x_, k_, b_, s, pads, d, groups, cl),
        [x, k, b],
        name="conv2d",
        tol=conv_tol(ks[0] * ks[1] * c, n * h * w),
    )
    if padding == "same":  # TensorFlow's output size, also with strides
        assert (out.shape[1:3] if cl else out.shape[2:]) == (-(-h // s[0]), -(-w // s[1]))


@pytest.mark.parametrize("act", ["relu", "sigmoid", "tanh"])
@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_conv2d_fused_activation(act, data_format):
    cl = data_format == "channels_last"
    x = randn(*((3, 9, 8, 3) if cl else (3, 3, 9, 8)), seed=4)
    k, b = randn(3, 3, 3, 7, seed=5), randn(7, seed=6)
    pads = tf_same(9, 3, 2) + tf_same(8, 3, 2)
    check_op(
        lambda x_, k_, b_: F.conv2d(x_, k_, b_, 2, "same", data_format, activation=act),
        lambda x_, k_, b_: torch_conv2d(x_, k_, b_, (2, 2), pads, (1, 1), 1, cl, act),
        [x, k, b],
        name=f"conv2d+{act}",
        tol=TOL["transcendental"] if act != "relu" else conv_tol(27, 3 * 9 * 8),
        grad_tol=conv_tol(27, 3 * 9 * 8),
    )


def test_conv2d_without_bias_and_only_some_grads():
    x, k = randn(2, 6, 6, 3, seed=7), randn(3, 3, 3, 4, seed=8)
    xt, kt = fastnn.tensor(x), fastnn.tensor(k, requires_grad=True)
    F.conv2d(xt, kt).sum().backward()
    want = torch.tensor(k, requires_grad=True)
    torch_conv2d(torch.tensor(x), want, None, (1, 1), (0, 0, 0, 0), (1, 1), 1, True).sum().backward()
    assert_close(kt.grad.numpy(), want.grad.numpy(), "conv2d", "grad[kernel]", **conv_tol(2 * 36))
    assert xt.grad is None


def test_course_cnn_shapes_against_torch():
    """The course CNN's convolutions (32x32x3, batch 32): 'same' with strides 2 then 'valid'."""
    x, k1, b1 = randn(32, 32, 32, 3, seed=9), randn(5, 5, 3, 32, seed=10) * 0.1, randn(32, seed=11)
    k2, b2 = randn(5, 5, 32, 32, seed=12) * 0.1, randn(32, seed=13)
    pads = tf_same(32, 5, 2) * 2
    assert pads == (1, 2, 1, 2)

    def fast(x_, k1_, b1_, k2_, b2_):
        h = F.conv2d(x_, k1_, b1_, 2, "same", activation="relu")
        return F.conv2d(h, k2_, b2_, 2, "valid", activation="relu")

    def ref(x_, k1_, b1_, k2_, b2_):
        h = torch_conv2d(x_, k1_, b1_, (2, 2), pads, (1, 1), 1, True, "relu")
        return torch_conv2d(h, k2_, b2_, (2, 2), (0, 0, 0, 0), (1, 1), 1, True, "relu")

    out = check_op(fast, ref, [x, k1, b1, k2, b2], name="course_cnn", tol=conv_tol(800, 32 * 256),
                   grad=[False, True, True, True, True])
    assert out.shape == (32, 6, 6, 32)


@pytest.mark.parametrize("padding", ["valid", "same", "causal"])
@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_conv1d_matches_torch(padding, data_format):
    if padding == "causal" and data_format == "channels_first":
        pytest.skip("causal is channels_last only (Keras)")
    cl = data_format == "channels_last"
    n, steps, c, oc, k, s, d = 3, 19, 4, 6, 4, 1 if padding == "causal" else 2, 2 if padding == "causal" else 1
    x = randn(*((n, steps, c) if cl else (n, c, steps)), seed=14)
    w, b = randn(k, c, oc, seed=15), randn(oc, seed=16)
    if padding == "same":
        pads = tf_same(steps, k, s, d)
    elif padding == "causal":
        pads = (d * (k - 1), 0)
    else:
        pads = (0, 0)

    def ref(x_, w_, b_):
        xn = x_.permute(0, 2, 1) if cl else x_
        y = TF.conv1d(TF.pad(xn, pads), w_.permute(2, 1, 0), b_, stride=s, dilation=d)
        return y.permute(0, 2, 1) if cl else y

    check_op(
        lambda x_, w_, b_: F.conv1d(x_, w_, b_, s, padding, data_format, d),
        ref, [x, w, b], name="conv1d", tol=conv_tol(k * c, n * steps),
    )


def tf_transpose_ref(x, w, b, strides, padding, output_padding, dil, cl):
    """Keras/TensorFlow conv2d_transpose: the full transposed convolution, cropped as TF does
    (the forward convolution's padding of the output: 'same' puts the odd pixel at the end)."""
    xn = x.permute(0, 3, 1, 2) if cl else x
    full = TF.conv_transpose2d(xn, w.permute(3, 2, 0, 1), None, stride=strides, dilation=dil)
    sizes, tops = [], []
    for i in range(2):
        n, k, s, d = xn.shape[2 + i], w.shape[i], strides[i], dil[i]
        keff = (k - 1) * d + 1
        if output_padding is None:
            size = n * s + max(keff - s, 0) if padding == "valid" else n * s
        else:
            size = (n - 1) * s + keff - 2 * (keff // 2 if padding == "same" else 0) + output_padding[i]
        top = 0 if padding == "valid" else max((n - 1) * s + keff - size, 0) // 2
        sizes.append(size)
        tops.append(top)
    extra = [max(0, tops[i] + sizes[i] - full.shape[2 + i]) for i in range(2)]
    full = TF.pad(full, (0, extra[1], 0, extra[0]))
    y = full[:, :, tops[0] : tops[0] + sizes[0], tops[1] : tops[1] + sizes[1]]
    if b is not None:
        y = y + b.view(1, -1, 1, 1)
    return y.permute(0, 2, 3, 1) if cl else y


TRANSPOSE_CASES = [
    ((2, 5, 6, 3), 4, (3, 3), (2, 2), "same", None, (1, 1)),
    ((2, 5, 6, 3), 4, (3, 3), (2, 2), "valid", None, (1, 1)),
    ((1, 4, 4, 2), 3, (2, 2), (3, 3), "valid", None, (1, 1)),  # kernel smaller than the stride
    ((2, 4, 5, 3), 2, (4, 3), (2, 2), "same", (1, 0), (1, 1)),
    ((2, 4, 5, 3), 2, (3, 5), (2, 3), "valid", (1, 2), (1, 1)),
    ((1, 6, 5, 2), 3, (3, 3), (1, 1), "same", None, (2, 2)),
    ((2, 7, 7, 4), 5, (5, 5), (1, 1), "valid", None, (1, 1)),
]


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
@pytest.mark.parametrize("case", TRANSPOSE_CASES, ids=[f"t{i}" for i in range(len(TRANSPOSE_CASES))])
def test_conv2d_transpose_matches_tensorflow_rule(case, data_format):
    shape, filters, ks, s, padding, op, d = case
    cl = data_format == "channels_last"
    x = randn(*(shape if cl else (shape[0], shape[3], shape[1], shape[2])), seed=17)
    w, b = randn(ks[0], ks[1], filters, shape[3], seed=18), randn(filters, seed=19)
    check_op(
        lambda x_, w_, b_: F.conv2d_transpose(x_, w_, b_, s, padding, op, data_format, d),
        lambda x_, w_, b_: tf_transpose_ref(x_, w_, b_, s, padding, op, d, cl),
        [x, w, b], name="conv2d_transpose", tol=conv_tol(ks[0] * ks[1] * shape[3], shape[0] * 64),
    )


@pytest.mark.parametrize("multiplier", [1, 3])
@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_depthwise_and_separable_match_torch(multiplier, data_format):
    cl = data_format == "channels_last"
    x = randn(*((2, 9, 8, 4) if cl else (2, 4, 9, 8)), seed=20)
    dk, b = randn(3, 3, 4, multiplier, seed=21), randn(4 * multiplier, seed=22)
    pads = tf_same(9, 3, 2) + tf_same(8, 3, 2)

    def ref(x_, dk_, b_):  # torch: groups = channels, weight (c * m, 1, kh, kw)
        return torch_conv2d(x_, dk_.reshape(3, 3, 1, 4 * multiplier), b_, (2, 2), pads, (1, 1), 4, cl)

    check_op(
        lambda x_, dk_, b_: F.depthwise_conv2d(x_, dk_, b_, 2, "same", data_format),
        ref, [x, dk, b], name="depthwise_conv2d", tol=conv_tol(9, 2 * 72),
    )
    pk = randn(1, 1, 4 * multiplier, 5, seed=23)
    b5 = randn(5, seed=24)

    def sep_ref(x_, dk_, pk_, b_):
        h = torch_conv2d(x_, dk_.reshape(3, 3, 1, 4 * multiplier), None, (1, 1), (1, 1, 1, 1), (1, 1), 4, cl)
        return torch_conv2d(h, pk_, b_, (1, 1), (0, 0, 0, 0), (1, 1), 1, cl, "relu")

    check_op(
        lambda x_, dk_, pk_, b_: F.separable_conv2d(x_, dk_, pk_, b_, 1, "same", data_format, activation="relu"),
        sep_ref, [x, dk, pk, b5], name="separable_conv2d", tol=conv_tol(9 * 4 * multiplier, 2 * 72),
    )


_LEVELS = ["generic", "avx2", "avx512"]
ISAS = _LEVELS[: _LEVELS.index(_C.detected_isa()) + 1]


@pytest.fixture(params=ISAS)
def isa(request):
    """Runs the test with the kernels of one ISA (direct kernels on AVX2 / AVX-512, im2col + GEMM
    on the portable level), then restores the previous one."""
    before = _C.active_isa()
    _C.set_isa(request.param)
    yield request.param
    _C.set_isa(before)


# Shapes of the direct kernels (csrc/cpu/conv_direct.h), channels_last, one group. Planar: up to 8
# filters, stride and dilation 1 along the width (one or two column vectors per block, tails);
# its backward to the input needs stride and dilation 1 and at most 8 input channels. OC kernel:
# 8 (AVX2), 16 or 32 filters (rows of pixels split into equal blocks, strides, dilation, padding).
# (N, H, W, C, OC, (kh, kw), strides, padding, dilation, activation)
DIRECT_CASES = [
    (3, 28, 28, 1, 6, (5, 5), (1, 1), "same", (1, 1), "relu"),  # LeNet-5 conv1
    (2, 9, 37, 3, 8, (3, 4), (1, 1), "valid", (1, 1), None),  # three column blocks, a tail
    (2, 11, 7, 2, 1, (2, 3), (2, 1), "same", (1, 1), "tanh"),  # stride along the height only
    (2, 12, 19, 5, 3, (3, 3), (1, 1), "same", (2, 1), "sigmoid"),  # dilation along the height
    (1, 6, 40, 4, 5, (1, 5), (1, 1), ((0, 0), (3, 1)), (1, 1), None),  # explicit padding
    (2, 14, 14, 6, 16, (5, 5), (1, 1), "valid", (1, 1), "relu"),  # LeNet-5 conv2
    (2, 32, 32, 3, 32, (5, 5), (2, 2), "same", (1, 1), "relu"),  # course conv1
    (2, 16, 16, 32, 32, (5, 5), (2, 2), "valid", (1, 1), None),  # course conv2
    (2, 13, 29, 3, 16, (3, 3), (1, 2), "same", (2, 3), "tanh"),  # dilation along the width
    (2, 9, 31, 4, 8, (3, 3), (1, 1), "same", (1, 1), "sigmoid"),  # one vector on AVX2
    # 24 filters: not whole vectors on AVX-512, three of them on AVX2: the GEMM on both
    (2, 7, 10, 2, 24, (2, 2), (1, 1), "valid", (1, 1), None),
]


@pytest.mark.parametrize("case", DIRECT_CASES, ids=[f"d{i}" for i in range(len(DIRECT_CASES))])
def test_direct_kernels_match_torch(case, isa):
    n, h, w, c, oc, ks, s, padding, d, act = case
    x, k, b = randn(n, h, w, c, seed=40), randn(ks[0], ks[1], c, oc, seed=41), randn(oc, seed=42)
    if padding == "same":
        pads = tf_same(h, ks[0], s[0], d[0]) + tf_same(w, ks[1], s[1], d[1])
    elif padding == "valid":
        pads = (0, 0, 0, 0)
    else:
        pads = padding[0] + padding[1]
    tol = conv_tol(ks[0] * ks[1] * c, n * h * w)
    check_op(
        lambda x_, k_, b_: F.conv2d(x_, k_, b_, s, padding, "channels_last", d, 1, act),
        lambda x_, k_, b_: torch_conv2d(x_, k_, b_, s, pads, d, 1, True, act),
        [x, k, b],
        name=f"conv2d[{isa}]",
        tol=TOL["transcendental"] if act in ("sigmoid", "tanh") else tol,
        grad_tol=tol,
    )


# The backward to the input through im2col's GEMM and col2im, the kernel's transpose packed once
# per call (channels_last) and shared by every image: odd sizes, strides 1-3, channel counts that
# are not whole vectors, groups; channels_first takes the per-image GEMM.
# (N, H, W, C, OC, (kh, kw), strides, padding, groups)
BACKWARD_DATA_CASES = [
    (3, 16, 16, 32, 32, (5, 5), (2, 2), "valid", 1),  # course conv2
    (2, 13, 11, 17, 33, (3, 3), (2, 2), "same", 1),
    (2, 9, 13, 33, 17, (5, 3), (3, 3), "valid", 1),
    (2, 11, 9, 3, 32, (3, 5), (2, 3), "same", 1),
    (1, 7, 9, 1, 3, (3, 3), (3, 2), "same", 1),
    (2, 9, 7, 32, 33, (3, 3), (1, 1), "same", 1),
    (2, 10, 11, 34, 6, (3, 3), (2, 1), "valid", 2),  # groups: one packed kernel per group
]


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
@pytest.mark.parametrize("case", BACKWARD_DATA_CASES, ids=[f"bd{i}" for i in range(len(BACKWARD_DATA_CASES))])
def test_backward_data_gemm_path_matches_torch(case, data_format, isa):
    n, h, w, c, oc, ks, s, padding, groups = case
    cl = data_format == "channels_last"
    x = randn(*((n, h, w, c) if cl else (n, c, h, w)), seed=50)
    k, b = randn(ks[0], ks[1], c // groups, oc, seed=51), randn(oc, seed=52)
    pads = tf_same(h, ks[0], s[0]) + tf_same(w, ks[1], s[1]) if padding == "same" else (0, 0, 0, 0)
    check_op(
        lambda x_, k_, b_: F.conv2d(x_, k_, b_, s, padding, data_format, 1, groups),
        lambda x_, k_, b_: torch_conv2d(x_, k_, b_, s, pads, (1, 1), groups, cl),
        [x, k, b], name=f"conv2d_backward_data[{isa}]", tol=conv_tol(ks[0] * ks[1] * c, n * h * w),
    )


def test_direct_transpose_with_bias(isa):
    """Conv2DTranspose's forward is the backward-to-input kernel with a bias: the planar path."""
    x, w, b = randn(2, 9, 11, 12, seed=43), randn(5, 5, 3, 12, seed=44), randn(3, seed=45)
    check_op(
        lambda x_, w_, b_: F.conv2d_transpose(x_, w_, b_, 1, "same"),
        lambda x_, w_, b_: tf_transpose_ref(x_, w_, b_, (1, 1), "same", None, (1, 1), True),
        [x, w, b], name=f"conv2d_transpose[{isa}]", tol=conv_tol(300, 2 * 99),
    )


def test_planar_weight_gradient_ignores_pixels_no_output_reads(isa):
    """Columns past the last output's window never meet dy: an infinite pixel there leaves the
    other taps' gradients finite, as in torch."""
    x, k = randn(2, 6, 21, 1, seed=46), randn(3, 3, 1, 4, seed=47)
    x[:, :, -1, :] = np.inf  # read only by the last column of taps
    g = randn(2, 4, 19, 4, seed=48)
    dk, _ = _C.conv2d_backward_weight(g, x, k.shape, (1, 1), (0, 0, 0, 0), (1, 1), 1, True, False)
    want = torch.nn.grad.conv2d_weight(
        torch.from_numpy(x).permute(0, 3, 1, 2), (4, 1, 3, 3), torch.from_numpy(g).permute(0, 3, 1, 2)
    ).permute(2, 3, 1, 0).numpy()
    np.testing.assert_array_equal(np.isfinite(dk), np.isfinite(want))
    assert np.isfinite(dk[:, :2]).all() and not np.isfinite(dk[:, 2]).all()


_THREAD_CASES = [
    CASES[1], CASES[4], CASES[7], CASES[12], CASES[13], (7, 16, 16, 3, 32, (5, 5), (2, 2), "same", (1, 1), 1),
    (9, 10, 37, 3, 8, (3, 4), (1, 1), "valid", (1, 1), 1),  # planar, blocks of images for the weights
    (9, 11, 10, 16, 16, (3, 3), (2, 1), "same", (1, 2), 16),  # depthwise
]


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
@pytest.mark.parametrize("case", _THREAD_CASES)
def test_results_do_not_depend_on_thread_count(case, data_format):
    n, h, w, c, oc, ks, s, padding, d, groups = case
    cl = data_format == "channels_last"
    x = randn(*((n, h, w, c) if cl else (n, c, h, w)), seed=25)
    k, b = randn(ks[0], ks[1], c // groups, oc, seed=26), randn(oc, seed=27)
    pads = (tf_same(h, ks[0], s[0], d[0]) + tf_same(w, ks[1], s[1], d[1])) if padding == "same" else (0, 0, 0, 0)
    args = (s, pads, d, groups, cl)
    before = _C.get_num_threads()
    results = []
    try:
        for nt in (1, 2, 3):
            _C.set_num_threads(nt)
            y = _C.conv2d_forward(x, k, b, *args, 1)
            g = randn(*y.shape, seed=28)
            dx = _C.conv2d_backward_data(g, k, x.shape, *args)
            dk, db = _C.conv2d_backward_weight(g, x, k.shape, *args, True)
            results.append((y, dx, dk, db))
    finally:
        _C.set_num_threads(before)
    for other in results[1:]:
        for a, bb in zip(results[0], other):
            np.testing.assert_array_equal(a, bb)


def test_conv_errors_quote_shapes():
    x, k = fastnn.ones(2, 8, 8, 3), fastnn.ones(3, 3, 3, 4)
    with pytest.raises(ValueError, match=r"5 channels.*\(3, 3, 3, 4\)"):
        F.conv2d(fastnn.ones(2, 8, 8, 5), k)
    with pytest.raises(ValueError, match="4-D"):
        F.conv2d(fastnn.ones(8, 8, 3), k)
    with pytest.raises(ValueError, match="padding"):
        F.conv2d(x, k, padding="full")
    with pytest.raises(ValueError, match=r"does not fit.*\(2, 2, 2, 3\)"):
        F.conv2d(fastnn.ones(2, 2, 2, 3), k)
    with pytest.raises(ValueError, match="strides"):
        F.conv2d(x, k, strides=0)
    with pytest.raises(ValueError, match=r"bias shape \(3,\)"):
        F.conv2d(x, k, fastnn.ones(3))
    with pytest.raises(ValueError, match="groups=2"):
        F.conv2d(fastnn.ones(2, 8, 8, 6), fastnn.ones(3, 3, 3, 3), groups=2)
    with pytest.raises(TypeError, match="float32"):
        F.conv2d(fastnn.tensor(np.ones((2, 8, 8, 3), np.int64)), k)
    with pytest.raises(ValueError, match="activation"):
        F.conv2d(x, k, activation="softmax")
    with pytest.raises(ValueError, match="output_padding"):
        F.conv2d_transpose(x, fastnn.ones(3, 3, 2, 3), strides=2, output_padding=2)
    with pytest.raises(ValueError, match="causal"):
        F.conv1d(fastnn.ones(2, 8, 3), fastnn.ones(3, 3, 2), padding="kausal")
    # the raw kernels check too (nothing crashes on a bad call)
    with pytest.raises(ValueError, match="dy has shape"):
        _C.conv2d_backward_data(np.ones((2, 5, 5, 4), np.float32), k.numpy(), (2, 8, 8, 3),
                                (1, 1), (0, 0, 0, 0), (1, 1), 1, True)
    with pytest.raises(ValueError, match="padding"):
        _C.conv2d_forward(x.numpy(), k.numpy(), None, (1, 1), (0, 0), (1, 1), 1, True, 0)
    with pytest.raises(ValueError, match="top and left padding"):
        _C.conv2d_forward(x.numpy(), k.numpy(), None, (1, 1), (-1, 0, 0, 0), (1, 1), 1, True, 0)
    with pytest.raises(TypeError):
        _C.conv2d_forward(x.numpy().astype(np.float64), k.numpy(), None, (1, 1), (0, 0, 0, 0), (1, 1), 1, True, 0)


def test_empty_batch():
    y = F.conv2d(fastnn.zeros(0, 6, 6, 3), fastnn.ones(3, 3, 3, 2), fastnn.ones(2))
    assert y.shape == (0, 4, 4, 2)


# ------------------------------------------------------------------------------ layers
# (layer, input shape, output shape, parameter count as Keras computes it)
LAYERS = [
    (lambda: L.Conv2D(32, (5, 5), strides=(2, 2), padding="same", activation="relu"), (32, 32, 3), (16, 16, 32), 2432),
    (lambda: L.Conv2D(32, (5, 5), strides=(2, 2)), (16, 16, 32), (6, 6, 32), 25632),
    (lambda: L.Conv2D(6, 5, padding="same", activation="tanh"), (28, 28, 1), (28, 28, 6), 156),
    (lambda: L.Conv2D(8, 3, groups=2, use_bias=False), (9, 9, 4), (7, 7, 8), 144),
    (lambda: L.Conv2D(4, 3, data_format="channels_first", dilation_rate=2), (3, 11, 10), (4, 7, 6), 112),
    (lambda: L.Conv1D(8, 3, padding="causal", dilation_rate=2), (20, 4), (20, 8), 104),
    (lambda: L.Conv1D(5, 4, strides=3, padding="same"), (13, 2), (5, 5), 45),
    (lambda: L.Conv2DTranspose(16, 3, strides=2, padding="same"), (7, 7, 8), (14, 14, 16), 1168),
    (lambda: L.Conv2DTranspose(3, (4, 3), strides=2, output_padding=(1, 0)), (5, 5, 2), (13, 11, 3), 75),
    (lambda: L.DepthwiseConv2D(3, depth_multiplier=2, padding="same"), (8, 8, 4), (8, 8, 8), 80),
    (lambda: L.SeparableConv2D(16, 3, padding="same", activation="relu"), (8, 8, 4), (8, 8, 16), 116),
    (lambda: L.SeparableConv2D(6, 3, strides=2, depth_multiplier=2), (9, 9, 3), (4, 4, 6), 54 + 36 + 6),
]


@pytest.mark.parametrize("spec", LAYERS, ids=[f"layer{i}" for i in range(len(LAYERS))])
def test_layer_shapes_params_and_config(spec):
    make, in_shape, out_shape, params = spec
    layer = make()
    x = fastnn.tensor(randn(2, *in_shape, seed=29))
    y = layer(x)
    assert y.shape == (2,) + out_shape
    assert layer.compute_output_shape((None,) + in_shape) == (None,) + out_shape
    assert layer.count_params() == params
    clone = type(layer).from_config(layer.get_config())
    assert clone.get_config() | {"name": layer.name} == layer.get_config()
    clone(x)
    clone.set_weights(layer.get_weights())
    np.testing.assert_array_equal(clone(x).numpy(), y.numpy())


def test_layer_weight_names_and_layouts():
    sep = L.SeparableConv2D(6, 3, depth_multiplier=2)
    sep(fastnn.ones(1, 5, 5, 3))
    assert [(w.name, w.shape) for w in sep.weights] == [
        ("depthwise_kernel", (3, 3, 3, 2)), ("pointwise_kernel", (1, 1, 6, 6)), ("bias", (6,))
    ]
    dw = L.DepthwiseConv2D(3, depth_multiplier=2)
    dw(fastnn.ones(1, 5, 5, 3))
    assert [(w.name, w.shape) for w in dw.weights] == [("kernel", (3, 3, 3, 2)), ("bias", (6,))]
    tr = L.Conv2DTranspose(4, 3)
    tr(fastnn.ones(1, 5, 5, 3))
    assert tr.kernel.shape == (3, 3, 4, 3)
    assert L.Conv2D(2, 3).name.startswith("conv2d")


def test_layer_argument_errors():
    with pytest.raises(ValueError, match="filters"):
        L.Conv2D(0, 3)
    with pytest.raises(ValueError, match="kernel_size"):
        L.Conv2D(4, (3, 3, 3))
    with pytest.raises(ValueError, match="padding"):
        L.Conv2D(4, 3, padding="causal")
    with pytest.raises(ValueError, match="data_format"):
        L.Conv2D(4, 3, data_format="NHWC")
    with pytest.raises(ValueError, match="divisible by groups"):
        L.Conv2D(5, 3, groups=2)
    with pytest.raises(ValueError, match="ndim=4"):
        L.Conv2D(4, 3)(fastnn.ones(2, 8, 3))
    layer = L.Conv2D(4, 3)
    layer(fastnn.ones(1, 5, 5, 3))
    with pytest.raises(ValueError, match=r"expected 3 channels.*\(1, 5, 5, 2\)"):
        layer(fastnn.ones(1, 5, 5, 2))
    with pytest.raises(ValueError, match="output_padding"):
        L.Conv2DTranspose(4, 3, strides=2, output_padding=2)
    with pytest.raises(ValueError, match="empty"):
        L.Conv2D(4, 7).compute_output_shape((None, 5, 5, 3))


def _small_cnn():
    return fastnn.models.Sequential([
        L.Input(shape=(8, 8, 1)),
        L.Conv2D(4, 3, padding="same", activation="relu"),
        L.SeparableConv2D(4, 3, strides=2, padding="same", activation="relu"),
        L.DepthwiseConv2D(3, padding="same"),
        L.Conv2DTranspose(2, 3, strides=2, padding="same"),
        L.Conv2D(3, (3, 3), strides=2),
        L.Flatten(),
        L.Dense(2, activation="softmax"),
    ])


def test_model_save_load_round_trip(tmp_path):
    fastnn.random.seed(0)
    m = _small_cnn()
    x = fastnn.tensor(randn(3, 8, 8, 1, seed=30))
    want = m(x).numpy()
    p = tmp_path / "cnn.keras"
    m.save(p)
    again = fastnn.models.load_model(p)
    assert [type(lyr).__name__ for lyr in again.layers] == [type(lyr).__name__ for lyr in m.layers]
    np.testing.assert_array_equal(again(x).numpy(), want)
    assert again.count_params() == m.count_params()


def test_tiny_cnn_learns_with_fit():
    """Bright top half vs bright bottom half: a convolution separates them in a few epochs."""
    rng = np.random.default_rng(0)
    n = 128
    y = rng.integers(0, 2, n)
    x = rng.uniform(0, 0.3, (n, 8, 8, 1)).astype(np.float32)
    for i in range(n):
        if y[i]:
            x[i, :4] += 0.7
        else:
            x[i, 4:] += 0.7
    fastnn.random.seed(1)
    m = fastnn.models.Sequential([
        L.Input(shape=(8, 8, 1)),
        L.Conv2D(4, 3, strides=2, padding="same", activation="relu"),
        L.Conv2D(4, 3, activation="relu"),
        L.Flatten(),
        L.Dense(2, activation="softmax"),
    ])
    m.compile(optimizer=fastnn.optimizers.Adam(0.01), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    hist = m.fit(x, y, epochs=15, batch_size=16, verbose=0)
    assert hist.history["loss"][-1] < 0.5 * hist.history["loss"][0]
    assert hist.history["accuracy"][-1] >= 0.95


@pytest.mark.skipif(not fastnn.cuda.is_available(), reason="needs a CUDA device")
@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
@pytest.mark.parametrize("case", [CASES[1], CASES[4], CASES[7], CASES[8]])
def test_cuda_matches_cpu(case, data_format):
    n, h, w, c, oc, ks, s, padding, d, groups = case
    cl = data_format == "channels_last"
    x = randn(*((n, h, w, c) if cl else (n, c, h, w)), seed=31)
    k, b = randn(ks[0], ks[1], c // groups, oc, seed=32), randn(oc, seed=33)
    pads = (tf_same(h, ks[0], s[0], d[0]) + tf_same(w, ks[1], s[1], d[1])) if padding == "same" else (0, 0, 0, 0)
    args = (s, pads, d, groups, cl)
    dev = _C.to_device
    y = _C.conv2d_forward(x, k, b, *args, 1)
    yc = _C.to_host(_C.conv2d_forward(dev(x), dev(k), dev(b), *args, 1))
    tol = conv_tol(ks[0] * ks[1] * c, n * h * w)
    assert_close(yc, y, "conv2d cuda", "forward", **tol)
    g = randn(*y.shape, seed=34)
    assert_close(_C.to_host(_C.conv2d_backward_data(dev(g), dev(k), x.shape, *args, dev(b))),
                 _C.conv2d_backward_data(g, k, x.shape, *args, b), "conv2d cuda", "dx", **tol)
    dk, db = _C.conv2d_backward_weight(g, x, k.shape, *args, True)
    dkc, dbc = _C.conv2d_backward_weight(dev(g), dev(x), k.shape, *args, True)
    assert_close(_C.to_host(dkc), dk, "conv2d cuda", "dkernel", **tol)
    assert_close(_C.to_host(dbc), db, "conv2d cuda", "dbias", **tol)


@pytest.mark.parametrize("make", [lambda m: L.DepthwiseConv2D(3, depth_multiplier=m),
                                  lambda m: L.SeparableConv2D(4, 3, depth_multiplier=m)])
@pytest.mark.parametrize("bad", [0, -2, 1.5, True])
def test_depth_multiplier_must_be_a_positive_integer(make, bad):
    with pytest.raises(ValueError, match=f"depth_multiplier must be a positive integer, got depth_multiplier={bad!r}"):
        make(bad)
