"""fastnn.cuda: whether CUDA kernels were built and a device is present."""

from __future__ import annotations

from . import _C


def is_built() -> bool:
    """True when this build of fastnn contains the CUDA kernels."""
    return bool(_C.cuda_built())


def device_count() -> int:
    """Number of CUDA devices visible (0 without a driver, a GPU or a CUDA build)."""
    return int(_C.cuda_device_count()) if is_built() else 0


def is_available() -> bool:
    """True when CUDA tensors can be created: built with CUDA and a device is present."""
    return device_count() > 0


def get_device_name(device: int = 0) -> str:
    if not is_available():
        raise RuntimeError("no CUDA device is available" if is_built() else "fastnn was built without CUDA")
    return _C.cuda_device_name(device)


def synchronize() -> None:
    _C.cuda_synchronize()


def empty_cache() -> None:
    """Return cached device memory to the driver."""
    _C.cuda_empty_cache()
