"""Embedding: integer indices -> rows of a trainable (input_dim, output_dim) table (Keras 3).

The table's gradient is a ``fastnn.sparse.RowSparseGrad`` by default (``sparse=False`` asks for a dense one)
(the rows looked up in the batch, repeats merged) instead of a dense (input_dim, output_dim) array; every
optimizer applies it with a row-sparse kernel that gives the dense result (rows outside the
batch see g = 0, so Adam's moments still decay there) without building the dense gradient.

Example::

    model = fastnn.models.Sequential([
        fastnn.layers.Input(shape=(20,), dtype="int64"),
        fastnn.layers.Embedding(20000, 50),
        fastnn.layers.Lambda(lambda x: x.mean(axis=1)),     # mean over time
        fastnn.layers.Dense(2, activation="softmax"),
    ])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from .. import _C
from .. import constraints as _constraints
from .. import functional as F
from .. import initializers as _initializers
from .. import regularizers as _regularizers
from ..tensor import Tensor, float32, int64
from .base import Layer

__all__ = ["Embedding"]


def _positive_int(value, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
        raise ValueError(f"Embedding: {name} must be a positive integer, got {name}={value!r}")
    return int(value)


class Embedding(Layer):
    """Turns non-negative integers (indices) into dense vectors of fixed size.

    Inputs of any shape give outputs of shape ``inputs.shape + (output_dim,)``: row
    ``inputs[...]`` of the ``embeddings`` weight, shape (input_dim, output_dim). Float inputs
    holding whole numbers (what ``fit`` makes of integer data) are accepted; an index outside
    [0, input_dim) raises ValueError naming it.

    Args:
        input_dim: the vocabulary size (the largest index + 1).
        output_dim: the size of each embedding vector.
        embeddings_initializer: defaults to 'uniform' (RandomUniform(-0.05, 0.05), as Keras).
        embeddings_regularizer: a penalty on the embeddings, added to ``losses``.
        embeddings_constraint: a projection (fastnn.constraints) applied to the whole
            embeddings matrix after each optimizer step, as Keras does (also with a row-sparse
            gradient); ``MaxNorm(1.0, axis=1)`` bounds the norm of each embedding vector.
        mask_zero: index 0 is padding: ``compute_mask`` returns ``inputs != 0`` (so index 0
            cannot be a word: input_dim should be the vocabulary size + 1).
        weights: an initial (input_dim, output_dim) array (or a list holding one).
        input_length: Keras 2 argument: gives the model its input shape (None, input_length)
            when no other shape is given (DeprecationWarning).
        sparse: give the embeddings a row-sparse gradient (``fastnn.sparse.RowSparseGrad``, the
            default, as TensorFlow's IndexedSlices; torch's ``nn.Embedding(sparse=True)``);
            False asks for a dense (input_dim, output_dim) gradient. The training result is
            the same; the sparse step does not build the dense gradient. ``weight.grad`` is
            then a RowSparseGrad (``.indices``, ``.values``, ``.dense_shape``, ``.to_dense()``,
            ``.numpy()`` gives the dense array).

    Example::

        layer = fastnn.layers.Embedding(1000, 64)
        layer(np.array([[4, 20, 7]])).shape       # (1, 3, 64)
        layer.embeddings.shape                    # (1000, 64)
    """

    def __init__(
        self,
        input_dim: int,
        output_dim: int,
        embeddings_initializer: Any = "uniform",
        embeddings_regularizer: Any = None,
        embeddings_constraint: Any = None,
        mask_zero: bool = False,
        weights: Any = None,
        input_length: int | None = None,
        sparse: bool = True,
        **kwargs: Any,
    ):
        if input_length is not None:
            warnings.warn(
                f"Embedding: `input_length={input_length!r}` is a Keras 2 argument and is deprecated: "
                "give the model its input shape with Input(shape=(input_length,)) instead",
                DeprecationWarning,
                stacklevel=2,
            )
            if not any(k in kwargs for k in ("input_shape", "batch_input_shape", "input_dim")):
                kwargs["batch_input_shape"] = (
                    kwargs.pop("batch_size", None),
                    _positive_int(input_length, "input_length"),
                )
        super().__init__(**kwargs)
        self.input_dim = _positive_int(input_dim, "input_dim")
        self.output_dim = _positive_int(output_dim, "output_dim")
        self.embeddings_initializer = _initializers.get(embeddings_initializer)
        self.embeddings_regularizer = _regularizers.get(embeddings_regularizer)
        self.embeddings_constraint = _constraints.get(embeddings_constraint)
        self.mask_zero = bool(mask_zero)
        self.supports_masking = self.mask_zero
        self.sparse = bool(sparse)
        self.embeddings = None
        if weights is not None:
            arrs = weights if isinstance(weights, (list, tuple)) and len(weights) == 1 else [weights]
            self.build(None)
            self.set_weights([np.asarray(arrs[0].numpy() if isinstance(arrs[0], Tensor) else arrs[0])])

    def build(self, input_shape=None) -> None:
        if self.embeddings is not None:
            self.built = True
            return
        self.embeddings = self.add_weight(
            "embeddings",
            (self.input_dim, self.output_dim),
            self.embeddings_initializer,
            regularizer=self.embeddings_regularizer,
            constraint=self.embeddings_constraint,
        )
        self.built = True

    def _indices(self, inputs):
        """The inputs as int64 indices (raw storage of an int64 Tensor, or a NumPy array)."""
        if isinstance(inputs, Tensor):
            if inputs.dtype == int64:
                arr = inputs._data if inputs.device == "cpu" else _C.to_host(inputs._data)
                idx = inputs
            else:
                arr = inputs.numpy()
                idx = None
        else:
            arr = np.asarray(inputs)
            idx = None
        if arr.dtype.kind == "f":
            whole = np.isfinite(arr) & (arr == np.trunc(arr))
            if not whole.all():
                bad = float(arr[~whole].flat[0])
                raise ValueError(
                    f"Embedding layer '{self.name}' expects integer indices, got the value {bad!r} "
                    f"in an input of shape {arr.shape}"
                )
        elif arr.dtype.kind not in "iub":
            raise TypeError(f"Embedding layer '{self.name}' expects integer indices, got dtype {arr.dtype}")
        if idx is None:
            arr = arr.astype(np.int64)
        if arr.size:
            lo, hi = int(arr.min()), int(arr.max())
            if lo < 0 or hi >= self.input_dim:
                bad = lo if lo < 0 else hi
                raise ValueError(
                    f"Embedding layer '{self.name}': index {bad} is out of range for input_dim={self.input_dim} "
                    f"(indices must be in [0, {self.input_dim}); input of shape {arr.shape})"
                )
        if idx is None:
            idx = Tensor(arr, device=self.embeddings.device)
        return idx

    def call(self, inputs):
        return F.embedding(self._indices(inputs), self.embeddings, sparse=self.sparse)

    def compute_mask(self, inputs, mask=None) -> Tensor | None:
        """None unless mask_zero; then a float32 tensor of inputs' shape, 1 where the index is not
        0 and 0 at padding (fastnn tensors are float32 or int64, so the mask is 0/1 floats)."""
        if not self.mask_zero:
            return None
        arr = inputs.numpy() if isinstance(inputs, Tensor) else np.asarray(inputs)
        return Tensor((arr != 0).astype(float32))

    def compute_output_shape(self, input_shape):
        if not isinstance(input_shape, tuple):
            raise ValueError(f"Embedding layer '{self.name}' expects one input tensor, got input shapes {input_shape}")
        return tuple(input_shape) + (self.output_dim,)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(
            input_dim=self.input_dim,
            output_dim=self.output_dim,
            embeddings_initializer=_initializers.serialize(self.embeddings_initializer)
            if isinstance(self.embeddings_initializer, _initializers.Initializer)
            else None,
            embeddings_regularizer=_regularizers.serialize(self.embeddings_regularizer),
            embeddings_constraint=_constraints.serialize(self.embeddings_constraint),
            mask_zero=self.mask_zero,
            sparse=self.sparse,
        )
        return config
