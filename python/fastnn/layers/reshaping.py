"""Image reshaping layers (Keras 3): UpSampling2D, ZeroPadding2D, Cropping2D, and the
channel-wise SpatialDropout2D.

Example::

    model = fastnn.models.Sequential([
        fastnn.layers.Input((7, 7, 16)),
        fastnn.layers.UpSampling2D(2),            # (14, 14, 16)
        fastnn.layers.ZeroPadding2D(1),           # (16, 16, 16)
        fastnn.layers.Cropping2D(((1, 1), (2, 2))),  # (14, 12, 16)
    ])
"""

from __future__ import annotations

from .. import _C, _raw
from .. import functional as F
from .. import random as _random
from ..functional.pooling import _channels_last, _ints, _pairs
from ..tensor import Tensor
from .base import Layer
from .core import _check_rate, _drop_all

__all__ = ["UpSampling2D", "ZeroPadding2D", "Cropping2D", "SpatialDropout2D"]


def _data_format(data_format, layer: str) -> str:
    return "channels_last" if _channels_last(data_format, layer) else "channels_first"


class _Image2D(Layer):
    def _check_input_shape(self, input_shape) -> None:
        if not isinstance(input_shape, tuple) or len(input_shape) != 4:
            raise ValueError(f"{type(self).__name__} '{self.name}' expects 4-D inputs, got input shape {input_shape}")

    def _map_hw(self, input_shape, fn):
        self._check_input_shape(input_shape)
        n, a, b, c = input_shape
        if self.data_format == "channels_last":
            return (n, fn(a, 0), fn(b, 1), c)
        return (n, a, fn(b, 0), fn(c, 1))


class UpSampling2D(_Image2D):
    """Repeats rows and columns by `size` ('nearest') or interpolates ('bilinear', half-pixel
    centres as TensorFlow's resize).

    Args:
        size: int or (rows, cols) factors; default (2, 2).
        data_format: 'channels_last' (default) or 'channels_first'.
        interpolation: 'nearest' or 'bilinear'.

    Example::

        fastnn.layers.UpSampling2D((2, 3))(fastnn.randn(1, 4, 4, 2)).shape   # (1, 8, 12, 2)
    """

    def __init__(self, size=(2, 2), data_format: str | None = None, interpolation: str = "nearest", **kwargs):
        super().__init__(**kwargs)
        self.size = _ints(size, 2, "size", "UpSampling2D")
        self.data_format = _data_format(data_format, "UpSampling2D")
        if interpolation not in ("nearest", "bilinear"):
            raise ValueError(
                f"UpSampling2D: interpolation must be 'nearest' or 'bilinear', got interpolation={interpolation!r}"
            )
        self.interpolation = interpolation
        self.built = True

    def call(self, inputs):
        return F.upsample2d(inputs, self.size, self.interpolation, self.data_format)

    def compute_output_shape(self, input_shape):
        return self._map_hw(input_shape, lambda n, i: None if n is None else n * self.size[i])

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(size=self.size, data_format=self.data_format, interpolation=self.interpolation)
        return config


class ZeroPadding2D(_Image2D):
    """Adds rows and columns of zeros at the image borders.

    Args:
        padding: int (all sides), (rows, cols) (symmetric) or ((top, bottom), (left, right)).
        data_format: 'channels_last' (default) or 'channels_first'.

    Example::

        fastnn.layers.ZeroPadding2D(((1, 0), (2, 2)))(fastnn.randn(1, 4, 4, 2)).shape   # (1, 5, 8, 2)
    """

    def __init__(self, padding=(1, 1), data_format: str | None = None, **kwargs):
        super().__init__(**kwargs)
        self.padding = _pairs(padding, "ZeroPadding2D", "padding")
        self.data_format = _data_format(data_format, "ZeroPadding2D")
        self.built = True

    def call(self, inputs):
        return F.zero_pad2d(inputs, self.padding, self.data_format)

    def compute_output_shape(self, input_shape):
        return self._map_hw(input_shape, lambda n, i: None if n is None else n + sum(self.padding[i]))

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(padding=self.padding, data_format=self.data_format)
        return config


class Cropping2D(_Image2D):
    """Removes rows and columns at the image borders.

    Args:
        cropping: int (all sides), (rows, cols) (symmetric) or ((top, bottom), (left, right)).
        data_format: 'channels_last' (default) or 'channels_first'.

    Example::

        fastnn.layers.Cropping2D(((2, 2), (4, 4)))(fastnn.randn(1, 28, 28, 3)).shape   # (1, 24, 20, 3)
    """

    def __init__(self, cropping=((0, 0), (0, 0)), data_format: str | None = None, **kwargs):
        super().__init__(**kwargs)
        self.cropping = _pairs(cropping, "Cropping2D", "cropping")
        self.data_format = _data_format(data_format, "Cropping2D")
        self.built = True

    def compute_output_shape(self, input_shape):
        def crop(n, i):
            if n is None:
                return None
            m = n - sum(self.cropping[i])
            if m <= 0:
                raise ValueError(
                    f"Cropping2D '{self.name}': cropping {self.cropping} removes every row or column of inputs "
                    f"of shape {input_shape}"
                )
            return m

        return self._map_hw(input_shape, crop)

    def call(self, inputs):
        return F.crop2d(inputs, self.cropping, self.data_format)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(cropping=self.cropping, data_format=self.data_format)
        return config


class SpatialDropout2D(_Image2D):
    """Dropout of whole feature maps: in training, each (sample, channel) map is zeroed with
    probability `rate` and the kept ones are scaled by 1 / (1 - rate); identity at inference.
    The mask comes from the Philox generator as Dropout's does (one word per sample and
    channel).

    Args:
        rate: drop probability in [0, 1]; 1 zeroes every map in training (Keras 3).
        data_format: 'channels_last' (default) or 'channels_first'.
        seed: an integer gives the layer its own reproducible stream of masks.

    Example::

        d = fastnn.layers.SpatialDropout2D(0.5)
        y = d(fastnn.ones(2, 4, 4, 8), training=True)   # each of the 16 maps all 0 or all 2
    """

    def __init__(self, rate: float, data_format: str | None = None, seed: int | None = None, **kwargs):
        super().__init__(**kwargs)
        _check_rate(rate, "SpatialDropout2D")
        self.rate = float(rate)
        self.data_format = _data_format(data_format, "SpatialDropout2D")
        self.seed = seed
        self._gen = None if seed is None else _random.Generator(seed)
        self.built = True

    def call(self, inputs, training=None):
        if not training or self.rate == 0.0:
            return inputs
        if inputs.ndim != 4:
            raise ValueError(f"SpatialDropout2D '{self.name}' expects 4-D inputs, got shape {inputs.shape}")
        n = inputs.shape[0]
        c = inputs.shape[3] if self.data_format == "channels_last" else inputs.shape[1]
        mshape = (n, 1, 1, c) if self.data_format == "channels_last" else (n, c, 1, 1)
        gen = self._gen if self._gen is not None else _random.default_generator
        if self.rate == 1.0:
            return _drop_all(inputs, mshape, gen)
        key, offset = gen.take(n * c)
        # The mask is dropout applied to ones: 0 or 1 / (1 - rate) per map, broadcast over the image.
        mask = _C.dropout_forward(_raw.full(mshape, 1.0, inputs.device), self.rate, key, offset)
        return F.mul(inputs, Tensor._wrap(mask))

    def _inference_fn(self):
        return lambda a: a

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(rate=self.rate, seed=self.seed, data_format=self.data_format)
        return config
