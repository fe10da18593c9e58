"""Reproducible random numbers: a counter-based generator (Philox-4x32-10) keyed by a seed.

A draw of n numbers from a generator with key ``seed`` and counter ``offset`` uses the words
offset, offset + 1, ... of the Philox stream, then advances the offset past them. Element i of
a draw depends only on (seed, offset + i), so the same seed gives the same numbers on every
run, for every thread count, and on both devices (see csrc/kernels/random.h for the mapping).

Example::

    fastnn.random.seed(42)
    x = fastnn.rand(2, 3)          # uniform in [0, 1)
    g = fastnn.random.Generator(7)
    y = g.normal((4,), mean=0.0, stddev=1.0)
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from . import _C
from .tensor import Tensor, _as_dtype, _check_device, float32

__all__ = [
    "Generator", "seed", "get_state", "set_state", "rand", "randn", "uniform", "normal",
    "default_generator",
]

_U64 = (1 << 64) - 1


def _check_seed(s) -> int:
    if isinstance(s, (bool, np.bool_)) or not isinstance(s, (int, np.integer)):
        raise TypeError(f"seed must be an integer, got {s!r}")
    s = int(s)
    if not 0 <= s <= _U64:
        raise ValueError(f"seed must be in [0, 2**64), got seed={s}")
    return s


def _shape(shape) -> tuple[int, ...]:
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = shape[0]
    out = tuple(int(s) for s in shape)
    if any(s < 0 for s in out):
        raise ValueError(f"negative dimensions are not allowed, got shape {out}")
    return out


def _check_float_dtype(dtype) -> None:
    dt = _as_dtype(dtype)
    if dt is not None and dt != float32:
        raise TypeError(f"random numbers are float32, got dtype {dt}")


def _size(shape: tuple[int, ...]) -> int:
    return int(np.prod(shape, dtype=np.int64))


class Generator:
    """A Philox generator: a key (the seed) and a counter offset that advances per draw.

    Args:
        seed: a non-negative integer below 2**64.

    Example::

        g = fastnn.random.Generator(0)
        a = g.uniform((3,))          # words 0..2
        b = g.uniform((3,))          # words 3..5: different numbers
    """

    def __init__(self, seed: int = 0):
        self.seed = _check_seed(seed)
        self.offset = 0

    def __repr__(self) -> str:
        return f"Generator(seed={self.seed}, offset={self.offset})"

    def get_state(self) -> tuple[int, int]:
        """(seed, offset), to restore with set_state."""
        return (self.seed, self.offset)

    def set_state(self, state: Sequence[int]) -> None:
        s, off = state
        self.seed = _check_seed(s)
        off = int(off)
        if not 0 <= off <= _U64:
            raise ValueError(f"offset must be in [0, 2**64), got {off}")
        self.offset = off

    def take(self, n: int) -> tuple[int, int]:
        """Reserve n words: returns (seed, first offset) and advances the offset past them."""
        first = self.offset
        self.offset = (self.offset + int(n)) & _U64
        return self.seed, first

    def uniform(self, shape: Sequence[int], low: float = 0.0, high: float = 1.0, device=None) -> Tensor:
        """Uniform float32 numbers in [low, high) of `shape`."""
        shape = _shape((shape,) if isinstance(shape, (int, np.integer)) else tuple(shape))
        s, off = self.take(_size(shape))
        return Tensor._wrap(_C.uniform(shape, s, off, float(low), float(high), _check_device(device)))

    def normal(self, shape: Sequence[int], mean: float = 0.0, stddev: float = 1.0, device=None) -> Tensor:
        """Normal float32 numbers (Box-Muller) of `shape`; uses 2 * ceil(size / 2) words."""
        shape = _shape((shape,) if isinstance(shape, (int, np.integer)) else tuple(shape))
        n = _size(shape)
        s, off = self.take(2 * ((n + 1) // 2))
        return Tensor._wrap(_C.normal(shape, s, off, float(mean), float(stddev), _check_device(device)))


default_generator = Generator(0)


def seed(s: int) -> None:
    """Seed the global generator: key = s, counter offset = 0."""
    default_generator.seed = _check_seed(s)
    default_generator.offset = 0


def get_state() -> tuple[int, int]:
    """The global generator's (seed, offset)."""
    return default_generator.get_state()


def set_state(state: Sequence[int]) -> None:
    """Restore the global generator from get_state()."""
    default_generator.set_state(state)


def _gen(seed) -> Generator:
    return default_generator if seed is None else Generator(seed)


def _finish(t: Tensor, requires_grad: bool) -> Tensor:
    return t.requires_grad_(True) if requires_grad else t


def rand(*shape, low: float = 0.0, high: float = 1.0, dtype=None, device=None,
         requires_grad: bool = False) -> Tensor:
    """Uniform numbers in [low, high) (default [0, 1)) from the global generator.

    Example::

        fastnn.rand(2, 3).shape    # (2, 3)
    """
    _check_float_dtype(dtype)
    return _finish(default_generator.uniform(_shape(shape), low, high, device), requires_grad)


def randn(*shape, mean: float = 0.0, stddev: float = 1.0, dtype=None, device=None,
          requires_grad: bool = False) -> Tensor:
    """Standard normal numbers (or N(mean, stddev^2)) from the global generator."""
    _check_float_dtype(dtype)
    return _finish(default_generator.normal(_shape(shape), mean, stddev, device), requires_grad)


def uniform(shape: Sequence[int], low: float = 0.0, high: float = 1.0, dtype=None, seed=None,
            device=None, *, minval: float | None = None, maxval: float | None = None) -> Tensor:
    """Uniform numbers in [low, high) of `shape` (Keras's minval/maxval are accepted too).

    `seed` given: a fresh generator with that key (the same numbers on every call); otherwise
    the global generator, which advances.
    """
    _check_float_dtype(dtype)
    low = low if minval is None else minval
    high = high if maxval is None else maxval
    return _gen(seed).uniform(shape, low, high, device)


def normal(shape: Sequence[int], mean: float = 0.0, stddev: float = 1.0, dtype=None, seed=None,
           device=None) -> Tensor:
    """Normal numbers N(mean, stddev^2) of `shape` (keras.random.normal's arguments)."""
    _check_float_dtype(dtype)
    return _gen(seed).normal(shape, mean, stddev, device)
