"""Pooling layers (Keras 3): MaxPooling1D/2D, AveragePooling1D/2D and the global poolings.

Example::

    model = fastnn.models.Sequential([
        fastnn.layers.Input((28, 28, 6)),
        fastnn.layers.MaxPooling2D(2),
        fastnn.layers.GlobalAveragePooling2D(),
    ])
"""

from __future__ import annotations

from .. import _C
from .. import functional as F
from ..functional.pooling import _channels_last, _ints, _padding, pool_output_length
from .base import Layer

__all__ = [
    "MaxPooling1D",
    "MaxPooling2D",
    "AveragePooling1D",
    "AveragePooling2D",
    "GlobalAveragePooling1D",
    "GlobalAveragePooling2D",
    "GlobalMaxPooling1D",
    "GlobalMaxPooling2D",
]


def _data_format(data_format, layer: str) -> str:
    return "channels_last" if _channels_last(data_format, layer) else "channels_first"


class _Pooling(Layer):
    _rank = 2
    _fn = None  # the functional op
    _kernel = None  # the _C forward used by the direct inference path

    def __init__(self, pool_size, strides=None, padding: str = "valid", data_format: str | None = None, **kwargs):
        super().__init__(**kwargs)
        cls = type(self).__name__
        self.pool_size = _ints(pool_size, self._rank, "pool_size", cls)
        self.strides = _ints(strides if strides is not None else self.pool_size, self._rank, "strides", cls)
        self.padding = _padding(padding, cls)
        self.data_format = _data_format(data_format, cls)
        self.built = True

    def _check_input_shape(self, input_shape) -> None:
        if not isinstance(input_shape, tuple) or len(input_shape) != self._rank + 2:
            raise ValueError(
                f"{type(self).__name__} '{self.name}' expects {self._rank + 2}-D inputs, got input shape {input_shape}"
            )

    def call(self, inputs):
        return type(self)._fn(inputs, self.pool_size, self.strides, self.padding, self.data_format)

    def compute_output_shape(self, input_shape):
        self._check_input_shape(input_shape)
        cl = self.data_format == "channels_last"
        spatial = input_shape[1:-1] if cl else input_shape[2:]
        out = []
        for n, k, s in zip(spatial, self.pool_size, self.strides):
            m = pool_output_length(n, k, s, self.padding)
            if m == 0:
                raise ValueError(
                    f"{type(self).__name__} '{self.name}': pool_size {self.pool_size} with padding='valid' does "
                    f"not fit inputs of shape {input_shape}"
                )
            out.append(m)
        if cl:
            return (input_shape[0], *out, input_shape[-1])
        return (input_shape[0], input_shape[1], *out)

    def _inference_fn(self):
        if self._rank != 2:
            return None
        kh, kw = self.pool_size
        sh, sw = self.strides
        pad, cl = self.padding, self.data_format == "channels_last"
        if type(self)._kernel == "max":
            return lambda a: _C.max_pool2d_forward(a, kh, kw, sh, sw, pad, cl)[0] if a.ndim == 4 else None
        return lambda a: _C.avg_pool2d_forward(a, kh, kw, sh, sw, pad, cl) if a.ndim == 4 else None

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(
            pool_size=self.pool_size, padding=self.padding, strides=self.strides, data_format=self.data_format
        )
        return config


class MaxPooling2D(_Pooling):
    """Max pooling of images: the maximum of each pool_size window, moved by strides.

    Args:
        pool_size: int or (rows, cols); default (2, 2).
        strides: int, (rows, cols) or None (= pool_size).
        padding: 'valid' (windows inside the image) or 'same' (output ceil(n / strides);
            TensorFlow's padding, the extra cell at the bottom / right).
        data_format: 'channels_last' (N, H, W, C) (default) or 'channels_first' (N, C, H, W).

    Example::

        fastnn.layers.MaxPooling2D((2, 2))(fastnn.randn(4, 28, 28, 6)).shape   # (4, 14, 14, 6)
    """

    _fn = staticmethod(F.max_pool2d)
    _kernel = "max"

    def __init__(
        self, pool_size=(2, 2), strides=None, padding: str = "valid", data_format: str | None = None, **kwargs
    ):
        super().__init__(pool_size, strides, padding, data_format, **kwargs)


class AveragePooling2D(_Pooling):
    """Average pooling of images; with 'same' padding each window is divided by its number of
    valid cells (TensorFlow's rule). Arguments as MaxPooling2D.

    Example::

        fastnn.layers.AveragePooling2D(3, strides=2, padding="same")(fastnn.randn(1, 7, 7, 2)).shape   # (1, 4, 4, 2)
    """

    _fn = staticmethod(F.avg_pool2d)
    _kernel = "avg"

    def __init__(
        self, pool_size=(2, 2), strides=None, padding: str = "valid", data_format: str | None = None, **kwargs
    ):
        super().__init__(pool_size, strides, padding, data_format, **kwargs)


class MaxPooling1D(_Pooling):
    """Max pooling of sequences (N, steps, C) (or (N, C, steps) with channels_first).

    Example::

        fastnn.layers.MaxPooling1D(2)(fastnn.randn(4, 10, 3)).shape   # (4, 5, 3)
    """

    _rank = 1
    _fn = staticmethod(F.max_pool1d)

    def __init__(self, pool_size=2, strides=None, padding: str = "valid", data_format: str | None = None, **kwargs):
        super().__init__(pool_size, strides, padding, data_format, **kwargs)


class AveragePooling1D(_Pooling):
    """Average pooling of sequences (N, steps, C) (or (N, C, steps) with channels_first).

    Example::

        fastnn.layers.AveragePooling1D(3, padding="same")(fastnn.randn(4, 10, 3)).shape   # (4, 4, 3)
    """

    _rank = 1
    _fn = staticmethod(F.avg_pool1d)

    def __init__(self, pool_size=2, strides=None, padding: str = "valid", data_format: str | None = None, **kwargs):
        super().__init__(pool_size, strides, padding, data_format, **kwargs)


class _GlobalPooling(Layer):
    _rank = 2
    _fn = None

    def __init__(self, data_format: str | None = None, keepdims: bool = False, **kwargs):
        super().__init__(**kwargs)
        self.data_format = _data_format(data_format, type(self).__name__)
        self.keepdims = bool(keepdims)
        self.built = True

    def _check_input_shape(self, input_shape) -> None:
        if not isinstance(input_shape, tuple) or len(input_shape) != self._rank + 2:
            raise ValueError(
                f"{type(self).__name__} '{self.name}' expects {self._rank + 2}-D inputs, got input shape {input_shape}"
            )

    def call(self, inputs):
        return type(self)._fn(inputs, self.data_format, self.keepdims)

    def compute_output_shape(self, input_shape):
        self._check_input_shape(input_shape)
        cl = self.data_format == "channels_last"
        c = input_shape[-1] if cl else input_shape[1]
        if not self.keepdims:
            return (input_shape[0], c)
        ones = (1,) * self._rank
        return (input_shape[0], *ones, c) if cl else (input_shape[0], c, *ones)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(data_format=self.data_format, keepdims=self.keepdims)
        return config


class GlobalAveragePooling2D(_GlobalPooling):
    """Mean over height and width: (N, H, W, C) -> (N, C) ((N, 1, 1, C) with keepdims=True).

    Example::

        fastnn.layers.GlobalAveragePooling2D()(fastnn.randn(2, 7, 7, 8)).shape   # (2, 8)
    """

    _fn = staticmethod(F.global_avg_pool2d)


class GlobalMaxPooling2D(_GlobalPooling):
    """Max over height and width: (N, H, W, C) -> (N, C) ((N, 1, 1, C) with keepdims=True).

    Example::

        fastnn.layers.GlobalMaxPooling2D(keepdims=True)(fastnn.randn(2, 7, 7, 8)).shape   # (2, 1, 1, 8)
    """

    _fn = staticmethod(F.global_max_pool2d)


class GlobalAveragePooling1D(_GlobalPooling):
    """Mean over the steps: (N, L, C) -> (N, C).

    Example::

        fastnn.layers.GlobalAveragePooling1D()(fastnn.randn(2, 9, 4)).shape   # (2, 4)
    """

    _rank = 1
    _fn = staticmethod(F.global_avg_pool1d)


class GlobalMaxPooling1D(_GlobalPooling):
    """Max over the steps: (N, L, C) -> (N, C).

    Example::

        fastnn.layers.GlobalMaxPooling1D()(fastnn.randn(2, 9, 4)).shape   # (2, 4)
    """

    _rank = 1
    _fn = staticmethod(F.global_max_pool1d)
