"""The vocabulary of fuzzed arguments: mostly plausible values, and hostile ones.

A generator (entries.py) asks for what an argument should be (`d.size(R)`: "an integer that
should be R"; `d.array((O, R, I))`: "a float32 array of this shape"); Draw answers with that,
or, when the call's mood allows, with something hostile: a huge or negative integer, a wrong
dtype, a non-contiguous or read-only array, None, a NaN. Each call picks a mood first, so that
some calls are entirely plausible (and reach the kernels), some break one or two things and some
break many. All choices are hypothesis draws, so a seed replays a run.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field

import hypothesis.strategies as st

from .values import ArraySpec

# Integers that wrap, overflow int32/int64 when multiplied, or do not fit at all (2**63, 2**64:
# pybind11 refuses them with TypeError).
HOSTILE_INTS = (-1, -2, 30000, 100000, 2**31 - 1, 2**31, 2**32 + 1, 2**40, 2**62, 2**63 - 1, -(2**31), -(2**63),
                2**63, 2**64)
HOSTILE_FLOATS = (math.nan, math.inf, -math.inf, -1.0, 0.0, -0.0, 1e-45, 3.4e38, -3.4e38, 1e300)
HOSTILE_STRINGS = ("", "SAME", "x" * 300, "valid\0", "\u00e9")
ODD_DIMS = (7, 13, 17, 33, 65)
BAD_DTYPES = ("float64", "int32", "float16", "uint8", "bool", ">f4", "object")
# (probability in percent that a hostile choice is taken) per mood
MOODS = {"clean": 0, "mild": 8, "wild": 35}


# Strategies are built once: building one costs more than drawing from it.
_integers = functools.lru_cache(maxsize=4096)(st.integers)


@dataclass
class Call:
    args: tuple
    kwargs: dict = field(default_factory=dict)


class Draw:
    def __init__(self, draw):
        self._draw = draw  # the draw function of an st.composite (cheaper than st.data())
        self.mood = self.pick(("clean", "clean", "mild", "mild", "wild"))

    # -- raw choices ------------------------------------------------------------------------
    def draw(self, strategy):
        return self._draw(strategy)

    def integer(self, lo: int, hi: int) -> int:
        return self.draw(_integers(lo, hi))

    def pick(self, options):
        options = tuple(options)
        return options[self.integer(0, len(options) - 1)]

    def percent(self) -> int:
        return self.integer(0, 99)

    def coin(self) -> bool:
        return self.percent() < 50

    def hostile(self) -> bool:
        """True when this argument should be hostile (never in a clean call)."""
        p = MOODS[self.mood]
        return p > 0 and self.percent() < p

    # -- scalars ----------------------------------------------------------------------------
    def dim(self) -> int:
        """A small array dimension: mostly 1..5, sometimes 0 or an odd size past a SIMD width."""
        r = self.percent()
        return 0 if r < 8 else self.pick(ODD_DIMS) if r < 25 else self.integer(1, 5)

    def shape(self, lo: int = 1, hi: int = 3) -> tuple:
        return tuple(self.dim() for _ in range(self.integer(lo, hi)))

    def size(self, v: int) -> int:
        """An integer argument that should be `v` (a size, a stride, an offset)."""
        if not self.hostile():
            return v
        # v + 2**k: a product with other sizes whose product is 2**(64 - k) wraps back to the
        # plausible total, so a check of the product alone passes
        return self.pick(HOSTILE_INTS + (v - 1, v + 1, 0, -v, v * 2**32, v + 2**60, v + 2**61, v + 2**62))

    def count(self, lo: int, hi: int) -> int:
        """A small integer argument in [lo, hi] (a thread count, a window, an axis)."""
        return self.size(self.integer(lo, hi))

    def op(self, n: int) -> int:
        """An op code of an enum with n members."""
        return self.size(self.integer(0, n - 1)) if self.percent() >= 5 or self.mood == "clean" else self.pick(
            (-1, n, n + 1, 2**31 - 1))

    def real(self, lo: float = -2.0, hi: float = 2.0) -> float:
        if self.hostile():
            return self.pick(HOSTILE_FLOATS)
        return self.draw(st.floats(lo, hi, allow_nan=False))

    def flag(self):
        return self.pick((None, 2, "yes", 1.5)) if self.hostile() else self.draw(st.booleans())

    def string(self, valid):
        if self.hostile():
            return self.pick(HOSTILE_STRINGS + (None, 1, valid[0].encode()))
        return self.pick(valid)

    def u64(self) -> int:
        """A seed or counter (uint64 in C)."""
        return self.pick((-1, 2**64 - 1, 2**64, 2**63)) if self.hostile() else self.integer(0, 2**20)

    def shape_arg(self, shape) -> tuple:
        """A shape passed as a sequence of integers."""
        shape = tuple(shape)
        if not self.hostile():
            return shape
        r = self.integer(0, 6)
        if r == 0 and shape:  # one entry huge or negative
            i = self.integer(0, len(shape) - 1)
            return shape[:i] + (self.pick(HOSTILE_INTS),) + shape[i + 1:]
        if r == 1:
            return shape + (self.dim(),)
        if r == 2:
            return shape[:-1]
        if r == 3:
            return self.pick((None, "ab", 3, (1.5, 2.0), [[1, 2]]))
        if r == 4 and shape:  # huge but with a zero somewhere: the product is 0, partial ones wrap
            return (0,) + self._huge_dims(len(shape) - 1)
        return tuple(-s if s else -1 for s in shape)

    # -- arrays -----------------------------------------------------------------------------
    def array(self, shape, dtype: str = "float32", fill: str | None = None, hi: int = 0, dest: bool = False,
              optional: bool = False):
        """A C-contiguous array of `shape` (dest: the entry writes into it; optional: the entry
        accepts None), or a hostile variant."""
        if optional and self.percent() < 25:
            return None
        if fill is None:
            fill = "index" if dtype == "int64" else self.pick(("normal",) * 6 + ("zeros", "ones", "nan", "inf"))
        spec = ArraySpec(shape, dtype, fill, hi, seed=self.integer(0, 2**16), dest=dest)
        if dest and self.mood != "clean" and self.percent() < 12:  # read-only destinations: a class of their own
            spec.readonly = self.pick(("flag", "bytes", "mmap"))
        if not self.hostile():
            return spec
        how = self.pick(("dtype", "shape", "shape", "layout", "readonly", "none", "python", "huge_zero", "fill"))
        if how == "dtype":
            spec.dtype = self.pick(BAD_DTYPES + ("int64" if dtype == "float32" else "float32",))
        elif how == "shape":
            spec.shape = self._perturb(spec.shape)
        elif how == "layout":
            spec.layout = self.pick(("strided", "fortran"))
        elif how == "readonly":
            spec.readonly = self.pick(("flag", "bytes", "mmap"))
        elif how == "none":
            return None
        elif how == "python":
            return self.pick(([1.0, 2.0], 3.0, "array", b"\0" * 16))
        elif how == "huge_zero":
            spec.shape = (0,) + self._huge_dims(len(spec.shape) - 1)
        else:
            spec.fill = "bad_index" if dtype == "int64" else self.pick(("nan", "inf", "huge", "tiny"))
        return spec

    def index_array(self, shape, hi: int, dest: bool = False):
        """An int64 array of indices in [0, hi), hostile: some out of range."""
        if self.mood != "clean" and self.percent() < 15:
            return ArraySpec(shape, "int64", "bad_index", hi, seed=self.integer(0, 2**16), dest=dest)
        return self.array(shape, "int64", "index", hi, dest=dest)

    def _huge_dims(self, n: int) -> tuple:
        """n dimensions whose product is huge but below 2**59 (NumPy limits the byte count, zeros aside)."""
        dims, prod = [], 1
        for _ in range(n):
            dims.append(self.pick((2**31, 2**40, 2**56)))
            if prod * dims[-1] >= 2**59:
                dims[-1] = 1
            prod *= dims[-1]
        return tuple(dims)

    def _perturb(self, shape: tuple) -> tuple:
        r = self.integer(0, 3)
        if r == 0 or not shape:
            return shape + (self.dim(),)
        if r == 1:
            return shape[:-1]
        i = self.integer(0, len(shape) - 1)
        return shape[:i] + (self.pick((0, shape[i] + 1, max(shape[i] - 1, 0), 7)),) + shape[i + 1:]

    # -- the call ---------------------------------------------------------------------------
    def call(self, *args, **kwargs) -> Call:
        """The call, sometimes with an argument too many or too few (wild calls only)."""
        if self.mood == "wild" and self.percent() < 5:
            args = args + (None,) if self.coin() or not args else args[:-1]
        return Call(tuple(args), kwargs)
