"""Weight initializers with Keras 3 names, arguments and fan computation.

Each initializer is a callable ``init(shape, dtype=None) -> Tensor``. Random ones draw from the
Philox generator (fastnn.random): with ``seed=None`` from the global generator (seeded by
``fastnn.random.seed`` / ``fastnn.utils.set_random_seed``); with an integer seed from their own
generator, so a seeded initializer gives reproducible values on every run.

Example::

    init = fastnn.initializers.get("glorot_uniform")
    w = init((784, 256))          # uniform in +-sqrt(6 / (784 + 256))
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from . import random as _random
from .tensor import Tensor

__all__ = [
    "Initializer",
    "Zeros",
    "Ones",
    "Constant",
    "RandomNormal",
    "RandomUniform",
    "TruncatedNormal",
    "VarianceScaling",
    "GlorotUniform",
    "GlorotNormal",
    "HeUniform",
    "HeNormal",
    "LecunUniform",
    "LecunNormal",
    "Identity",
    "Orthogonal",
    "get",
    "serialize",
    "deserialize",
]


def compute_fans(shape: Sequence[int]) -> tuple[int, int]:
    """(fan_in, fan_out) as Keras: (in, out) for 2-D; receptive field * channels for conv kernels."""
    shape = tuple(shape)
    if len(shape) == 0:
        return 1, 1
    if len(shape) == 1:
        return shape[0], shape[0]
    if len(shape) == 2:
        return shape[0], shape[1]
    receptive = math.prod(shape[:-2])
    return shape[-2] * receptive, shape[-1] * receptive


def _check_shape(shape) -> tuple[int, ...]:
    if isinstance(shape, (int, np.integer)):
        shape = (shape,)
    try:
        out = tuple(int(s) for s in shape)
    except (TypeError, ValueError):
        raise TypeError(f"an initializer needs a shape of integers, got shape={shape!r}") from None
    if any(s < 0 for s in out):
        raise ValueError(f"negative dimensions are not allowed, got shape={out}")
    return out


class Initializer:
    """Base class: subclasses implement ``__call__(shape, dtype=None)`` and ``get_config``."""

    def __call__(self, shape, dtype=None) -> Tensor:  # pragma: no cover - abstract
        raise NotImplementedError

    def get_config(self) -> dict:
        return {}

    @classmethod
    def from_config(cls, config: dict) -> Initializer:
        return cls(**config)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


class _Seeded(Initializer):
    def __init__(self, seed: int | None = None):
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, (int, np.integer))):
            raise TypeError(f"seed must be an integer or None, got seed={seed!r}")
        self.seed = None if seed is None else int(seed)
        self._gen = None if seed is None else _random.Generator(self.seed)

    @property
    def generator(self) -> _random.Generator:
        return self._gen if self._gen is not None else _random.default_generator

    def get_config(self) -> dict:
        return {"seed": self.seed}


class Zeros(Initializer):
    """All zeros."""

    def __call__(self, shape, dtype=None) -> Tensor:
        return Tensor(np.zeros(_check_shape(shape), np.float32))


class Ones(Initializer):
    """All ones."""

    def __call__(self, shape, dtype=None) -> Tensor:
        return Tensor(np.ones(_check_shape(shape), np.float32))


class Constant(Initializer):
    """Every entry equal to `value`."""

    def __init__(self, value: float = 0.0):
        if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
            raise TypeError(f"Constant: value must be a number, got value={value!r}")
        self.value = float(value)

    def __call__(self, shape, dtype=None) -> Tensor:
        return Tensor(np.full(_check_shape(shape), self.value, np.float32))

    def get_config(self) -> dict:
        return {"value": self.value}


class RandomNormal(_Seeded):
    """N(mean, stddev^2); Keras default stddev 0.05."""

    def __init__(self, mean: float = 0.0, stddev: float = 0.05, seed: int | None = None):
        super().__init__(seed)
        self.mean, self.stddev = float(mean), float(stddev)

    def __call__(self, shape, dtype=None) -> Tensor:
        return self.generator.normal(_check_shape(shape), self.mean, self.stddev)

    def get_config(self) -> dict:
        return {"mean": self.mean, "stddev": self.stddev, "seed": self.seed}


class RandomUniform(_Seeded):
    """Uniform in [minval, maxval); Keras default +-0.05."""

    def __init__(self, minval: float = -0.05, maxval: float = 0.05, seed: int | None = None):
        super().__init__(seed)
        self.minval, self.maxval = float(minval), float(maxval)

    def __call__(self, shape, dtype=None) -> Tensor:
        return self.generator.uniform(_check_shape(shape), self.minval, self.maxval)

    def get_config(self) -> dict:
        return {"minval": self.minval, "maxval": self.maxval, "seed": self.seed}


def _truncated(gen: _random.Generator, shape: tuple[int, ...], mean: float, stddev: float) -> Tensor:
    """N(0, 1) restricted to [-2, 2] (values outside are redrawn), then scaled and shifted."""
    n = math.prod(shape)
    out = np.asarray(gen.normal((n,))).copy()
    bad = np.abs(out) > 2.0
    while bad.any():
        out[bad] = np.asarray(gen.normal((int(bad.sum()),)))
        bad = np.abs(out) > 2.0
    return Tensor((out * np.float32(stddev) + np.float32(mean)).astype(np.float32).reshape(shape))


class TruncatedNormal(_Seeded):
    """N(mean, stddev^2) truncated to two standard deviations (Keras default stddev 0.05)."""

    def __init__(self, mean: float = 0.0, stddev: float = 0.05, seed: int | None = None):
        super().__init__(seed)
        self.mean, self.stddev = float(mean), float(stddev)

    def __call__(self, shape, dtype=None) -> Tensor:
        return _truncated(self.generator, _check_shape(shape), self.mean, self.stddev)

    def get_config(self) -> dict:
        return {"mean": self.mean, "stddev": self.stddev, "seed": self.seed}


class VarianceScaling(_Seeded):
    """Keras's VarianceScaling: variance scale / n with n = fan_in, fan_out or their mean.

    distribution 'truncated_normal' (stddev corrected by 0.87962566103423978 as Keras),
    'untruncated_normal' or 'uniform' (limit sqrt(3 * scale / n)).
    """

    def __init__(
        self, scale: float = 1.0, mode: str = "fan_in", distribution: str = "truncated_normal", seed: int | None = None
    ):
        super().__init__(seed)
        if not scale > 0:
            raise ValueError(f"VarianceScaling: scale must be positive, got scale={scale!r}")
        if mode not in ("fan_in", "fan_out", "fan_avg"):
            raise ValueError(f"VarianceScaling: mode must be 'fan_in', 'fan_out' or 'fan_avg', got mode={mode!r}")
        if distribution == "normal":
            distribution = "truncated_normal"
        if distribution not in ("truncated_normal", "untruncated_normal", "uniform"):
            raise ValueError(
                "VarianceScaling: distribution must be 'truncated_normal', 'untruncated_normal' or "
                f"'uniform', got distribution={distribution!r}"
            )
        self.scale, self.mode, self.distribution = float(scale), mode, distribution

    def __call__(self, shape, dtype=None) -> Tensor:
        shape = _check_shape(shape)
        fan_in, fan_out = compute_fans(shape)
        n = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2.0}[self.mode]
        scale = self.scale / max(1.0, n)
        if self.distribution == "truncated_normal":
            return _truncated(self.generator, shape, 0.0, math.sqrt(scale) / 0.87962566103423978)
        if self.distribution == "untruncated_normal":
            return self.generator.normal(shape, 0.0, math.sqrt(scale))
        limit = math.sqrt(3.0 * scale)
        return self.generator.uniform(shape, -limit, limit)

    def get_config(self) -> dict:
        return {"scale": self.scale, "mode": self.mode, "distribution": self.distribution, "seed": self.seed}


def _fixed(name: str, scale: float, mode: str, distribution: str):
    class _Init(VarianceScaling):
        def __init__(self, seed: int | None = None):
            super().__init__(scale, mode, distribution, seed)

        def get_config(self) -> dict:
            return {"seed": self.seed}

    _Init.__name__ = _Init.__qualname__ = name
    _Init.__doc__ = f"VarianceScaling(scale={scale}, mode='{mode}', distribution='{distribution}')."
    return _Init


GlorotUniform = _fixed("GlorotUniform", 1.0, "fan_avg", "uniform")
GlorotNormal = _fixed("GlorotNormal", 1.0, "fan_avg", "truncated_normal")
HeUniform = _fixed("HeUniform", 2.0, "fan_in", "uniform")
HeNormal = _fixed("HeNormal", 2.0, "fan_in", "truncated_normal")
LecunUniform = _fixed("LecunUniform", 1.0, "fan_in", "uniform")
LecunNormal = _fixed("LecunNormal", 1.0, "fan_in", "truncated_normal")


class Identity(Initializer):
    """gain * the identity matrix (2-D shapes only)."""

    def __init__(self, gain: float = 1.0):
        self.gain = float(gain)

    def __call__(self, shape, dtype=None) -> Tensor:
        shape = _check_shape(shape)
        if len(shape) != 2:
            raise ValueError(f"Identity initializer needs a 2-D shape, got shape={shape}")
        return Tensor(np.eye(*shape, dtype=np.float32) * np.float32(self.gain))

    def get_config(self) -> dict:
        return {"gain": self.gain}


class Orthogonal(_Seeded):
    """An orthogonal matrix (QR of a normal matrix, signs fixed as Keras), times gain; shapes with
    more than 2 dimensions are flattened to (prod(shape[:-1]), shape[-1])."""

    def __init__(self, gain: float = 1.0, seed: int | None = None):
        super().__init__(seed)
        self.gain = float(gain)

    def __call__(self, shape, dtype=None) -> Tensor:
        shape = _check_shape(shape)
        if len(shape) < 2:
            raise ValueError(f"Orthogonal initializer needs at least a 2-D shape, got shape={shape}")
        rows, cols = math.prod(shape[:-1]), shape[-1]
        a = np.asarray(self.generator.normal((max(rows, cols), min(rows, cols)))).astype(np.float64)
        q, r = np.linalg.qr(a)
        q *= np.sign(np.diag(r))
        if rows < cols:
            q = q.T
        return Tensor((self.gain * q[:rows, :cols]).astype(np.float32).reshape(shape))

    def get_config(self) -> dict:
        return {"gain": self.gain, "seed": self.seed}


_ALIASES = {
    "zeros": Zeros,
    "zero": Zeros,
    "ones": Ones,
    "one": Ones,
    "constant": Constant,
    "random_normal": RandomNormal,
    "normal": RandomNormal,
    "random_uniform": RandomUniform,
    "uniform": RandomUniform,
    "truncated_normal": TruncatedNormal,
    "variance_scaling": VarianceScaling,
    "glorot_uniform": GlorotUniform,
    "glorot_normal": GlorotNormal,
    "he_uniform": HeUniform,
    "he_normal": HeNormal,
    "lecun_uniform": LecunUniform,
    "lecun_normal": LecunNormal,
    "identity": Identity,
    "orthogonal": Orthogonal,
}
_CLASSES = {c.__name__: c for c in set(_ALIASES.values())}


def serialize(init: Initializer) -> dict:
    """{'class_name': ..., 'config': ...} (Keras's form, without the module keys)."""
    return {"class_name": type(init).__name__, "config": init.get_config()}


def deserialize(config: dict) -> Initializer:
    name = config.get("class_name") if isinstance(config, dict) else None
    cls = _CLASSES.get(name) or _ALIASES.get(str(name).lower())
    if cls is None:
        raise ValueError(f"unknown initializer {config!r}; known: {sorted(_ALIASES)}")
    return cls(**config.get("config", {}))


def get(identifier: Any) -> Initializer | None:
    """An initializer from a name ('glorot_uniform'), a config dict, an instance or a callable.

    Example::

        get("he_normal"), get({"class_name": "Constant", "config": {"value": 0.1}})
    """
    if identifier is None:
        return None
    if isinstance(identifier, Initializer):
        return identifier
    if isinstance(identifier, str):
        key = identifier.lower()
        cls = _ALIASES.get(key) or _CLASSES.get(identifier)
        if cls is None:
            raise ValueError(f"unknown initializer {identifier!r}; known: {sorted(_ALIASES)}")
        return cls()
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if isinstance(identifier, type) and issubclass(identifier, Initializer):
        return identifier()
    if callable(identifier):
        return identifier
    raise TypeError(f"cannot interpret {identifier!r} as an initializer")
