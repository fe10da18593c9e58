"""Merge layers: Add, Subtract, Multiply, Average, Maximum, Minimum, Concatenate, Dot.

Each takes a list of tensors. The elementwise ones need shapes that agree (NumPy broadcasting
of size-1 dimensions is allowed, as Keras); Concatenate joins along `axis`; Dot takes the
batchwise dot product of two tensors along `axes`.

Masks follow Keras 3 (keras/src/layers/merging): the elementwise layers' output mask is the
logical OR of the input masks, and None as soon as one input has no mask; Concatenate
concatenates the masks (an input without one counts as all True; a (batch, time) mask is
broadcast over its input's features) and reduces the last axis with OR, so joining features
keeps the time mask and joining time steps joins the masks; Dot returns no mask. Where the
masks are known, Multiply, Maximum and Minimum leave masked entries out of the result, as Keras
does: a masked entry counts as 1 in a product and does not take part in a maximum or minimum.
Masks are float32 0/1 tensors, as Embedding(mask_zero=True) and Masking make them.

Example::

    a, b = fastnn.layers.Input((4,)), fastnn.layers.Input((4,))
    s = fastnn.layers.Add()([a, b])                     # (None, 4)
    c = fastnn.layers.Concatenate()([a, b])             # (None, 8)
"""

from __future__ import annotations

import numpy as np

from .. import functional as F
from ..tensor import Tensor
from .base import Layer

__all__ = [
    "Add",
    "Subtract",
    "Multiply",
    "Average",
    "Maximum",
    "Minimum",
    "Concatenate",
    "Dot",
    "add",
    "subtract",
    "multiply",
    "average",
    "maximum",
    "minimum",
    "concatenate",
    "dot",
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


def _mask_np(mask) -> np.ndarray | None:
    if mask is None:
        return None
    return (mask.numpy() if isinstance(mask, Tensor) else np.asarray(mask)) != 0


def _expand_to(m: np.ndarray, shape: tuple, owner: str) -> np.ndarray:
    """A mask broadcast over the trailing dimensions of an input of `shape` (Keras expands a
    (batch, time) mask with a last axis and broadcasts it over the features)."""
    while m.ndim < len(shape):
        m = m[..., None]
    try:
        return np.broadcast_to(m, shape)
    except ValueError:
        raise ValueError(f"layer '{owner}': a mask of shape {m.shape} does not fit its input of shape {shape}") \
            from None


def _mask_tensor(m: np.ndarray) -> Tensor:
    return Tensor(np.ascontiguousarray(m, dtype=np.float32))


def _on(m: np.ndarray, like: Tensor) -> Tensor:
    arr = np.ascontiguousarray(m, dtype=np.float32)
    return Tensor(arr) if like.device == "cpu" else Tensor(arr, device=like.device)


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

    def _masks(self, inputs, mask) -> list | None:
        """The input masks as a list of boolean arrays (None where an input has none), or None
        where no input has a mask; checks them against the inputs."""
        if mask is None:
            return None
        if not isinstance(mask, (list, tuple)):
            raise ValueError(f"layer '{self.name}': mask should be a list (one per input), got mask={mask!r}")
        if not isinstance(inputs, (list, tuple)):
            raise ValueError(f"layer '{self.name}': inputs should be a list, got one tensor of shape "
                             f"{getattr(inputs, 'shape', None)}")
        if len(mask) != len(inputs):
            raise ValueError(f"layer '{self.name}': the lists of inputs and masks should have the same length, got "
                             f"{len(inputs)} inputs and {len(mask)} masks")
        masks = [_mask_np(m) for m in mask]
        return None if all(m is None for m in masks) else masks

    def compute_mask(self, inputs, mask=None):
        """The logical OR of the input masks; None where any input has no mask (Keras 3)."""
        masks = self._masks(inputs, mask)
        if masks is None or any(m is None for m in masks):
            return None
        out = masks[0]
        for m in masks[1:]:
            try:
                out = np.logical_or(out, m)
            except ValueError:
                raise ValueError(f"layer '{self.name}': masks of shapes {[k.shape for k in masks]} cannot be "
                                 "combined") from None
        return _mask_tensor(out)

    def _masked_merge(self, inputs, mask, op, fill):
        """Keras's masked Multiply / Maximum / Minimum: a masked entry becomes `fill` (1 for a
        product) or, with fill None, the other operand (no identity for max / min); where every
        input has a mask, entries masked in all of them are zeroed (product) or kept (max / min)."""
        masks = self._masks(inputs, mask)
        if masks is None:
            out = inputs[0]
            for x in inputs[1:]:
                out = op(out, x)
            return out
        full = [None if m is None else _expand_to(m, tuple(x.shape), self.name) for x, m in zip(inputs, masks)]
        if fill is not None:
            out = None
            for x, m in zip(inputs, full):
                if m is not None:
                    x = F.where(_on(m, x), x, fill)
                out = x if out is None else op(out, x)
            if all(m is not None for m in full):
                keep = np.logical_or.reduce(np.broadcast_arrays(*full))
                out = F.where(_on(keep, out), out, 0.0)
            return out
        out, out_mask = inputs[0], full[0]
        for x, m in zip(inputs[1:], full[1:]):
            if m is not None:
                x = F.where(_on(m, x), x, out)
            if out_mask is not None:
                out = F.where(_on(out_mask, out), out, x)
            out_mask = np.logical_or(out_mask, m) if (m is not None and out_mask is not None) else None
            out = op(out, x)
        return out


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

    def call(self, inputs, mask=None):
        self._check_call(inputs)
        return self._masked_merge(inputs, mask, lambda a, b: a * b, 1.0)


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

    def call(self, inputs, mask=None):
        self._check_call(inputs)
        return self._masked_merge(inputs, mask, F.maximum, None)


class Minimum(_Merge):
    """Elementwise minimum of a list of tensors.

    Example::

        a, b, c = fastnn.layers.Input((4,)), fastnn.layers.Input((4,)), fastnn.layers.Input((4,))
        fastnn.layers.Minimum()([a, b])        # min(a, b) elementwise
    """

    def call(self, inputs, mask=None):
        self._check_call(inputs)
        return self._masked_merge(inputs, mask, F.minimum, None)


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

    def compute_mask(self, inputs, mask=None):
        """Keras 3's rule: each input's mask at the input's shape (all True where it has none,
        a smaller mask broadcast over the trailing dimensions), concatenated along `axis`, then
        OR over the last axis. For a (batch, time) mask and a feature axis this is the OR of the
        time masks; along the time axis, the masks joined."""
        masks = self._masks(inputs, mask)
        if masks is None:
            return None
        full = []
        for x, m in zip(inputs, masks):
            shape = tuple(x.shape)
            if m is None:
                full.append(np.ones(shape, bool))
            elif m.ndim < len(shape):
                full.append(_expand_to(m, shape, self.name))
            else:
                full.append(m)
        try:
            joined = np.concatenate(full, axis=self.axis)
        except ValueError:
            raise ValueError(f"Concatenate '{self.name}': masks of shapes {[m.shape for m in full]} cannot be "
                             f"concatenated along axis {self.axis}") from None
        return _mask_tensor(np.any(joined, axis=-1))

    def get_config(self) -> dict:
        config = super().get_config()
        config["axis"] = self.axis
        return config


class Dot(_Merge):
    """The batchwise dot product of two tensors along `axes` (Keras 3's Dot): for x of shape
    (batch, n, d) and y of shape (batch, m, d), ``Dot(axes=2)`` gives (batch, n, m); for two
    (batch, d) tensors, ``Dot(axes=1)`` gives (batch, 1).

    Args:
        axes: an integer (the same axis of both inputs) or a pair (an axis of each); never the
            batch axis 0. Negative axes count from the end.
        normalize: L2-normalize both inputs along their axis first (``x / max(|x|, 1e-7)``),
            so the output is the cosine similarity.

    The output is x's shape without its axis, followed by y's shape without its batch and axis
    (a (batch, 1) output where that leaves only the batch). Dot returns no mask.

    Example::

        a, b = fastnn.layers.Input((5, 8)), fastnn.layers.Input((3, 8))
        scores = fastnn.layers.Dot(axes=2)([a, b])          # (None, 5, 3)
        cos = fastnn.layers.Dot(axes=1, normalize=True)([fastnn.ones(2, 4), fastnn.ones(2, 4)])
    """

    _max_inputs = 2

    def __init__(self, axes, normalize: bool = False, **kwargs):
        super().__init__(**kwargs)
        if isinstance(axes, (list, tuple)):
            if len(axes) != 2:
                raise ValueError(f"Dot: axes should contain two elements, got axes={axes!r}")
            if any(isinstance(a, bool) or not isinstance(a, (int, np.integer)) for a in axes):
                raise ValueError(f"Dot: the elements of axes should be integers, got axes={axes!r}")
            axes = [int(a) for a in axes]
        elif isinstance(axes, bool) or not isinstance(axes, (int, np.integer)):
            raise TypeError(f"Dot: axes should be an integer or a pair of integers, got axes={axes!r}")
        else:
            axes = int(axes)
        self.axes = axes
        self.normalize = bool(normalize)

    def _axes_for(self, shape1: tuple, shape2: tuple) -> list[int]:
        pair = [self.axes, self.axes] if isinstance(self.axes, int) else list(self.axes)
        out = []
        for a, s in zip(pair, (shape1, shape2)):
            if not -len(s) <= a < len(s):
                raise ValueError(f"Dot '{self.name}': axes={self.axes} is out of range for inputs of shapes "
                                 f"{shape1} and {shape2}")
            out.append(a % len(s))
        if 0 in out:
            raise ValueError(f"Dot '{self.name}': cannot take the dot product over the batch axis 0 "
                             f"(axes={self.axes}, input shapes {shape1} and {shape2})")
        return out

    def compute_output_shape(self, input_shape):
        self._check_input_shape(input_shape)
        shape1, shape2 = (tuple(s) for s in input_shape)
        if len(shape1) < 2 or len(shape2) < 2:
            raise ValueError(f"Dot '{self.name}' needs inputs of rank 2 or more, got shapes {shape1} and {shape2}")
        a0, a1 = self._axes_for(shape1, shape2)
        d1, d2 = shape1[a0], shape2[a1]
        if d1 is not None and d2 is not None and d1 != d2:
            raise ValueError(f"Dot '{self.name}': incompatible input shapes {shape1} and {shape2}: axis {a0} of the "
                             f"first has size {d1}, axis {a1} of the second has size {d2}")
        b1, b2 = shape1[0], shape2[0]
        if b1 is not None and b2 is not None and b1 != b2:
            raise ValueError(f"Dot '{self.name}': inputs with different batch sizes, got shapes {shape1} and {shape2}")
        out = [d for i, d in enumerate(shape1) if i != a0] + [d for i, d in enumerate(shape2) if i not in (0, a1)]
        if len(out) == 1:
            out.append(1)
        return tuple(out)

    @staticmethod
    def _l2_normalize(x: Tensor, axis: int) -> Tensor:
        # x / max(|x|, 1e-7) as Keras's normalize; the bound under the root keeps the gradient of
        # an all-zero slice finite
        return x / F.sqrt(F.clip(F.sum(x * x, axis=axis, keepdims=True), min=1e-14))

    def call(self, inputs):
        self._check_call(inputs)
        x, y = inputs
        out_shape = self.compute_output_shape([tuple(x.shape), tuple(y.shape)])
        a0, a1 = self._axes_for(tuple(x.shape), tuple(y.shape))
        if self.normalize:
            x, y = self._l2_normalize(x, a0), self._l2_normalize(y, a1)
        # (batch, rest of x, d) @ (batch, d, rest of y): one batched GEMM
        xp = F.permute(x, [i for i in range(x.ndim) if i != a0] + [a0])
        yp = F.permute(y, [0, a1] + [i for i in range(1, y.ndim) if i != a1])
        b, d = xp.shape[0], xp.shape[-1]
        xm = F.reshape(xp, (b, -1, d))
        ym = F.reshape(yp, (b, d, -1))
        return F.reshape(F.matmul(xm, ym), (b,) + tuple(out_shape[1:]))

    def compute_mask(self, inputs, mask=None):
        return None

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(axes=self.axes, normalize=self.normalize)
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


def dot(inputs, axes=-1, **kwargs):
    return Dot(axes=axes, **kwargs)(inputs)
