"""get_config / from_config of functional models: the layers' configs and the graph as
(layer name, node index, tensor index) references, in the spirit of Keras's format."""

from __future__ import annotations

from ..symbolic import KerasTensor, flatten

__all__ = ["functional_config", "functional_from_config"]


def _local_index(model) -> dict:
    """node id -> the node's index among its layer's nodes that belong to this model."""
    ids, out = model._node_ids, {}
    for layer in model.layers:
        k = 0
        for node in layer._inbound_nodes:
            if node.id in ids:
                out[node.id] = k
                k += 1
    return out


def _ref(t: KerasTensor, local: dict) -> list:
    layer, ni, ti = t._history
    return [layer.name, local[layer._inbound_nodes[ni].id], ti]


def _encode(structure, local: dict):
    if isinstance(structure, KerasTensor):
        return {"__tensor__": _ref(structure, local)}
    if isinstance(structure, (list, tuple)):
        return [_encode(v, local) for v in structure]
    if isinstance(structure, dict):
        return {"__dict__": {k: _encode(v, local) for k, v in structure.items()}}
    return structure


def _decode(structure, tensors: dict):
    if isinstance(structure, dict) and "__tensor__" in structure:
        key = tuple(structure["__tensor__"])
        if key not in tensors:
            raise ValueError(f"model config refers to tensor {list(key)} that no earlier layer produced")
        return tensors[key]
    if isinstance(structure, dict) and "__dict__" in structure:
        return {k: _decode(v, tensors) for k, v in structure["__dict__"].items()}
    if isinstance(structure, list):
        return [_decode(v, tensors) for v in structure]
    return structure


def functional_config(model) -> dict:
    from ..layers import serialize

    local = _local_index(model)
    nodes = [node for _, node, *_ in model._plan]
    return {
        "name": model.name,
        "trainable": model.trainable,
        "layers": [serialize(lyr) for lyr in model.layers],
        "nodes": [[node.layer.name, local[node.id], _encode(node.inputs, local), node.kwargs] for node in nodes],
        "input_layers": _encode(model._input_struct, local),
        "output_layers": _encode(model._output_struct, local),
    }


def functional_from_config(cls, config: dict, custom_objects: dict | None = None):
    from ..layers import deserialize
    from ..layers.core import InputLayer

    if "nodes" not in config:  # a subclassed model's minimal config
        return cls(**{k: v for k, v in config.items() if k in ("name", "trainable")})
    layers = {}
    tensors: dict = {}
    for lc in config["layers"]:
        layer = deserialize(lc, custom_objects)
        layers[layer.name] = layer
        if isinstance(layer, InputLayer):
            tensors[(layer.name, 0, 0)] = layer.output
    for name, ni, inputs, kwargs in config["nodes"]:
        if name not in layers:
            raise ValueError(f"model config has a node of unknown layer {name!r}")
        out = layers[name](_decode(inputs, tensors), **(kwargs or {}))
        for ti, t in enumerate(flatten(out)):
            tensors[(name, ni, ti)] = t
    model = cls(
        _decode(config["input_layers"], tensors), _decode(config["output_layers"], tensors), name=config.get("name")
    )
    if config.get("trainable") is False:
        model.trainable = False
    return model
