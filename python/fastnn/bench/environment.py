"""What a benchmark ran on: the machine, the library versions, the BLAS kernel NumPy uses, and
the OpenBLAS environment variables the harness removed.

OpenBLAS reads OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE once, when the library is loaded (with
NumPy), and a forced core type or a wrong L2 size can make NumPy much slower than it is on this
CPU. The harness therefore re-executes its own command with both variables removed
(:func:`reexec_without_openblas_env`); the new process loads OpenBLAS afresh and reports what was
stripped.
"""

from __future__ import annotations

import os
import platform
import sys
from collections.abc import Sequence
from typing import Any

OPENBLAS_VARS = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
STRIPPED_MARKER = "FASTNN_BENCH_STRIPPED"  # set in the re-executed process: what was removed


def openblas_vars_set() -> list[str]:
    return [v for v in OPENBLAS_VARS if v in os.environ]


def current_command() -> list[str]:
    """The command line that started this process, runnable with os.execv."""
    orig = getattr(sys, "orig_argv", None)  # Python >= 3.10: includes "-m fastnn"
    if orig:
        return [sys.executable] + list(orig[1:])
    argv0 = sys.argv[0] if sys.argv else ""
    if argv0.endswith(os.path.join("fastnn", "__main__.py")):
        return [sys.executable, "-m", "fastnn"] + sys.argv[1:]
    return [sys.executable] + sys.argv


def reexec_without_openblas_env(command: Sequence[str]) -> None:
    """Replaces this process by `command` with OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE removed from
    the environment; returns (does nothing) when neither is set."""
    present = openblas_vars_set()
    if not present:
        return
    env = {k: v for k, v in os.environ.items() if k not in OPENBLAS_VARS}
    env[STRIPPED_MARKER] = ";".join(f"{v}={os.environ[v]}" for v in present)
    sys.stdout.flush()
    sys.stderr.flush()
    os.execve(command[0], list(command), env)


def openblas_report(not_stripped_reason: str | None = None) -> dict[str, Any]:
    """The OpenBLAS variables: what the harness stripped, what is set now, and why not stripped."""
    rep: dict[str, Any] = {
        "stripped": [s for s in os.environ.get(STRIPPED_MARKER, "").split(";") if s],
        "now": {v: os.environ.get(v) for v in OPENBLAS_VARS},
    }
    if not_stripped_reason and openblas_vars_set():
        rep["not_stripped"] = not_stripped_reason
    return rep


def blas_info() -> list[dict[str, Any]]:
    """threadpoolctl's view of the BLAS libraries loaded in this process (NumPy's OpenBLAS):
    internal_api, version, architecture (the kernel OpenBLAS chose), threading layer, threads."""
    import numpy  # noqa: F401  (loads NumPy's BLAS)

    try:
        import threadpoolctl
    except ImportError:
        return []
    keep = ("internal_api", "version", "architecture", "threading_layer", "num_threads", "filepath")
    return [{k: d.get(k) for k in keep} for d in threadpoolctl.threadpool_info() if d.get("user_api") == "blas"]


def describe_blas(info: list[dict[str, Any]]) -> str:
    if not info:
        return "BLAS unknown (threadpoolctl is not installed)"
    return "; ".join(f"{d['internal_api']} {d.get('version')}, kernel {d.get('architecture')}, "
                     f"{d.get('threading_layer')}" for d in info)


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine_info() -> dict[str, Any]:
    """Versions and the machine, for the JSON record and the header of a table."""
    import numpy as np

    from .. import _C

    info: dict[str, Any] = {
        "fastnn": _C.__version__,
        "fastnn_build_type": _C.build_type,
        "fastnn_isa_detected": _C.detected_isa(),
        "fastnn_isa_active": _C.active_isa(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpu": cpu_model(),
        "cpus": os.cpu_count(),
        "numpy": np.__version__,
        "torch": None,
    }
    try:
        import torch

        info["torch"] = torch.__version__
        info["torch_mkl"] = bool(torch.backends.mkl.is_available())
        info["torch_cpu_capability"] = torch.backends.cpu.get_cpu_capability()
    except ImportError:
        pass
    try:
        with open("/proc/loadavg") as f:
            info["loadavg_start"] = f.read().split()[:3]
    except OSError:
        pass
    return info
