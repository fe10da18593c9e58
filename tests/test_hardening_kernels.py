"""Regression tests for the kernel defects of issue 13, one or more per class: a crash in the
public conv layers, indices and sizes the kernels trusted, writes into read-only or aliased
memory, and resource exhaustion. Each case runs in a fresh interpreter, so that a segfault or a
hang fails the test (with its output) instead of ending the run; each asserts a clean ValueError
(or TypeError) that names the argument, and that memory the caller owns was left alone.

The fuzzers (tests/fuzz, tests/test_fuzz_kernels.py) look for new cases; these pin the known ones.
"""

import importlib.util
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

PRELUDE = '''
import math, os, tempfile
import numpy as np
import fastnn._C as C

def raises(exc, fn, *args, names=(), **kwargs):
    """Call fn; it must raise exc with a message that names one of `names`."""
    try:
        fn(*args, **kwargs)
    except exc as e:
        msg = str(e)
        assert not names or any(n in msg for n in names), f"{exc.__name__} names none of {names}: {msg}"
        return msg
    raise AssertionError(f"{fn.__name__} returned instead of raising {exc.__name__}")

def read_only(a, how):
    """a as a read-only array: flag, bytes (over an immutable bytes object) or mmap."""
    a = np.ascontiguousarray(a)
    if how == "flag":
        a = a.copy()
        a.setflags(write=False)
        return a, None
    if how == "bytes":
        buf = a.tobytes()
        return np.frombuffer(buf, a.dtype).reshape(a.shape), buf
    path = os.path.join(tempfile.mkdtemp(), "ro.npy")
    np.save(path, a)
    return np.load(path, mmap_mode="r"), None
'''


def isolated(code: str, timeout: float = 120) -> None:
    """Run PRELUDE + code in a new interpreter; fail on a crash, a hang or an assertion."""
    env = dict(os.environ)
    root = str(Path(importlib.util.find_spec("fastnn").origin).parents[1])
    env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH")) if p)
    try:
        p = subprocess.run([sys.executable, "-c", PRELUDE + textwrap.dedent(code)], capture_output=True, text=True,
                           timeout=timeout, env=env)
    except subprocess.TimeoutExpired:
        pytest.fail(f"hung: no result after {timeout} s")
    if p.returncode != 0:
        how = f"killed by {signal.Signals(-p.returncode).name}" if p.returncode < 0 else f"exit status {p.returncode}"
        pytest.fail(f"{how}\n{p.stdout[-2000:]}{p.stderr[-4000:]}")


# 1. A public-API segfault: channels_first, 'same' padding, a dilated kernel wider than the map.
CONV_LAYERS = {
    "Conv2D": ("L.Conv2D(3, 3, dilation_rate=4, padding='same', data_format=fmt)", (1, 2, 3, 3)),
    "Conv1D": ("L.Conv1D(3, 3, dilation_rate=4, padding='same', data_format=fmt)", (1, 2, 3)),
    "DepthwiseConv2D": ("L.DepthwiseConv2D(3, dilation_rate=4, padding='same', data_format=fmt)", (1, 2, 3, 3)),
    "SeparableConv2D": ("L.SeparableConv2D(3, 3, dilation_rate=4, padding='same', data_format=fmt)", (1, 2, 3, 3)),
    "Conv2DTranspose": ("L.Conv2DTranspose(3, 3, dilation_rate=4, padding='same', data_format=fmt)", (1, 2, 3, 3)),
}


@pytest.mark.parametrize("layer", sorted(CONV_LAYERS))
def test_channels_first_dilated_same_conv_matches_channels_last(layer):
    make, shape = CONV_LAYERS[layer]
    isolated(f"""
        import fastnn
        from fastnn import layers as L
        x = np.random.default_rng(0).standard_normal({shape}).astype(np.float32)
        to_last = (0,) + tuple(range(2, x.ndim)) + (1,)
        fmt = "channels_first"
        cf = {make}
        y_cf = np.asarray(cf(fastnn.tensor(x)))
        fmt = "channels_last"
        cl = {make}
        cl(fastnn.tensor(x.transpose(to_last)))
        cl.set_weights(cf.get_weights())
        y_cl = np.asarray(cl(fastnn.tensor(np.ascontiguousarray(x.transpose(to_last)))))
        assert np.allclose(y_cf.transpose(to_last), y_cl, atol=1e-5), (y_cf, y_cl)
    """)


# 2. Indices and sizes from the caller.
@pytest.mark.parametrize("offset", [2**40, 10**6, 16, -1, -(2**62)])
@pytest.mark.parametrize("channels_last", [True, False])
def test_max_pool2d_backward_rejects_argmax_outside_the_image(offset, channels_last):
    isolated(f"""
        x = np.random.default_rng(0).random((1, 4, 4, 2) if {channels_last} else (1, 2, 4, 4)).astype(np.float32)
        y, argmax = C.max_pool2d_forward(x, 2, 2, 2, 2, "valid", {channels_last})
        argmax = argmax.copy()
        argmax.flat[1] = {offset}  # 16 = H * W: one past the image
        raises(ValueError, C.max_pool2d_backward, np.ones_like(y), argmax, x.shape, 2, 2, 2, 2, "valid",
               {channels_last}, names=("argmax",))
    """)


# O * R * I = 8 * (2**61 + 1) = 2**64 + 8 wraps to 8, the size of x
WRAPPING_R = 2**61 + 1
WRAPPED_SIZES = {
    "reduce_forward": "C.reduce_forward, 0, x, 8, R, 1",
    "reduce_backward": "C.reduce_backward, 0, np.ones(8, np.float32), x, np.ones(8, np.float32), 8, R, 1",
    "argmax_forward": "C.argmax_forward, x, 8, R, 1, False",
    "var_forward": "C.var_forward, x, 8, R, 1, 0",
    "softmax_forward": "C.softmax_forward, x, 8, R, 1, False",
    "softmax_backward": "C.softmax_backward, x, x, 8, R, 1, False",
    "masked_softmax_forward": "C.masked_softmax_forward, x, None, 8, R, 1, 1, 1.0, False",
    "masked_softmax_rows": "C.masked_softmax_forward, x, None, R, 8, 1, 1, 1.0, False",
    "masked_softmax_backward": "C.masked_softmax_backward, x, x, 8, R, 1.0",
}


@pytest.mark.parametrize("case", sorted(WRAPPED_SIZES))
def test_sizes_that_wrap_in_64_bits_are_rejected(case):
    isolated(f"""
        x, R = np.ones(8, np.float32), {WRAPPING_R}
        raises(ValueError, {WRAPPED_SIZES[case]})
    """)


@pytest.mark.parametrize("entry", ["sgemm", "sgemm_ref", "sgemm_ex"])
@pytest.mark.parametrize("ld", ["lda", "ldb", "ldc"])
def test_sgemm_rejects_leading_dimensions_that_wrap(entry, ld):
    # (M - 1) * ld = 4 * 2**62 wraps to 0: a naive bound check passes
    isolated(f"""
        M = N = K = 5
        lds = dict(lda=K, ldb=N, ldc=N)
        lds["{ld}"] = 2**62
        A, B, Cm = (np.ones((5, 5), np.float32) for _ in range(3))
        before = Cm.copy()
        raises(ValueError, C.{entry}, False, False, M, N, K, 1.0, A, lds["lda"], B, lds["ldb"], 0.0, Cm, lds["ldc"],
               names=("{ld}",))
        assert np.array_equal(Cm, before)
    """)


@pytest.mark.parametrize("case", [
    "dst, 0, [2**62], src, 0, [1], [5]",        # 4 * 2**62 wraps to 0
    "dst, 0, [1], src, 0, [2**62], [5]",
    "dst, 2**63 - 1, [1], src, 0, [1], [5]",    # the offset itself past the end
    "dst, 0, [1], src, -1, [1], [5]",
    "dst, 0, [-(2**62), 2**62], src, 0, [1, 1], [2, 3]",
])
def test_strided_copy_rejects_strides_and_offsets_outside_the_buffers(case):
    isolated(f"""
        dst, src = np.zeros(5, np.float32), np.ones(5, np.float32)
        raises(ValueError, C.strided_copy, {case})
        assert not dst.any()
    """)


@pytest.mark.parametrize("crop", [(0, 0, 2**62, 4), (2**62, 0, 2, 2), (0, 2**63 - 1, 2, 2), (-1, 0, 2, 2),
                                  (0, 0, 0, 2), (3, 0, 2, 2)])
def test_resize_rejects_a_crop_outside_the_image(crop):
    isolated(f"""
        x = np.ones((1, 4, 4, 1), np.float32)
        raises(ValueError, C.resize, x, (2, 2), "bilinear", {crop}, False, names=("crop",))
    """)


@pytest.mark.parametrize("wrong", ["y", "dy"])
def test_reduce_backward_checks_the_sizes_of_y_and_dy(wrong):
    isolated(f"""
        x = np.ones((2, 3), np.float32)
        dy, y = np.ones(2, np.float32), np.ones(2, np.float32)
        {wrong} = np.ones(1, np.float32)
        raises(ValueError, C.reduce_backward, 2, dy, x, y, 2, 3, 1, names=("{wrong}",))
    """)


UNKNOWN_CODES = {
    "reduce_forward": "C.reduce_forward, 4, x, 2, 3, 1",
    "reduce_forward_negative": "C.reduce_forward, -1, x, 2, 3, 1",
    "reduce_backward": "C.reduce_backward, 99, np.ones(2, np.float32), x, np.ones(2, np.float32), 2, 3, 1",
    "unary_forward": "C.unary_forward, 19, x",
    "binary_forward": "C.binary_forward, 7, x, x",
    "sgemm_ex_act": "C.sgemm_ex, False, False, 2, 2, 2, 1.0, sq, 2, sq, 2, 0.0, np.zeros((2, 2), np.float32), 2, "
                    "None, 99",
    "dense_act": "C.dense, sq, sq, None, 99",
    "conv2d_act": "C.conv2d_forward, img, np.ones((1, 1, 1, 1), np.float32), None, (1, 1), (0, 0, 0, 0), (1, 1), 1, "
                  "True, 99",
    "rnn_cell": "C.rnn_forward, 4, 1, 2, False, False, False, np.ones((1, 1, 1), np.float32), "
                "np.ones((1, 1), np.float32), np.ones((1, 1), np.float32), None, None, None, None",
}


@pytest.mark.parametrize("case", sorted(UNKNOWN_CODES))
def test_unknown_op_codes_are_rejected(case):
    isolated(f"""
        x, sq, img = np.ones((2, 3), np.float32), np.ones((2, 2), np.float32), np.ones((1, 2, 2, 1), np.float32)
        raises(ValueError, {UNKNOWN_CODES[case]})
    """)


@pytest.mark.parametrize("dilation", [(2**40, 1), (1, 2**62), (2**63 - 1, 2**63 - 1)])
def test_conv_with_a_huge_dilation_is_an_error(dilation):
    isolated(f"""
        x, k = np.ones((1, 4, 4, 1), np.float32), np.ones((3, 3, 1, 1), np.float32)
        raises(ValueError, C.conv2d_forward, x, k, None, (1, 1), (0, 0, 0, 0), {dilation}, 1, True,
               names=("dilat",))
    """)


HUGE_STRIDES = {
    "conv2d_forward": "C.conv2d_forward(x, np.ones((3, 3, 1, 1), np.float32), None, (s, s), (1, 1, 1, 1), (1, 1), 1, "
                      "True)",
    "max_pool2d_forward": "C.max_pool2d_forward(x, 2, 2, s, s, 'valid', True)[0]",
    "avg_pool2d_forward": "C.avg_pool2d_forward(x, 2, 2, s, s, 'same', True)",
    "pool_output_shape": "np.empty(C.pool_output_shape(x.shape, 2, 2, s, s, 'valid', True))",
}


@pytest.mark.parametrize("stride", [2**31, 2**62, 2**63 - 1])
@pytest.mark.parametrize("case", sorted(HUGE_STRIDES))
def test_a_huge_stride_is_an_error_or_one_output_pixel_never_an_empty_output(case, stride):
    isolated(f"""
        x, s = np.ones((1, 4, 4, 1), np.float32), {stride}
        try:
            y = {HUGE_STRIDES[case]}
        except ValueError:
            pass
        else:
            assert y.shape == (1, 1, 1, 1), y.shape
    """)


# 3. Writes into memory the caller does not own for writing.
READ_ONLY_DESTINATIONS = {
    "sgemm": ("C.sgemm(False, False, 4, 4, 4, 1.0, a, 4, a, 4, 0.0, ro, 4)", ("C",)),
    "sgemm_ref": ("C.sgemm_ref(False, False, 4, 4, 4, 1.0, a, 4, a, 4, 0.0, ro, 4)", ("C",)),
    "sgemm_ex": ("C.sgemm_ex(False, False, 4, 4, 4, 1.0, a, 4, a, 4, 0.0, ro, 4, None, 0)", ("C",)),
    "index_select_backward": ("C.index_select_backward(ro, a, np.arange(4), 0)", ("dx",)),
    "strided_copy": ("C.strided_copy(ro, 0, [4, 1], a, 0, [4, 1], [4, 4])", ("dst",)),
}


@pytest.mark.parametrize("how", ["bytes", "flag", "mmap"])
@pytest.mark.parametrize("entry", sorted(READ_ONLY_DESTINATIONS))
def test_read_only_destinations_are_rejected(entry, how):
    call, names = READ_ONLY_DESTINATIONS[entry]
    isolated(f"""
        a = np.full((4, 4), 2.0, np.float32)
        ro, buf = read_only(np.zeros((4, 4), np.float32), "{how}")
        raises(ValueError, lambda: {call}, names={names!r})
        assert not np.asarray(ro).any()
        if buf is not None:
            assert buf == bytes(64), "the immutable bytes object was modified"
    """)


@pytest.mark.parametrize("entry", ["sgemm", "sgemm_ref", "sgemm_ex"])
@pytest.mark.parametrize("alias", ["A", "B"])
def test_an_output_aliasing_an_input_is_rejected_or_computed_right(entry, alias):
    extra = ", None, 0" if entry == "sgemm_ex" else ""
    isolated(f"""
        rng = np.random.default_rng(0)
        A, B = rng.standard_normal((64, 64)).astype(np.float32), rng.standard_normal((64, 64)).astype(np.float32)
        want = A.astype(np.float64) @ B.astype(np.float64) + 0.5 * {alias}.astype(np.float64)
        Cm = {alias}
        try:
            C.{entry}(False, False, 64, 64, 64, 1.0, A, 64, B, 64, 0.5, Cm, 64{extra})
        except ValueError as e:
            assert "C" in str(e), str(e)
        else:
            err = float(np.abs(Cm - want).max())
            assert err < 1e-3, f"C aliasing {alias}: max error {{err}}"
    """)


# 4. Resource exhaustion and hangs.
@pytest.mark.parametrize("layer", ["MaxPooling2D", "AveragePooling2D"])
def test_a_huge_pool_size_finishes_quickly(layer):
    isolated(f"""
        import fastnn
        from fastnn import layers as L
        x = fastnn.tensor(np.ones((1, 5, 5, 2), np.float32))
        try:
            y = L.{layer}(pool_size=2**40, padding="same")(x)
        except ValueError as e:
            assert "pool" in str(e), str(e)
        else:
            assert tuple(y.shape) == (1, 1, 1, 2), y.shape
    """, timeout=30)


@pytest.mark.parametrize("n", [100000, 30000, 2**31 - 1])
def test_set_num_threads_refuses_or_caps_a_huge_count(n):
    isolated(f"""
        try:
            C.set_num_threads({n})
        except ValueError as e:
            assert "thread" in str(e) or "n " in str(e), str(e)
        else:
            assert C.get_num_threads() <= 4096, C.get_num_threads()
        a = np.random.default_rng(0).standard_normal((96, 96)).astype(np.float32)
        c = np.empty_like(a)
        C.sgemm(False, False, 96, 96, 96, 1.0, a, 96, a, 96, 0.0, c, 96)
        assert np.allclose(c, a @ a, atol=1e-3)
    """, timeout=60)


# Found by the fuzzers under UBSan: R - correction overflowed in var_backward's kernel.
@pytest.mark.parametrize("correction", [-1, -(2**63)])
def test_var_backward_rejects_a_negative_correction_like_var_forward(correction):
    isolated(f"""
        x, m = np.ones(8, np.float32), np.ones(2, np.float32)
        raises(ValueError, C.var_forward, x, 2, 4, 1, {correction}, names=("correction",))
        raises(ValueError, C.var_backward, m, x, m, 2, 4, 1, {correction}, names=("correction",))
    """)


# Found by the fuzzers under UBSan: an empty result whose other dimensions overflow 64-bit byte
# strides (NumPy computes them even when one dimension is 0).
def test_an_empty_result_with_overflowing_strides_is_an_error():
    isolated("""
        x = np.zeros((0, 2**31, 1, 1), np.float32)
        raises(ValueError, C.resize_bilinear_forward, x, 2**31, 3, False, names=("strides",))
        assert C.resize_bilinear_forward(np.zeros((0, 5, 1, 1), np.float32), 7, 3, False).shape == (0, 5, 7, 3)
    """)


# Found by the fuzzers under UBSan: with R = 0 the input is empty for any O and I, so O * R * I
# passed while the result's size O * I overflowed.
@pytest.mark.parametrize("entry", ["reduce_forward", "argmax_forward", "var_forward"])
def test_an_empty_reduction_axis_cannot_hide_a_result_size_that_wraps(entry):
    isolated(f"""
        x = np.zeros((4, 0, 2), np.float32)
        args = {{"reduce_forward": (0, x, 2**62 + 1, 0, 4), "argmax_forward": (x, 4, 0, 2**63 - 1, False),
                 "var_forward": (x, 2**62 + 1, 0, 4, 0)}}["{entry}"]
        raises(ValueError, getattr(C, "{entry}"), *args, names=("overflows",))
    """)


# Found by the fuzzers under UBSan: an empty array with a huge O or I (O * R * I = 0) reached
# kernels that loop over O (a hang) or round I up (an overflow); an empty result now returns
# before any kernel runs.
@pytest.mark.parametrize("entry", ["reduce_forward", "var_backward", "softmax_forward", "argmax_forward"])
def test_an_empty_array_with_huge_sizes_returns_at_once(entry):
    isolated(f"""
        e = np.zeros((0,), np.float32)
        calls = {{"reduce_forward": lambda: C.reduce_forward(2, e, 0, 2, 2**63 - 1),
                  "var_backward": lambda: C.var_backward(e, e, e, 2**62, 1, 0, 0),
                  "softmax_forward": lambda: C.softmax_forward(e, 2**62, 1, 0, False),
                  "argmax_forward": lambda: C.argmax_forward(e, 0, 3, 2**63 - 1, False)}}
        out = calls["{entry}"]()
        assert all(a.size == 0 for a in (out if isinstance(out, tuple) else (out,)))
    """, timeout=30)
