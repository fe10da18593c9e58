"""Image preprocessing and augmentation layers (Keras 3): Rescaling, Resizing, RandomFlip,
RandomTranslation, RandomRotation, RandomZoom, RandomCrop, RandomContrast.

The random layers change their inputs only when called with ``training=True`` (``fit`` does);
at inference they are the identity, except RandomCrop, which then takes the largest centred
window of the target aspect ratio and resizes it to the target size. ``Rescaling`` and
``Resizing`` always apply. Inputs are a batch (N, H, W, C) or one image (H, W, C), or with
``data_format='channels_first'`` (N, C, H, W) / (C, H, W). Random draws come from the layer's
own Philox generator when it is given a ``seed`` (the same seed gives the same sequence of
augmentations) and from fastnn's global generator otherwise (``fastnn.utils.set_random_seed``).

Translation, rotation and zoom are one inverse-mapped pass (``affine_transform``): each output
pixel (x, y) reads the input at (a0 x + a1 y + a2, b0 x + b1 y + b2), interpolated bilinearly
or to the nearest pixel, on the input extended by the fill mode:

- ``reflect``: (d c b a | a b c d | d c b a), about the edge of the last pixel;
- ``wrap``: (a b c d | a b c d | a b c d);
- ``nearest``: (a a a a | a b c d | d d d d);
- ``constant``: (k k k k | a b c d | k k k k) with k = ``fill_value``.

The resampling (translation, rotation, zoom, resizing, cropping) runs in the C++ kernels of
csrc/kernels/image.h (one pass over the output, threads over the rows, the same bits for any
thread count), on either data format without transposing and, for a tensor on CUDA, on the GPU.

The random layers are not differentiable (they transform data, as in a Keras input pipeline);
``Rescaling`` is.

Example::

    augment = fastnn.models.Sequential([
        fastnn.layers.RandomFlip("horizontal"),
        fastnn.layers.RandomRotation(0.1),
        fastnn.layers.RandomZoom(0.1),
    ])
    model = fastnn.models.Sequential([
        fastnn.layers.Input((32, 32, 3)),
        fastnn.layers.Rescaling(1.0 / 255),
        augment,
        ...
    ])
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from .. import _C
from .. import random as _random
from ..tensor import Tensor
from .base import Layer

__all__ = [
    "Rescaling",
    "Resizing",
    "RandomFlip",
    "RandomTranslation",
    "RandomRotation",
    "RandomZoom",
    "RandomCrop",
    "RandomContrast",
    "affine_transform",
    "resize",
]

FILL_MODES = ("reflect", "wrap", "constant", "nearest")
INTERPOLATIONS = ("bilinear", "nearest")


# ---------------------------------------------------------------------------- array kernels
# The resampling itself is the C++ / CUDA kernel family `image` (csrc/kernels/image.h, where the
# arithmetic is written down); these wrappers check the arguments and pick the layout.


def _check_mode(fill_mode: str, interpolation: str, who: str) -> None:
    if fill_mode not in FILL_MODES:
        raise ValueError(f"{who}: fill_mode must be one of {FILL_MODES}, got fill_mode={fill_mode!r}")
    if interpolation not in INTERPOLATIONS:
        raise ValueError(f"{who}: interpolation must be one of {INTERPOLATIONS}, got interpolation={interpolation!r}")


def _affine(a, transforms: np.ndarray, interpolation: str, fill_mode: str, fill_value: float,
            channels_first: bool = False):
    """affine_transform on a float32 batch (B, H, W, C) or one image (channels first with the
    flag), a NumPy array or a CUDA DeviceArray (the result is on the same device), with float64
    transforms (B, 8) or (8,)."""
    return _C.affine_transform(a, transforms, None, interpolation, fill_mode, float(fill_value), channels_first)


def _affine_nhwc(images: np.ndarray, transforms: np.ndarray, interpolation: str, fill_mode: str,
                 fill_value: float) -> np.ndarray:
    """affine_transform on float32 (B, H, W, C) with float64 (B, 8) transforms."""
    return _affine(images, transforms, interpolation, fill_mode, fill_value)


def _check_rank(shape) -> None:
    if len(shape) not in (3, 4):
        raise ValueError(
            f"expected a batch of images (rank 4) or one image (rank 3), got an input of shape {tuple(shape)}"
        )


def _nhwc(a: np.ndarray, data_format: str) -> tuple[np.ndarray, bool]:
    """(batched channels-last view, whether the input was one image)."""
    _check_rank(a.shape)
    single = a.ndim == 3
    if single:
        a = a[None]
    if data_format == "channels_first":
        a = a.transpose(0, 2, 3, 1)
    return a, single


def _back(a: np.ndarray, data_format: str, single: bool) -> np.ndarray:
    if data_format == "channels_first":
        a = a.transpose(0, 3, 1, 2)
    a = np.ascontiguousarray(a, dtype=np.float32)
    return a[0] if single else a


def _dims(shape, channels_first: bool) -> tuple[int, int, int]:
    """(batch, height, width) of a batch or one image."""
    b = shape[0] if len(shape) == 4 else 1
    if channels_first:
        return b, shape[-2], shape[-1]
    return b, shape[-3], shape[-2]


def _data_format(data_format, who: str) -> str:
    if data_format not in (None, "channels_last", "channels_first"):
        raise ValueError(f"{who}: data_format must be 'channels_last' or 'channels_first', got {data_format!r}")
    return data_format or "channels_last"


def _float_images(images) -> np.ndarray:
    a = images.numpy() if isinstance(images, Tensor) else images
    return np.ascontiguousarray(a, dtype=np.float32)


def affine_transform(images, transform, interpolation: str = "bilinear", fill_mode: str = "constant",
                     fill_value: float = 0.0, data_format: str | None = None) -> np.ndarray:
    """Inverse-mapped affine (or projective) transform of images, as keras.ops.image.affine_transform.

    Args:
        images: (N, H, W, C) or (H, W, C) (channels first with ``data_format``).
        transform: (8,) or (N, 8) rows [a0, a1, a2, b0, b1, b2, c0, c1]: output pixel (x, y)
            reads the input at ((a0 x + a1 y + a2) / k, (b0 x + b1 y + b2) / k), with
            k = c0 x + c1 y + 1 (x is the column, y the row, pixel centres at integers).
        interpolation: 'bilinear' or 'nearest'.
        fill_mode: 'constant', 'reflect', 'wrap' or 'nearest' (see this module's docstring).

    Example::

        shift_right = [1, 0, -2, 0, 1, 0, 0, 0]     # output x reads input x - 2
        affine_transform(x, shift_right, fill_mode="constant")
    """
    _check_mode(fill_mode, interpolation, "affine_transform")
    df = _data_format(data_format, "affine_transform")
    a = _float_images(images)
    _check_rank(a.shape)
    b = a.shape[0] if a.ndim == 4 else 1
    t = np.asarray(transform, dtype=np.float64)
    if t.ndim == 1:
        t = t[None]
    if t.ndim != 2 or t.shape[1] != 8 or t.shape[0] not in (1, b):
        raise ValueError(f"affine_transform: transform must be (8,) or ({b}, 8), got shape {t.shape}")
    return _affine(a, t, interpolation, fill_mode, fill_value, df == "channels_first")


def _resize(a, height: int, width: int, interpolation: str, channels_first: bool = False, crop=None):
    """Half-pixel resize of a float32 batch or one image (NumPy or DeviceArray) to (height,
    width), of the window crop = (top, left, rows, cols) when given; the input itself when
    nothing changes."""
    _, h, w = _dims(a.shape, channels_first)
    if crop is not None and tuple(crop) == (0, 0, h, w):
        crop = None
    if (height, width) == (h, w) and crop is None:
        return a
    if crop is not None and (height, width) == tuple(crop[2:]):
        # a plain crop: a copy, exact even for inf and NaN (nearest at scale 1 reads pixel i)
        if not isinstance(a, np.ndarray):
            return _C.resize(a, (height, width), "nearest", crop, channels_first)
        top, left, ch, cw = crop
        win = a[..., top:top + ch, left:left + cw] if channels_first else a[..., top:top + ch, left:left + cw, :]
        return np.ascontiguousarray(win)
    return _C.resize(a, (height, width), interpolation, crop, channels_first)


def _center_window(h: int, w: int, height: int, width: int) -> tuple[int, int, int, int]:
    """(top, left, rows, cols) of the largest centred window of aspect height:width."""
    ch = max(min(h, int(float(w * height) / width)), 1)
    cw = max(min(w, int(float(h * width) / height)), 1)
    return int((h - ch) / 2), int((w - cw) / 2), ch, cw


def _smart_resize(a, height: int, width: int, interpolation: str = "bilinear", channels_first: bool = False):
    _, h, w = _dims(a.shape, channels_first)
    return _resize(a, height, width, interpolation, channels_first, _center_window(h, w, height, width))


def resize(images, size: Sequence[int], interpolation: str = "bilinear", crop_to_aspect_ratio: bool = False,
           data_format: str | None = None) -> np.ndarray:
    """Resize images to ``size = (height, width)`` (bilinear or nearest, half-pixel centres, no
    antialiasing, as keras.ops.image.resize); ``crop_to_aspect_ratio`` first takes the largest
    centred window of the target aspect ratio.

    Example::

        resize(np.zeros((2, 28, 28, 1)), (32, 32)).shape     # (2, 32, 32, 1)
    """
    df = _data_format(data_format, "resize")
    height, width = _check_size(size, "resize")
    if interpolation not in INTERPOLATIONS:
        raise ValueError(f"resize: interpolation must be one of {INTERPOLATIONS}, got interpolation={interpolation!r}")
    a = _float_images(images)
    _check_rank(a.shape)
    cf = df == "channels_first"
    out = (_smart_resize(a, height, width, interpolation, cf) if crop_to_aspect_ratio
           else _resize(a, height, width, interpolation, cf))
    return out.copy() if out is a else out


def _check_size(size, who: str) -> tuple[int, int]:
    if not isinstance(size, (tuple, list)) or len(size) != 2:
        raise ValueError(f"{who}: size must be (height, width), got size={size!r}")
    return _positive_int(size[0], "height", who), _positive_int(size[1], "width", who)


def _positive_int(v, name: str, who: str) -> int:
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v <= 0:
        raise ValueError(f"{who}: {name} must be a positive integer, got {name}={v!r}")
    return int(v)


def _number(v) -> bool:
    return isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool)


def _factor_pair(factor, name: str, who: str, bounds=(-1.0, 1.0), symmetric: bool = True) -> tuple[float, float]:
    """Keras's factor rule: a number f gives (-f, f) (with ``symmetric=False``: (f, f)); a pair
    gives (lower, upper) sorted; the values given must lie in `bounds`."""
    lo_b, hi_b = bounds
    msg = f"{who}: {name} must be a number or a pair of numbers in [{lo_b:g}, {hi_b:g}], got {name}={factor!r}"
    if isinstance(factor, (tuple, list)):
        if len(factor) != 2 or not all(_number(v) for v in factor):
            raise ValueError(msg)
        given = [float(v) for v in factor]
        pair = sorted(given)
    elif _number(factor):
        given = [float(factor)]
        f = abs(float(factor))
        pair = [-f, f] if symmetric else [f, f]
    else:
        raise ValueError(msg)
    if not all(lo_b <= v <= hi_b for v in given):
        raise ValueError(msg)
    return pair[0], pair[1]


def _json_factor(f):
    return list(f) if isinstance(f, tuple) else f


# ---------------------------------------------------------------------------- layers
class _ImageLayer(Layer):
    """Shared plumbing: data_format, the seed's generator, rank checks, NumPy in and out."""

    def __init__(self, seed: int | None = None, data_format: str | None = None, **kwargs):
        super().__init__(**kwargs)
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0):
            raise ValueError(f"{type(self).__name__}: seed must be a non-negative integer or None, got seed={seed!r}")
        self.seed = None if seed is None else int(seed)
        self._generator = None if seed is None else _random.Generator(self.seed)
        self.data_format = _data_format(data_format, type(self).__name__)
        self.built = True

    def _uniform(self, n: int, low: float, high: float) -> np.ndarray:
        gen = self._generator if self._generator is not None else _random.default_generator
        return gen.uniform((n,), low, high).numpy().astype(np.float64)

    def _hw_axes(self, ndim: int) -> tuple[int, int]:
        return (ndim - 2, ndim - 1) if self.data_format == "channels_first" else (ndim - 3, ndim - 2)

    def _check_input_shape(self, input_shape) -> None:
        if isinstance(input_shape, (tuple, list)) and len(input_shape) not in (3, 4):
            raise ValueError(
                f"{type(self).__name__} '{self.name}' expects a batch of images (rank 4) or one image "
                f"(rank 3), got an input of shape {tuple(input_shape)}"
            )

    def call(self, inputs, training=None):
        if not isinstance(inputs, Tensor):
            inputs = Tensor(np.asarray(inputs, dtype=np.float32))
        if not training and not self._acts_at_inference:
            return inputs
        if self._native:
            raw = self._checked_raw(inputs._data)
            out = self._transform_native(raw, bool(training))
            return inputs if out is inputs._data else Tensor(out)
        device = inputs.device
        a = inputs.numpy()
        if a.dtype != np.float32:
            a = a.astype(np.float32)
        try:
            nhwc, single = _nhwc(a, self.data_format)
        except ValueError as e:
            raise ValueError(f"{type(self).__name__} '{self.name}': {e}") from None
        out = self._transform(nhwc, bool(training))
        if out is nhwc:
            return inputs
        t = Tensor(_back(out, self.data_format, single))
        return t if device == "cpu" else t.to(device)

    _acts_at_inference = False
    # True: _transform_native takes the batch (or one image) as stored, in the layer's
    # data_format and on its device (the resampling kernels handle both layouts and devices)
    _native = False

    def _transform(self, nhwc: np.ndarray, training: bool) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def _transform_native(self, raw, training: bool):  # pragma: no cover - abstract
        raise NotImplementedError

    def _checked_raw(self, raw):
        """A float32 NumPy array or DeviceArray of rank 3 or 4 (ValueError naming the layer)."""
        try:
            _check_rank(raw.shape)
        except ValueError as e:
            raise ValueError(f"{type(self).__name__} '{self.name}': {e}") from None
        if np.dtype(raw.dtype) == np.float32:
            return raw
        if isinstance(raw, np.ndarray):
            return raw.astype(np.float32)
        return _C.to_device(_C.to_host(raw).astype(np.float32))

    @property
    def _channels_first(self) -> bool:
        return self.data_format == "channels_first"

    def _inference_fn(self):
        if self._acts_at_inference:
            return None
        return lambda a: a

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(seed=self.seed, data_format=self.data_format)
        return config


class Rescaling(Layer):
    """``inputs * scale + offset``, in training and at inference (differentiable).

    Args:
        scale: a number, or one number per channel (broadcast against the last axis).
        offset: a number, or one number per channel.

    Example::

        fastnn.layers.Rescaling(1.0 / 255)              # [0, 255] -> [0, 1]
        fastnn.layers.Rescaling(1.0 / 127.5, offset=-1)  # [0, 255] -> [-1, 1]
    """

    def __init__(self, scale: float | Sequence[float], offset: float | Sequence[float] = 0.0, **kwargs):
        super().__init__(**kwargs)
        self.scale, self._scale = self._coef(scale, "scale")
        self.offset, self._offset = self._coef(offset, "offset")
        self.built = True

    @staticmethod
    def _coef(v, name: str):
        if _number(v):
            return float(v), np.float32(v)
        try:
            arr = np.asarray(v, dtype=np.float32)
        except (TypeError, ValueError):
            arr = None
        if arr is None or arr.ndim != 1 or arr.size == 0 or not np.all(np.isfinite(arr)):
            raise ValueError(f"Rescaling: {name} must be a number or a list of numbers, got {name}={v!r}")
        return arr.tolist(), arr

    def call(self, inputs):
        out = inputs * (self._scale if np.ndim(self._scale) == 0 else Tensor(self._scale))
        if np.ndim(self._offset) or float(self._offset) != 0.0:
            out = out + (self._offset if np.ndim(self._offset) == 0 else Tensor(self._offset))
        return out

    def _inference_fn(self):
        s, o = self._scale, self._offset
        return lambda a: (a * s + o).astype(np.float32, copy=False)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(scale=self.scale, offset=self.offset)
        return config


class Resizing(_ImageLayer):
    """Resize images to (height, width), in training and at inference.

    Args:
        height, width: the output size.
        interpolation: 'bilinear' (half-pixel centres, as Keras without antialiasing) or 'nearest'.
        crop_to_aspect_ratio: first take the largest centred window of the target aspect ratio
            (no distortion).
        pad_to_aspect_ratio: first pad (with ``fill_value``) to the target aspect ratio.

    Example::

        fastnn.layers.Resizing(32, 32)(np.zeros((2, 28, 28, 1))).shape     # (2, 32, 32, 1)
    """

    _acts_at_inference = True

    def __init__(self, height: int, width: int, interpolation: str = "bilinear", crop_to_aspect_ratio: bool = False,
                 pad_to_aspect_ratio: bool = False, fill_mode: str = "constant", fill_value: float = 0.0,
                 data_format: str | None = None, **kwargs):
        super().__init__(data_format=data_format, **kwargs)
        self.height = _positive_int(height, "height", "Resizing")
        self.width = _positive_int(width, "width", "Resizing")
        if interpolation not in INTERPOLATIONS:
            raise ValueError(f"Resizing: interpolation must be one of {INTERPOLATIONS}, got {interpolation!r}")
        if crop_to_aspect_ratio and pad_to_aspect_ratio:
            raise ValueError("Resizing: only one of crop_to_aspect_ratio and pad_to_aspect_ratio can be True")
        if fill_mode != "constant":
            raise ValueError(f"Resizing: only fill_mode='constant' is supported, got fill_mode={fill_mode!r}")
        self.interpolation = interpolation
        self.crop_to_aspect_ratio = bool(crop_to_aspect_ratio)
        self.pad_to_aspect_ratio = bool(pad_to_aspect_ratio)
        self.fill_mode = fill_mode
        self.fill_value = float(fill_value)

    _native = True

    def _transform_native(self, raw, training):
        cf = self._channels_first
        if self.crop_to_aspect_ratio:
            return _smart_resize(raw, self.height, self.width, self.interpolation, cf)
        if self.pad_to_aspect_ratio:
            _, h, w = _dims(raw.shape, cf)
            ph = max(h, int(float(w * self.height) / self.width))
            pw = max(w, int(float(h * self.width) / self.height))
            top, left = int((ph - h) / 2), int((pw - w) / 2)
            if (ph, pw) != (h, w):
                on_device = not isinstance(raw, np.ndarray)
                a = _C.to_host(raw) if on_device else raw
                pad = [(0, 0)] * a.ndim
                hi, wi = self._hw_axes(a.ndim)
                pad[hi], pad[wi] = (top, ph - h - top), (left, pw - w - left)
                a = np.pad(a, pad, constant_values=np.float32(self.fill_value))
                raw = _C.to_device(a) if on_device else a
        return _resize(raw, self.height, self.width, self.interpolation, cf)

    def _inference_fn(self):
        def run(a):
            return self._transform_native(self._checked_raw(a), False)

        return run

    def compute_output_shape(self, input_shape):
        s = list(input_shape)
        hi, wi = self._hw_axes(len(s))
        s[hi], s[wi] = self.height, self.width
        return tuple(s)

    def get_config(self) -> dict:
        config = super().get_config()
        config.pop("seed")
        config.update(height=self.height, width=self.width, interpolation=self.interpolation,
                      crop_to_aspect_ratio=self.crop_to_aspect_ratio, pad_to_aspect_ratio=self.pad_to_aspect_ratio,
                      fill_mode=self.fill_mode, fill_value=self.fill_value)
        return config


class RandomFlip(_ImageLayer):
    """In training, flip each image left-right and/or top-bottom with probability 1/2.

    Args:
        mode: 'horizontal' (left-right), 'vertical' (top-bottom) or 'horizontal_and_vertical'
            (each flip drawn independently).
        seed: an integer gives the layer its own reproducible stream.

    Example::

        flip = fastnn.layers.RandomFlip("horizontal", seed=1)
        flip(images, training=True)     # about half the images mirrored
    """

    _MODES = ("horizontal", "vertical", "horizontal_and_vertical")

    def __init__(self, mode: str = "horizontal_and_vertical", seed: int | None = None, data_format=None, **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        if mode not in self._MODES:
            raise ValueError(f"RandomFlip: mode must be one of {self._MODES}, got mode={mode!r}")
        self.mode = mode

    def _transform(self, nhwc, training):
        b = nhwc.shape[0]
        out = nhwc
        if self.mode in ("horizontal", "horizontal_and_vertical"):
            flip = self._uniform(b, 0.0, 1.0) < 0.5
            out = np.where(flip[:, None, None, None], out[:, :, ::-1], out)
        if self.mode in ("vertical", "horizontal_and_vertical"):
            flip = self._uniform(b, 0.0, 1.0) < 0.5
            out = np.where(flip[:, None, None, None], out[:, ::-1], out)
        return out

    def get_config(self) -> dict:
        config = super().get_config()
        config["mode"] = self.mode
        return config


class _AffineLayer(_ImageLayer):
    def __init__(self, fill_mode="reflect", interpolation="bilinear", seed=None, fill_value=0.0, data_format=None,
                 **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        _check_mode(fill_mode, interpolation, type(self).__name__)
        if not _number(fill_value):
            raise ValueError(f"{type(self).__name__}: fill_value must be a number, got fill_value={fill_value!r}")
        self.fill_mode = fill_mode
        self.interpolation = interpolation
        self.fill_value = float(fill_value)

    def _matrices(self, b: int, h: int, w: int) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    _native = True

    def _transform_native(self, raw, training):
        b, h, w = _dims(raw.shape, self._channels_first)
        t = self._matrices(b, h, w)
        return _affine(raw, t, self.interpolation, self.fill_mode, self.fill_value, self._channels_first)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(fill_mode=self.fill_mode, interpolation=self.interpolation, fill_value=self.fill_value)
        return config


def _rows(*cols) -> np.ndarray:
    """(B, 8) float64 transform rows from eight columns (numbers or (B,) arrays)."""
    out = np.empty((max(np.size(c) for c in cols), len(cols)))
    for i, c in enumerate(cols):
        out[:, i] = c
    return out


class RandomTranslation(_AffineLayer):
    """In training, shift each image by a random fraction of its height and width.

    Args:
        height_factor: f shifts vertically by a fraction in [-f, f] of the height; (lo, hi) by
            [lo, hi]. Negative is up, positive down.
        width_factor: the same horizontally; negative is left, positive right.
        fill_mode: 'reflect' (default), 'wrap', 'constant' or 'nearest' (module docstring).
        interpolation: 'bilinear' or 'nearest'.
        fill_value: the value outside the image with fill_mode='constant'.

    Example::

        fastnn.layers.RandomTranslation(0.1, 0.1, fill_mode="constant")
    """

    def __init__(self, height_factor, width_factor, fill_mode: str = "reflect", interpolation: str = "bilinear",
                 seed: int | None = None, fill_value: float = 0.0, data_format=None, **kwargs):
        super().__init__(fill_mode, interpolation, seed, fill_value, data_format, **kwargs)
        self.height_factor = height_factor
        self.width_factor = width_factor
        self.height_lower, self.height_upper = _factor_pair(height_factor, "height_factor", "RandomTranslation")
        self.width_lower, self.width_upper = _factor_pair(width_factor, "width_factor", "RandomTranslation")

    def _matrices(self, b, h, w):
        dy = self._uniform(b, self.height_lower, self.height_upper) * h
        dx = self._uniform(b, self.width_lower, self.width_upper) * w
        return _rows(1.0, 0.0, -dx, 0.0, 1.0, -dy, 0.0, 0.0)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(height_factor=_json_factor(self.height_factor), width_factor=_json_factor(self.width_factor))
        return config


class RandomRotation(_AffineLayer):
    """In training, rotate each image about its centre by a random fraction of a full turn.

    Args:
        factor: f rotates by an angle in [-f, f] x 360 degrees; (lo, hi) by [lo, hi] x 360.
            Positive is counter-clockwise.
        fill_mode, interpolation, fill_value: as RandomTranslation.

    Example::

        fastnn.layers.RandomRotation(0.1)      # within +-36 degrees
    """

    def __init__(self, factor, fill_mode: str = "reflect", interpolation: str = "bilinear", seed: int | None = None,
                 fill_value: float = 0.0, data_format=None, **kwargs):
        super().__init__(fill_mode, interpolation, seed, fill_value, data_format, **kwargs)
        self.factor = _factor_pair(factor, "factor", "RandomRotation")
        self._factor_arg = factor

    def _matrices(self, b, h, w):
        angle = self._uniform(b, self.factor[0] * 2.0 * math.pi, self.factor[1] * 2.0 * math.pi)
        if self.factor[0] == self.factor[1]:
            angle[:] = self.factor[0] * 2.0 * math.pi  # a fixed angle exactly, not a float32 draw
        cos, sin = np.cos(angle), np.sin(angle)
        # output (x, y) reads R(angle) (p - c) + c about the centre c = ((w - 1) / 2, (h - 1) / 2)
        x_off = ((w - 1) - (cos * (w - 1) - sin * (h - 1))) / 2.0
        y_off = ((h - 1) - (sin * (w - 1) + cos * (h - 1))) / 2.0
        return _rows(cos, -sin, x_off, sin, cos, y_off, 0.0, 0.0)

    def get_config(self) -> dict:
        config = super().get_config()
        config["factor"] = _json_factor(self._factor_arg)
        return config


class RandomZoom(_AffineLayer):
    """In training, zoom each image about its centre by a random amount.

    Args:
        height_factor: f zooms vertically by a fraction in [-f, f]; (lo, hi) by [lo, hi].
            Positive zooms out (the image gets smaller), negative zooms in.
        width_factor: the same horizontally; None (default) keeps the aspect ratio (the
            vertical zoom is used for both).
        fill_mode, interpolation, fill_value: as RandomTranslation.

    Example::

        fastnn.layers.RandomZoom((-0.2, 0.0))     # zoom in by up to 20%
    """

    def __init__(self, height_factor, width_factor=None, fill_mode: str = "reflect", interpolation: str = "bilinear",
                 seed: int | None = None, fill_value: float = 0.0, data_format=None, **kwargs):
        super().__init__(fill_mode, interpolation, seed, fill_value, data_format, **kwargs)
        self.height_factor = height_factor
        self.width_factor = width_factor
        self.height_lower, self.height_upper = _factor_pair(height_factor, "height_factor", "RandomZoom")
        self.width_lower = self.width_upper = None
        if width_factor is not None:
            self.width_lower, self.width_upper = _factor_pair(width_factor, "width_factor", "RandomZoom")

    def _matrices(self, b, h, w):
        zy = 1.0 + self._uniform(b, self.height_lower, self.height_upper)
        zx = zy if self.width_factor is None else 1.0 + self._uniform(b, self.width_lower, self.width_upper)
        x_off = (w - 1) / 2.0 * (1.0 - zx)
        y_off = (h - 1) / 2.0 * (1.0 - zy)
        return _rows(zx, 0.0, x_off, 0.0, zy, y_off, 0.0, 0.0)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(height_factor=_json_factor(self.height_factor), width_factor=_json_factor(self.width_factor))
        return config


class RandomCrop(_ImageLayer):
    """In training, crop a random (height, width) window (one position for the whole batch, as
    Keras 3). At inference, and in training when the input is not larger than the target in
    both dimensions, take the largest centred window of the target aspect ratio and resize it
    (bilinear) to (height, width).

    Example::

        fastnn.layers.RandomCrop(28, 28)(np.zeros((8, 32, 32, 3)), training=True).shape   # (8, 28, 28, 3)
    """

    _acts_at_inference = True

    def __init__(self, height: int, width: int, seed: int | None = None, data_format=None, **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.height = _positive_int(height, "height", "RandomCrop")
        self.width = _positive_int(width, "width", "RandomCrop")

    _native = True

    def _transform_native(self, raw, training):
        cf = self._channels_first
        _, h, w = _dims(raw.shape, cf)
        if training and h > self.height and w > self.width:
            u = self._uniform(2, 0.0, 1.0)
            top = min(int(u[0] * (h - self.height + 1)), h - self.height)
            left = min(int(u[1] * (w - self.width + 1)), w - self.width)
            return _resize(raw, self.height, self.width, "bilinear", cf, (top, left, self.height, self.width))
        return _smart_resize(raw, self.height, self.width, "bilinear", cf)

    def _inference_fn(self):
        def run(a):
            return self._transform_native(self._checked_raw(a), False)

        return run

    def compute_output_shape(self, input_shape):
        s = list(input_shape)
        hi, wi = self._hw_axes(len(s))
        s[hi], s[wi] = self.height, self.width
        return tuple(s)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(height=self.height, width=self.width)
        return config


class RandomContrast(_ImageLayer):
    """In training, scale each image's contrast by a random factor c: every pixel x of a
    channel becomes ``(x - mean) * c + mean`` (mean over that image's channel), clipped to
    ``value_range``.

    Args:
        factor: f draws c in [1 - f, 1 + f]; (lo, hi) draws c in [1 - lo, 1 + hi]; values in [0, 1].
        value_range: the range of the input values, (0, 255) by default; outputs are clipped to it.

    Example::

        fastnn.layers.RandomContrast(0.2, value_range=(0, 1))
    """

    def __init__(self, factor, value_range: Sequence[float] = (0, 255), seed: int | None = None, data_format=None,
                 **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.factor = _factor_pair(factor, "factor", "RandomContrast", bounds=(0.0, 1.0), symmetric=False)
        self._factor_arg = factor
        if (not isinstance(value_range, (tuple, list)) or len(value_range) != 2
                or not all(_number(v) for v in value_range) or value_range[0] >= value_range[1]):
            raise ValueError(f"RandomContrast: value_range must be (low, high) with low < high, got {value_range!r}")
        self.value_range = (float(value_range[0]), float(value_range[1]))

    def _transform(self, nhwc, training):
        c = self._uniform(nhwc.shape[0], 1.0 - self.factor[0], 1.0 + self.factor[1]).astype(np.float32)
        mean = nhwc.mean(axis=(1, 2), keepdims=True, dtype=np.float64).astype(np.float32)
        out = (nhwc - mean) * c[:, None, None, None] + mean
        return np.clip(out, self.value_range[0], self.value_range[1])

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(factor=_json_factor(self._factor_arg), value_range=list(self.value_range))
        return config
