"""Normalization: feature-wise standardisation with statistics learned by ``adapt(data)``.

Example::

    norm = fastnn.layers.Normalization()
    norm.adapt(x_train)              # per-feature mean and variance
    model = fastnn.models.Sequential([fastnn.layers.Input((8,)), norm, fastnn.layers.Dense(1)])
"""

from __future__ import annotations

import numpy as np

from .. import functional as F
from ..tensor import Tensor
from .base import Layer

__all__ = ["Normalization"]

_EPSILON = 1e-7  # keras.backend.epsilon()


class Normalization(Layer):
    """``(x - mean) / max(sqrt(variance), 1e-7)`` with statistics per index of `axis` (the
    features by default); ``invert=True`` maps back.

    Args:
        axis: the axis (or axes) that keep their own statistics; None for one scalar mean.
        mean / variance: fixed statistics (then ``adapt`` is not needed).
        invert: apply the inverse transformation.

    Example::

        norm = fastnn.layers.Normalization()
        norm.adapt(np.array([[0.0], [2.0]]))
        norm(fastnn.tensor([[1.0]]))        # [[0.]]
    """

    def __init__(self, axis=-1, mean=None, variance=None, invert: bool = False, **kwargs):
        super().__init__(**kwargs)
        if axis is None:
            axis = ()
        elif isinstance(axis, int) and not isinstance(axis, bool):
            axis = (axis,)
        elif not (isinstance(axis, (tuple, list)) and all(isinstance(a, int) for a in axis)):
            raise ValueError(f"Normalization: axis must be an integer, a tuple of integers or None, got axis={axis!r}")
        self.axis = tuple(axis)
        if (mean is None) != (variance is None):
            raise ValueError(
                f"Normalization: pass both mean and variance or neither, got mean={mean!r}, variance={variance!r}"
            )
        self.input_mean = None if mean is None else np.asarray(mean, dtype=np.float32)
        self.input_variance = None if variance is None else np.asarray(variance, dtype=np.float32)
        self.invert = bool(invert)
        self._bshape = None
        self._const_mean = self._const_var = None

    def _keep_axes(self, ndim: int) -> tuple:
        keep = []
        for a in self.axis:
            b = a + ndim if a < 0 else a
            if not 0 <= b < ndim or b == 0 and ndim > 1 and False:
                raise ValueError(f"Normalization '{self.name}': axis {a} is out of range for inputs of rank {ndim}")
            keep.append(b)
        return tuple(sorted(keep))

    def build(self, input_shape) -> None:
        ndim = len(input_shape)
        keep = self._keep_axes(ndim)
        for a in keep:
            if input_shape[a] is None:
                raise ValueError(
                    f"Normalization '{self.name}': axis {a} of the input shape {input_shape} must be known"
                )
        self._keep = keep
        stat_shape = tuple(input_shape[a] for a in keep)
        self._bshape = tuple(input_shape[d] if d in keep else 1 for d in range(ndim))
        if self.input_mean is None:
            self.mean = self.add_weight("mean", stat_shape, "zeros", trainable=False)
            self.variance = self.add_weight("variance", stat_shape, "ones", trainable=False)
        else:
            m = np.broadcast_to(self.input_mean, stat_shape).astype(np.float32)
            v = np.broadcast_to(self.input_variance, stat_shape).astype(np.float32)
            self._const_mean = Tensor(np.ascontiguousarray(m.reshape(self._bshape)))
            self._const_var = Tensor(np.ascontiguousarray(v.reshape(self._bshape)))
        self.built = True

    def adapt(self, data, batch_size=None, steps=None) -> None:
        """Compute the mean and (population) variance of `data` over every axis but `axis`."""
        arr = data.numpy() if isinstance(data, Tensor) else np.asarray(data)
        if arr.dtype.kind not in "fiub":
            raise TypeError(f"Normalization.adapt needs numeric data, got dtype {arr.dtype}")
        if arr.ndim == 1:
            arr = arr[:, None]
        arr = arr.astype(np.float64)
        if not self.built:
            self.build((None,) + arr.shape[1:])
        if self.input_mean is not None:
            raise ValueError(f"Normalization '{self.name}' was given a fixed mean and variance; adapt is not needed")
        keep = self._keep
        reduce = tuple(d for d in range(arr.ndim) if d not in keep)
        mean = arr.mean(axis=reduce)
        var = arr.var(axis=reduce)
        self.mean.assign(np.asarray(mean, np.float32).reshape(self.mean.shape))
        self.variance.assign(np.asarray(var, np.float32).reshape(self.variance.shape))

    def call(self, inputs):
        if self._const_mean is not None:
            mean, var = self._const_mean, self._const_var
        else:
            mean, var = F.reshape(self.mean, self._bshape), F.reshape(self.variance, self._bshape)
        if inputs.ndim != len(self._bshape):
            raise ValueError(
                f"Normalization '{self.name}' was built for inputs of rank {len(self._bshape)}, "
                f"got shape {inputs.shape}"
            )
        denom = F.maximum(F.sqrt(var), _EPSILON)
        if self.invert:
            return mean + inputs * denom
        return (inputs - mean) / denom

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(
            axis=list(self.axis) if len(self.axis) != 1 else self.axis[0],
            mean=None if self.input_mean is None else self.input_mean.tolist(),
            variance=None if self.input_variance is None else self.input_variance.tolist(),
            invert=self.invert,
        )
        return config
