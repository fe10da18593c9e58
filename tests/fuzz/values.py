"""Arrays described by a few numbers, so that a fuzzed call can be written down before it is made
and rebuilt exactly from what was written (a crash leaves only that line behind).

`ArraySpec` (spelt `A` in reproducers) says what an argument array is: shape, dtype, how it is
filled, its memory layout and whether, and how, it is read-only. `Built` turns the specs of one
call into NumPy arrays (the same spec object twice gives the same array: that is how a call makes
an output alias an input), remembers every array's bytes, and afterwards reports arrays that
changed but were not the call's destination, or were read-only.
"""

from __future__ import annotations

import math
import os
import tempfile

import numpy as np

# Values an index array may hold when it is hostile: just outside the range, far outside it and
# the int64 extremes (offsets that wrap when multiplied by a stride).
BAD_INDICES = (-1, -2, 2**31, 2**40, 2**62, 2**63 - 1, -(2**63))


class ArraySpec:
    """An argument array. fill: normal, zeros, ones, nan, inf, huge, tiny (denormals), index
    (values in [0, hi)), bad_index (mostly valid, some out of range) or given (the values
    `items`); layout: c, strided (every other element of a wider array), fortran; readonly:
    None, flag (setflags(write=False)), bytes (np.frombuffer over an immutable bytes object),
    mmap (np.load(mmap_mode='r')). `dest` marks the argument the entry writes into (not part of
    the reproducer)."""

    __slots__ = ("shape", "dtype", "fill", "hi", "seed", "layout", "readonly", "items", "dest")

    def __init__(self, shape, dtype="float32", fill="normal", hi=0, seed=0, layout="c", readonly=None, items=None,
                 dest=False):
        self.shape = tuple(int(s) for s in shape)
        self.items = items
        self.dtype, self.fill, self.hi, self.seed = dtype, fill, int(hi), int(seed)
        self.layout, self.readonly, self.dest = layout, readonly, dest

    def __repr__(self) -> str:
        extra = [f"{k}={getattr(self, k)!r}" for k, default in
                 (("fill", "normal"), ("hi", 0), ("seed", 0), ("layout", "c"), ("readonly", None),
                  ("items", None))
                 if getattr(self, k) != default]
        return f"A({self.shape!r}, {self.dtype!r}{''.join(', ' + e for e in extra)})"

    @property
    def size(self) -> int:
        return math.prod(self.shape)

    def values(self) -> np.ndarray:
        """The flat contents, of self.dtype."""
        n, rng, dt = self.size, np.random.default_rng(self.seed), np.dtype(self.dtype)
        f = self.fill
        if f == "given":
            v = np.array(self.items, dtype=np.float64 if dt.kind == "f" else np.int64)
        elif f in ("index", "bad_index"):
            v = rng.integers(0, max(self.hi, 1), n, dtype=np.int64)
            if f == "bad_index" and n:
                bad = rng.random(n) < 0.3
                bad[rng.integers(0, n)] = True
                v[bad] = rng.choice(np.array(BAD_INDICES + (self.hi, -self.hi - 1), dtype=np.int64), int(bad.sum()))
        else:
            v = {"zeros": np.zeros, "ones": np.ones}.get(f, rng.standard_normal)(n)
            if f in ("nan", "inf"):
                v[rng.random(n) < 0.3] = np.nan if f == "nan" else np.inf
            elif f == "huge":
                v *= 3e38
            elif f == "tiny":
                v *= 1e-42
        if dt.kind == "O":
            return np.array(list(v), dtype=object)
        with np.errstate(all="ignore"):
            return v.astype(dt)

    def build(self, scratch_dir: str | None = None) -> np.ndarray:
        a = self.values().reshape(self.shape)
        if self.layout == "fortran":
            a = np.asfortranarray(a)
        elif self.layout == "strided" and a.ndim and self.size:
            wide = np.zeros(a.shape[:-1] + (2 * a.shape[-1],), a.dtype)
            wide[..., ::2] = a
            a = wide[..., ::2]
        ro = self.readonly
        if ro in ("bytes", "mmap") and (a.dtype.kind == "O" or (ro == "mmap" and not self.size)):
            ro = "flag"  # object arrays have no buffer, and an empty file cannot be mapped
        if ro == "flag":
            a.setflags(write=False)
        elif ro == "bytes":
            a = np.frombuffer(np.ascontiguousarray(a).tobytes(), a.dtype).reshape(a.shape)
        elif ro == "mmap":
            path = os.path.join(scratch_dir or tempfile.gettempdir(), f"fastnn-ro-{id(self)}.npy")
            np.save(path, a)
            a = np.load(path, mmap_mode="r")
        return a


A = ArraySpec  # the name reproducers use


def _as_source(v) -> str:
    """Python source for a plain argument (floats that repr cannot spell included)."""
    if isinstance(v, float) and not math.isfinite(v):
        return f"float({str(v)!r})"
    if isinstance(v, tuple):
        inner = ", ".join(_as_source(x) for x in v)
        return f"({inner},)" if len(v) == 1 else f"({inner})"
    if isinstance(v, list):
        return "[" + ", ".join(_as_source(x) for x in v) + "]"
    return repr(v)


def reproducer(entry: str, args: tuple, kwargs: dict) -> str:
    """A script that repeats the call: its arrays, one per line, then the call."""
    names: dict[int, str] = {}
    lines = ["import fastnn._C as C", f"from {__package__}.values import A"]

    def src(v):
        if isinstance(v, ArraySpec):
            if id(v) not in names:
                names[id(v)] = f"a{len(names)}"
                lines.append(f"{names[id(v)]} = {v!r}.build()")
            return names[id(v)]
        return _as_source(v)

    parts = [src(v) for v in args] + [f"{k}={src(v)}" for k, v in kwargs.items()]
    return "\n".join(lines + [f"C.{entry}({', '.join(parts)})"])


class Built:
    """The arguments of one call as NumPy arrays, with a copy of every array's bytes."""

    def __init__(self, args: tuple, kwargs: dict, scratch_dir: str | None = None):
        self._arrays: dict[int, tuple[ArraySpec, np.ndarray, bytes]] = {}

        def build(v):
            if not isinstance(v, ArraySpec):
                return v
            if id(v) not in self._arrays:
                a = v.build(scratch_dir)
                self._arrays[id(v)] = (v, a, a.tobytes(order="A") if a.dtype.kind != "O" else b"")
            return self._arrays[id(v)][1]

        self.args = tuple(build(v) for v in args)
        self.kwargs = {k: build(v) for k, v in kwargs.items()}

    def array(self, spec: ArraySpec) -> np.ndarray:
        return self._arrays[id(spec)][1]

    def before(self, spec: ArraySpec) -> np.ndarray:
        """The contents `spec`'s array had before the call."""
        _, a, saved = self._arrays[id(spec)]
        return np.frombuffer(saved, a.dtype).reshape(a.shape, order="F" if a.flags.f_contiguous and
                                                      not a.flags.c_contiguous else "C")

    def changed(self) -> list[str]:
        """Arrays the call wrote but must not have: read-only ones, and inputs it only reads."""
        problems = []
        for spec, a, saved in self._arrays.values():
            if a.dtype.kind == "O" or (spec.dest and not spec.readonly):
                continue
            owner = a
            while isinstance(owner, np.ndarray) and owner.base is not None:
                owner = owner.base
            # an immutable bytes object is compared itself, not through the array's view of it
            now = owner if isinstance(owner, bytes) else a.tobytes(order="A")
            if now != saved:
                what = f"read-only ({spec.readonly})" if spec.readonly else "input-only"
                problems.append(f"{what} array {spec!r} was modified")
        return problems

    def close(self):
        """Drop the arrays (and with them any memory map) before their files are removed."""
        self._arrays.clear()
        self.args, self.kwargs = (), {}
