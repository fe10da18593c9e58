"""fastnn.layers.Layer: the Keras layer contract (build / call / get_config) and bookkeeping.

A layer creates its weights in ``build(input_shape)`` with ``add_weight``, computes in
``call(inputs, training=None)`` with fastnn.functional ops, and describes itself with
``get_config``. ``__call__`` builds on the first call and works on concrete Tensors (it runs
``call``) and on symbolic KerasTensors (it records a graph Node; see fastnn.symbolic).

Example::

    class Scale(fastnn.layers.Layer):
        def build(self, input_shape):
            self.w = self.add_weight(name="w", shape=(input_shape[-1],), initializer="ones")

        def call(self, x):
            return x * self.w

    y = Scale()(fastnn.ones(2, 3))
"""

from __future__ import annotations

import contextvars
import difflib
import inspect
import math
import re
from collections import defaultdict
from typing import Any, Callable

import numpy as np

from .. import _C
from .. import constraints as _constraints
from .. import initializers as _initializers
from .. import regularizers as _regularizers
from ..autograd import no_grad
from ..symbolic import KerasTensor, Node, flatten, is_symbolic, pack_like
from ..tensor import Tensor, float32
from ..variables import Variable

__all__ = ["Layer", "clear_session", "standardize_shape"]

_NAME_UIDS: defaultdict[str, int] = defaultdict(int)

# Layers holding losses added during the current top-level call (cleared when the next starts).
_LOSS_LAYERS: list = []
_CALL_DEPTH = 0
_TRAINING_CTX: list = [None]


def _physical_memory() -> int:
    """Bytes of physical memory: the same limit the kernels' results are held to."""
    return _C.PHYSICAL_MEMORY_BYTES


def clear_session() -> None:
    """Reset the automatic layer names (the next Dense is 'dense' again), as Keras does."""
    _NAME_UIDS.clear()
    _LOSS_LAYERS.clear()


def _snake(name: str) -> str:
    # Keras's to_snake_case: a digit does not end a word (Conv2D -> conv2d, MaxPooling2D -> max_pooling2d)
    s = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", s).lower().lstrip("_")


def unique_name(prefix: str) -> str:
    _NAME_UIDS[prefix] += 1
    n = _NAME_UIDS[prefix]
    return prefix if n == 1 else f"{prefix}_{n - 1}"


def standardize_shape(shape, what: str = "shape") -> tuple:
    """A tuple of ints / None; an int becomes (int,)."""
    if isinstance(shape, (int, np.integer)) and not isinstance(shape, bool):
        shape = (int(shape),)
    if not isinstance(shape, (tuple, list)):
        raise TypeError(f"{what} must be a tuple of integers, got {what}={shape!r}")
    out = []
    for s in shape:
        if s is None:
            out.append(None)
        elif isinstance(s, (int, np.integer)) and not isinstance(s, bool) and s >= 0:
            out.append(int(s))
        else:
            raise ValueError(f"{what} must contain non-negative integers or None, got {what}={tuple(shape)!r}")
    return tuple(out)


def _shape_of(x) -> Any:
    """Nested shapes of a nested input structure."""
    if isinstance(x, (list, tuple)):
        return [_shape_of(v) for v in x]
    if isinstance(x, dict):
        return {k: _shape_of(v) for k, v in x.items()}
    return tuple(x.shape)


def _as_tensor(x):
    if isinstance(x, Tensor) or x is None:
        return x
    if isinstance(x, np.ndarray) and x.dtype.kind in "iub" and x.dtype != np.int64:
        return Tensor(x.astype(np.float32))
    if isinstance(x, np.ndarray) and x.dtype == np.float64:
        return Tensor(x.astype(np.float32))
    if isinstance(x, (list, float, int, np.ndarray, np.generic)):
        return Tensor(np.asarray(x, dtype=np.float32) if not isinstance(x, np.ndarray) else x)
    return x


def _convert_inputs(inputs):
    if isinstance(inputs, Tensor):
        return inputs
    if isinstance(inputs, np.ndarray):
        return _as_tensor(inputs)
    if isinstance(inputs, (list, tuple)):
        return type(inputs)(_convert_inputs(v) for v in inputs)
    if isinstance(inputs, dict):
        return {k: _convert_inputs(v) for k, v in inputs.items()}
    return _as_tensor(inputs)


# A check every new weight must pass before its initializer allocates it, or None. Loading a saved
# model sets one (fastnn.saving) that holds each weight against the file's own tensors, so a
# crafted configuration fails before it allocates; a context variable, so other threads and code
# outside the load are unaffected.
WEIGHT_CHECK: contextvars.ContextVar[Callable[[Any, Any, tuple], None] | None] = contextvars.ContextVar(
    "fastnn_weight_check", default=None)


class Layer:
    """Base class of every layer (Keras 3 contract).

    Args:
        trainable: whether the layer's weights are updated by training.
        name: a unique name; by default the snake-cased class name ('dense', 'dense_1', ...).
        dtype: 'float32' (the only floating type of fastnn).
        input_shape / input_dim / batch_input_shape: accepted on the first layer of a
            Sequential model (as tutorials write it) to give the model its input shape.
        activity_regularizer: a penalty on the layer's output, added to ``losses``.

    Example::

        layer = fastnn.layers.Dense(4)
        y = layer(fastnn.ones(2, 3))       # builds: kernel (3, 4), bias (4,)
        layer.count_params()               # 16
    """

    _call_accepts_training: bool | None = None
    _call_accepts_mask: bool | None = None
    # Layers that pass an incoming mask on unchanged set this (Keras's supports_masking).
    supports_masking: bool = False

    def __init__(
        self,
        trainable: bool = True,
        name: str | None = None,
        dtype=None,
        *,
        activity_regularizer=None,
        input_shape=None,
        input_dim=None,
        batch_input_shape=None,
        batch_size=None,
        **kwargs,
    ):
        if kwargs:
            raise TypeError(_unknown_kwargs_message(type(self), kwargs))
        object.__setattr__(self, "_tracking", False)
        if name is not None and (not isinstance(name, str) or not name):
            raise ValueError(f"name must be a non-empty string, got name={name!r}")
        if dtype not in (None, "float32", float32, np.float32):
            raise ValueError(f"fastnn layers compute in float32, got dtype={dtype!r}")
        self.name = name if name is not None else unique_name(_snake(type(self).__name__))
        self._trainable = bool(trainable)
        self.built = False
        self._own_weights: list[Variable] = []
        self._layers: list[Layer] = []
        self._inbound_nodes: list[Node] = []
        self._call_losses: list[Tensor] = []
        self._callable_losses: list = []
        self.activity_regularizer = _regularizers.get(activity_regularizer)
        self._batch_input_shape = None
        if batch_input_shape is not None:
            self._batch_input_shape = standardize_shape(batch_input_shape, "batch_input_shape")
        elif input_shape is not None:
            self._batch_input_shape = (batch_size,) + standardize_shape(input_shape, "input_shape")
        elif input_dim is not None:
            if not isinstance(input_dim, (int, np.integer)) or isinstance(input_dim, bool) or input_dim <= 0:
                raise ValueError(f"input_dim must be a positive integer, got input_dim={input_dim!r}")
            self._batch_input_shape = (batch_size, int(input_dim))
        self._tracking = True
        cls = type(self)
        if cls._call_accepts_training is None or "_call_accepts_training" not in cls.__dict__:
            params = inspect.signature(cls.call).parameters
            cls._call_accepts_training = "training" in params or any(p.kind == p.VAR_KEYWORD for p in params.values())
        if cls._call_accepts_mask is None or "_call_accepts_mask" not in cls.__dict__:
            cls._call_accepts_mask = "mask" in inspect.signature(cls.call).parameters

    # ------------------------------------------------------------------ attribute tracking
    def __setattr__(self, key: str, value: Any) -> None:
        if getattr(self, "_tracking", False) and not key.startswith("_"):
            if isinstance(value, Layer) and value is not self:
                if not any(value is lyr for lyr in self._layers):
                    self._layers.append(value)
            elif isinstance(value, (list, tuple)) and value and all(isinstance(v, Layer) for v in value):
                for v in value:
                    if not any(v is lyr for lyr in self._layers):
                        self._layers.append(v)
            elif isinstance(value, Variable) and not any(value is w for w in self._own_weights):
                self._own_weights.append(value)
        object.__setattr__(self, key, value)

    # ------------------------------------------------------------------ weights
    def add_weight(
        self,
        name: str | None = None,
        shape=(),
        initializer="glorot_uniform",
        dtype=None,
        trainable: bool = True,
        regularizer=None,
        constraint=None,
    ) -> Variable:
        """Create a weight (a fastnn.Variable) owned by this layer.

        Args:
            shape: a tuple of non-negative integers. A weight larger than the machine's physical
                memory raises ValueError (it could never be trained; NumPy would fail or the
                system would swap or kill the process).
            initializer: a name ('zeros', 'glorot_uniform', ...), an Initializer or a callable
                ``(shape, dtype) -> array``.
            regularizer: a name, a Regularizer or a callable; its penalty joins ``losses``.
            constraint: a name ('max_norm', ...), a Constraint or a callable ``w -> w``; the
                optimizers project the weight with it after each update.
        """
        shape = standardize_shape(shape, "shape")
        if any(s is None for s in shape):
            raise ValueError(f"add_weight: the shape of weight {name!r} must be fully known, got shape={shape}")
        check = WEIGHT_CHECK.get()
        if check is not None:
            check(self, name, shape)
        nbytes = math.prod(shape) * 4  # Python ints: no overflow
        if nbytes > _physical_memory():
            raise ValueError(
                f"{type(self).__name__} '{self.name}': weight {name!r} of shape {shape} needs {nbytes / 2**30:,.1f} "
                f"GiB as float32, more than this machine's memory ({_physical_memory() / 2**30:,.1f} GiB); "
                "check the layer's sizes (units, filters, kernel_size, input_dim, ...)"
            )
        init = _initializers.get(initializer if initializer is not None else "zeros")
        value = init(shape, dtype="float32")
        arr = value.numpy() if isinstance(value, Tensor) else np.asarray(value, dtype=np.float32)
        if tuple(arr.shape) != shape:
            raise ValueError(f"initializer of weight {name!r} returned shape {tuple(arr.shape)}, expected {shape}")
        arr = np.array(arr, dtype=np.float32, copy=True, order="C")
        v = Variable(
            arr,
            name=name or "variable",
            trainable=trainable,
            regularizer=_regularizers.get(regularizer),
            constraint=_constraints.get(constraint),
        )
        v.path = f"{self.name}/{v.name}"
        self._own_weights.append(v)
        return v

    def _flat_layers(self) -> list[Layer]:
        """This layer's sublayers, recursively, each once."""
        out, seen = [], set()

        def rec(lyr):
            for s in lyr._layers:
                if id(s) not in seen:
                    seen.add(id(s))
                    out.append(s)
                    rec(s)

        rec(self)
        return out

    @staticmethod
    def _dedup(ws: list) -> list:
        seen, out = set(), []
        for w in ws:
            if id(w) not in seen:
                seen.add(id(w))
                out.append(w)
        return out

    @property
    def weights(self) -> list[Variable]:
        """Every weight: this layer's own (in creation order), then those of its sublayers."""
        ws = list(self._own_weights)
        for s in self._layers:
            ws.extend(s.weights)
        return self._dedup(ws)

    variables = weights

    @property
    def trainable_weights(self) -> list[Variable]:
        if not self._trainable:
            return []
        ws = [w for w in self._own_weights if w.trainable]
        for s in self._layers:
            ws.extend(s.trainable_weights)
        return self._dedup(ws)

    trainable_variables = trainable_weights

    @property
    def non_trainable_weights(self) -> list[Variable]:
        if not self._trainable:
            return self.weights
        ws = [w for w in self._own_weights if not w.trainable]
        for s in self._layers:
            ws.extend(s.non_trainable_weights)
        trainable_ids = {id(w) for w in self.trainable_weights}
        return [w for w in self._dedup(ws) if id(w) not in trainable_ids]

    non_trainable_variables = non_trainable_weights

    @property
    def trainable(self) -> bool:
        return self._trainable

    @trainable.setter
    def trainable(self, value: bool) -> None:
        """Freeze (False) or unfreeze this layer and every sublayer."""
        self._trainable = bool(value)
        for s in self._layers:
            s.trainable = value

    def count_params(self) -> int:
        """The number of scalars in the layer's weights (the layer must be built)."""
        if not self.built:
            raise ValueError(
                f"You tried to call count_params on layer '{self.name}', but the layer isn't built. "
                "You can build it manually via: layer.build(batch_input_shape)"
            )
        return int(sum(w.size for w in self.weights))

    def get_weights(self) -> list[np.ndarray]:
        """Copies of the weights as NumPy arrays, in the order of ``weights``."""
        return [np.array(w.numpy(), copy=True) for w in self.weights]

    def set_weights(self, weights) -> None:
        """Load arrays (in the order of ``weights``); shapes must match."""
        ws = self.weights
        weights = list(weights)
        if len(weights) != len(ws):
            raise ValueError(f"layer '{self.name}' expects {len(ws)} weight arrays, but set_weights got {len(weights)}")
        for w, a in zip(ws, weights):
            a = np.asarray(a)
            if tuple(a.shape) != w.shape:
                raise ValueError(
                    f"layer '{self.name}': weight '{w.name}' has shape {w.shape}, got an array of shape {a.shape}"
                )
            w.assign(a)

    # ------------------------------------------------------------------ losses
    def add_loss(self, loss) -> None:
        """Add a loss term: a scalar Tensor computed in ``call`` (counted for the current
        forward pass) or a zero-argument callable (evaluated at each step)."""
        if isinstance(loss, KerasTensor):
            raise ValueError(
                f"layer '{self.name}': a symbolic loss can only be added to a functional Model "
                "(model.add_loss(tensor)); inside a layer, call add_loss in call() on real tensors"
            )
        if callable(loss) and not isinstance(loss, Tensor):
            self._callable_losses.append(loss)
            return
        if not isinstance(loss, Tensor):
            loss = Tensor(np.asarray(loss, dtype=np.float32))
        if not self._call_losses:
            _LOSS_LAYERS.append(self)
        self._call_losses.append(loss)

    @property
    def losses(self) -> list[Tensor]:
        """Losses added in the last forward pass, regularization penalties of the weights, and
        callable losses, of this layer and its sublayers."""
        out = list(self._call_losses)
        for w in self._own_weights:
            if w.regularizer is not None:
                out.append(w.regularizer(w))
        for fn in self._callable_losses:
            v = fn()
            out.append(v if isinstance(v, Tensor) else Tensor(np.asarray(v, dtype=np.float32)))
        for s in self._layers:
            out.extend(s.losses)
        return out

    # ------------------------------------------------------------------ build / call
    def build(self, input_shape) -> None:
        """Create the weights for inputs of `input_shape` (the batch first, possibly None)."""
        self.built = True

    def call(self, inputs, training=None):  # pragma: no cover - abstract
        raise NotImplementedError(f"layer {type(self).__name__} does not implement call()")

    def _inference_fn(self):
        """A direct path for inference (training=False, no gradient): a function from the raw
        input array to the raw output array, skipping the Tensor and autograd bookkeeping of
        __call__. Sequential.predict_on_batch and predict chain these. Layers with such a path
        override this; None (the default) sends the layer through __call__."""
        return None

    def compute_output_shape(self, input_shape):
        """The output shape for `input_shape` (None for the batch); layers without a rule are
        traced on zeros."""
        raise NotImplementedError

    def compute_mask(self, inputs, mask=None):
        """The mask of the outputs (Keras): by default the incoming mask when the layer
        supports masking, else None. Layers that make masks (Masking, Embedding with
        mask_zero) override it. ``__call__`` attaches the result to the outputs (as
        ``tensor._keras_mask``) and hands incoming masks to ``call(..., mask=...)`` when call
        takes a mask argument."""
        return mask if self.supports_masking else None

    @classmethod
    def _makes_masks(cls) -> bool:
        return cls.compute_mask is not Layer.compute_mask

    def _maybe_build(self, input_shape) -> None:
        if not self.built:
            self._check_input_shape(input_shape)
            self.build(input_shape)
            self.built = True

    def _check_input_shape(self, input_shape) -> None:
        """Layers with input requirements validate here (before build)."""

    def __call__(self, *args, **kwargs):
        inputs = args[0] if args else kwargs.pop("inputs")
        rest = args[1:]
        if not isinstance(inputs, Tensor):
            if is_symbolic(inputs):
                return self._symbolic_call(inputs, rest, kwargs)
            inputs = _convert_inputs(inputs)
        global _CALL_DEPTH
        if not self.built:
            self._maybe_build(_shape_of(inputs))
        if _CALL_DEPTH == 0 and _LOSS_LAYERS:
            for lyr in _LOSS_LAYERS:
                lyr._call_losses = []
            _LOSS_LAYERS.clear()
        training = kwargs.pop("training", None)
        if training is None:
            training = _TRAINING_CTX[-1]
        mask = _mask_of(inputs)
        if mask is not None and self._call_accepts_mask and kwargs.get("mask") is None:
            kwargs["mask"] = mask
        _CALL_DEPTH += 1
        _TRAINING_CTX.append(training)
        try:
            if self._call_accepts_training:
                out = self.call(inputs, *rest, training=training, **kwargs)
            else:
                out = self.call(inputs, *rest, **kwargs)
        finally:
            _CALL_DEPTH -= 1
            _TRAINING_CTX.pop()
        if mask is not None or self._makes_masks():
            _attach_mask(out, self.compute_mask(inputs, kwargs.get("mask", mask)))
        self._add_activity_losses(out)
        return out

    def _add_activity_losses(self, out) -> None:
        """The activity regularizer's penalty on each output tensor (outputs and states), as Keras
        adds it after call(); wrappers that run an inner layer's call() directly add it for them."""
        if self.activity_regularizer is not None:
            for o in flatten(out):
                if isinstance(o, Tensor):
                    self.add_loss(self.activity_regularizer(o))

    def _symbolic_call(self, inputs, rest, kwargs):
        for a in flatten(list(rest)) + flatten(list(kwargs.values())):
            if isinstance(a, KerasTensor):
                raise TypeError(
                    f"layer '{self.name}': pass every symbolic tensor in the first argument (a list or dict)"
                )
        kwargs.pop("training", None)
        shapes = _shape_of(inputs)
        if not self.built:
            self._maybe_build(shapes)
        out_shapes = self._output_shape_for(inputs, shapes, rest, kwargs)
        outputs = _make_symbolic(out_shapes, self.name)
        Node(self, inputs, outputs, dict(kwargs))
        return outputs

    def _output_shape_for(self, inputs, shapes, rest, kwargs):
        try:
            return self.compute_output_shape(shapes)
        except NotImplementedError:
            pass
        return self._traced_output_shape(inputs, rest, kwargs)

    def _traced_output_shape(self, inputs, rest, kwargs):
        """The output shape(s) of a layer without a shape rule, found by running call() on zeros.

        Unknown input sizes take placeholder values (see _TRACE_SIZES). Where an input has any,
        the layer runs twice, with different values for the batch and for the other unknown
        axes: an output dimension that changes between the two runs depends on an unknown size
        and is None, one that does not is exact. A call that fails on small placeholders (a
        window longer than 2 steps) is retried with larger ones."""
        leaves = flatten(inputs)
        unknown = any(isinstance(t, KerasTensor) and None in t.shape for t in leaves)
        sizes = _TRACE_SIZES if unknown else _TRACE_SIZES[:1]
        saved = list(_LOSS_LAYERS), [list(lyr._call_losses) for lyr in _LOSS_LAYERS]
        traces, first_error = [], None
        try:
            for batch, other in sizes:
                dummy = pack_like(inputs, [_placeholder(t, batch, other) for t in leaves])
                try:
                    with no_grad():
                        out = self.call(
                            dummy, *rest, **({"training": False} if self._call_accepts_training else {}), **kwargs
                        )
                except Exception as e:  # retried with larger placeholders; re-raised if none works
                    if first_error is None:
                        first_error = e
                    continue
                out = _shapes_of_outputs(out)
                if not unknown:
                    return out
                for b, o, prev in traces:
                    merged = _merge_traced(prev, out) if b != batch and o != other else None
                    if merged is not None:
                        return merged
                traces.append((batch, other, out))
        finally:
            for lyr in list(_LOSS_LAYERS):
                lyr._call_losses = []
            _LOSS_LAYERS[:] = saved[0]
            for lyr, ls in zip(saved[0], saved[1]):
                lyr._call_losses = ls
        if not traces:
            raise first_error
        # No two runs to compare (the others failed, or their ranks differ): as Keras's batch
        # axis, the first output axis is None when the batch is unknown.
        batch_unknown = any(isinstance(t, KerasTensor) and t.shape and t.shape[0] is None for t in leaves)
        return _map_shapes(traces[0][2], lambda s: ((None,) + s[1:]) if batch_unknown and s else s)

    # ------------------------------------------------------------------ graph properties
    def _single_node(self, what: str) -> Node:
        if not self._inbound_nodes:
            raise AttributeError(f"layer '{self.name}' has never been called and thus has no defined {what}")
        if len(self._inbound_nodes) > 1:
            raise AttributeError(
                f"layer '{self.name}' has multiple inbound nodes, hence the notion of 'layer {what}' is "
                f"ill-defined; use get_{what.split()[0]}_at(node_index) instead"
            )
        return self._inbound_nodes[0]

    @property
    def input(self):
        return self._single_node("input").inputs

    @property
    def output(self):
        return self._single_node("output").outputs

    @property
    def input_shape(self):
        return _shape_of(self._single_node("input shape").inputs)

    @property
    def output_shape(self):
        return _shape_of(self._single_node("output shape").outputs)

    def get_input_at(self, node_index: int):
        return self._inbound_nodes[node_index].inputs

    def get_output_at(self, node_index: int):
        return self._inbound_nodes[node_index].outputs

    # ------------------------------------------------------------------ config
    def get_config(self) -> dict:
        """The constructor arguments (JSON-serialisable) that rebuild this layer."""
        config = {"name": self.name, "trainable": self.trainable, "dtype": "float32"}
        if self._batch_input_shape is not None:
            config["batch_input_shape"] = list(self._batch_input_shape)
        if self.activity_regularizer is not None:
            config["activity_regularizer"] = _regularizers.serialize(self.activity_regularizer)
        return config

    @classmethod
    def from_config(cls, config: dict) -> Layer:
        return cls(**config)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.name}, built={self.built}>"


# Placeholder sizes (batch, other unknown axes) of the runs that trace a layer's output shape, in
# the order tried: the first two differ in both, later pairs are larger for calls that need more.
_TRACE_SIZES = ((2, 2), (3, 4), (2, 8), (3, 16), (2, 32), (3, 64))


def _placeholder(t, batch: int, other: int):
    """Zeros in the shape of the symbolic tensor `t`, unknown sizes filled (axis 0 with `batch`)."""
    if not isinstance(t, KerasTensor):
        return t
    shape = tuple((batch if i == 0 else other) if d is None else d for i, d in enumerate(t.shape))
    return Tensor(np.zeros(shape, np.float32))


def _shapes_of_outputs(out):
    """The shapes of a traced call's outputs: a tuple, or a list / tuple / dict of them."""
    if isinstance(out, dict):
        return {k: _shapes_of_outputs(v) for k, v in out.items()}
    if isinstance(out, (list, tuple)):
        return type(out)(_shapes_of_outputs(v) for v in out)
    return tuple(int(d) for d in out.shape)


def _map_shapes(shapes, fn):
    if isinstance(shapes, dict):
        return {k: _map_shapes(v, fn) for k, v in shapes.items()}
    if isinstance(shapes, (list, tuple)) and not _is_shape_tuple(shapes):
        return type(shapes)(_map_shapes(v, fn) for v in shapes)
    return fn(shapes)


def _merge_traced(a, b):
    """Two traces' output shapes: the dimensions that agree, None where they differ; None when
    the ranks or the structure differ (they follow an unknown size)."""
    if isinstance(a, dict) and isinstance(b, dict) and a.keys() == b.keys():
        merged = {k: _merge_traced(a[k], b[k]) for k in a}
        return None if any(v is None for v in merged.values()) else merged
    if _is_shape_tuple(a) and _is_shape_tuple(b):
        return tuple(x if x == y else None for x, y in zip(a, b)) if len(a) == len(b) else None
    if (isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)) and type(a) is type(b) and len(a) == len(b)
            and not _is_shape_tuple(a) and not _is_shape_tuple(b)):
        merged = [_merge_traced(x, y) for x, y in zip(a, b)]
        return None if any(v is None for v in merged) else type(a)(merged)
    return None


def _is_shape_tuple(s) -> bool:
    return isinstance(s, tuple) and all(isinstance(d, int) or d is None for d in s)


def _named_init_args(cls: type) -> set:
    """The named arguments of cls's own __init__ (empty when it has none of its own)."""
    try:
        params = inspect.signature(cls.__dict__["__init__"]).parameters.values()
    except (KeyError, TypeError, ValueError):  # no __init__ of its own, or a builtin's
        return set()
    return {p.name for p in params if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY) and p.name != "self"}


def _unknown_kwargs_message(cls: type, kwargs: dict) -> str:
    """Keras's message for unknown constructor arguments, with the closest argument the class
    accepts for each misspelt one: those of the constructor as called (the first __init__ up the
    MRO that names any) and Layer's own, never the internal arguments of private bases."""
    own = next((args for args in map(_named_init_args, cls.__mro__[:-1]) if args), set())
    known = own | _named_init_args(Layer)
    hints = [f"did you mean {m[0]!r} instead of {k!r}?" for k in kwargs
             for m in [difflib.get_close_matches(k, sorted(known), n=1, cutoff=0.75)] if m]
    return f"Unrecognized keyword arguments passed to {cls.__name__}: {kwargs}" + "".join(f"; {h}" for h in hints)


def _mask_of(inputs):
    """The mask attached to the input tensor(s): one mask, a list (None where absent), or None."""
    if isinstance(inputs, Tensor):
        return inputs._keras_mask
    if isinstance(inputs, (list, tuple)):
        masks = [t._keras_mask if isinstance(t, Tensor) else None for t in inputs]
        return masks if any(m is not None for m in masks) else None
    return None


def _attach_mask(outputs, mask) -> None:
    if isinstance(outputs, Tensor):
        if isinstance(mask, (list, tuple)):
            mask = mask[0] if mask else None
        outputs._keras_mask = mask
    elif isinstance(outputs, (list, tuple)):
        masks = list(mask) if isinstance(mask, (list, tuple)) else [mask] + [None] * (len(outputs) - 1)
        for o, m in zip(outputs, masks):
            if isinstance(o, Tensor):
                o._keras_mask = m


def _make_symbolic(shapes, name: str):
    if (
        isinstance(shapes, list)
        and shapes
        and all(isinstance(s, (tuple, list)) for s in shapes)
        and not _is_shape(shapes)
    ):
        return [KerasTensor(s) for s in shapes]
    if isinstance(shapes, tuple) and shapes and all(isinstance(s, (tuple, list)) for s in shapes):
        return tuple(KerasTensor(s) for s in shapes)
    if isinstance(shapes, dict):
        return {k: KerasTensor(s) for k, s in shapes.items()}
    return KerasTensor(tuple(shapes))


def _is_shape(s) -> bool:
    return all(d is None or isinstance(d, (int, np.integer)) for d in s)
