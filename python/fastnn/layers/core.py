"""Core layers: Input / InputLayer, Dense, Activation, Dropout, Flatten, Reshape, Lambda,
RepeatVector, and TensorOp (the layer that arithmetic on symbolic tensors records).

Example::

    x = fastnn.layers.Input(shape=(784,))
    h = fastnn.layers.Dense(128, activation="relu")(x)
    h = fastnn.layers.Dropout(0.2)(h)
    y = fastnn.layers.Dense(10, activation="softmax")(h)
"""

from __future__ import annotations

import inspect
import math
from typing import Any, Callable

import numpy as np

from .. import _C, _raw
from .. import activations as _activations
from .. import constraints as _constraints
from .. import functional as F
from .. import initializers as _initializers
from .. import random as _random
from .. import regularizers as _regularizers
from ..functional.nn import Dropout as _DropoutFn
from ..symbolic import KerasTensor, Node
from ..tensor import Tensor
from .base import Layer, standardize_shape

__all__ = [
    "InputLayer",
    "Input",
    "Dense",
    "Activation",
    "Dropout",
    "Flatten",
    "Reshape",
    "Lambda",
    "RepeatVector",
    "TensorOp",
]

_DTYPES = {
    "float32": "float32",
    "float64": "float32",
    "int64": "int64",
    "int32": "int64",
    "int": "int64",
    "float": "float32",
    None: "float32",
}


def _positive_int(value, name: str, layer: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
        raise ValueError(f"{layer}: {name} must be a positive integer, got {name}={value!r}")
    return int(value)


class InputLayer(Layer):
    """The entry point of a functional graph: holds the symbolic input tensor.

    Args:
        shape: the shape of one sample (without the batch), e.g. (784,).
        batch_size: a fixed batch size, or None.
        dtype: 'float32' (default) or 'int64' (indices for Embedding).
        batch_shape: the full shape with the batch first (instead of shape and batch_size).

    Example::

        layer = fastnn.layers.InputLayer(shape=(3,))
        layer.output.shape      # (None, 3)
    """

    def __init__(
        self,
        shape=None,
        batch_size=None,
        dtype=None,
        batch_shape=None,
        name=None,
        input_tensor=None,
        sparse=None,
        **kwargs,
    ):
        if "input_shape" in kwargs:  # Keras 2 spelling, still in tutorials
            shape = kwargs.pop("input_shape")
        if "batch_input_shape" in kwargs:
            batch_shape = kwargs.pop("batch_input_shape")
        kwargs.pop("trainable", None)
        super().__init__(name=name, **kwargs)
        if sparse:
            raise ValueError("fastnn has no sparse tensors: InputLayer(sparse=True) is not supported")
        if dtype not in _DTYPES:
            raise ValueError(f"InputLayer: dtype must be 'float32' or 'int64', got dtype={dtype!r}")
        self.dtype = _DTYPES[dtype]
        if batch_shape is not None:
            self.batch_shape = standardize_shape(batch_shape, "batch_shape")
        elif shape is not None:
            self.batch_shape = (batch_size,) + standardize_shape(shape, "shape")
        elif input_tensor is not None:
            self.batch_shape = tuple(input_tensor.shape)
        else:
            raise ValueError("InputLayer needs a shape: pass shape=(...) (the shape of one sample) or batch_shape")
        self.built = True
        out = KerasTensor(self.batch_shape, self.dtype, name=self.name)
        Node(self, [], out, {})

    def call(self, inputs):
        return inputs

    def compute_output_shape(self, input_shape):
        return self.batch_shape

    def get_config(self) -> dict:
        return {"batch_shape": list(self.batch_shape), "dtype": self.dtype, "sparse": False, "name": self.name}


def Input(
    shape=None, batch_size=None, dtype=None, sparse=None, batch_shape=None, name=None, tensor=None
) -> KerasTensor:
    """A symbolic input tensor for the functional API.

    Example::

        x = fastnn.layers.Input(shape=(3,), name="features")
        x.shape    # (None, 3)
    """
    if shape is None and batch_shape is None and tensor is None:
        raise ValueError("Input needs a shape: pass shape=(...), the shape of one sample without the batch")
    layer = InputLayer(
        shape=shape,
        batch_size=batch_size,
        dtype=dtype,
        batch_shape=batch_shape,
        name=name,
        input_tensor=tensor,
        sparse=sparse,
    )
    return layer.output


def _fused_dense_supported() -> bool:
    try:
        return "activation" in inspect.signature(F.dense).parameters
    except (TypeError, ValueError):  # pragma: no cover
        return False


_DENSE_FUSES = _fused_dense_supported()
_FUSABLE = frozenset({"relu", "sigmoid", "tanh"})  # activations the fused dense epilogue is asked for
_FUSED_CODES = _raw.EPILOGUE  # _C.dense's act argument


class Dense(Layer):
    """A fully connected layer: ``activation(inputs @ kernel + bias)``.

    The kernel is (input_dim, units) and the bias (units,) (Keras's layout; a torch Linear's
    weight is kernel.T). Inputs of more than two dimensions apply the kernel on the last axis.
    The matmul, bias and activation run as one fused call when fastnn.functional.dense takes an
    activation.

    Args:
        units: output size, a positive integer.
        activation: a name ('relu', 'softmax', ...), a callable or None (linear).
        use_bias: add the bias.
        kernel_initializer / bias_initializer: 'glorot_uniform' and 'zeros' by default.
        kernel_regularizer / bias_regularizer / activity_regularizer: penalties added to losses.
        kernel_constraint / bias_constraint: projections (fastnn.constraints) applied to the
            weight after each optimizer step, e.g. MaxNorm(3).

    Example::

        layer = fastnn.layers.Dense(3, activation="relu")
        layer(fastnn.ones(5, 4)).shape     # (5, 3)
        layer.kernel.shape                 # (4, 3)
    """

    supports_masking = True  # masks pass through unchanged (Keras)

    def __init__(
        self,
        units: int,
        activation=None,
        use_bias: bool = True,
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
        self.units = _positive_int(units, "units", "Dense")
        self.activation = _activations.get(activation)
        self._act_name = _activations.serialize(self.activation)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = _initializers.get(kernel_initializer)
        self.bias_initializer = _initializers.get(bias_initializer)
        self.kernel_regularizer = _regularizers.get(kernel_regularizer)
        self.bias_regularizer = _regularizers.get(bias_regularizer)
        self.kernel_constraint = _constraints.get(kernel_constraint)
        self.bias_constraint = _constraints.get(bias_constraint)
        self._in_dim = None

    def _check_input_shape(self, input_shape) -> None:
        if not isinstance(input_shape, tuple) or len(input_shape) < 1:
            raise ValueError(f"Dense layer '{self.name}' expects one input tensor, got input shape {input_shape}")
        if input_shape[-1] is None:
            raise ValueError(
                f"Dense layer '{self.name}': the last dimension of the inputs must be defined, "
                f"got input shape {input_shape}"
            )

    def build(self, input_shape) -> None:
        self._in_dim = int(input_shape[-1])
        self.kernel = self.add_weight(
            "kernel",
            (self._in_dim, self.units),
            self.kernel_initializer,
            regularizer=self.kernel_regularizer,
            constraint=self.kernel_constraint,
        )
        self.bias = (
            self.add_weight(
                "bias", (self.units,), self.bias_initializer, regularizer=self.bias_regularizer,
                constraint=self.bias_constraint,
            )
            if self.use_bias
            else None
        )
        self.built = True

    def call(self, inputs):
        if inputs.ndim == 0 or inputs.shape[-1] != self._in_dim:
            raise ValueError(
                f"Input of layer '{self.name}' is incompatible with the layer: expected the last axis "
                f"to have size {self._in_dim}, but received an input of shape {inputs.shape}"
            )
        if _DENSE_FUSES and self._act_name in _FUSABLE:
            return F.dense(inputs, self.kernel, self.bias, activation=self._act_name)
        y = F.dense(inputs, self.kernel, self.bias)
        return y if self.activation is _activations.linear else self.activation(y)

    def _inference_fn(self):
        if not _DENSE_FUSES or self.activity_regularizer is not None:
            return None
        act = _FUSED_CODES.get(self._act_name) if isinstance(self._act_name, str) else None
        softmax = self.activation is _activations.softmax
        if act is None and not softmax:
            return None
        kernel, bias, in_dim = self.kernel, self.bias, self._in_dim
        act = act or 0

        def run(a):
            if a.ndim != 2 or a.shape[1] != in_dim:
                return None  # not the plain case: the caller takes the general path
            y = _C.dense(a, kernel._data, None if bias is None else bias._data, act)
            return _C.softmax_forward(y, y.shape[0], y.shape[1], 1, False) if softmax else y

        return run

    def compute_output_shape(self, input_shape):
        if not isinstance(input_shape, tuple):
            raise ValueError(f"Dense layer '{self.name}' expects one input tensor, got input shapes {input_shape}")
        if self._in_dim is not None and input_shape[-1] not in (None, self._in_dim):
            raise ValueError(
                f"Input of layer '{self.name}' is incompatible with the layer: expected the last axis "
                f"to have size {self._in_dim}, but received an input of shape {input_shape}"
            )
        return tuple(input_shape[:-1]) + (self.units,)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(
            units=self.units,
            activation=self._act_name,
            use_bias=self.use_bias,
            kernel_initializer=_initializers.serialize(self.kernel_initializer)
            if isinstance(self.kernel_initializer, _initializers.Initializer)
            else None,
            bias_initializer=_initializers.serialize(self.bias_initializer)
            if isinstance(self.bias_initializer, _initializers.Initializer)
            else None,
            kernel_regularizer=_regularizers.serialize(self.kernel_regularizer),
            bias_regularizer=_regularizers.serialize(self.bias_regularizer),
            kernel_constraint=_constraints.serialize(self.kernel_constraint),
            bias_constraint=_constraints.serialize(self.bias_constraint),
        )
        return config


class Activation(Layer):
    """Applies an activation function.

    Example::

        fastnn.layers.Activation("relu")(fastnn.tensor([-1.0, 2.0]))   # [0, 2]
    """

    supports_masking = True  # masks pass through unchanged (Keras)

    def __init__(self, activation, **kwargs):
        super().__init__(**kwargs)
        self.activation = _activations.get(activation)
        self.built = True

    def call(self, inputs):
        return self.activation(inputs)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self) -> dict:
        config = super().get_config()
        config["activation"] = _activations.serialize(self.activation)
        return config


def _check_rate(rate, layer: str) -> None:
    # Keras 3 accepts rate = 1 (everything dropped in training), unlike the [0, 1) of Keras 2.
    if isinstance(rate, bool) or not isinstance(rate, (int, float, np.integer, np.floating)) or not 0 <= rate <= 1:
        raise ValueError(f"{layer}: rate must be a number in [0, 1], got rate={rate!r}")


def _drop_all(inputs: Tensor, mask_shape: tuple, gen) -> Tensor:
    """Dropout with rate 1 in training: ``inputs * 0`` (zero gradient, NaN stays NaN, as torch's
    dropout with p=1), without the 1 / (1 - rate) scale the kernels cannot take. The generator
    advances as for any other rate, so the masks of the layers after this one do not shift."""
    gen.take(math.prod(mask_shape))
    return F.mul(inputs, Tensor._wrap(_raw.full(mask_shape, 0.0, inputs.device)))


class Dropout(Layer):
    """Inverted dropout: in training, zero each input with probability `rate` and scale the rest
    by 1 / (1 - rate); at inference the identity.

    Args:
        rate: drop probability in [0, 1]; 1 zeroes every input in training (Keras 3).
        noise_shape: the shape of the dropout mask, broadcast against the inputs (Keras): one
            entry per input axis, each None (the input's size), 1 (the same draw along that
            axis) or the input's size. For inputs (batch, timesteps, features),
            ``noise_shape=(None, 1, None)`` drops the same features at every time step.
            None (default) draws every element independently.
        seed: an integer gives the layer its own reproducible stream of masks.

    Example::

        d = fastnn.layers.Dropout(0.5)
        d(x, training=True)    # about half zero, the rest doubled
        d = fastnn.layers.Dropout(0.5, noise_shape=(None, 1, None))
        d(fastnn.ones(2, 5, 3), training=True)   # each (sample, feature) all 0 or all 2 over time
    """

    supports_masking = True  # masks pass through unchanged (Keras)

    def __init__(self, rate: float, noise_shape=None, seed: int | None = None, **kwargs):
        super().__init__(**kwargs)
        _check_rate(rate, "Dropout")
        self.rate = float(rate)
        self.noise_shape = _check_noise_shape(noise_shape)
        self.seed = seed
        self._gen = None if seed is None else _random.Generator(seed)
        self.built = True

    def _concrete_noise_shape(self, input_shape: tuple) -> tuple:
        """noise_shape with None filled from `input_shape`; ValueError unless it broadcasts to it
        (entries of `input_shape` that are None, in symbolic shapes, accept anything)."""
        ns = self.noise_shape
        if len(ns) != len(input_shape):
            raise ValueError(
                f"Dropout '{self.name}': noise_shape={ns} has {len(ns)} entries but the inputs have "
                f"{len(input_shape)} axes (input shape {tuple(input_shape)}); give one entry per axis"
            )
        out = []
        for i, (n, d) in enumerate(zip(ns, input_shape)):
            if n is None:
                out.append(d)
            elif n == 1 or d is None or n == d:
                out.append(n)
            else:
                raise ValueError(
                    f"Dropout '{self.name}': noise_shape={ns} does not broadcast to the input shape "
                    f"{tuple(input_shape)}: axis {i} has size {n} in noise_shape and {d} in the inputs "
                    "(each entry must be None, 1 or the input's size)"
                )
        return tuple(out)

    def call(self, inputs, training=None):
        if self.noise_shape is not None:
            ns = self._concrete_noise_shape(tuple(inputs.shape))
        if not training or self.rate == 0.0:
            return inputs
        gen = self._gen if self._gen is not None else _random.default_generator
        if self.rate == 1.0:
            return _drop_all(inputs, tuple(inputs.shape) if self.noise_shape is None else ns, gen)
        if self.noise_shape is None or ns == tuple(inputs.shape) or inputs.size == 0:
            key, offset = gen.take(inputs.size)
            return _DropoutFn.apply(inputs, self.rate, key, offset)
        # As SpatialDropout2D: the mask is dropout applied to ones of noise_shape (0 or
        # 1 / (1 - rate) per draw), broadcast over the axes where noise_shape is 1.
        key, offset = gen.take(math.prod(ns))
        mask = _C.dropout_forward(_raw.full(ns, 1.0, inputs.device), self.rate, key, offset)
        return F.mul(inputs, Tensor._wrap(mask))

    def _inference_fn(self):
        return lambda a: a  # inverted dropout is the identity at inference

    def compute_output_shape(self, input_shape):
        if self.noise_shape is not None and isinstance(input_shape, tuple):
            self._concrete_noise_shape(input_shape)
        return input_shape

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(
            rate=self.rate, noise_shape=None if self.noise_shape is None else list(self.noise_shape), seed=self.seed
        )
        return config


def _check_noise_shape(noise_shape) -> tuple | None:
    """Dropout's noise_shape as a tuple of positive ints and None (Keras's validation)."""
    if noise_shape is None:
        return None
    if isinstance(noise_shape, (str, bytes)) or not isinstance(noise_shape, (tuple, list)):
        raise ValueError(
            "Dropout: noise_shape must be a tuple or list of positive integers or None, "
            f"got noise_shape={noise_shape!r}"
        )
    out = []
    for i, d in enumerate(noise_shape):
        if d is None:
            out.append(None)
        elif isinstance(d, (int, np.integer)) and not isinstance(d, bool) and d > 0:
            out.append(int(d))
        else:
            raise ValueError(
                f"Dropout: noise_shape entries must be positive integers or None, got {d!r} at index {i} "
                f"in noise_shape={tuple(noise_shape)!r}"
            )
    return tuple(out)


class Flatten(Layer):
    """Flattens every dimension but the batch: (N, d1, d2, ...) -> (N, d1 * d2 * ...).

    Example::

        fastnn.layers.Flatten()(fastnn.ones(2, 3, 4)).shape    # (2, 12)
    """

    def __init__(self, data_format=None, **kwargs):
        super().__init__(**kwargs)
        if data_format not in (None, "channels_last", "channels_first"):
            raise ValueError(f"Flatten: data_format must be 'channels_last' or 'channels_first', got {data_format!r}")
        self.data_format = data_format or "channels_last"
        self.built = True

    def call(self, inputs):
        if inputs.ndim == 2:
            return inputs
        if inputs.ndim < 2:
            return F.reshape(inputs, (inputs.shape[0] if inputs.ndim else 1, 1)) if inputs.ndim == 1 else inputs
        if self.data_format == "channels_first" and inputs.ndim > 2:
            perm = (0,) + tuple(range(2, inputs.ndim)) + (1,)
            inputs = F.permute(inputs, perm)
        return F.reshape(inputs, (inputs.shape[0], math.prod(inputs.shape[1:])))

    def compute_output_shape(self, input_shape):
        rest = input_shape[1:]
        if not rest:
            return (input_shape[0], 1)
        return (input_shape[0], None if any(d is None for d in rest) else math.prod(rest))

    def get_config(self) -> dict:
        config = super().get_config()
        config["data_format"] = self.data_format
        return config


class Reshape(Layer):
    """Reshapes each sample to `target_shape` (the batch is kept); one entry may be -1.

    Example::

        fastnn.layers.Reshape((3, 4))(fastnn.ones(2, 12)).shape    # (2, 3, 4)
    """

    def __init__(self, target_shape, **kwargs):
        super().__init__(**kwargs)
        if isinstance(target_shape, (int, np.integer)):
            target_shape = (target_shape,)
        if (
            not isinstance(target_shape, (tuple, list))
            or not all(
                isinstance(d, (int, np.integer)) and not isinstance(d, bool) and (d > 0 or d == -1)
                for d in target_shape
            )
            or sum(1 for d in target_shape if d == -1) > 1
        ):
            raise ValueError(
                f"Reshape: target_shape must be a tuple of positive integers with at most one -1, "
                f"got target_shape={target_shape!r}"
            )
        self.target_shape = tuple(int(d) for d in target_shape)
        self.built = True

    def _resolve(self, input_shape) -> tuple:
        rest = input_shape[1:]
        known = math.prod(d for d in self.target_shape if d != -1)
        if any(d is None for d in rest):
            return tuple(None if d == -1 else d for d in self.target_shape)
        total = math.prod(rest)
        if -1 in self.target_shape:
            if known == 0 or total % known:
                raise ValueError(
                    f"Reshape '{self.name}': cannot reshape samples of shape {tuple(rest)} to {self.target_shape}"
                )
            return tuple(total // known if d == -1 else d for d in self.target_shape)
        if known != total:
            raise ValueError(
                f"Reshape '{self.name}': total size of samples of shape {tuple(rest)} ({total}) does not "
                f"match target_shape {self.target_shape} ({known})"
            )
        return self.target_shape

    def call(self, inputs):
        return F.reshape(inputs, (inputs.shape[0],) + self._resolve(inputs.shape))

    def compute_output_shape(self, input_shape):
        return (input_shape[0],) + self._resolve(input_shape)

    def get_config(self) -> dict:
        config = super().get_config()
        config["target_shape"] = list(self.target_shape)
        return config


class Lambda(Layer):
    """Wraps a function of tensors as a layer: ``Lambda(lambda x: x * 2)``.

    The function is not serialised as code: ``get_config`` stores its name, and loading a model
    with a Lambda needs the function passed in ``custom_objects``.

    Args:
        function: called as ``function(inputs, **arguments)``.
        output_shape: the output shape (without the batch) or a function of the input shape;
            by default it is found by tracing the function on zeros.
        arguments: extra keyword arguments for the function.

    Example::

        double = fastnn.layers.Lambda(lambda x: x * 2.0)
    """

    def __init__(self, function: Callable, output_shape=None, mask=None, arguments: dict | None = None, **kwargs):
        super().__init__(**kwargs)
        if not callable(function):
            raise TypeError(f"Lambda: function must be callable, got function={function!r}")
        if mask is not None:
            raise NotImplementedError("Lambda: mask is not supported")
        self.function = function
        self._output_shape = output_shape
        self.arguments = dict(arguments or {})
        self.built = True

    def call(self, inputs):
        return self.function(inputs, **self.arguments)

    def compute_output_shape(self, input_shape):
        if self._output_shape is None:
            raise NotImplementedError
        if callable(self._output_shape):
            return tuple(self._output_shape(input_shape))
        first = input_shape[0] if isinstance(input_shape, tuple) else input_shape[0][0]
        return (first,) + standardize_shape(self._output_shape, "output_shape")

    def get_config(self) -> dict:
        config = super().get_config()
        out = self._output_shape
        config.update(
            function=getattr(self.function, "__name__", "<lambda>"),
            output_shape=list(out) if isinstance(out, (tuple, list)) else None,
            arguments=self.arguments,
        )
        return config

    @classmethod
    def from_config(cls, config: dict, custom_objects: dict | None = None) -> Lambda:
        config = dict(config)
        fn = config.pop("function")
        if isinstance(fn, str):
            from .. import saving

            fn = saving.resolve_function(fn, custom_objects, owner=f"Lambda layer '{config.get('name')}'")
        return cls(fn, **config)


class RepeatVector(Layer):
    """Repeats each input vector n times: (N, F) -> (N, n, F).

    Example::

        fastnn.layers.RepeatVector(3)(fastnn.ones(2, 4)).shape    # (2, 3, 4)
    """

    def __init__(self, n: int, **kwargs):
        super().__init__(**kwargs)
        self.n = _positive_int(n, "n", "RepeatVector")
        self.built = True

    def _check_input_shape(self, input_shape) -> None:
        if not isinstance(input_shape, tuple) or len(input_shape) != 2:
            raise ValueError(
                f"RepeatVector '{self.name}' expects 2-D inputs (batch, features), got shape {input_shape}"
            )

    def call(self, inputs):
        if inputs.ndim != 2:
            raise ValueError(
                f"RepeatVector '{self.name}' expects 2-D inputs (batch, features), got shape {inputs.shape}"
            )
        return F.broadcast_to(F.unsqueeze(inputs, 1), (inputs.shape[0], self.n, inputs.shape[1]))

    def compute_output_shape(self, input_shape):
        self._check_input_shape(input_shape)
        return (input_shape[0], self.n, input_shape[1])

    def get_config(self) -> dict:
        config = super().get_config()
        config["n"] = self.n
        return config


_BINARY_OPS = {
    "add": F.add,
    "subtract": F.sub,
    "multiply": F.mul,
    "divide": F.div,
    "power": F.pow,
    "matmul": F.matmul,
    "maximum": F.maximum,
    "minimum": F.minimum,
}
_UNARY_OPS = {"negative": F.neg, "abs": F.abs, "square": F.square, "exp": F.exp, "log": F.log, "sqrt": F.sqrt}
_REDUCE_OPS = {"sum": F.sum, "mean": F.mean, "max": F.max, "min": F.min}


class TensorOp(Layer):
    """An elementwise or reduction op recorded by arithmetic on symbolic tensors
    (``x + y``, ``x * 2.0``, ``x.mean()``); serialisable (the op name and a numeric constant)."""

    def __init__(
        self, op: str, constant: Any = None, reverse: bool = False, axis=None, keepdims: bool = False, **kwargs
    ):
        kwargs.setdefault("name", None)
        if kwargs["name"] is None:
            from .base import unique_name

            kwargs["name"] = unique_name(op)
        super().__init__(**kwargs)
        if op not in _BINARY_OPS and op not in _UNARY_OPS and op not in _REDUCE_OPS:
            raise ValueError(f"unknown tensor op {op!r}")
        if isinstance(constant, Tensor):
            constant = constant.numpy()
        if isinstance(constant, np.ndarray):
            constant = constant.tolist()
        if constant is not None and not isinstance(constant, (int, float, list)):
            raise TypeError(
                f"arithmetic on a symbolic tensor needs a number, an array or another symbolic tensor, got {constant!r}"
            )
        self.op, self.constant, self.reverse = op, constant, bool(reverse)
        self.axis = list(axis) if isinstance(axis, (tuple, list)) else axis
        self.keepdims = bool(keepdims)
        self._const = None if constant is None else Tensor(np.asarray(constant, dtype=np.float32))
        self.built = True

    def call(self, inputs):
        if self.op in _UNARY_OPS:
            return _UNARY_OPS[self.op](inputs)
        if self.op in _REDUCE_OPS:
            axis = tuple(self.axis) if isinstance(self.axis, list) else self.axis
            return _REDUCE_OPS[self.op](inputs, axis, self.keepdims)
        fn = _BINARY_OPS[self.op]
        if self._const is not None:
            return fn(self._const, inputs) if self.reverse else fn(inputs, self._const)
        a, b = inputs
        return fn(a, b)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(op=self.op, constant=self.constant, reverse=self.reverse, axis=self.axis, keepdims=self.keepdims)
        return config
