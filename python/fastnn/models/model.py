"""fastnn.models.Model: the functional model (a graph of layers on symbolic tensors) and the
base of subclassed models; compile/fit/evaluate/predict come from fastnn.models.trainer.

Example::

    a = fastnn.layers.Input((4,), name="a")
    b = fastnn.layers.Input((2,), name="b")
    h = fastnn.layers.Concatenate()([a, b])
    y = fastnn.layers.Dense(1, activation="sigmoid")(h)
    model = fastnn.models.Model([a, b], y)
    model.summary()
"""

from __future__ import annotations

import numpy as np

from ..layers.base import Layer, _snake, unique_name
from ..layers.core import InputLayer
from ..symbolic import KerasTensor, flatten, pack_like
from ..tensor import Tensor
from .trainer import Trainer

__all__ = ["Model"]


def _nest_inputs(structure, values: dict):
    """`structure` with each KerasTensor leaf replaced by values[id(leaf)]."""
    if isinstance(structure, KerasTensor):
        return values[id(structure)]
    if isinstance(structure, list):
        return [_nest_inputs(v, values) for v in structure]
    if isinstance(structure, tuple):
        return tuple(_nest_inputs(v, values) for v in structure)
    if isinstance(structure, dict):
        return {k: _nest_inputs(v, values) for k, v in structure.items()}
    return structure


class Model(Trainer, Layer):
    """A model: ``Model(inputs, outputs)`` on symbolic tensors (the functional API), or a
    subclass that defines ``call`` (layers assigned as attributes are tracked).

    Args:
        inputs: a KerasTensor from ``Input``, or a list or dict of them.
        outputs: a KerasTensor computed from the inputs, or a list or dict of them.
        name: the model's name ('functional', 'functional_1', ... by default).

    Layers called more than once (shared layers) run once per call; a model can be called on
    symbolic tensors like a layer, to nest it inside another model.

    Example::

        inp = fastnn.layers.Input((8,))
        out = fastnn.layers.Dense(1)(fastnn.layers.Dense(4, activation="relu")(inp))
        model = fastnn.models.Model(inp, out)
        model.compile(optimizer="sgd", loss="mse")
        model.fit(x, y, epochs=2, verbose=0)
    """

    def __init__(self, *args, **kwargs):
        inputs = kwargs.pop("inputs", args[0] if len(args) > 0 else None)
        outputs = kwargs.pop("outputs", args[1] if len(args) > 1 else None)
        if len(args) > 2:
            raise TypeError(f"Model takes inputs and outputs as positional arguments, got {len(args)} arguments")
        name = kwargs.pop("name", None)
        trainable = kwargs.pop("trainable", True)
        if name is None:
            if type(self) is Model and inputs is not None:
                name = unique_name("functional")
            else:
                name = unique_name(_snake(type(self).__name__))
        Layer.__init__(self, name=name, trainable=trainable, **kwargs)
        Trainer._init_trainer(self)
        self._is_graph = False
        self._symbolic_losses: list[KerasTensor] = []
        if inputs is not None or outputs is not None:
            if inputs is None or outputs is None:
                raise ValueError("a functional Model needs both inputs and outputs")
            self._init_graph(inputs, outputs)

    # ------------------------------------------------------------------ graph
    def _init_graph(self, inputs, outputs) -> None:
        if isinstance(inputs, tuple):
            inputs = list(inputs)
        if isinstance(outputs, tuple):
            outputs = list(outputs)
        flat_in = flatten(inputs)
        for t in flat_in:
            if not isinstance(t, KerasTensor):
                raise TypeError(f"Model inputs must be symbolic tensors from fastnn.layers.Input, got {t!r}")
            layer = t._history[0] if t._history else None
            if not isinstance(layer, InputLayer):
                raise ValueError(
                    f"Model inputs must come from fastnn.layers.Input (an InputLayer); {t} was produced by "
                    f"layer '{getattr(layer, 'name', None)}'"
                )
        for t in flatten(outputs):
            if not isinstance(t, KerasTensor):
                raise TypeError(f"Model outputs must be symbolic tensors computed from the inputs, got {t!r}")
        self._input_struct = inputs
        self._output_struct = outputs
        self.inputs = flat_in
        self.outputs = flatten(outputs)
        self._is_graph = True
        self._build_plan()
        self.built = True

    def __deepcopy__(self, memo: dict) -> Model:
        """copy.deepcopy(model): the same architecture and weights, sharing nothing with the
        original (layers shared inside the model stay shared inside the copy). The graph plan and
        the compiled trainable set are keyed by id(), so they are rebuilt for the copied objects."""
        from .._copying import deepcopy_fields, remap_ids

        new = deepcopy_fields(self, memo)
        for cache in ("_fast_calls", "_infer_plan"):  # closures over the original layers
            if hasattr(new, cache):
                setattr(new, cache, None)
        if getattr(new, "_is_graph", False):
            new._build_plan()
        if getattr(self, "_train_ids", None) is not None:
            new._train_ids = remap_ids(self._train_ids, memo)
        return new

    def _build_plan(self) -> None:
        targets = list(self.outputs) + list(self._symbolic_losses)
        nodes, seen, stack = [], set(), [t.node for t in targets if t.node is not None]
        while stack:
            node = stack.pop()
            if node.id in seen:
                continue
            seen.add(node.id)
            nodes.append(node)
            stack.extend(node.parent_nodes)
        nodes.sort(key=lambda n: n.id)  # creation order is a topological order
        available = {id(t) for t in self.inputs}
        plan, layers, layer_ids = [], [], set()
        for t in self.inputs:  # the inputs' layers first, in the order of the inputs
            lyr = t._history[0]
            if id(lyr) not in layer_ids:
                layer_ids.add(id(lyr))
                layers.append(lyr)
        done = []
        for node in nodes:
            if node.is_input:
                if id(node.flat_outputs[0]) not in available:
                    raise ValueError(
                        f"Graph disconnected: the Input '{node.layer.name}' is needed to compute the outputs but "
                        f"is not one of the model's inputs ({[t._history[0].name for t in self.inputs]})"
                    )
                continue
            for t in node.flat_inputs:
                if id(t) not in available:
                    raise ValueError(
                        f"Graph disconnected: cannot obtain the value of tensor {t} needed by layer "
                        f"'{node.layer.name}'. The following layers were accessed without issue: {done}"
                    )
            single = isinstance(node.inputs, KerasTensor)
            plan.append(
                (node.layer, node, single, [id(t) for t in node.flat_outputs], isinstance(node.outputs, KerasTensor))
            )
            done.append(node.layer.name)
            for t in node.flat_outputs:
                available.add(id(t))
            if id(node.layer) not in layer_ids:
                layer_ids.add(id(node.layer))
                layers.append(node.layer)
        self._plan = plan
        self._layers = layers
        self._node_ids = {node.id for node in nodes}

    @property
    def layers(self) -> list[Layer]:
        """The model's layers (InputLayers included for functional models), in graph order."""
        return list(self._layers)

    @property
    def output_names(self) -> list[str]:
        return [t._history[0].name for t in self.outputs] if self._is_graph else ["output"]

    @property
    def input_names(self) -> list[str]:
        return [t._history[0].name for t in self.inputs]

    def get_layer(self, name: str | None = None, index: int | None = None) -> Layer:
        """A layer by name or by index in ``layers``."""
        if index is not None and name is not None:
            raise ValueError(f"get_layer: pass name or index, not both (got name={name!r}, index={index!r})")
        layers = self.layers
        if index is not None:
            if not isinstance(index, int) or not -len(layers) <= index < len(layers):
                raise ValueError(
                    f"Was asked to retrieve layer at index {index!r} but model '{self.name}' only has "
                    f"{len(layers)} layers"
                )
            return layers[index]
        if name is not None:
            for lyr in layers:
                if lyr.name == name:
                    return lyr
            raise ValueError(f"No such layer: {name!r}. Existing layers are: {[lyr.name for lyr in layers]}")
        raise ValueError("get_layer needs a name or an index")

    def add_loss(self, loss) -> None:
        """Add a loss: a symbolic tensor computed from the model's inputs (Keras 2 form; it is
        evaluated in each forward pass), a zero-argument callable, or a tensor inside call()."""
        if isinstance(loss, KerasTensor):
            if not self._is_graph:
                raise ValueError("a symbolic loss can only be added to a functional Model")
            self._symbolic_losses.append(loss)
            self._build_plan()
            return
        super().add_loss(loss)

    # ------------------------------------------------------------------ running
    def _flat_inputs(self, inputs) -> list:
        n = len(self.inputs)
        if isinstance(inputs, dict):
            names = self.input_names
            if isinstance(self._input_struct, dict):
                keys = list(self._input_struct.keys())
                by_key = {k: t for k, t in self._input_struct.items()}
                missing = [k for k in keys if k not in inputs]
                if missing:
                    raise ValueError(f"model '{self.name}' is missing inputs {missing}; it expects keys {keys}")
                return [inputs[k] for k in keys if by_key[k] is not None]
            missing = [k for k in names if k not in inputs]
            if missing:
                raise ValueError(
                    f"model '{self.name}' expects inputs named {names}, got a dict with keys {list(inputs)}"
                )
            return [inputs[k] for k in names]
        if isinstance(inputs, (list, tuple)):
            if n == 1 and len(inputs) != 1:
                return [inputs]
            if len(inputs) != n:
                raise ValueError(
                    f"model '{self.name}' expects {n} input(s), but it received {len(inputs)} input tensors"
                )
            return list(inputs)
        if n != 1:
            raise ValueError(f"model '{self.name}' expects {n} inputs, but it received 1 input tensor")
        return [inputs]

    def _check_input_arrays(self, flat: list) -> None:
        for t, x in zip(self.inputs, flat):
            shape = tuple(x.shape)
            want = t.shape
            if len(shape) != len(want) or any(w is not None and w != s for w, s in zip(want, shape)):
                raise ValueError(
                    f"Input '{t._history[0].name}' of model '{self.name}' is incompatible: expected shape "
                    f"{want}, but received an input of shape {shape}"
                )

    def _run_graph(self, flat: list, training=None) -> list:
        values = {id(t): x for t, x in zip(self.inputs, flat)}
        for layer, node, single, out_ids, single_out in self._plan:
            args = values[id(node.inputs)] if single else _nest_inputs(node.inputs, values)
            out = layer(args, training=training, **node.kwargs) if node.kwargs else layer(args, training=training)
            if single_out:
                values[out_ids[0]] = out
            else:
                for i, o in zip(out_ids, flatten(out)):
                    values[i] = o
        if self._symbolic_losses:
            for t in self._symbolic_losses:
                v = values[id(t)]
                Layer.add_loss(self, v if v.ndim == 0 else v.mean())
        return [values[id(t)] for t in self.outputs]

    def call(self, inputs, training=None):
        if not self._is_graph:
            raise NotImplementedError(f"model '{self.name}': a subclassed Model must implement call()")
        flat = self._flat_inputs(inputs)
        flat = [x if isinstance(x, Tensor) else Tensor(np.asarray(x, np.float32)) for x in flat]
        self._check_input_arrays(flat)
        outs = self._run_graph(flat, training)
        return self._pack_outputs(outs)

    def _pack_outputs(self, outs: list):
        if isinstance(self._output_struct, KerasTensor):
            return outs[0]
        return pack_like(self._output_struct, outs)

    def compute_output_shape(self, input_shape):
        if not self._is_graph:
            raise NotImplementedError
        shapes = flatten_shapes(input_shape)
        if len(shapes) != len(self.inputs):
            raise ValueError(f"model '{self.name}' expects {len(self.inputs)} inputs, got {len(shapes)}")
        for t, s in zip(self.inputs, shapes):
            if len(s) != len(t.shape) or any(a is not None and b is not None and a != b for a, b in zip(s, t.shape)):
                raise ValueError(
                    f"Input '{t._history[0].name}' of model '{self.name}' is incompatible: expected shape "
                    f"{t.shape}, got {tuple(s)}"
                )
        batch = shapes[0][0] if shapes and shapes[0] else None
        outs = [((batch,) + t.shape[1:]) if t.shape else t.shape for t in self.outputs]
        if isinstance(self._output_struct, KerasTensor):
            return outs[0]
        return pack_like(self._output_struct, outs)

    def build(self, input_shape=None) -> None:
        self.built = True

    # graph properties of the model itself (not of its nodes in an outer graph)
    @property
    def input(self):
        if not self._is_graph:
            raise AttributeError(f"model '{self.name}' has no defined input (it is not a graph)")
        return self._input_struct

    @property
    def output(self):
        if not self._is_graph:
            raise AttributeError(f"model '{self.name}' has no defined output (it is not a graph)")
        return self._output_struct

    @property
    def input_shape(self):
        s = [t.shape for t in self.inputs]
        return s[0] if len(s) == 1 else s

    @property
    def output_shape(self):
        s = [t.shape for t in self.outputs]
        return s[0] if len(s) == 1 else s

    # ------------------------------------------------------------------ summary / config
    def summary(
        self,
        line_length: int | None = None,
        positions=None,
        print_fn=None,
        expand_nested: bool = False,
        show_trainable: bool = False,
    ) -> None:
        """Print the Keras table of layers, output shapes and parameter counts."""
        from .summary import print_summary

        print_summary(self, line_length=line_length, print_fn=print_fn)

    def get_config(self) -> dict:
        if not self._is_graph:
            return {"name": self.name, "trainable": self.trainable}
        from .functional_config import functional_config

        return functional_config(self)

    @classmethod
    def from_config(cls, config: dict, custom_objects: dict | None = None) -> Model:
        from .functional_config import functional_from_config

        return functional_from_config(cls, config, custom_objects)

    # ------------------------------------------------------------------ saving (fastnn.saving)
    def save(self, filepath, overwrite: bool = True, *, signing_key: bytes | str | None = None, **kwargs) -> None:
        """Save the architecture (JSON) and the weights (safetensors) to one file, atomically.

        An existing file keeps its permissions and a symbolic link is written through to its
        target. With ``signing_key`` (bytes, or a str used as UTF-8) the file also records an
        HMAC-SHA256 of its content, which ``fastnn.models.load_model(filepath,
        signing_key=...)`` verifies (see fastnn.saving.save_model)."""
        from .. import saving

        saving.save_model(self, filepath, signing_key=signing_key)

    def save_weights(self, filepath, overwrite: bool = True, *, signing_key: bytes | str | None = None) -> None:
        """Save the weights (safetensors), atomically; ``signing_key`` signs the file with an
        HMAC-SHA256 (see fastnn.saving.save_weights)."""
        from .. import saving

        saving.save_weights(self, filepath, signing_key=signing_key)

    def load_weights(self, filepath, skip_mismatch: bool = False, *, signing_key: bytes | str | None = None,
                     **kwargs) -> None:
        """Load weights saved by save_weights (or model.save); with ``signing_key``, ValueError
        unless the file is signed with that key and unchanged since."""
        from .. import saving

        saving.load_weights(self, filepath, signing_key=signing_key)

    def to_json(self, **kwargs) -> str:
        from .. import saving

        return saving.to_json(self, **kwargs)

    def get_build_config(self) -> dict | None:
        if not self.built or self._is_graph:
            return None
        return {"input_shape": list(self._built_input_shape)} if getattr(self, "_built_input_shape", None) else None

    def build_from_config(self, config: dict) -> None:
        if config and config.get("input_shape") is not None:
            self.build(tuple(config["input_shape"]))

    def get_compile_config(self) -> dict | None:
        if self._compiled is None:
            return None
        from .. import saving

        def ser(obj):
            if obj is None or isinstance(obj, (str, int, float)):
                return obj
            if isinstance(obj, (list, tuple)):
                return [ser(o) for o in obj]
            return saving.serialize_object(obj)

        c = self._compiled
        return {
            "optimizer": ser(c.optimizer),
            "loss": ser(c.losses),
            "loss_weights": list(c.loss_weights),
            "metrics": ser(c.metric_specs),
            "weighted_metrics": ser(c.weighted_specs),
        }

    def compile_from_config(self, config: dict) -> None:
        from .. import saving

        def de(obj):
            if isinstance(obj, dict):
                return saving.deserialize_object(obj)
            if isinstance(obj, list):
                return [de(o) for o in obj]
            return obj

        n = len(self.outputs) if self._is_graph else 1
        metrics = de(config.get("metrics"))
        weighted = de(config.get("weighted_metrics"))
        self.compile(
            optimizer=de(config["optimizer"]),
            loss=de(config["loss"]),
            loss_weights=config.get("loss_weights"),
            metrics=metrics if n > 1 else (metrics[0] if metrics else None),
            weighted_metrics=weighted if n > 1 else (weighted[0] if weighted else None),
        )

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.name}, built={self.built}>"


def flatten_shapes(shape) -> list[tuple]:
    if isinstance(shape, tuple) and all(d is None or isinstance(d, (int, np.integer)) for d in shape):
        return [shape]
    if isinstance(shape, dict):
        shape = list(shape.values())
    out = []
    for s in shape:
        out.extend(
            flatten_shapes(
                tuple(s) if isinstance(s, list) and all(d is None or isinstance(d, (int, np.integer)) for d in s) else s
            )
        )
    return out
