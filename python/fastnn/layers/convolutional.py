"""Convolution layers with Keras 3 arguments, weight names and layouts: Conv1D, Conv2D,
Conv2DTranspose, DepthwiseConv2D, SeparableConv2D.

Kernels are (kernel_size..., in_channels / groups, filters) in both data formats (Keras's
layout); Conv2DTranspose's is (kh, kw, filters, in_channels), DepthwiseConv2D's
(kh, kw, in_channels, depth_multiplier). padding='same' follows TensorFlow (output
ceil(n / strides), the extra pixel at the bottom / right).

Example::

    model = fastnn.models.Sequential([
        fastnn.layers.Input(shape=(32, 32, 3)),
        fastnn.layers.Conv2D(32, (5, 5), strides=(2, 2), padding="same", activation="relu"),
        fastnn.layers.Conv2D(32, (5, 5), strides=(2, 2), activation="relu"),
        fastnn.layers.Flatten(),
        fastnn.layers.Dense(10, activation="softmax"),
    ])
"""

from __future__ import annotations

import numpy as np

from .. import activations as _activations
from .. import constraints as _constraints
from .. import functional as F
from .. import initializers as _initializers
from .. import regularizers as _regularizers
from ..functional.conv import conv_output_length, conv_transpose_output_length
from .base import Layer

__all__ = ["Conv1D", "Conv2D", "Conv2DTranspose", "DepthwiseConv2D", "SeparableConv2D"]

_FUSED = frozenset({"linear", "relu", "sigmoid", "tanh"})  # activations the conv kernel fuses


def _tuple(value, n: int, name: str, layer: str, allow_zero: bool = False) -> tuple[int, ...]:
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        value = (int(value),) * n
    if not isinstance(value, (tuple, list)) or len(value) != n:
        raise ValueError(f"{layer}: {name} must be an int or a tuple of {n} ints, got {name}={value!r}")
    low = 0 if allow_zero else 1
    if any(isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < low for v in value):
        kind = "non-negative" if allow_zero else "positive"
        raise ValueError(f"{layer}: {name} must be {kind} integers, got {name}={value!r}")
    return tuple(int(v) for v in value)


def _ser(obj, module):
    return module.serialize(obj) if isinstance(obj, _initializers.Initializer) else None


def _check_depth_multiplier(value, layer: str) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{layer}: depth_multiplier must be a positive integer, got depth_multiplier={value!r}")


def _data_format(value, layer: str) -> str:
    value = "channels_last" if value is None else value
    if value not in ("channels_last", "channels_first"):
        raise ValueError(f"{layer}: data_format must be 'channels_last' or 'channels_first', got {value!r}")
    return value


class _Conv(Layer):
    """Shared argument handling of the convolution layers (rank 1 or 2)."""

    rank = 2
    _paddings = ("valid", "same")

    def __init__(
        self,
        filters,
        kernel_size,
        strides=1,
        padding="valid",
        data_format=None,
        dilation_rate=1,
        groups=1,
        activation=None,
        use_bias=True,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        kernel_regularizer=None,
        bias_regularizer=None,
        activity_regularizer=None,
        kernel_constraint=None,
        bias_constraint=None,
        **kwargs,
    ):
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        cls = type(self).__name__
        if filters is not None:
            if isinstance(filters, bool) or not isinstance(filters, (int, np.integer)) or filters <= 0:
                raise ValueError(f"{cls}: filters must be a positive integer, got filters={filters!r}")
            filters = int(filters)
        self.filters = filters
        self.kernel_size = _tuple(kernel_size, self.rank, "kernel_size", cls)
        self.strides = _tuple(strides, self.rank, "strides", cls)
        self.dilation_rate = _tuple(dilation_rate, self.rank, "dilation_rate", cls)
        if not isinstance(padding, str) or padding.lower() not in self._paddings:
            raise ValueError(f"{cls}: padding must be one of {self._paddings}, got padding={padding!r}")
        self.padding = padding.lower()
        self.data_format = _data_format(data_format, cls)
        if isinstance(groups, bool) or not isinstance(groups, (int, np.integer)) or groups < 1:
            raise ValueError(f"{cls}: groups must be a positive integer, got groups={groups!r}")
        self.groups = int(groups)
        if filters is not None and filters % self.groups:
            raise ValueError(
                f"{cls}: filters={filters} must be divisible by groups={self.groups}"
            )
        if max(self.strides) > 1 and max(self.dilation_rate) > 1:
            raise ValueError(
                f"{cls}: strides > 1 cannot be combined with dilation_rate > 1 (Keras), got "
                f"strides={self.strides}, dilation_rate={self.dilation_rate}"
            )
        self.activation = _activations.get(activation)
        self._act_name = _activations.serialize(self.activation)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = _initializers.get(kernel_initializer)
        self.bias_initializer = _initializers.get(bias_initializer)
        self.kernel_regularizer = _regularizers.get(kernel_regularizer)
        self.bias_regularizer = _regularizers.get(bias_regularizer)
        self.kernel_constraint = _constraints.get(kernel_constraint)
        self.bias_constraint = _constraints.get(bias_constraint)
        self._channels = None

    # ------------------------------------------------------------------ shapes
    @property
    def _channel_axis(self) -> int:
        return -1 if self.data_format == "channels_last" else 1

    def _spatial(self, shape):
        return tuple(shape[1:-1]) if self.data_format == "channels_last" else tuple(shape[2:])

    def _with(self, batch, spatial, channels):
        if self.data_format == "channels_last":
            return (batch,) + tuple(spatial) + (channels,)
        return (batch, channels) + tuple(spatial)

    def _check_input_shape(self, input_shape) -> None:
        name = type(self).__name__
        if not isinstance(input_shape, tuple) or len(input_shape) != self.rank + 2:
            raise ValueError(
                f"Input 0 of layer '{self.name}' ({name}) is incompatible with the layer: expected "
                f"ndim={self.rank + 2}, found input shape {input_shape}"
            )
        c = input_shape[self._channel_axis]
        if c is None:
            raise ValueError(
                f"{name} layer '{self.name}': the channel dimension of the inputs must be defined, "
                f"got input shape {input_shape}"
            )

    def _check_channels(self, shape) -> None:
        c = shape[self._channel_axis]
        if self._channels is not None and c not in (None, self._channels):
            raise ValueError(
                f"Input of layer '{self.name}' is incompatible with the layer: expected {self._channels} "
                f"channels on axis {self._channel_axis}, but received an input of shape {shape}"
            )

    def _out_spatial(self, spatial):
        pad = "same" if self.padding == "causal" else self.padding
        out = tuple(
            conv_output_length(n, k, pad, s, d)
            for n, k, s, d in zip(spatial, self.kernel_size, self.strides, self.dilation_rate)
        )
        for n, o in zip(spatial, out):
            if n is not None and o is not None and o <= 0:
                raise ValueError(
                    f"{type(self).__name__} layer '{self.name}': the kernel {self.kernel_size} with dilation "
                    f"{self.dilation_rate} does not fit in the spatial size {spatial} (padding='{self.padding}'): "
                    "the output would be empty"
                )
        return out

    def compute_output_shape(self, input_shape):
        self._check_input_shape(tuple(input_shape))
        self._check_channels(input_shape)
        return self._with(input_shape[0], self._out_spatial(self._spatial(input_shape)), self._out_channels())

    def _out_channels(self) -> int:
        return self.filters

    def _activate(self, y):
        return y if self.activation is _activations.linear else self.activation(y)

    def _fused_act(self):
        return self._act_name if self._act_name in _FUSED else None

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(
            filters=self.filters,
            kernel_size=list(self.kernel_size),
            strides=list(self.strides),
            padding=self.padding,
            data_format=self.data_format,
            dilation_rate=list(self.dilation_rate),
            groups=self.groups,
            activation=self._act_name,
            use_bias=self.use_bias,
            kernel_initializer=_ser(self.kernel_initializer, _initializers),
            bias_initializer=_ser(self.bias_initializer, _initializers),
            kernel_regularizer=_regularizers.serialize(self.kernel_regularizer),
            bias_regularizer=_regularizers.serialize(self.bias_regularizer),
            kernel_constraint=_constraints.serialize(self.kernel_constraint),
            bias_constraint=_constraints.serialize(self.bias_constraint),
        )
        return config

    # ------------------------------------------------------------------ weights and call
    def build(self, input_shape) -> None:
        c = int(input_shape[self._channel_axis])
        if c % self.groups:
            raise ValueError(
                f"{type(self).__name__} layer '{self.name}': the {c} input channels (input shape {input_shape}) "
                f"are not divisible by groups={self.groups}"
            )
        self._channels = c
        self.kernel = self.add_weight(
            "kernel",
            self.kernel_size + (c // self.groups, self.filters),
            self.kernel_initializer,
            regularizer=self.kernel_regularizer,
            constraint=self.kernel_constraint,
        )
        self.bias = (
            self.add_weight(
                "bias", (self.filters,), self.bias_initializer, regularizer=self.bias_regularizer,
                constraint=self.bias_constraint,
            )
            if self.use_bias
            else None
        )
        self.built = True

    def _check_call(self, inputs) -> None:
        if inputs.ndim != self.rank + 2:
            raise ValueError(
                f"Input 0 of layer '{self.name}' is incompatible with the layer: expected ndim={self.rank + 2}, "
                f"found input shape {inputs.shape}"
            )
        self._check_channels(inputs.shape)


class Conv2D(_Conv):
    """2-D convolution: ``activation(conv2d(inputs, kernel) + bias)``.

    Args:
        filters: output channels.
        kernel_size, strides, dilation_rate: an int or a pair.
        padding: 'valid' or 'same' (TensorFlow's rule, also with strides).
        data_format: 'channels_last' (default, (batch, h, w, c)) or 'channels_first'.
        groups: channels split into groups convolved separately (filters divisible by it).
        activation, use_bias, kernel/bias initializers, regularizers and constraints: as Dense.
    The kernel is (kh, kw, c / groups, filters), the bias (filters,); relu, sigmoid and tanh
    run fused into the convolution kernel.

    Example::

        layer = fastnn.layers.Conv2D(32, (5, 5), strides=(2, 2), padding="same", activation="relu")
        layer(fastnn.ones(4, 32, 32, 3)).shape     # (4, 16, 16, 32)
        layer.count_params()                       # 5 * 5 * 3 * 32 + 32 = 2432
    """

    def call(self, inputs):
        self._check_call(inputs)
        act = self._fused_act()
        y = F.conv2d(
            inputs, self.kernel, self.bias, self.strides, self.padding, self.data_format, self.dilation_rate,
            self.groups, act,
        )
        return y if act is not None else self._activate(y)


class Conv1D(_Conv):
    """1-D convolution over steps: inputs (batch, steps, c) (channels_first: (batch, c, steps)),
    kernel (k, c / groups, filters). padding 'valid', 'same' or 'causal' (output t sees inputs
    up to t only: WaveNet-style).

    Example::

        layer = fastnn.layers.Conv1D(8, 3, padding="causal", dilation_rate=2)
        layer(fastnn.ones(2, 20, 4)).shape    # (2, 20, 8)
    """

    rank = 1
    _paddings = ("valid", "same", "causal")

    def __init__(self, filters, kernel_size, strides=1, padding="valid", data_format="channels_last", **kwargs):
        super().__init__(filters, kernel_size, strides, padding, data_format, **kwargs)
        if self.padding == "causal" and self.data_format != "channels_last":
            raise ValueError("Conv1D: padding='causal' requires data_format='channels_last' (Keras)")

    def call(self, inputs):
        self._check_call(inputs)
        act = self._fused_act()
        y = F.conv1d(
            inputs, self.kernel, self.bias, self.strides[0], self.padding, self.data_format,
            self.dilation_rate[0], self.groups, act,
        )
        return y if act is not None else self._activate(y)


class Conv2DTranspose(_Conv):
    """Transposed 2-D convolution ("deconvolution"): the gradient of Conv2D with respect to its
    input, used to upsample. kernel (kh, kw, filters, in_channels), bias (filters,). The output
    size follows Keras: valid n * s + max(k - s, 0), same n * s; output_padding (each smaller
    than its stride) sets (n - 1) * s + k - 2 * (k // 2 if same else 0) + output_padding.

    Example::

        layer = fastnn.layers.Conv2DTranspose(16, 3, strides=2, padding="same")
        layer(fastnn.ones(2, 7, 7, 8)).shape    # (2, 14, 14, 16)
    """

    def __init__(
        self,
        filters,
        kernel_size,
        strides=(1, 1),
        padding="valid",
        output_padding=None,
        data_format=None,
        dilation_rate=(1, 1),
        **kwargs,
    ):
        if kwargs.get("groups", 1) != 1:
            raise ValueError(f"Conv2DTranspose: groups is not supported, got groups={kwargs['groups']!r}")
        kwargs.pop("groups", None)
        super().__init__(filters, kernel_size, strides, padding, data_format, dilation_rate, **kwargs)
        if output_padding is not None:
            output_padding = _tuple(output_padding, 2, "output_padding", "Conv2DTranspose", allow_zero=True)
            for p, s in zip(output_padding, self.strides):
                if p >= s:
                    raise ValueError(
                        f"Conv2DTranspose: output_padding {output_padding} must be smaller than the strides "
                        f"{self.strides}"
                    )
        self.output_padding = output_padding

    def build(self, input_shape) -> None:
        c = int(input_shape[self._channel_axis])
        self._channels = c
        self.kernel = self.add_weight(
            "kernel", self.kernel_size + (self.filters, c), self.kernel_initializer,
            regularizer=self.kernel_regularizer, constraint=self.kernel_constraint,
        )
        self.bias = (
            self.add_weight(
                "bias", (self.filters,), self.bias_initializer, regularizer=self.bias_regularizer,
                constraint=self.bias_constraint,
            )
            if self.use_bias
            else None
        )
        self.built = True

    def _out_spatial(self, spatial):
        ops = self.output_padding or (None, None)
        return tuple(
            conv_transpose_output_length(n, k, self.padding, p, s, d)
            for n, k, p, s, d in zip(spatial, self.kernel_size, ops, self.strides, self.dilation_rate)
        )

    def call(self, inputs):
        self._check_call(inputs)
        y = F.conv2d_transpose(
            inputs, self.kernel, self.bias, self.strides, self.padding, self.output_padding, self.data_format,
            self.dilation_rate,
        )
        return self._activate(y)

    def get_config(self) -> dict:
        config = super().get_config()
        config.pop("groups")
        config["output_padding"] = None if self.output_padding is None else list(self.output_padding)
        return config


class DepthwiseConv2D(_Conv):
    """Depthwise 2-D convolution: each input channel convolved with its own depth_multiplier
    filters (output channel c * depth_multiplier + m). kernel (kh, kw, c, depth_multiplier)
    (weight name 'kernel', as Keras 3), bias (c * depth_multiplier,).

    Example::

        layer = fastnn.layers.DepthwiseConv2D(3, depth_multiplier=2, padding="same")
        layer(fastnn.ones(1, 8, 8, 4)).shape    # (1, 8, 8, 8)
        layer.count_params()                    # 3 * 3 * 4 * 2 + 8 = 80
    """

    def __init__(
        self,
        kernel_size,
        strides=(1, 1),
        padding="valid",
        depth_multiplier=1,
        data_format=None,
        dilation_rate=(1, 1),
        activation=None,
        use_bias=True,
        depthwise_initializer="glorot_uniform",
        bias_initializer="zeros",
        depthwise_regularizer=None,
        bias_regularizer=None,
        activity_regularizer=None,
        depthwise_constraint=None,
        bias_constraint=None,
        **kwargs,
    ):
        _check_depth_multiplier(depth_multiplier, "DepthwiseConv2D")
        super().__init__(
            None, kernel_size, strides, padding, data_format, dilation_rate, 1, activation, use_bias,
            depthwise_initializer, bias_initializer, depthwise_regularizer, bias_regularizer, activity_regularizer,
            depthwise_constraint, bias_constraint, **kwargs,
        )
        self.depth_multiplier = int(depth_multiplier)

    @property
    def depthwise_constraint(self):
        """The constraint of the depthwise kernel (stored as the kernel's)."""
        return self.kernel_constraint

    def _out_channels(self) -> int:
        return None if self._channels is None else self._channels * self.depth_multiplier

    def compute_output_shape(self, input_shape):
        self._check_input_shape(tuple(input_shape))
        self._check_channels(input_shape)
        c = input_shape[self._channel_axis]
        return self._with(input_shape[0], self._out_spatial(self._spatial(input_shape)), c * self.depth_multiplier)

    def build(self, input_shape) -> None:
        c = int(input_shape[self._channel_axis])
        self._channels = c
        self.kernel = self.add_weight(
            "kernel", self.kernel_size + (c, self.depth_multiplier), self.kernel_initializer,
            regularizer=self.kernel_regularizer, constraint=self.kernel_constraint,
        )
        self.bias = (
            self.add_weight(
                "bias", (c * self.depth_multiplier,), self.bias_initializer, regularizer=self.bias_regularizer,
                constraint=self.bias_constraint,
            )
            if self.use_bias
            else None
        )
        self.built = True

    def call(self, inputs):
        self._check_call(inputs)
        act = self._fused_act()
        y = F.depthwise_conv2d(
            inputs, self.kernel, self.bias, self.strides, self.padding, self.data_format, self.dilation_rate, act
        )
        return y if act is not None else self._activate(y)

    def get_config(self) -> dict:
        config = super().get_config()
        for key in ("filters", "groups", "kernel_initializer", "kernel_regularizer", "kernel_constraint"):
            config.pop(key)
        config.update(
            depth_multiplier=self.depth_multiplier,
            depthwise_initializer=_ser(self.kernel_initializer, _initializers),
            depthwise_regularizer=_regularizers.serialize(self.kernel_regularizer),
            depthwise_constraint=_constraints.serialize(self.kernel_constraint),
        )
        return config


class SeparableConv2D(_Conv):
    """Depthwise separable 2-D convolution: a depthwise convolution (kernel_size, strides,
    padding, dilation_rate, depth_multiplier) then a 1x1 convolution to `filters` channels with
    the bias and activation. Weights (Keras names): depthwise_kernel (kh, kw, c, depth_multiplier),
    pointwise_kernel (1, 1, c * depth_multiplier, filters), bias (filters,).

    Example::

        layer = fastnn.layers.SeparableConv2D(16, 3, padding="same", activation="relu")
        layer(fastnn.ones(1, 8, 8, 4)).shape    # (1, 8, 8, 16)
        layer.count_params()                    # 3*3*4 + 4*16 + 16 = 116
    """

    def __init__(
        self,
        filters,
        kernel_size,
        strides=(1, 1),
        padding="valid",
        data_format=None,
        dilation_rate=(1, 1),
        depth_multiplier=1,
        activation=None,
        use_bias=True,
        depthwise_initializer="glorot_uniform",
        pointwise_initializer="glorot_uniform",
        bias_initializer="zeros",
        depthwise_regularizer=None,
        pointwise_regularizer=None,
        bias_regularizer=None,
        activity_regularizer=None,
        depthwise_constraint=None,
        pointwise_constraint=None,
        bias_constraint=None,
        **kwargs,
    ):
        _check_depth_multiplier(depth_multiplier, "SeparableConv2D")
        super().__init__(
            filters, kernel_size, strides, padding, data_format, dilation_rate, 1, activation, use_bias,
            depthwise_initializer, bias_initializer, depthwise_regularizer, bias_regularizer, activity_regularizer,
            depthwise_constraint, bias_constraint, **kwargs,
        )
        self.depth_multiplier = int(depth_multiplier)
        self.pointwise_initializer = _initializers.get(pointwise_initializer)
        self.pointwise_regularizer = _regularizers.get(pointwise_regularizer)
        self.pointwise_constraint = _constraints.get(pointwise_constraint)

    @property
    def depthwise_constraint(self):
        """The constraint of the depthwise kernel (stored as the kernel's)."""
        return self.kernel_constraint

    def build(self, input_shape) -> None:
        c = int(input_shape[self._channel_axis])
        self._channels = c
        dm = self.depth_multiplier
        self.depthwise_kernel = self.add_weight(
            "depthwise_kernel", self.kernel_size + (c, dm), self.kernel_initializer,
            regularizer=self.kernel_regularizer, constraint=self.kernel_constraint,
        )
        self.pointwise_kernel = self.add_weight(
            "pointwise_kernel", (1, 1, c * dm, self.filters), self.pointwise_initializer,
            regularizer=self.pointwise_regularizer, constraint=self.pointwise_constraint,
        )
        self.bias = (
            self.add_weight(
                "bias", (self.filters,), self.bias_initializer, regularizer=self.bias_regularizer,
                constraint=self.bias_constraint,
            )
            if self.use_bias
            else None
        )
        self.built = True

    def call(self, inputs):
        self._check_call(inputs)
        act = self._fused_act()
        y = F.separable_conv2d(
            inputs, self.depthwise_kernel, self.pointwise_kernel, self.bias, self.strides, self.padding,
            self.data_format, self.dilation_rate, act,
        )
        return y if act is not None else self._activate(y)

    def get_config(self) -> dict:
        config = super().get_config()
        for key in ("groups", "kernel_initializer", "kernel_regularizer", "kernel_constraint"):
            config.pop(key)
        config.update(
            depth_multiplier=self.depth_multiplier,
            depthwise_initializer=_ser(self.kernel_initializer, _initializers),
            pointwise_initializer=_ser(self.pointwise_initializer, _initializers),
            depthwise_regularizer=_regularizers.serialize(self.kernel_regularizer),
            pointwise_regularizer=_regularizers.serialize(self.pointwise_regularizer),
            depthwise_constraint=_constraints.serialize(self.kernel_constraint),
            pointwise_constraint=_constraints.serialize(self.pointwise_constraint),
        )
        return config
