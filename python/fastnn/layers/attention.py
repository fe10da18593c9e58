"""Attention layers (Keras 3): Attention (Luong, dot product), AdditiveAttention (Bahdanau) and
MultiHeadAttention (Vaswani et al.), with Keras's arguments, weights and masking rules.

Masks are boolean (or 0/1) arrays or Tensors: True where a position may be attended to (value
masks, ``attention_mask``) or where a query is real (query masks). The masked softmax of the
scores is one fused kernel (fastnn.functional.masked_softmax): ``-1e9`` is added where the mask
is False, as Keras does.

Example::

    q = fastnn.layers.Input((5, 16))
    v = fastnn.layers.Input((7, 16))
    ctx = fastnn.layers.Attention()([q, v])                         # (None, 5, 16)
    out = fastnn.layers.MultiHeadAttention(num_heads=4, key_dim=8)(q, v)   # (None, 5, 16)
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .. import constraints as _constraints
from .. import functional as F
from .. import initializers as _initializers
from .. import random as _random
from .. import regularizers as _regularizers
from ..functional.nn import Dropout as _DropoutFn
from ..symbolic import KerasTensor
from ..tensor import Tensor
from .base import Layer

__all__ = ["Attention", "AdditiveAttention", "MultiHeadAttention"]


# ---------------------------------------------------------------------- helpers
def _check_rate(rate, owner: str) -> float:
    if isinstance(rate, bool) or not isinstance(rate, (int, float, np.integer, np.floating)) or not 0 <= rate < 1:
        raise ValueError(f"{owner}: dropout must be a number in [0, 1), got dropout={rate!r}")
    return float(rate)


def _mask_array(m, what: str, owner: str) -> np.ndarray | None:
    """A host boolean array from a mask given as a Tensor, an array or nested lists."""
    if m is None:
        return None
    a = m.numpy() if isinstance(m, Tensor) else np.asarray(m)
    if a.dtype.kind not in "biuf":
        raise TypeError(f"{owner}: {what} must be boolean or 0/1 numbers, got dtype {a.dtype}")
    return a != 0


def _check_mask_shape(mask: np.ndarray, want: tuple, what: str, owner: str) -> None:
    if tuple(mask.shape) != tuple(want):
        raise ValueError(f"{owner}: {what} must have shape {tuple(want)}, got a mask of shape {tuple(mask.shape)}")


def _causal(tq: int, tv: int) -> np.ndarray:
    """(1, Tq, Tv): query i sees keys j <= i (top-left aligned, as Keras)."""
    return np.tril(np.ones((tq, tv), dtype=bool))[None]


def _dropout(x: Tensor, rate: float, gen) -> Tensor:
    g = gen if gen is not None else _random.default_generator
    key, offset = g.take(x.size)
    return _DropoutFn.apply(x, rate, key, offset)


def _serialize_or_none(obj, module):
    return module.serialize(obj) if obj is not None and hasattr(obj, "get_config") else None


class _PackedCall:
    """Attention layers take several tensors (query, value, key and masks) but the graph records
    one input structure: they are packed into a list with a `_slots` list naming each entry."""

    def _pack_mask(self, m, name: str):
        """Masks travel as Tensors or symbolic tensors; anything else becomes a NumPy array
        first (so that nested lists are not split into rows)."""
        if isinstance(m, (Tensor, KerasTensor)):
            return m
        a = np.asarray(m)
        if a.dtype.kind not in "biuf":
            raise TypeError(f"{self.name}: {name} must be boolean or 0/1 numbers, got dtype {a.dtype}")
        return a

    @staticmethod
    def _unpack(inputs, slots) -> dict:
        if slots is None:
            return {}
        if not isinstance(inputs, (list, tuple)) or len(inputs) != len(slots):
            raise ValueError(f"packed attention inputs do not match their slots {slots}")
        return dict(zip(slots, inputs))


# ---------------------------------------------------------------------- Attention / AdditiveAttention
class Attention(_PackedCall, Layer):
    """Dot-product attention (Luong): ``softmax(query key^T) value``.

    Called on ``[query, value]`` or ``[query, value, key]`` (key defaults to value): query
    (batch, Tq, dim), value (batch, Tv, dim_v), key (batch, Tv, dim). The output is
    (batch, Tq, dim_v).

    Args:
        use_scale: multiply the scores by a trainable scalar ``scale`` (initialised to 1).
        score_mode: 'dot' (Luong's dot score, Keras's default), 'concat'
            (``concat_score_weight * sum(tanh(query + key))``, as Keras) or 'general'
            (Luong's general score ``query W key^T``: a trainable ``general_kernel`` W of shape
            (dim, key_dim), glorot-uniform; a fastnn extension). Keras 3 has no 'general' mode;
            there it is written ``Attention()([Dense(key_dim, use_bias=False)(query), value, key])``,
            which computes the same thing with W as the Dense kernel.
        dropout: fraction of the attention weights dropped in training.
        seed: seeds the dropout masks.

    Call arguments:
        inputs: [query, value] or [query, value, key].
        mask: [query_mask, value_mask] (each may be None): value_mask (batch, Tv) hides value
            positions; query_mask (batch, Tq) zeroes the output of padded queries.
        return_attention_scores: also return the weights (batch, Tq, Tv) (after the mask,
            the softmax and dropout).
        use_causal_mask: query i attends only to positions j <= i (decoder self-attention).
        training: dropout only when True.

    Example::

        query = fastnn.randn(2, 3, 4)
        value = fastnn.randn(2, 5, 4)
        out, w = fastnn.layers.Attention()([query, value], return_attention_scores=True)
        out.shape, w.shape      # (2, 3, 4), (2, 3, 5)
    """

    _score_modes = ("dot", "concat", "general")

    def __init__(
        self,
        use_scale: bool = False,
        score_mode: str = "dot",
        dropout: float = 0.0,
        seed: int | None = None,
        **kwargs: Any,
    ):
        super().__init__(**kwargs)
        if score_mode not in self._score_modes:
            raise ValueError(
                f"Invalid value for argument score_mode. Expected one of {set(self._score_modes)}. "
                f"Received: score_mode={score_mode!r}"
            )
        self.use_scale = bool(use_scale)
        self.score_mode = score_mode
        self.dropout = _check_rate(dropout, type(self).__name__)
        self.seed = seed
        self._gen = None if seed is None else _random.Generator(seed)
        self.scale = None
        self.concat_score_weight = None
        self.general_kernel = None

    # ------------------------------------------------------------------ calling
    def __call__(self, inputs=None, mask=None, **kwargs):
        if "_slots" in kwargs:  # already packed (a functional graph re-running its node)
            if not self.built:  # a model rebuilt from its config: build on the tensors, not the masks
                parts = self._unpack(inputs, kwargs["_slots"])
                self._maybe_build([tuple(parts[n].shape) for n in ("query", "value", "key") if n in parts])
            return super().__call__(inputs, **kwargs)
        if inputs is None:
            raise ValueError(f"{type(self).__name__} layer must be called on a list of inputs [query, value(, key)]")
        self._validate_inputs(inputs, mask)
        names = ["query", "value", "key"][: len(inputs)]
        packed = list(inputs)
        if mask is not None:
            for name, m in zip(("query_mask", "value_mask"), mask):
                if m is not None:
                    names.append(name)
                    packed.append(self._pack_mask(m, name))
        if not self.built:
            self._maybe_build([tuple(np.shape(x)) if not hasattr(x, "shape") else tuple(x.shape) for x in inputs])
        return super().__call__(packed, _slots=names, **kwargs)

    def _validate_inputs(self, inputs, mask=None) -> None:
        name = type(self).__name__
        if not isinstance(inputs, (list, tuple)):
            raise ValueError(
                f"{name} layer must be called on a list of inputs, namely [query, value] or [query, value, key]. "
                f"Received: an input of shape {getattr(inputs, 'shape', type(inputs).__name__)}"
            )
        if len(inputs) < 2 or len(inputs) > 3:
            raise ValueError(
                f"{name} layer accepts inputs list of length 2 or 3, namely [query, value] or [query, value, key]. "
                f"Received length: {len(inputs)}."
            )
        if mask is not None:
            if not isinstance(mask, (list, tuple)):
                raise ValueError(
                    f"{name} layer mask must be a list, namely [query_mask, value_mask]. Received: {mask!r}"
                )
            if len(mask) < 2 or len(mask) > 3:
                raise ValueError(f"{name} layer accepts mask list of length 2 or 3. Received length: {len(mask)}")

    def _check_input_shape(self, input_shape) -> None:
        name = type(self).__name__
        shapes = [tuple(s) for s in input_shape]
        q, v = shapes[0], shapes[1]
        k = shapes[2] if len(shapes) > 2 else v
        for s, what in ((q, "query"), (v, "value"), (k, "key")):
            if len(s) != 3:
                raise ValueError(f"{name} '{self.name}': {what} must be 3-D (batch, time, dim), got shape {s}")
        if k[1] is not None and v[1] is not None and k[1] != v[1]:
            raise ValueError(f"{name} '{self.name}': key and value must have the same length, got {k} and {v}")
        if self.score_mode != "general" and q[-1] is not None and k[-1] is not None and q[-1] != k[-1]:
            raise ValueError(
                f"{name} '{self.name}': query and key must have the same last dimension "
                f"(score_mode={self.score_mode!r}), got query {q} and key {k}"
            )

    def build(self, input_shape) -> None:
        if self.use_scale:
            self.scale = self.add_weight("scale", (), "ones")
        if self.score_mode == "concat":
            self.concat_score_weight = self.add_weight("concat_score_weight", (), "ones")
        if self.score_mode == "general":
            q = tuple(input_shape[0])
            k = tuple(input_shape[2] if len(input_shape) > 2 else input_shape[1])
            if q[-1] is None or k[-1] is None:
                raise ValueError(f"Attention '{self.name}': score_mode='general' needs known feature sizes")
            self.general_kernel = self.add_weight("general_kernel", (q[-1], k[-1]), "glorot_uniform")
        self.built = True

    def _calculate_scores(self, query: Tensor, key: Tensor) -> Tensor:
        if self.score_mode in ("dot", "general"):
            if self.score_mode == "general":
                query = F.matmul(query, self.general_kernel)
            scores = F.matmul(query, key, transpose_b=True)
            return scores * self.scale if self.scale is not None else scores
        q = F.unsqueeze(query, -2)  # (B, Tq, 1, dim)
        k = F.unsqueeze(key, -3)  # (B, 1, Tv, dim)
        s = q + k
        if self.scale is not None:
            s = s * self.scale
        return self.concat_score_weight * F.sum(F.tanh(s), axis=-1)

    def call(self, inputs, training=None, return_attention_scores: bool = False, use_causal_mask: bool = False,
             _slots=None):
        parts = self._unpack(inputs, _slots)
        q, v = parts["query"], parts["value"]
        k = parts.get("key", v)
        q_mask = _mask_array(parts.get("query_mask"), "query_mask", self.name)
        v_mask = _mask_array(parts.get("value_mask"), "value_mask", self.name)
        b, tq, tv = q.shape[0], q.shape[1], v.shape[1]
        if k.shape[:2] != v.shape[:2] or q.shape[0] != v.shape[0]:
            raise ValueError(
                f"{type(self).__name__} '{self.name}': query {q.shape}, value {v.shape} and key {k.shape} "
                "must share the batch size, and key and value the length"
            )
        scores = self._calculate_scores(q, k)
        smask = None
        if v_mask is not None:
            _check_mask_shape(v_mask, (b, tv), "value_mask", self.name)
            smask = v_mask[:, None, :]
        if use_causal_mask:
            c = _causal(tq, tv)
            smask = c if smask is None else smask & c
        weights = F.masked_softmax(scores, smask)
        if training and self.dropout > 0:
            weights = _dropout(weights, self.dropout, self._gen)
        result = F.matmul(weights, v)
        if q_mask is not None:
            _check_mask_shape(q_mask, (b, tq), "query_mask", self.name)
            result = result * Tensor(q_mask[:, :, None].astype(np.float32), device=result.device)
        if return_attention_scores:
            return result, weights
        return result

    def compute_mask(self, inputs, mask=None):
        """The output's mask is the query mask (as Keras)."""
        if mask is None or mask[0] is None:
            return None
        return mask[0]

    def _output_shape_for(self, inputs, shapes, rest, kwargs):
        parts = self._unpack(shapes, kwargs.get("_slots"))
        q, v = tuple(parts["query"]), tuple(parts["value"])
        out = q[:-1] + (v[-1],)
        if kwargs.get("return_attention_scores"):
            return (out, (q[0], q[1], v[1]))
        return out

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[0][:-1]) + (input_shape[1][-1],)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(use_scale=self.use_scale, score_mode=self.score_mode, dropout=self.dropout, seed=self.seed)
        return config


class AdditiveAttention(Attention):
    """Additive attention (Bahdanau), as Keras computes it:
    ``scores[b, i, j] = sum_d scale[d] * tanh(query[b, i, d] + key[b, j, d])``, then the masked
    softmax over j and the weighted sum of value.

    ``scale`` (dim,) plays the role of Bahdanau's v; his projections W1 q and W2 k are the
    inputs' job, as in Keras: ``AdditiveAttention()([Dense(u)(query), value, Dense(u)(key)])``
    is v^T tanh(W1 q + W2 k).

    Args:
        use_scale: learn ``scale`` (dim,), glorot-uniform (True, the default); False sums
            tanh(query + key) unweighted.
        dropout: fraction of the attention weights dropped in training.
        seed: seeds the dropout masks.

    Call arguments are Attention's (inputs, mask, return_attention_scores, use_causal_mask).

    Example::

        out = fastnn.layers.AdditiveAttention()([fastnn.randn(2, 3, 4), fastnn.randn(2, 5, 4)])
        out.shape      # (2, 3, 4)
    """

    _score_modes = ("dot",)

    def __init__(self, use_scale: bool = True, dropout: float = 0.0, seed: int | None = None, **kwargs: Any):
        kwargs.pop("score_mode", None)
        super().__init__(use_scale=use_scale, dropout=dropout, seed=seed, **kwargs)

    def build(self, input_shape) -> None:
        dim = tuple(input_shape[0])[-1]
        if self.use_scale:
            if dim is None:
                raise ValueError(f"AdditiveAttention '{self.name}': the query's last dimension must be known")
            self.scale = self.add_weight("scale", (dim,), "glorot_uniform")
        self.built = True

    def _calculate_scores(self, query: Tensor, key: Tensor) -> Tensor:
        t = F.tanh(F.unsqueeze(query, -2) + F.unsqueeze(key, -3))  # (B, Tq, Tv, dim)
        if self.scale is not None:
            t = t * self.scale
        return F.sum(t, axis=-1)

    def get_config(self) -> dict:
        config = super().get_config()
        del config["score_mode"]
        return config


# ---------------------------------------------------------------------- MultiHeadAttention
class _Projection(Layer):
    """x (..., *in_dims) times a kernel (*in_dims, *out_dims) plus a bias (*out_dims): Keras's
    EinsumDense in the forms MultiHeadAttention uses, with its weight shapes."""

    def __init__(self, in_dims: tuple, out_dims: tuple, use_bias: bool, kernel_initializer, bias_initializer,
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        self.in_dims, self.out_dims = tuple(in_dims), tuple(out_dims)
        self.use_bias = use_bias
        self.kernel = self.add_weight(
            "kernel", self.in_dims + self.out_dims, kernel_initializer, regularizer=kernel_regularizer,
            constraint=kernel_constraint,
        )
        self.bias = (
            self.add_weight("bias", self.out_dims, bias_initializer, regularizer=bias_regularizer,
                            constraint=bias_constraint)
            if use_bias
            else None
        )
        self.built = True

    def call(self, x):
        k_in, k_out = math.prod(self.in_dims), math.prod(self.out_dims)
        lead = x.shape[: x.ndim - len(self.in_dims)]
        x2 = F.reshape(x, (math.prod(lead), k_in))
        kernel = F.reshape(self.kernel, (k_in, k_out))
        bias = F.reshape(self.bias, (k_out,)) if self.bias is not None else None
        return F.reshape(F.dense(x2, kernel, bias), lead + self.out_dims)


class MultiHeadAttention(_PackedCall, Layer):
    """Multi-head attention (Vaswani et al., 2017) with Keras 3's arguments and weights.

    query (batch, T, dim_q), value (batch, S, dim_v) and key (batch, S, dim_k) (key defaults
    to value) are projected to `num_heads` heads: query/kernel (dim_q, num_heads, key_dim),
    key/kernel (dim_k, num_heads, key_dim), value/kernel (dim_v, num_heads, value_dim), each
    with a bias (num_heads, size); scores are ``q k^T / sqrt(key_dim)``, masked, softmaxed over
    S and applied to the values; attention_output/kernel (num_heads, value_dim, *output_shape)
    and its bias project back. Inputs of more than 3 dimensions (batch, d1, ..., dim) attend
    over all the middle axes at once (attention_axes=None, Keras's default).

    Args:
        num_heads: number of heads.
        key_dim: size of each head for query and key.
        value_dim: size of each head for value (default key_dim).
        dropout: dropout rate on the attention probabilities (training only).
        use_bias: the projections have biases.
        output_shape: the output's last dimensions (an int or a tuple); default the query's dim.
        attention_axes: None (attention over every axis but batch, heads and features) or those
            same axes spelled out; other choices are not supported.
        kernel_initializer / bias_initializer: 'glorot_uniform' and 'zeros'.
        kernel_regularizer / bias_regularizer / activity_regularizer: on each projection.
        kernel_constraint / bias_constraint: on each projection's kernel and bias
            (fastnn.constraints, applied after each optimizer step).
        seed: seeds the dropout.

    Call arguments: ``layer(query, value, key=None, attention_mask=None, query_mask=None,
    value_mask=None, key_mask=None, return_attention_scores=False, training=None,
    use_causal_mask=False)``. attention_mask (batch, T, S) (a missing batch axis broadcasts) is
    True where query i may attend to key j; query_mask (batch, T) and value_mask / key_mask
    (batch, S) are merged into it with the causal mask, as Keras does. A query with nothing to
    attend to gets zero attention weights (its output is the output bias).
    return_attention_scores also returns the probabilities (batch, num_heads, T, S) (before
    dropout).

    Example::

        mha = fastnn.layers.MultiHeadAttention(num_heads=2, key_dim=2)
        x = fastnn.randn(3, 8, 16)
        y, scores = mha(x, x, return_attention_scores=True)
        y.shape, scores.shape        # (3, 8, 16), (3, 2, 8, 8)
        mha.count_params()           # 284 (Keras's count)
    """

    def __init__(
        self,
        num_heads: int,
        key_dim: int,
        value_dim: int | None = None,
        dropout: float = 0.0,
        use_bias: bool = True,
        output_shape=None,
        attention_axes=None,
        flash_attention=None,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        kernel_regularizer=None,
        bias_regularizer=None,
        activity_regularizer=None,
        kernel_constraint=None,
        bias_constraint=None,
        seed: int | None = None,
        **kwargs: Any,
    ):
        super().__init__(**kwargs)
        for value, name in ((num_heads, "num_heads"), (key_dim, "key_dim")):
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
                raise ValueError(f"MultiHeadAttention: {name} must be a positive integer, got {name}={value!r}")
        if value_dim is not None and (
            isinstance(value_dim, bool) or not isinstance(value_dim, (int, np.integer)) or value_dim <= 0
        ):
            raise ValueError(f"MultiHeadAttention: value_dim must be None or a positive integer, got {value_dim!r}")
        if flash_attention:
            raise NotImplementedError("MultiHeadAttention: flash_attention is not available in fastnn")
        self._num_heads = int(num_heads)
        self._key_dim = int(key_dim)
        self._value_dim = int(value_dim) if value_dim else self._key_dim
        self._dropout = _check_rate(dropout, "MultiHeadAttention")
        self._use_bias = bool(use_bias)
        if output_shape:
            if isinstance(output_shape, (int, np.integer)):
                output_shape = (int(output_shape),)
            if not isinstance(output_shape, (tuple, list)) or not all(
                isinstance(d, (int, np.integer)) and not isinstance(d, bool) and d > 0 for d in output_shape
            ):
                raise ValueError(
                    f"Invalid `output_shape`: {output_shape!r}. When specified, the `output_shape` should be "
                    "a positive int or a tuple of positive ints"
                )
            output_shape = tuple(int(d) for d in output_shape)
        else:
            output_shape = None
        self._output_shape = output_shape
        if isinstance(attention_axes, (int, np.integer)) and not isinstance(attention_axes, bool):
            attention_axes = (int(attention_axes),)
        elif attention_axes is not None and not isinstance(attention_axes, (list, tuple)):
            raise ValueError(
                f"`attention_axes` must be an int, list, or tuple. Received: attention_axes={attention_axes!r}"
            )
        self._attention_axes = None if attention_axes is None else tuple(int(a) for a in attention_axes)
        self._kernel_initializer = _initializers.get(kernel_initializer)
        self._bias_initializer = _initializers.get(bias_initializer)
        self._kernel_regularizer = _regularizers.get(kernel_regularizer)
        self._bias_regularizer = _regularizers.get(bias_regularizer)
        self._activity_regularizer = _regularizers.get(activity_regularizer)
        self._kernel_constraint = _constraints.get(kernel_constraint)
        self._bias_constraint = _constraints.get(bias_constraint)
        self.seed = seed
        self._gen = None if seed is None else _random.Generator(seed)
        self._inverse_sqrt_key_dim = 1.0 / math.sqrt(float(self._key_dim))
        self._query_dense = self._key_dense = self._value_dense = self._output_dense = None

    num_heads = property(lambda self: self._num_heads)
    key_dim = property(lambda self: self._key_dim)
    value_dim = property(lambda self: self._value_dim)
    dropout = property(lambda self: self._dropout)
    use_bias = property(lambda self: self._use_bias)
    attention_axes = property(lambda self: self._attention_axes)
    query_dense = property(lambda self: self._query_dense)
    key_dense = property(lambda self: self._key_dense)
    value_dense = property(lambda self: self._value_dense)
    output_dense = property(lambda self: self._output_dense)

    # ------------------------------------------------------------------ calling
    _MASKS = ("attention_mask", "query_mask", "value_mask", "key_mask")

    def __call__(self, query=None, value=None, key=None, *, attention_mask=None, query_mask=None,
                 value_mask=None, key_mask=None, **kwargs):
        if "_slots" in kwargs:  # already packed (a functional graph re-running its node)
            if not self.built:  # a model rebuilt from its config: build on the tensors, not the masks
                parts = self._unpack(query, kwargs["_slots"])
                self._maybe_build([tuple(parts[n].shape) for n in ("query", "value", "key") if n in parts])
            return super().__call__(query, **kwargs)
        if query is None or value is None:
            raise ValueError("MultiHeadAttention must be called as layer(query, value) or layer(query, value, key)")
        names, packed = ["query", "value"], [query, value]
        if key is not None:
            names.append("key")
            packed.append(key)
        shapes = [tuple(t.shape) if hasattr(t, "shape") else np.shape(t) for t in packed]
        masks = dict(attention_mask=attention_mask, query_mask=query_mask, value_mask=value_mask, key_mask=key_mask)
        for name in self._MASKS:
            if masks[name] is not None:
                names.append(name)
                packed.append(self._pack_mask(masks[name], name))
        if not self.built:
            self._maybe_build(shapes)
        return super().__call__(packed, _slots=names, **kwargs)

    def _check_input_shape(self, input_shape) -> None:
        shapes = [tuple(s) for s in input_shape]
        q, v = shapes[0], shapes[1]
        k = shapes[2] if len(shapes) > 2 else v
        for s, what in ((q, "query"), (v, "value"), (k, "key")):
            if len(s) < 3:
                raise ValueError(
                    f"MultiHeadAttention '{self.name}': {what} must have at least 3 dimensions "
                    f"(batch, time, features), got shape {s}"
                )
            if s[-1] is None:
                raise ValueError(
                    f"MultiHeadAttention '{self.name}': the last dimension of {what} must be known, got {s}"
                )
        if v[1:-1] != k[1:-1]:
            raise ValueError(
                "All dimensions of `value` and `key`, except the last one, must be equal. "
                f"Received: value_shape={v} and key_shape={k}"
            )
        if len(q) != len(v):
            raise ValueError(f"MultiHeadAttention '{self.name}': query {q} and value {v} must have the same rank")
        rank = len(q) + 1  # of the projected (batch, ..., heads, size) tensors
        default = tuple(range(1, rank - 2))
        if self._attention_axes is not None:
            axes = tuple(a if a >= 0 else (rank - 1) + a for a in self._attention_axes)
            if tuple(sorted(axes)) != default:
                raise NotImplementedError(
                    f"MultiHeadAttention '{self.name}': attention_axes={self._attention_axes} is not supported; "
                    f"only the default (attention over axes {default} for inputs of rank {len(q)}) is"
                )

    def build(self, input_shape) -> None:
        shapes = [tuple(s) for s in input_shape]
        q, v = shapes[0], shapes[1]
        k = shapes[2] if len(shapes) > 2 else v
        common = dict(
            use_bias=self._use_bias,
            kernel_initializer=self._kernel_initializer,
            bias_initializer=self._bias_initializer,
            kernel_regularizer=self._kernel_regularizer,
            bias_regularizer=self._bias_regularizer,
            activity_regularizer=self._activity_regularizer,
            kernel_constraint=self._kernel_constraint,
            bias_constraint=self._bias_constraint,
        )
        n = self._num_heads
        self._query_dense = _Projection((q[-1],), (n, self._key_dim), name="query", **common)
        self._key_dense = _Projection((k[-1],), (n, self._key_dim), name="key", **common)
        self._value_dense = _Projection((v[-1],), (n, self._value_dim), name="value", **common)
        out = self._output_shape or (q[-1],)
        self._output_dense = _Projection((n, self._value_dim), out, name="attention_output", **common)
        # private attributes are not tracked as sublayers: register them (Keras's weight order)
        self._layers.extend([self._query_dense, self._key_dense, self._value_dense, self._output_dense])
        self._attention_axes = tuple(range(1, len(q) - 1))
        self.built = True

    def _attention_mask(self, parts, b: int, t_dims: tuple, s_dims: tuple, use_causal_mask: bool):
        """The merged boolean mask (b or 1, T, S) over the flattened attention axes, or None."""
        T, S = math.prod(t_dims), math.prod(s_dims)
        mask = None

        def merge(m):
            nonlocal mask
            mask = m if mask is None else mask & m

        qm = _mask_array(parts.get("query_mask"), "query_mask", self.name)
        if qm is not None:
            _check_mask_shape(qm, (b,) + t_dims, "query_mask", self.name)
            merge(qm.reshape(b, T, 1))
        for name in ("value_mask", "key_mask"):
            m = _mask_array(parts.get(name), name, self.name)
            if m is not None:
                _check_mask_shape(m, (b,) + s_dims, name, self.name)
                merge(m.reshape(b, 1, S))
        if use_causal_mask:
            if len(t_dims) != 1:
                raise ValueError(
                    f"MultiHeadAttention '{self.name}': use_causal_mask needs 3-D inputs (batch, time, features)"
                )
            merge(_causal(T, S))
        am = _mask_array(parts.get("attention_mask"), "attention_mask", self.name)
        if am is not None:
            full = t_dims + s_dims
            if am.ndim == len(full):
                am = am[None]
            if am.ndim != len(full) + 1 or tuple(am.shape[1:]) != full or am.shape[0] not in (1, b):
                raise ValueError(
                    f"MultiHeadAttention '{self.name}': attention_mask must have shape {(b,) + full} "
                    f"(the batch may be left out), got a mask of shape {tuple(am.shape)}"
                )
            merge(am.reshape(am.shape[0], T, S))
        return mask

    def call(self, inputs, training=None, return_attention_scores: bool = False, use_causal_mask: bool = False,
             _slots=None):
        parts = self._unpack(inputs, _slots)
        query, value = parts["query"], parts["value"]
        key = parts.get("key", value)
        if query.shape[0] != value.shape[0] or key.shape[:-1] != value.shape[:-1]:
            raise ValueError(
                f"MultiHeadAttention '{self.name}': query {query.shape}, value {value.shape} and key {key.shape} "
                "must share the batch size, and key and value every dimension but the last"
            )
        b = query.shape[0]
        t_dims, s_dims = tuple(query.shape[1:-1]), tuple(value.shape[1:-1])
        T, S = math.prod(t_dims), math.prod(s_dims)
        n, hk, hv = self._num_heads, self._key_dim, self._value_dim
        mask = self._attention_mask(parts, b, t_dims, s_dims, use_causal_mask)
        q = F.reshape(self._query_dense(query), (b, T, n, hk))
        k = F.reshape(self._key_dense(key), (b, S, n, hk))
        v = F.reshape(self._value_dense(value), (b, S, n, hv))
        q, k, v = F.permute(q, (0, 2, 1, 3)), F.permute(k, (0, 2, 1, 3)), F.permute(v, (0, 2, 1, 3))
        scores = F.matmul(q, k, transpose_b=True)  # (b, n, T, S)
        probs = F.masked_softmax(
            scores, None if mask is None else mask[:, None], scale=self._inverse_sqrt_key_dim, zero_masked=True
        )
        used = _dropout(probs, self._dropout, self._gen) if training and self._dropout > 0 else probs
        ctx = F.permute(F.matmul(used, v), (0, 2, 1, 3))  # (b, T, n, hv)
        ctx = F.reshape(ctx, (b,) + t_dims + (n, hv))
        out = self._output_dense(ctx)
        if return_attention_scores:
            return out, F.reshape(probs, (b, n) + t_dims + s_dims)
        return out

    def compute_mask(self, inputs, mask=None):
        """The output keeps the query's mask (as Keras)."""
        if isinstance(mask, (list, tuple)):
            return mask[0] if mask else None
        return mask

    def _output_shape_for(self, inputs, shapes, rest, kwargs):
        parts = self._unpack(shapes, kwargs.get("_slots"))
        return self._shapes(tuple(parts["query"]), tuple(parts["value"]), kwargs.get("return_attention_scores"))

    def _shapes(self, q: tuple, v: tuple, scores: bool):
        out = q[:-1] + (self._output_shape or (q[-1],))
        if scores:
            return (out, (q[0], self._num_heads) + q[1:-1] + v[1:-1])
        return out

    def compute_output_shape(self, query_shape, value_shape=None, key_shape=None):
        if value_shape is None and isinstance(query_shape, list):
            query_shape, value_shape = query_shape[0], query_shape[1]
        return self._shapes(tuple(query_shape), tuple(value_shape if value_shape is not None else query_shape), False)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(
            num_heads=self._num_heads,
            key_dim=self._key_dim,
            value_dim=self._value_dim,
            dropout=self._dropout,
            use_bias=self._use_bias,
            output_shape=list(self._output_shape) if self._output_shape else None,
            attention_axes=list(self._attention_axes) if self._attention_axes is not None else None,
            kernel_initializer=_serialize_or_none(self._kernel_initializer, _initializers),
            bias_initializer=_serialize_or_none(self._bias_initializer, _initializers),
            kernel_regularizer=_regularizers.serialize(self._kernel_regularizer),
            bias_regularizer=_regularizers.serialize(self._bias_regularizer),
            activity_regularizer=_regularizers.serialize(self._activity_regularizer),
            kernel_constraint=_constraints.serialize(self._kernel_constraint),
            bias_constraint=_constraints.serialize(self._bias_constraint),
            seed=self.seed,
        )
        return config
