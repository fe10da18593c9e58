"""Normalization layers (Keras 3): BatchNormalization and LayerNormalization.

Example::

    model = fastnn.models.Sequential([
        fastnn.layers.Input((32, 32, 3)),
        fastnn.layers.BatchNormalization(),
        fastnn.layers.LayerNormalization(),
    ])
"""

from __future__ import annotations

import numpy as np

from .. import _C
from .. import constraints as _constraints
from .. import functional as F
from .. import initializers as _initializers
from .. import regularizers as _regularizers
from .base import Layer

__all__ = ["BatchNormalization", "LayerNormalization"]


def _init_config(init):
    return _initializers.serialize(init) if isinstance(init, _initializers.Initializer) else None


def _reg_config(reg):
    return _regularizers.serialize(reg)


def _number(value, name: str, layer: str, low: float, high: float | None, open_low: bool) -> float:
    ok = not isinstance(value, bool) and isinstance(value, (int, float, np.integer, np.floating))
    if ok:
        v = float(value)
        ok = (v > low if open_low else v >= low) and (high is None or v <= high)
    if not ok:
        rng = f"({low}, inf)" if high is None else f"[{low}, {high}]"
        raise ValueError(f"{layer}: {name} must be a number in {rng}, got {name}={value!r}")
    return float(value)


class BatchNormalization(Layer):
    """Normalises each channel with batch statistics in training and with moving statistics at
    inference, then scales by gamma and shifts by beta (Keras 3).

    In training (``training=True`` and the layer trainable) the batch mean and biased variance
    over every axis but `axis` normalise the inputs, and the moving statistics follow
    ``moving = moving * momentum + batch * (1 - momentum)``. Otherwise the moving statistics are
    used. As in Keras 3, ``trainable=False`` puts the layer in inference mode.

    Weights (in this order): gamma and beta (trainable, when scale / center), moving_mean and
    moving_variance (non-trainable): 4 * C parameters, 2 * C of them non-trainable.

    Args:
        axis: the channel axis (-1 for channels_last, 1 for channels_first).
        momentum: moving average momentum, 0.99 by default (torch's momentum is 1 - this).
        epsilon: added to the variance, 1e-3 by default.
        center / scale: learn beta / gamma.
        *_initializer, *_regularizer, beta_constraint / gamma_constraint: as in Keras.

    Example::

        bn = fastnn.layers.BatchNormalization()
        y = bn(fastnn.randn(32, 16), training=True)    # moving statistics move towards the batch's
        bn.count_params()                              # 64
    """

    def __init__(
        self,
        axis: int = -1,
        momentum: float = 0.99,
        epsilon: float = 1e-3,
        center: bool = True,
        scale: bool = True,
        beta_initializer="zeros",
        gamma_initializer="ones",
        moving_mean_initializer="zeros",
        moving_variance_initializer="ones",
        beta_regularizer=None,
        gamma_regularizer=None,
        beta_constraint=None,
        gamma_constraint=None,
        synchronized: bool = False,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if isinstance(axis, (list, tuple)) and len(axis) == 1:
            axis = axis[0]
        if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)):
            raise ValueError(f"BatchNormalization: axis must be an integer, got axis={axis!r}")
        self.axis = int(axis)
        self.momentum = _number(momentum, "momentum", "BatchNormalization", 0.0, 1.0, False)
        self.epsilon = _number(epsilon, "epsilon", "BatchNormalization", 0.0, None, True)
        self.center, self.scale = bool(center), bool(scale)
        self.beta_initializer = _initializers.get(beta_initializer)
        self.gamma_initializer = _initializers.get(gamma_initializer)
        self.moving_mean_initializer = _initializers.get(moving_mean_initializer)
        self.moving_variance_initializer = _initializers.get(moving_variance_initializer)
        self.beta_regularizer = _regularizers.get(beta_regularizer)
        self.gamma_regularizer = _regularizers.get(gamma_regularizer)
        self.beta_constraint = _constraints.get(beta_constraint)
        self.gamma_constraint = _constraints.get(gamma_constraint)
        if synchronized:
            raise ValueError("BatchNormalization: synchronized=True needs a distributed strategy, which fastnn lacks")
        self.gamma = self.beta = None
        self._ndim = None

    def _channel_axis(self, ndim: int) -> int:
        if not -ndim <= self.axis < ndim:
            raise ValueError(
                f"BatchNormalization '{self.name}': axis {self.axis} is out of range for inputs of rank {ndim}"
            )
        return self.axis % ndim

    def build(self, input_shape) -> None:
        if not isinstance(input_shape, tuple) or not input_shape:
            raise ValueError(f"BatchNormalization '{self.name}' expects one input tensor, got shape {input_shape}")
        a = self._channel_axis(len(input_shape))
        c = input_shape[a]
        if c is None:
            raise ValueError(
                f"BatchNormalization '{self.name}': axis {self.axis} of the input shape {input_shape} must be known"
            )
        shape = (int(c),)
        if self.scale:
            self.gamma = self.add_weight(
                "gamma", shape, self.gamma_initializer, regularizer=self.gamma_regularizer,
                constraint=self.gamma_constraint,
            )
        if self.center:
            self.beta = self.add_weight(
                "beta", shape, self.beta_initializer, regularizer=self.beta_regularizer,
                constraint=self.beta_constraint,
            )
        self.moving_mean = self.add_weight("moving_mean", shape, self.moving_mean_initializer, trainable=False)
        self.moving_variance = self.add_weight(
            "moving_variance", shape, self.moving_variance_initializer, trainable=False
        )
        self._ndim = len(input_shape)
        self.built = True

    def _check_call(self, inputs) -> int:
        a = self._channel_axis(inputs.ndim)
        if inputs.ndim != self._ndim or inputs.shape[a] != self.moving_mean.shape[0]:
            raise ValueError(
                f"Input of layer '{self.name}' is incompatible with the layer: expected rank {self._ndim} with "
                f"{self.moving_mean.shape[0]} channels on axis {self.axis}, got an input of shape {inputs.shape}"
            )
        return a

    def call(self, inputs, training=None):
        a = self._check_call(inputs)
        train = bool(training) and self.trainable
        return F.batch_norm(
            inputs, self.moving_mean, self.moving_variance, self.gamma, self.beta, training=train,
            momentum=self.momentum, epsilon=self.epsilon, axis=a,
        )

    def _inference_fn(self):
        gamma, beta = self.gamma, self.beta
        mm, mv, eps, ndim = self.moving_mean, self.moving_variance, self.epsilon, self._ndim
        axis = self.axis % ndim

        def run(a):
            if a.ndim != ndim:
                return None
            g = None if gamma is None else gamma._data
            b = None if beta is None else beta._data
            return _C.batch_norm_forward(a, mm._data, mv._data, g, b, axis, eps)

        return run

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(
            axis=self.axis,
            momentum=self.momentum,
            epsilon=self.epsilon,
            center=self.center,
            scale=self.scale,
            beta_initializer=_init_config(self.beta_initializer),
            gamma_initializer=_init_config(self.gamma_initializer),
            moving_mean_initializer=_init_config(self.moving_mean_initializer),
            moving_variance_initializer=_init_config(self.moving_variance_initializer),
            beta_regularizer=_reg_config(self.beta_regularizer),
            gamma_regularizer=_reg_config(self.gamma_regularizer),
            beta_constraint=_constraints.serialize(self.beta_constraint),
            gamma_constraint=_constraints.serialize(self.gamma_constraint),
            synchronized=False,
        )
        return config


class LayerNormalization(Layer):
    """Normalises each sample over `axis` (the last axis by default; a tuple of trailing axes
    works too): ``(x - mean) / sqrt(var + epsilon) * gamma + beta`` (Keras 3).

    Args:
        axis: -1 or a tuple of trailing axes.
        epsilon: 1e-3 by default.
        center / scale: learn beta / gamma (shape of the normalised axes).
        rms_scaling: not supported (False).
        beta/gamma initializers, regularizers and constraints: as in Keras.

    Example::

        ln = fastnn.layers.LayerNormalization()
        ln(fastnn.randn(4, 10)).shape       # (4, 10); ln.gamma.shape == (10,)
    """

    def __init__(
        self,
        axis=-1,
        epsilon: float = 1e-3,
        center: bool = True,
        scale: bool = True,
        rms_scaling: bool = False,
        beta_initializer="zeros",
        gamma_initializer="ones",
        beta_regularizer=None,
        gamma_regularizer=None,
        beta_constraint=None,
        gamma_constraint=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        items = tuple(axis) if isinstance(axis, (list, tuple)) else (axis,)
        if not items or any(isinstance(a, bool) or not isinstance(a, (int, np.integer)) for a in items):
            raise ValueError(f"LayerNormalization: axis must be an integer or a tuple of integers, got axis={axis!r}")
        self.axis = int(items[0]) if not isinstance(axis, (list, tuple)) else [int(a) for a in items]
        self.epsilon = _number(epsilon, "epsilon", "LayerNormalization", 0.0, None, True)
        self.center, self.scale = bool(center), bool(scale)
        if rms_scaling:
            raise NotImplementedError("LayerNormalization: rms_scaling=True is not supported yet")
        self.rms_scaling = False
        self.beta_initializer = _initializers.get(beta_initializer)
        self.gamma_initializer = _initializers.get(gamma_initializer)
        self.beta_regularizer = _regularizers.get(beta_regularizer)
        self.gamma_regularizer = _regularizers.get(gamma_regularizer)
        self.beta_constraint = _constraints.get(beta_constraint)
        self.gamma_constraint = _constraints.get(gamma_constraint)
        self.gamma = self.beta = None

    def _axes(self, ndim: int) -> list[int]:
        items = self.axis if isinstance(self.axis, list) else [self.axis]
        out = sorted(a % ndim if -ndim <= a < ndim else -1 for a in items)
        if -1 in out or out != list(range(ndim - len(out), ndim)):
            raise ValueError(
                f"LayerNormalization '{self.name}': axis {self.axis} must name the last axis or a run of trailing "
                f"axes of inputs of rank {ndim}"
            )
        return out

    def build(self, input_shape) -> None:
        if not isinstance(input_shape, tuple) or not input_shape:
            raise ValueError(f"LayerNormalization '{self.name}' expects one input tensor, got shape {input_shape}")
        axes = self._axes(len(input_shape))
        shape = tuple(input_shape[a] for a in axes)
        if any(s is None for s in shape):
            raise ValueError(
                f"LayerNormalization '{self.name}': the normalised axes of the input shape {input_shape} must be known"
            )
        if self.scale:
            self.gamma = self.add_weight(
                "gamma", shape, self.gamma_initializer, regularizer=self.gamma_regularizer,
                constraint=self.gamma_constraint,
            )
        if self.center:
            self.beta = self.add_weight(
                "beta", shape, self.beta_initializer, regularizer=self.beta_regularizer,
                constraint=self.beta_constraint,
            )
        self._norm_shape = shape
        self.built = True

    def call(self, inputs):
        axes = self._axes(inputs.ndim)
        if tuple(inputs.shape[a] for a in axes) != self._norm_shape:
            raise ValueError(
                f"Input of layer '{self.name}' is incompatible with the layer: expected the normalised axes to "
                f"have shape {self._norm_shape}, got an input of shape {inputs.shape}"
            )
        return F.layer_norm(inputs, self.gamma, self.beta, axis=tuple(axes), epsilon=self.epsilon)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(
            axis=self.axis,
            epsilon=self.epsilon,
            center=self.center,
            scale=self.scale,
            rms_scaling=False,
            beta_initializer=_init_config(self.beta_initializer),
            gamma_initializer=_init_config(self.gamma_initializer),
            beta_regularizer=_reg_config(self.beta_regularizer),
            gamma_regularizer=_reg_config(self.gamma_regularizer),
            beta_constraint=_constraints.serialize(self.beta_constraint),
            gamma_constraint=_constraints.serialize(self.gamma_constraint),
        )
        return config
