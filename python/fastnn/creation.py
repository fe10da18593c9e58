"""Tensor creation: tensor, zeros, ones, full, arange, empty, *_like (rand/randn: fastnn.random)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from . import _raw
from .tensor import Tensor, _as_dtype, _check_device, float32, int64

__all__ = ["tensor", "as_tensor", "zeros", "ones", "full", "empty", "arange", "zeros_like", "ones_like", "full_like"]


def _shape(shape) -> tuple[int, ...]:
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = shape[0]
    out = tuple(int(s) for s in shape)
    if any(s < 0 for s in out):
        raise ValueError(f"negative dimensions are not allowed, got shape {out}")
    return out


def tensor(data: Any, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """A tensor from a NumPy array, nested lists or a number.

    A float32 (or int64) C-contiguous NumPy array is shared, not copied; other input is
    converted (floats to float32, integers to int64).

    Example::

        x = fastnn.tensor(np.zeros((2, 3), np.float32))   # shares memory with the array
    """
    return Tensor(data, requires_grad=requires_grad, dtype=dtype, device=device)


as_tensor = tensor


def full(*shape, fill_value=None, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """full(shape, fill_value) as in NumPy / torch."""
    if fill_value is None:  # full((2, 3), 7.0)
        if len(shape) != 2:
            raise TypeError("full(shape, fill_value) takes a shape and a value")
        shape, fill_value = (shape[0],), shape[1]
    dt = _as_dtype(dtype) or float32
    raw = _raw.full(_shape(shape), fill_value, _check_device(device), str(dt))
    return Tensor._wrap(raw).requires_grad_(requires_grad) if requires_grad else Tensor._wrap(raw)


def zeros(*shape, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    return full(_shape(shape), 0, dtype=dtype, device=device, requires_grad=requires_grad)


def ones(*shape, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    return full(_shape(shape), 1, dtype=dtype, device=device, requires_grad=requires_grad)


def empty(*shape, dtype=None, device=None) -> Tensor:
    dt = _as_dtype(dtype) or float32
    return Tensor._wrap(_raw.empty(_shape(shape), _check_device(device), str(dt)))


def zeros_like(x: Tensor, dtype=None) -> Tensor:
    return zeros(x.shape, dtype=dtype or x.dtype, device=x.device)


def ones_like(x: Tensor, dtype=None) -> Tensor:
    return ones(x.shape, dtype=dtype or x.dtype, device=x.device)


def full_like(x: Tensor, fill_value, dtype=None) -> Tensor:
    return full(x.shape, fill_value, dtype=dtype or x.dtype, device=x.device)


def arange(start, stop=None, step=1, dtype=None, device=None) -> Tensor:
    """Evenly spaced values in [start, stop) (int64 when every argument is an integer)."""
    if stop is None:
        start, stop = 0, start
    if step == 0:
        raise ValueError("arange: step must not be zero")
    ints = all(isinstance(v, (int, np.integer)) for v in (start, stop, step))
    dt = _as_dtype(dtype) or (int64 if ints else float32)
    arr = np.arange(start, stop, step, dtype=np.float64 if dt == float32 else np.int64).astype(dt)
    return Tensor(arr, device=device)


def _seq(shape: Sequence[int]) -> tuple[int, ...]:
    return _shape((shape,))
