"""Weight initializers with Keras 3 names, arguments and fan computation.

Each initializer is a callable ``init(shape, dtype=None) -> Tensor``. Random ones draw from the
Philox generator (fastnn.random): with ``seed=None`` from the global generator (seeded by
``fastnn.random.seed`` / ``fastnn.utils.set_random_seed``), so successive calls differ; with an
integer seed from a generator started at that seed on every call, so that, as in Keras 3, a
seeded initializer gives the same values on every call and every run.

Fans follow Keras's compute_fans: a Dense kernel (in, out) has fan_in = in, fan_out = out; a
convolution kernel (k, cin, cout) or (kh, kw, cin, cout) multiplies both by the receptive field
(k or kh * kw).

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
    "OrthogonalInitializer",
    "IdentityInitializer",
    "compute_fans",
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


def _number(value: Any, what: str) -> float:
    is_number = isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)
    if not is_number or not math.isfinite(value):
        raise TypeError(f"{what} must be a finite number, got {what}={value!r}")
    return float(value)


class Initializer:
    """Base class: subclasses implement ``__call__(shape, dtype=None)`` and ``get_config``.

    Example::

        class Halves(fastnn.initializers.Initializer):
            def __call__(self, shape, dtype=None):
                return fastnn.tensor(np.full(shape, 0.5, np.float32))
    """

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

    @property
    def generator(self) -> _random.Generator:
        # a seeded initializer restarts from its seed on every call (Keras 3: same values each call)
        return _random.Generator(self.seed) if self.seed is not None else _random.default_generator

    def get_config(self) -> dict:
        return {"seed": self.seed}


class Zeros(Initializer):
    """All zeros.

    Example::

        fastnn.initializers.Zeros()((2, 3))
    """

    def __call__(self, shape, dtype=None) -> Tensor:
        return Tensor(np.zeros(_check_shape(shape), np.float32))


class Ones(Initializer):
    """All ones.

    Example::

        fastnn.initializers.Ones()((2, 3))
    """

    def __call__(self, shape, dtype=None) -> Tensor:
        return Tensor(np.ones(_check_shape(shape), np.float32))


class Constant(Initializer):
    """Every entry equal to `value`.

    Example::

        fastnn.initializers.Constant(0.1)((4,))
    """

    def __init__(self, value: float = 0.0):
        if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
            raise TypeError(f"Constant: value must be a number, got value={value!r}")
        self.value = float(value)

    def __call__(self, shape, dtype=None) -> Tensor:
        return Tensor(np.full(_check_shape(shape), self.value, np.float32))

    def get_config(self) -> dict:
        return {"value": self.value}


def _mean_stddev(name: str, mean: Any, stddev: Any) -> tuple[float, float]:
    mean, stddev = _number(mean, "mean"), _number(stddev, "stddev")
    if stddev < 0:
        raise ValueError(f"{name}: stddev must be >= 0, got stddev={stddev!r}")
    return mean, stddev


class RandomNormal(_Seeded):
    """N(mean, stddev^2); Keras default stddev 0.05.

    Example::

        fastnn.initializers.RandomNormal(stddev=0.01, seed=0)((3, 3))
    """

    def __init__(self, mean: float = 0.0, stddev: float = 0.05, seed: int | None = None):
        super().__init__(seed)
        self.mean, self.stddev = _mean_stddev("RandomNormal", mean, stddev)

    def __call__(self, shape, dtype=None) -> Tensor:
        return self.generator.normal(_check_shape(shape), self.mean, self.stddev)

    def get_config(self) -> dict:
        return {"mean": self.mean, "stddev": self.stddev, "seed": self.seed}


class RandomUniform(_Seeded):
    """Uniform in [minval, maxval); Keras default +-0.05.

    Example::

        fastnn.initializers.RandomUniform(-0.1, 0.1, seed=0)((3, 3))
    """

    def __init__(self, minval: float = -0.05, maxval: float = 0.05, seed: int | None = None):
        super().__init__(seed)
        self.minval, self.maxval = _number(minval, "minval"), _number(maxval, "maxval")
        if self.minval > self.maxval:
            raise ValueError(f"RandomUniform: minval must be <= maxval, got minval={minval!r}, maxval={maxval!r}")

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
    """N(mean, stddev^2) truncated to two standard deviations (values beyond are redrawn);
    Keras default stddev 0.05.

    Example::

        fastnn.initializers.TruncatedNormal(stddev=0.02, seed=0)((3, 3))   # all within +-0.04
    """

    def __init__(self, mean: float = 0.0, stddev: float = 0.05, seed: int | None = None):
        super().__init__(seed)
        self.mean, self.stddev = _mean_stddev("TruncatedNormal", mean, stddev)

    def __call__(self, shape, dtype=None) -> Tensor:
        return _truncated(self.generator, _check_shape(shape), self.mean, self.stddev)

    def get_config(self) -> dict:
        return {"mean": self.mean, "stddev": self.stddev, "seed": self.seed}


class VarianceScaling(_Seeded):
    """Keras's VarianceScaling: variance scale / n with n = fan_in, fan_out or their mean.

    distribution 'truncated_normal' (stddev corrected by 0.87962566103423978 as Keras, so that
    the truncated values have variance scale / n), 'untruncated_normal' or 'uniform' (limit
    sqrt(3 * scale / n)); 'normal' means 'truncated_normal'.

    Example::

        fastnn.initializers.VarianceScaling(2.0, "fan_in", "untruncated_normal", seed=0)((64, 32))
    """

    def __init__(
        self, scale: float = 1.0, mode: str = "fan_in", distribution: str = "truncated_normal", seed: int | None = None
    ):
        super().__init__(seed)
        if not _number(scale, "scale") > 0:
            raise ValueError(f"VarianceScaling: scale must be positive, got scale={scale!r}")
        if not isinstance(distribution, str):
            raise TypeError(f"VarianceScaling: distribution must be a string, got distribution={distribution!r}")
        distribution = distribution.lower()
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
    _Init.__doc__ = (
        f"VarianceScaling(scale={scale}, mode='{mode}', distribution='{distribution}').\n\n"
        f"    Example::\n\n        fastnn.initializers.{name}(seed=0)((64, 32))\n"
    )
    return _Init


GlorotUniform = _fixed("GlorotUniform", 1.0, "fan_avg", "uniform")
GlorotNormal = _fixed("GlorotNormal", 1.0, "fan_avg", "truncated_normal")
HeUniform = _fixed("HeUniform", 2.0, "fan_in", "uniform")
HeNormal = _fixed("HeNormal", 2.0, "fan_in", "truncated_normal")
LecunUniform = _fixed("LecunUniform", 1.0, "fan_in", "uniform")
LecunNormal = _fixed("LecunNormal", 1.0, "fan_in", "truncated_normal")


class Identity(Initializer):
    """gain * the identity matrix (2-D shapes only; ones on the main diagonal of a rectangle).

    Example::

        fastnn.initializers.Identity(gain=2.0)((3, 3))
    """

    def __init__(self, gain: float = 1.0):
        self.gain = _number(gain, "gain")

    def __call__(self, shape, dtype=None) -> Tensor:
        shape = _check_shape(shape)
        if len(shape) != 2:
            raise ValueError(f"Identity initializer needs a 2-D shape, got shape={shape}")
        return Tensor(np.eye(*shape, dtype=np.float32) * np.float32(self.gain))

    def get_config(self) -> dict:
        return {"gain": self.gain}


class Orthogonal(_Seeded):
    """An orthogonal matrix (QR of a normal matrix, signs fixed as Keras), times gain; shapes with
    more than 2 dimensions are flattened to (prod(shape[:-1]), shape[-1]). With fewer rows than
    columns the rows are orthonormal (an LSTM's (units, 4 * units) recurrent kernel), otherwise
    the columns.

    Example::

        w = fastnn.initializers.Orthogonal(seed=0)((8, 32)).numpy()   # w @ w.T == I
    """

    def __init__(self, gain: float = 1.0, seed: int | None = None):
        super().__init__(seed)
        self.gain = _number(gain, "gain")

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
    "orthogonal_initializer": Orthogonal,
    "identity_initializer": Identity,
}
_CLASSES = {c.__name__: c for c in set(_ALIASES.values())}
OrthogonalInitializer = Orthogonal  # Keras 3 exports both names
IdentityInitializer = Identity
_CLASSES.update(OrthogonalInitializer=Orthogonal, IdentityInitializer=Identity)


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
