"""``ImageDataGenerator`` (the Keras 2 API that tutorials use): random rotations, shifts, shears,
zooms and flips of image batches, rescaling and feature-wise / sample-wise standardisation,
served in batches by ``flow(x, y)``.

Keras 3 removed it; fastnn keeps it with a DeprecationWarning naming the Keras 3 spelling (the
preprocessing layers: RandomRotation, RandomTranslation, RandomZoom, RandomFlip, Rescaling,
Normalization). ``flow`` returns a ``NumpyArrayIterator``, a Keras ``PyDataset``-like object
(``__len__``, ``__getitem__``, ``on_epoch_end``, and iteration) that ``model.fit`` accepts.

Example::

    gen = ImageDataGenerator(rotation_range=15, width_shift_range=0.1, height_shift_range=0.1,
                             horizontal_flip=True, rescale=1.0 / 255, validation_split=0.2)
    model.fit(gen.flow(x, y, batch_size=32, subset="training"),
              validation_data=gen.flow(x, y, batch_size=32, subset="validation"), epochs=10)
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable

import numpy as np

from .. import random as _random
from ..layers.augmentation import FILL_MODES, _affine_nhwc

__all__ = ["ImageDataGenerator", "NumpyArrayIterator"]

_WARNED = [False]


def _warn_once() -> None:
    if not _WARNED[0]:
        _WARNED[0] = True
        warnings.warn(
            "ImageDataGenerator was removed in Keras 3; use preprocessing layers in the model instead "
            "(fastnn.layers.RandomRotation, RandomTranslation, RandomZoom, RandomFlip, Rescaling, Normalization)",
            DeprecationWarning,
            stacklevel=3,
        )


def _range_pair(v, name: str, one_minus: bool = False) -> tuple[float, float]:
    if isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool):
        v = float(v)
        if v < 0:
            raise ValueError(f"ImageDataGenerator: {name} must be non-negative, got {name}={v!r}")
        return (1.0 - v, 1.0 + v) if one_minus else (-v, v)
    if isinstance(v, (tuple, list)) and len(v) == 2 and all(isinstance(a, (int, float)) for a in v):
        return float(v[0]), float(v[1])
    raise ValueError(f"ImageDataGenerator: {name} must be a number or a pair [lower, upper], got {name}={v!r}")


class ImageDataGenerator:
    """Real-time image augmentation in batches (Keras 2 ``ImageDataGenerator``).

    Args:
        featurewise_center / featurewise_std_normalization: subtract the per-channel mean /
            divide by the per-channel std (+1e-6) of the data given to ``fit``.
        samplewise_center / samplewise_std_normalization: the same per image.
        rotation_range: degrees; each image is rotated by a random angle in [-r, r].
        width_shift_range / height_shift_range: a float below 1 is a fraction of the width /
            height, a number from 1 up is pixels, both drawn in [-r, r]; an int draws whole
            pixels; a list draws one of its values.
        shear_range: degrees of shear, drawn in [-r, r].
        zoom_range: z draws the zooms in [1 - z, 1 + z] ([lower, upper] for a pair), the width
            and height zooms independently; above 1 zooms out.
        channel_shift_range: adds one random value in [-r, r] to all the pixels of a channel.
        fill_mode: 'nearest' (default), 'constant', 'reflect' or 'wrap'; cval fills 'constant'.
        horizontal_flip / vertical_flip: flip each image with probability 1/2.
        rescale: multiply by this (after the random transformations, as Keras).
        preprocessing_function: called on each image (H, W, C) before the other standardisation.
        data_format: 'channels_last' (default) or 'channels_first'.
        validation_split: the fraction of the data (its first samples, as Keras)
            ``flow(..., subset='validation')`` serves; subset='training' serves the rest.

    As in Keras 2, ``fit`` computes the statistics on the data as given (without ``rescale``).

    Example::

        gen = ImageDataGenerator(featurewise_center=True, featurewise_std_normalization=True,
                                 rotation_range=20, horizontal_flip=True)
        gen.fit(x_train)
        model.fit(gen.flow(x_train, y_train, batch_size=32), epochs=5)
    """

    def __init__(
        self,
        featurewise_center: bool = False,
        samplewise_center: bool = False,
        featurewise_std_normalization: bool = False,
        samplewise_std_normalization: bool = False,
        zca_whitening: bool = False,
        zca_epsilon: float = 1e-6,
        rotation_range: float = 0,
        width_shift_range=0.0,
        height_shift_range=0.0,
        brightness_range=None,
        shear_range: float = 0.0,
        zoom_range=0.0,
        channel_shift_range: float = 0.0,
        fill_mode: str = "nearest",
        cval: float = 0.0,
        horizontal_flip: bool = False,
        vertical_flip: bool = False,
        rescale: float | None = None,
        preprocessing_function: Callable | None = None,
        data_format: str | None = None,
        validation_split: float = 0.0,
        interpolation_order: int = 1,
        dtype=None,
    ):
        _warn_once()
        if zca_whitening:
            raise NotImplementedError("ImageDataGenerator: zca_whitening is not supported")
        if brightness_range is not None:
            raise NotImplementedError(
                "ImageDataGenerator: brightness_range is not supported; use fastnn.layers.RandomContrast or a "
                "preprocessing_function"
            )
        if fill_mode not in FILL_MODES:
            raise ValueError(f"ImageDataGenerator: fill_mode must be one of {FILL_MODES}, got fill_mode={fill_mode!r}")
        if data_format not in (None, "channels_last", "channels_first"):
            raise ValueError(f"ImageDataGenerator: data_format must be 'channels_last' or 'channels_first', "
                             f"got {data_format!r}")
        if not 0.0 <= float(validation_split) < 1.0:
            raise ValueError(f"ImageDataGenerator: validation_split must be in [0, 1), got {validation_split!r}")
        if interpolation_order not in (0, 1):
            raise ValueError(f"ImageDataGenerator: interpolation_order must be 0 or 1, got {interpolation_order!r}")
        if preprocessing_function is not None and not callable(preprocessing_function):
            raise TypeError(f"ImageDataGenerator: preprocessing_function must be callable, got "
                            f"{preprocessing_function!r}")
        self.featurewise_center = bool(featurewise_center)
        self.samplewise_center = bool(samplewise_center)
        self.featurewise_std_normalization = bool(featurewise_std_normalization)
        self.samplewise_std_normalization = bool(samplewise_std_normalization)
        self.rotation_range = float(rotation_range)
        self.width_shift_range = width_shift_range
        self.height_shift_range = height_shift_range
        for name in ("width_shift_range", "height_shift_range"):
            self._check_shift(getattr(self, name), name)
        self.shear_range = float(shear_range)
        self.zoom_range = _range_pair(zoom_range, "zoom_range", one_minus=True)
        self.channel_shift_range = float(channel_shift_range)
        self.fill_mode = fill_mode
        self.cval = float(cval)
        self.horizontal_flip = bool(horizontal_flip)
        self.vertical_flip = bool(vertical_flip)
        self.rescale = rescale
        self.preprocessing_function = preprocessing_function
        self.data_format = data_format or "channels_last"
        self.validation_split = float(validation_split)
        self.interpolation = "bilinear" if interpolation_order == 1 else "nearest"
        self.mean = None
        self.std = None

    @staticmethod
    def _check_shift(v, name: str) -> None:
        if isinstance(v, (list, tuple)):
            if not v or not all(isinstance(a, (int, float)) for a in v):
                raise ValueError(f"ImageDataGenerator: {name} must be a number or a list of numbers, got {v!r}")
        elif isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)) or v < 0:
            raise ValueError(f"ImageDataGenerator: {name} must be a non-negative number or a list, got {v!r}")

    # ------------------------------------------------------------------ layout
    def _to_nhwc(self, x: np.ndarray) -> np.ndarray:
        return x.transpose(0, 2, 3, 1) if self.data_format == "channels_first" else x

    def _from_nhwc(self, x: np.ndarray) -> np.ndarray:
        return x.transpose(0, 3, 1, 2) if self.data_format == "channels_first" else x

    def _check_images(self, x, what: str) -> np.ndarray:
        x = np.asarray(x)
        if x.ndim != 4:
            raise ValueError(f"ImageDataGenerator.{what}: expected a batch of images of rank 4, got shape {x.shape}")
        if x.dtype.kind not in "fiub":
            raise TypeError(f"ImageDataGenerator.{what}: expected numeric images, got dtype {x.dtype}")
        return x

    # ------------------------------------------------------------------ statistics
    def fit(self, x, augment: bool = False, rounds: int = 1, seed: int | None = None) -> None:
        """Compute the feature-wise statistics (per channel) of `x` for featurewise_center /
        featurewise_std_normalization; with `augment`, of `rounds` randomly transformed copies."""
        x = self._check_images(x, "fit").astype(np.float32)
        if augment:
            gen = _random.Generator(seed) if seed is not None else None
            x = np.concatenate([self._random_transform_batch(x, gen) for _ in range(int(rounds))])
        nhwc = self._to_nhwc(x).astype(np.float64)
        shape = (1, 1, 1, nhwc.shape[-1])
        if self.featurewise_center:
            self.mean = nhwc.mean(axis=(0, 1, 2)).reshape(shape).astype(np.float32)
            nhwc = nhwc - self.mean
        if self.featurewise_std_normalization:
            self.std = nhwc.std(axis=(0, 1, 2)).reshape(shape).astype(np.float32)

    # ------------------------------------------------------------------ transforms
    @staticmethod
    def _shift(v, size: int, n: int, gen) -> np.ndarray:
        """Keras 2's shift draw: an int k picks from 0 .. k - 1 and a list from its values, each
        with a random sign; a float draws in [-v, v]; values all below 1 are fractions of `size`."""
        if isinstance(v, (list, tuple, int, np.integer)):
            choices = np.asarray(list(v) if isinstance(v, (list, tuple)) else range(int(v)), dtype=np.float64)
            pick = np.floor(_uniform(gen, n, 0.0, len(choices))).astype(np.int64).clip(0, len(choices) - 1)
            s = choices[pick] * np.where(_uniform(gen, n, 0.0, 1.0) < 0.5, -1.0, 1.0)
        else:
            s = _uniform(gen, n, -float(v), float(v))
        return s * size if np.max(v) < 1 else s

    def _matrices(self, n: int, h: int, w: int, gen) -> np.ndarray | None:
        """Per image [a0, a1, a2, b0, b1, b2, 0, 0] mapping output (x, y) to input coordinates,
        or None when no geometric transformation is configured."""
        r, sh = self.rotation_range, self.shear_range
        zl, zh = self.zoom_range
        ws, hs = self.width_shift_range, self.height_shift_range
        if not (r or sh or (zl, zh) != (1.0, 1.0) or _nonzero(ws) or _nonzero(hs)):
            return None
        theta = np.deg2rad(_uniform(gen, n, -r, r)) if r else np.zeros(n)
        tx = self._shift(ws, w, n, gen) if _nonzero(ws) else np.zeros(n)
        ty = self._shift(hs, h, n, gen) if _nonzero(hs) else np.zeros(n)
        shear = np.deg2rad(_uniform(gen, n, -sh, sh)) if sh else np.zeros(n)
        if (zl, zh) != (1.0, 1.0):
            zx, zy = _uniform(gen, n, zl, zh), _uniform(gen, n, zl, zh)
        else:
            zx = zy = np.ones(n)
        c, s = np.cos(theta), np.sin(theta)
        ssh, csh = np.sin(shear), np.cos(shear)
        # M = rotation [[c, -s], [s, c]] @ shear [[1, -sin], [0, cos]] @ zoom diag(zx, zy), acting
        # on (x, y) about the image centre, then the shift
        a00, a01 = c * zx, (-c * ssh - s * csh) * zy
        a10, a11 = s * zx, (c * csh - s * ssh) * zy
        cx, cy = (w - 1) / 2.0, (h - 1) / 2.0
        b0 = cx - a00 * cx - a01 * cy - tx
        b1 = cy - a10 * cx - a11 * cy - ty
        z = np.zeros(n)
        return np.stack([a00, a01, b0, a10, a11, b1, z, z], axis=1)

    def _random_transform_batch(self, x: np.ndarray, gen) -> np.ndarray:
        """Random geometric transformations, channel shifts and flips of a float32 batch."""
        nhwc = np.ascontiguousarray(self._to_nhwc(x), dtype=np.float32)
        n, h, w, ch = nhwc.shape
        t = self._matrices(n, h, w, gen)
        if t is not None:
            nhwc = _affine_nhwc(nhwc, t, self.interpolation, self.fill_mode, self.cval)
        if self.channel_shift_range:
            shift = _uniform(gen, n * ch, -self.channel_shift_range, self.channel_shift_range).reshape(n, 1, 1, ch)
            lo, hi = nhwc.min(axis=(1, 2), keepdims=True), nhwc.max(axis=(1, 2), keepdims=True)
            nhwc = np.clip(nhwc + shift.astype(np.float32), lo, hi)  # Keras clips to each channel's range
        if self.horizontal_flip:
            f = _uniform(gen, n, 0.0, 1.0) < 0.5
            nhwc = np.where(f[:, None, None, None], nhwc[:, :, ::-1], nhwc)
        if self.vertical_flip:
            f = _uniform(gen, n, 0.0, 1.0) < 0.5
            nhwc = np.where(f[:, None, None, None], nhwc[:, ::-1], nhwc)
        return np.ascontiguousarray(self._from_nhwc(nhwc), dtype=np.float32)

    def random_transform(self, x, seed: int | None = None) -> np.ndarray:
        """One randomly transformed image (H, W, C) (channels first with that data_format)."""
        x = np.asarray(x, dtype=np.float32)
        if x.ndim != 3:
            raise ValueError(f"ImageDataGenerator.random_transform: expected one image of rank 3, got shape {x.shape}")
        return self._random_transform_batch(x[None], None if seed is None else _random.Generator(seed))[0]

    def standardize(self, x) -> np.ndarray:
        """preprocessing_function, rescale, sample-wise then feature-wise standardisation, in
        Keras's order, of a batch (or one image)."""
        x = np.array(x, dtype=np.float32, copy=True)
        single = x.ndim == 3
        if single:
            x = x[None]
        if self.preprocessing_function is not None:
            x = np.stack([np.asarray(self.preprocessing_function(im), dtype=np.float32) for im in x])
        if self.rescale:
            x *= np.float32(self.rescale)
        nhwc = self._to_nhwc(x)
        if self.samplewise_center:
            nhwc -= nhwc.mean(axis=(1, 2, 3), keepdims=True)
        if self.samplewise_std_normalization:
            nhwc /= nhwc.std(axis=(1, 2, 3), keepdims=True) + np.float32(1e-6)
        if self.featurewise_center:
            if self.mean is None:
                raise ValueError("ImageDataGenerator has featurewise_center=True but was not fit on any data: "
                                 "call .fit(x_train) first")
            nhwc -= self.mean
        if self.featurewise_std_normalization:
            if self.std is None:
                raise ValueError("ImageDataGenerator has featurewise_std_normalization=True but was not fit on any "
                                 "data: call .fit(x_train) first")
            nhwc /= self.std + np.float32(1e-6)
        out = np.ascontiguousarray(self._from_nhwc(nhwc))
        return out[0] if single else out

    # ------------------------------------------------------------------ batches
    def flow(self, x, y=None, batch_size: int = 32, shuffle: bool = True, sample_weight=None, seed: int | None = None,
             subset: str | None = None, **kwargs) -> NumpyArrayIterator:
        """Batches of augmented (x, y) (or x alone without y; (x, y, sample_weight) with
        weights), reshuffled every epoch. ``subset`` = 'training' / 'validation' splits by
        ``validation_split``."""
        for k in ("save_to_dir", "save_prefix", "save_format", "ignore_class_split"):
            kwargs.pop(k, None) if k != "save_to_dir" or kwargs.get(k) is None else None
        if kwargs:
            raise TypeError(f"flow() got unexpected keyword arguments {sorted(kwargs)}")
        return NumpyArrayIterator(x, y, self, batch_size, shuffle, sample_weight, seed, subset)


def _nonzero(v) -> bool:
    return bool(v) if not isinstance(v, (list, tuple)) else any(a != 0 for a in v)


def _uniform(gen, n: int, low: float, high: float) -> np.ndarray:
    g = gen if gen is not None else _random.default_generator
    return g.uniform((int(n),), low, high).numpy().astype(np.float64)


class NumpyArrayIterator:
    """Batches of an ImageDataGenerator over arrays: ``len(it)`` batches per epoch,
    ``it[i]`` the i-th batch of the current order, ``on_epoch_end()`` reshuffles; iterating
    (``next(it)``) cycles forever, as Keras's iterator. ``model.fit(it)`` accepts it.

    Example::

        it = ImageDataGenerator(horizontal_flip=True).flow(x, y, batch_size=16, seed=0)
        xb, yb = it[0]
    """

    def __init__(self, x, y, generator: ImageDataGenerator, batch_size: int = 32, shuffle: bool = True,
                 sample_weight=None, seed: int | None = None, subset: str | None = None):
        x = generator._check_images(x, "flow")
        if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size <= 0:
            raise ValueError(f"flow: batch_size must be a positive integer, got batch_size={batch_size!r}")
        if y is not None:
            y = np.asarray(y)
            if len(y) != len(x):
                raise ValueError(f"flow: x (images) and y (labels) should have the same length, got x.shape={x.shape} "
                                 f"and y.shape={y.shape}")
        if sample_weight is not None:
            sample_weight = np.asarray(sample_weight, dtype=np.float32)
            if len(sample_weight) != len(x):
                raise ValueError(f"flow: sample_weight has {len(sample_weight)} entries for {len(x)} images")
        if subset is not None:
            if subset not in ("training", "validation"):
                raise ValueError(f"flow: subset must be 'training', 'validation' or None, got subset={subset!r}")
            if not generator.validation_split:
                raise ValueError("flow: subset needs an ImageDataGenerator with a validation_split")
            split = int(len(x) * generator.validation_split)
            sl = slice(None, split) if subset == "validation" else slice(split, None)
            x = x[sl]
            y = None if y is None else y[sl]
            sample_weight = None if sample_weight is None else sample_weight[sl]
        if len(x) == 0:
            raise ValueError(f"flow: no samples (subset={subset!r})")
        self.x, self.y, self.sample_weight = x, y, sample_weight
        self.image_data_generator = generator
        self.batch_size = int(batch_size)
        self.shuffle = bool(shuffle)
        self.seed = seed
        self.n = len(x)
        # the transformations and the shuffles draw from one Philox stream: the layer-like
        # seeded stream, or fastnn's global generator
        self._gen = _random.Generator(seed) if seed is not None else None
        self.epoch = 0
        self._next = 0
        self._set_order()

    def _set_order(self) -> None:
        if self.shuffle:
            g = self._gen if self._gen is not None else _random.default_generator
            key, off = g.take(1)
            self.index_array = np.random.default_rng([key, off]).permutation(self.n)
        else:
            self.index_array = np.arange(self.n)

    def __len__(self) -> int:
        return math.ceil(self.n / self.batch_size)

    def __getitem__(self, idx: int):
        if isinstance(idx, bool) or not isinstance(idx, (int, np.integer)):
            raise TypeError(f"batch index must be an integer, got {idx!r}")
        if not -len(self) <= idx < len(self):
            raise IndexError(f"asked to retrieve batch {idx}, but the iterator has {len(self)} batches")
        idx = int(idx) % len(self)
        sel = self.index_array[idx * self.batch_size : (idx + 1) * self.batch_size]
        return self._batch(sel)

    def _batch(self, sel: np.ndarray):
        g = self.image_data_generator
        xb = g._random_transform_batch(self.x[sel].astype(np.float32), self._gen)
        xb = g.standardize(xb)
        if self.y is None:
            return xb
        out = (xb, self.y[sel])
        if self.sample_weight is not None:
            out = out + (self.sample_weight[sel],)
        return out

    def on_epoch_end(self) -> None:
        self.epoch += 1
        self._set_order()

    def __iter__(self):
        return self

    def __next__(self):
        if self._next >= len(self):
            self._next = 0
            self.on_epoch_end()
        batch = self[self._next]
        self._next += 1
        return batch

    def reset(self) -> None:
        """Start again from the first batch of a new order."""
        self._next = 0
        self._set_order()
