"""Merge layers: Add, Subtract, Multiply, Average, Maximum, Minimum, Concatenate.

Each takes a list of tensors. The elementwise ones need shapes that agree (NumPy broadcasting
of size-1 dimensions is allowed, as Keras); Concatenate joins along `axis`.

Example::

    a, b = fastnn.layers.Input((4,)), fastnn.layers.Input((4,))
    s = fastnn.layers.Add()([a, b])                     # (None, 4)
    c = fastnn.layers.Concatenate()([a, b])             # (None, 8)
"""

from __future__ import annotations

from .. import functional as F
from .base import Layer

__all__ = [
    "Add",
    "Subtract",
    "Multiply",
    "Average",
    "Maximum",
    "Minimum",
    "Concatenate",
    "add",
    "subtract",
    "multiply",
    "average",
    "maximum",
    "minimum",
    "concatenate",
]


def _broadcast(a: tuple, b: tuple, name: str) -> tuple:
    if len(a) != len(b):
        raise ValueError(f"layer '{name}': inputs must have the same rank, got shapes {a} and {b}")
    out = []
    for x, y in zip(a, b):
        if x is None or y is None:
            out.append(x if y in (None, 1) else y if x in (None, 1) else None)
        elif x == y or y == 1:
            out.append(x)
        elif x == 1:
            out.append(y)
        else:
            raise ValueError(f"layer '{name}': inputs with shapes {a} and {b} cannot be merged elementwise")
    return tuple(out)


class _Merge(Layer):
    _min_inputs = 2
    _max_inputs = None

    def __init__(self, **kwargs):
        super().__init__(**kwargs)

    def _check_input_shape(self, input_shape) -> None:
        if (
            not isinstance(input_shape, (list, tuple))
            or not input_shape
            or not isinstance(input_shape[0], (list, tuple))
        ):
            raise ValueError(
                f"A merge layer ('{self.name}') should be called on a list of inputs, got input shape {input_shape}"
            )
        n = len(input_shape)
        if n < self._min_inputs or (self._max_inputs is not None and n > self._max_inputs):
            want = (
                f"exactly {self._max_inputs}"
                if self._max_inputs == self._min_inputs
                else f"at least {self._min_inputs}"
            )
            raise ValueError(
                f"layer '{self.name}' ({type(self).__name__}) should be called on {want} inputs, got {n} inputs"
            )

    def build(self, input_shape) -> None:
        self.compute_output_shape(input_shape)
        self.built = True

    def compute_output_shape(self, input_shape):
        self._check_input_shape(input_shape)
        out = tuple(input_shape[0])
        for s in input_shape[1:]:
            out = _broadcast(out, tuple(s), self.name)
        return out

    def _check_call(self, inputs) -> None:
        if not isinstance(inputs, (list, tuple)):
            raise ValueError(f"A merge layer ('{self.name}') should be called on a list of inputs, got one tensor")
        self._check_input_shape([tuple(x.shape) for x in inputs])


class Add(_Merge):
    """Elementwise sum of a list of tensors.

    Example::

        a, b, c = fastnn.layers.Input((4,)), fastnn.layers.Input((4,)), fastnn.layers.Input((4,))
        fastnn.layers.Add()([a, b])            # a + b, same shapes (or broadcastable)
    """

    def call(self, inputs):
        self._check_call(inputs)
        out = inputs[0]
        for x in inputs[1:]:
            out = out + x
        return out


class Subtract(_Merge):
    """inputs[0] - inputs[1] (exactly two inputs).

    Example::

        a, b, c = fastnn.layers.Input((4,)), fastnn.layers.Input((4,)), fastnn.layers.Input((4,))
        fastnn.layers.Subtract()([a, b])       # a - b
    """

    _max_inputs = 2

    def call(self, inputs):
        self._check_call(inputs)
        return inputs[0] - inputs[1]


class Multiply(_Merge):
    """Elementwise product of a list of tensors.

    Example::

        a, b, c = fastnn.layers.Input((4,)), fastnn.layers.Input((4,)), fastnn.layers.Input((4,))
        fastnn.layers.Multiply()([a, b])       # a * b
    """

    def call(self, inputs):
        self._check_call(inputs)
        out = inputs[0]
        for x in inputs[1:]:
            out = out * x
        return out


class Average(_Merge):
    """Elementwise mean of a list of tensors.

    Example::

        a, b, c = fastnn.layers.Input((4,)), fastnn.layers.Input((4,)), fastnn.layers.Input((4,))
        fastnn.layers.Average()([a, b, c])     # (a + b + c) / 3
    """

    def call(self, inputs):
        self._check_call(inputs)
        out = inputs[0]
        for x in inputs[1:]:
            out = out + x
        return out * (1.0 / len(inputs))


class Maximum(_Merge):
    """Elementwise maximum of a list of tensors.

    Example::

        a, b, c = fastnn.layers.Input((4,)), fastnn.layers.Input((4,)), fastnn.layers.Input((4,))
        fastnn.layers.Maximum()([a, b])        # max(a, b) elementwise
    """

    def call(self, inputs):
        self._check_call(inputs)
        out = inputs[0]
        for x in inputs[1:]:
            out = F.maximum(out, x)
        return out


class Minimum(_Merge):
    """Elementwise minimum of a list of tensors.

    Example::

        a, b, c = fastnn.layers.Input((4,)), fastnn.layers.Input((4,)), fastnn.layers.Input((4,))
        fastnn.layers.Minimum()([a, b])        # min(a, b) elementwise
    """

    def call(self, inputs):
        self._check_call(inputs)
        out = inputs[0]
        for x in inputs[1:]:
            out = F.minimum(out, x)
        return out


class Concatenate(_Merge):
    """Joins a list of tensors along `axis` (default -1); other dimensions must agree.

    Example::

        fastnn.layers.Concatenate()([fastnn.ones(2, 3), fastnn.ones(2, 5)]).shape   # (2, 8)
    """

    _min_inputs = 1

    def __init__(self, axis: int = -1, **kwargs):
        super().__init__(**kwargs)
        if isinstance(axis, bool) or not isinstance(axis, int):
            raise TypeError(f"Concatenate: axis must be an integer, got axis={axis!r}")
        self.axis = axis

    def compute_output_shape(self, input_shape):
        self._check_input_shape(input_shape)
        shapes = [tuple(s) for s in input_shape]
        rank = len(shapes[0])
        ax = self.axis + rank if self.axis < 0 else self.axis
        if not 0 <= ax < rank:
            raise ValueError(f"Concatenate '{self.name}': axis {self.axis} is out of range for inputs of rank {rank}")
        out = list(shapes[0])
        for s in shapes[1:]:
            if len(s) != rank or any(
                i != ax and a is not None and b is not None and a != b for i, (a, b) in enumerate(zip(out, s))
            ):
                raise ValueError(
                    f"Concatenate '{self.name}' needs inputs with matching shapes except along axis {self.axis}, "
                    f"got shapes {shapes}"
                )
            out = [a if a is not None else b for a, b in zip(out, s)]
        out[ax] = None if any(s[ax] is None for s in shapes) else sum(s[ax] for s in shapes)
        return tuple(out)

    def call(self, inputs):
        if not isinstance(inputs, (list, tuple)):
            raise ValueError(f"Concatenate '{self.name}' should be called on a list of inputs, got one tensor")
        self.compute_output_shape([tuple(x.shape) for x in inputs])
        return F.concatenate(list(inputs), axis=self.axis)

    def get_config(self) -> dict:
        config = super().get_config()
        config["axis"] = self.axis
        return config


def add(inputs, **kwargs):
    return Add(**kwargs)(inputs)


def subtract(inputs, **kwargs):
    return Subtract(**kwargs)(inputs)


def multiply(inputs, **kwargs):
    return Multiply(**kwargs)(inputs)


def average(inputs, **kwargs):
    return Average(**kwargs)(inputs)


def maximum(inputs, **kwargs):
    return Maximum(**kwargs)(inputs)


def minimum(inputs, **kwargs):
    return Minimum(**kwargs)(inputs)


def concatenate(inputs, axis: int = -1, **kwargs):
    return Concatenate(axis=axis, **kwargs)(inputs)
