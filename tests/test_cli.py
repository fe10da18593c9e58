import subprocess
import sys

import fastnn
from fastnn import cli


def test_info_reports_build_simd_threads_and_cuda():
    d = cli.info()
    assert d["fastnn"] == fastnn.__version__ and d["fastnn"]
    assert d["SIMD in use"] in ("avx512", "avx2", "generic")
    assert d["threads"] == fastnn.get_num_threads()
    assert d["CUDA available"] == fastnn.cuda.is_available()


def test_python_m_fastnn_info():
    out = subprocess.run([sys.executable, "-m", "fastnn", "info"], capture_output=True, text=True, check=True).stdout
    for key in ("fastnn:", "build type:", "SIMD in use:", "threads:", "CUDA built:", "CUDA available:"):
        assert key in out


def test_forced_isa_is_reported():
    env = {**__import__("os").environ, "FASTNN_ISA": "generic"}
    out = subprocess.run([sys.executable, "-m", "fastnn", "info"], capture_output=True, text=True, check=True,
                         env=env).stdout
    assert "SIMD in use:     generic" in out
