"""Process-level settings made by ``import fastnn``: the C heap thresholds."""

import os
import platform
import subprocess
import sys

import fastnn
import pytest

glibc = platform.libc_ver()[0] == "glibc"


def _tuned_in_subprocess(**env) -> str:
    full = dict(os.environ, **env)
    out = subprocess.run([sys.executable, "-c", "import fastnn; print(fastnn.malloc_tuned)"], env=full,
                         capture_output=True, text=True, check=True)
    return out.stdout.strip()


@pytest.mark.skipif(not glibc, reason="mallopt is glibc's")
def test_malloc_tuned_by_default():
    if os.environ.get("FASTNN_MALLOC_TUNING") == "0" or "glibc.malloc." in os.environ.get("GLIBC_TUNABLES", ""):
        pytest.skip("tuning switched off in this environment")
    asan = "asan" in os.environ.get("LD_PRELOAD", "")
    assert fastnn.malloc_tuned is (not asan)


def test_malloc_tuning_opt_out():
    assert _tuned_in_subprocess(FASTNN_MALLOC_TUNING="0") == "False"


def test_user_glibc_tunables_respected():
    assert _tuned_in_subprocess(GLIBC_TUNABLES="glibc.malloc.trim_threshold=1048576") == "False"


def test_tune_malloc_rejects_bad_values():
    with pytest.raises(TypeError):
        fastnn._C.tune_malloc("big", 1)
