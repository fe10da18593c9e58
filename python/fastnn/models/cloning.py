"""clone_model (Keras 3): the same architecture with fresh weights, built from each layer's
config; copy.deepcopy(model) is the way to copy the weights too."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..layers.base import Layer
from ..layers.core import Input, InputLayer
from ..symbolic import KerasTensor, flatten
from .model import Model, _nest_inputs
from .sequential import Sequential

__all__ = ["clone_model"]


def _default_clone(layer: Layer) -> Layer:
    from ..saving import _call_from_config

    return _call_from_config(type(layer), layer.get_config(), None)


def _fresh_inputs(model: Model) -> list[KerasTensor]:
    out = []
    for t in model.inputs:
        src = t._history[0]
        out.append(Input(batch_shape=tuple(t.shape), name=src.name))
    return out


def clone_model(model: Model, input_tensors: Any = None, clone_function: Callable[[Layer], Layer] | None = None
                ) -> Model:
    """A new model with `model`'s architecture and newly initialised weights (Keras 3).

    Each layer is rebuilt by `clone_function` (default: ``type(layer).from_config(layer.get_config())``),
    once per layer, so a layer shared inside `model` is shared inside the clone. Nested models
    are cloned by the same function (their weights are fresh too).

    Args:
        model: a Sequential or functional Model.
        input_tensors: symbolic tensors (``fastnn.layers.Input``) to build the clone on, one per
            model input; new Inputs of the same shapes and names by default.
        clone_function: layer -> new layer; return the layer itself to share it (and its weights)
            with the original.

    Example::

        twin = fastnn.models.clone_model(model)          # same layers, new weights
        twin.set_weights(model.get_weights())            # the same weights too
    """
    if not isinstance(model, Model):
        raise TypeError(f"clone_model expects a Sequential or functional Model, got {model!r}")
    fn = clone_function or _default_clone
    if not callable(fn):
        raise TypeError(f"clone_function must be callable, got clone_function={clone_function!r}")

    def clone(layer: Layer) -> Layer:
        new = fn(layer)
        if not isinstance(new, Layer):
            raise TypeError(f"clone_function returned {new!r} for layer '{layer.name}': it must return a Layer")
        return new

    if input_tensors is not None:
        given = flatten(input_tensors)
        if not all(isinstance(t, KerasTensor) for t in given):
            raise TypeError(f"input_tensors must be symbolic tensors from fastnn.layers.Input, got {input_tensors!r}")
    if isinstance(model, Sequential):
        layers = [clone(lyr) for lyr in model.layers]
        if input_tensors is not None:
            if len(given) != 1:
                raise ValueError(f"a Sequential model takes one input tensor, got {len(given)}: {input_tensors!r}")
            head = [given[0]]
        elif model._input_layer is not None:
            src = model._input_layer
            head = [InputLayer(batch_shape=tuple(src.output.shape), name=src.name)]
        else:
            head = []
        return Sequential(head + layers, name=model.name, trainable=model.trainable)
    if not getattr(model, "_is_graph", False):
        raise ValueError(f"clone_model cannot clone the subclassed model '{model.name}' (it has no layer graph); "
                         "use copy.deepcopy(model) or rebuild it from its class")
    new_inputs = given if input_tensors is not None else _fresh_inputs(model)
    if len(new_inputs) != len(model.inputs):
        raise ValueError(f"model '{model.name}' has {len(model.inputs)} inputs but input_tensors holds "
                         f"{len(new_inputs)}: {input_tensors!r}")
    values = {id(old): new for old, new in zip(model.inputs, new_inputs)}
    clones: dict[int, Layer] = {}
    for layer, node, _single, _out_ids, _single_out in model._plan:
        if id(layer) not in clones:
            clones[id(layer)] = clone(layer)
        new_layer = clones[id(layer)]
        args = _nest_inputs(node.inputs, values)
        out = new_layer(args, **node.kwargs) if node.kwargs else new_layer(args)
        for old, new in zip(flatten(node.outputs), flatten(out)):
            values[id(old)] = new
    in_struct = _nest_inputs(model._input_struct, {id(o): n for o, n in zip(model.inputs, new_inputs)})
    outputs = _nest_inputs(model._output_struct, values)
    return Model(in_struct, outputs, name=model.name)
