"""set_num_threads: a thread count outside 1..fastnn.MAX_NUM_THREADS raises ValueError (100,000
used to crash the next kernel), OMP_NUM_THREADS is clamped to the same range, and parallel
kernels cover all their work when OpenMP gives fewer threads than asked (OMP_THREAD_LIMIT)."""

import os
import subprocess
import sys

import fastnn
import numpy as np
import pytest
from fastnn import _C

# the subprocesses import the fastnn this process imported
PYTHONPATH = os.pathsep.join([os.path.dirname(os.path.dirname(fastnn.__file__)), os.environ.get("PYTHONPATH", "")])


def _run(code: str, **env) -> subprocess.CompletedProcess:
    full_env = {**os.environ, "PYTHONPATH": PYTHONPATH, **env}
    return subprocess.run([sys.executable, "-c", code], env=full_env, capture_output=True, text=True, timeout=120)


def test_limit_rule():
    assert fastnn.MAX_NUM_THREADS == max(64, 4 * (os.cpu_count() or 1))
    assert "MAX_NUM_THREADS" in fastnn.__all__


@pytest.mark.parametrize("n", [0, -1, 30000, 100000, 2**31, 2**70])
def test_out_of_range_raises(n):
    before = fastnn.get_num_threads()
    with pytest.raises(ValueError, match=rf"between 1 and {fastnn.MAX_NUM_THREADS}.*got {n}"):
        fastnn.set_num_threads(n)
    assert fastnn.get_num_threads() == before


@pytest.mark.parametrize("n", [1.0, "4", None, True])
def test_non_integer_raises(n):
    with pytest.raises(TypeError):
        fastnn.set_num_threads(n)


@pytest.mark.parametrize("n", [0, 100000, 2**40])
def test_extension_rejects_out_of_range(n):
    # the binding checks too, for callers of fastnn._C directly
    with pytest.raises(ValueError, match="between 1 and"):
        _C.set_num_threads(n)


def test_limit_runs_kernels():
    before = fastnn.get_num_threads()
    try:
        fastnn.set_num_threads(fastnn.MAX_NUM_THREADS)
        assert fastnn.get_num_threads() == fastnn.MAX_NUM_THREADS
        a = np.random.default_rng(0).random((256, 256), dtype=np.float32)
        np.testing.assert_allclose((fastnn.Tensor(a) @ fastnn.Tensor(a)).numpy(), a @ a, rtol=1e-4, atol=1e-3)
    finally:
        fastnn.set_num_threads(before)


def test_omp_num_threads_clamped():
    r = _run("import fastnn; print(fastnn.get_num_threads()); x = fastnn.randn(256, 256); (x @ x).numpy()",
             OMP_NUM_THREADS="100000")
    assert r.returncode == 0, r.stderr
    assert int(r.stdout.split()[0]) == fastnn.MAX_NUM_THREADS


def test_parallel_for_with_fewer_threads_than_asked():
    code = ("import fastnn, numpy as np\n"
            "fastnn.set_num_threads(8)\n"
            "a = np.random.default_rng(0).random(1 << 20, dtype=np.float32)\n"
            "y = (fastnn.Tensor(a) * 2.0 + 1.0).numpy()\n"
            "print(float(np.abs(y - (a * 2 + 1)).max()))\n")
    r = _run(code, OMP_THREAD_LIMIT="2")
    assert r.returncode == 0, r.stderr
    assert float(r.stdout.split()[0]) == 0.0
