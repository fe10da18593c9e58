"""Tensor creation, conversion, memory sharing with NumPy, devices and bad input."""

import subprocess
import sys

import fastnn
import numpy as np
import pytest


def test_float32_array_is_shared_both_ways():
    a = np.arange(6, dtype=np.float32).reshape(2, 3)
    t = fastnn.tensor(a)
    assert np.shares_memory(t.numpy(), a)
    assert np.shares_memory(np.asarray(t), a)
    a[0, 0] = 42.0
    assert t.numpy()[0, 0] == 42.0
    t.numpy()[1, 2] = -1.0
    assert a[1, 2] == -1.0


def test_int64_array_is_shared():
    a = np.arange(5, dtype=np.int64)
    t = fastnn.tensor(a)
    assert t.dtype == fastnn.int64 and np.shares_memory(t.numpy(), a)


@pytest.mark.parametrize(
    "data, dtype",
    [
        (np.arange(6, dtype=np.float64), fastnn.float32),
        (np.arange(6, dtype=np.int32), fastnn.int64),
        (np.ones((3, 4), np.float32)[:, ::2], fastnn.float32),  # non-contiguous
        ([1.0, 2.5], fastnn.float32),
        ([[1, 2], [3, 4]], fastnn.int64),
        (3.0, fastnn.float32),
        (np.array([True, False]), fastnn.float32),
    ],
)
def test_other_inputs_are_converted(data, dtype):
    t = fastnn.tensor(data)
    assert t.dtype == dtype
    np.testing.assert_array_equal(t.numpy(), np.asarray(data).astype(dtype))
    assert t.numpy().flags.c_contiguous


def test_explicit_dtype():
    t = fastnn.tensor([1, 2, 3], dtype="float32")
    assert t.dtype == fastnn.float32
    with pytest.raises(TypeError, match="float32 or int64"):
        fastnn.tensor([1, 2], dtype="float16")


@pytest.mark.parametrize(
    "bad, exc, match",
    [
        (np.array([object(), 1], dtype=object), TypeError, "object"),
        (np.array([1 + 2j]), TypeError, "complex"),
        ([[1, 2], [3]], ValueError, "ragged"),
        (np.array(["a", "b"]), TypeError, "dtype"),
    ],
)
def test_unconvertible_inputs_raise(bad, exc, match):
    with pytest.raises(exc, match=match):
        fastnn.tensor(bad)


def test_creation_functions():
    assert fastnn.zeros(2, 3).shape == (2, 3)
    assert fastnn.zeros((2, 3)).numpy().sum() == 0
    np.testing.assert_array_equal(fastnn.ones(4).numpy(), np.ones(4, np.float32))
    np.testing.assert_array_equal(fastnn.full((2, 2), 7.0).numpy(), np.full((2, 2), 7.0, np.float32))
    assert fastnn.arange(5).dtype == fastnn.int64
    np.testing.assert_allclose(fastnn.arange(0.0, 1.0, 0.25).numpy(), [0, 0.25, 0.5, 0.75])
    assert fastnn.zeros(0, 3).shape == (0, 3)
    with pytest.raises(ValueError, match="negative"):
        fastnn.zeros(-1)


def test_metadata_and_conversion():
    t = fastnn.tensor(np.arange(6, dtype=np.float32).reshape(2, 3))
    assert (t.shape, t.ndim, t.size, len(t), t.device) == ((2, 3), 2, 6, 2, "cpu")
    assert t.tolist() == [[0, 1, 2], [3, 4, 5]]
    assert fastnn.tensor([2.5]).item() == 2.5
    with pytest.raises(ValueError, match="one element"):
        t.item()
    assert "tensor(" in repr(t)


def test_cuda_request_without_cuda_is_a_clear_error():
    if fastnn.cuda.is_available():
        pytest.skip("a CUDA device is present")
    with pytest.raises(RuntimeError, match="CUDA"):
        fastnn.zeros(3, device="cuda")
    with pytest.raises(RuntimeError, match="CUDA"):
        fastnn.tensor([1.0]).to("cuda")
    with pytest.raises(ValueError, match="unknown device"):
        fastnn.zeros(3, device="tpu")


def test_cuda_is_available_is_honest():
    assert fastnn.cuda.is_available() == (fastnn.cuda.is_built() and fastnn.cuda.device_count() > 0)


def test_threads():
    n = fastnn.get_num_threads()
    fastnn.set_num_threads(1)
    assert fastnn.get_num_threads() == 1
    fastnn.set_num_threads(n)
    with pytest.raises(ValueError):
        fastnn.set_num_threads(0)
    with pytest.raises(TypeError):
        fastnn.set_num_threads(1.5)


def test_omp_num_threads_is_honoured():
    code = "import fastnn; print(fastnn.get_num_threads())"
    out = subprocess.run([sys.executable, "-c", code], env={**__import__("os").environ, "OMP_NUM_THREADS": "1"},
                         capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "1"


def test_import_does_not_import_torch():
    code = "import sys, fastnn; import fastnn.functional; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_raw_kernels_reject_bad_storage():
    from fastnn import _C

    with pytest.raises(TypeError, match="C-contiguous"):
        _C.reduce_forward(0, np.ones((4, 4), np.float32)[:, ::2], 1, 8, 1)
    with pytest.raises(TypeError, match="float32"):
        _C.reduce_forward(0, np.ones(4, np.float64), 1, 4, 1)
    with pytest.raises(TypeError):
        _C.reduce_forward(0, [1.0, 2.0], 1, 2, 1)
    with pytest.raises(ValueError, match="does not match"):
        _C.reduce_forward(0, np.ones(4, np.float32), 1, 5, 1)


def test_raw_kernels_take_unpickled_and_reject_byteswapped_arrays():
    """pickle and np.load build dtype objects equal to, but not the same object as, NumPy's
    float32/int64 singletons: the kernels take them; a big-endian float32 is refused."""
    import pickle

    from fastnn import _C

    x = pickle.loads(pickle.dumps(np.arange(6, dtype=np.float32).reshape(2, 3)))
    w = pickle.loads(pickle.dumps(np.ones((3, 2), np.float32)))
    np.testing.assert_array_equal(_C.dense(x, w, None, 0), x @ np.ones((3, 2), np.float32))
    idx = pickle.loads(pickle.dumps(np.array([1, 0], np.int64)))
    np.testing.assert_array_equal(_C.index_select_forward(x, idx, 0), x[[1, 0]])
    with pytest.raises(TypeError, match="float32"):
        _C.reduce_forward(0, np.ones(4, ">f4"), 1, 4, 1)
