"""fastnn.models.Sequential: a plain stack of single-input, single-output layers.

Example::

    model = fastnn.models.Sequential([
        fastnn.layers.Dense(4, input_dim=3, activation="sigmoid"),   # Keras 2 style, accepted
        fastnn.layers.Dense(1, activation="sigmoid"),
    ])
    model.compile(optimizer="sgd", loss="binary_crossentropy", metrics=["accuracy"])
"""

from __future__ import annotations

import numpy as np

from ..layers.base import Layer, standardize_shape
from ..layers.core import InputLayer
from ..symbolic import KerasTensor
from ..tensor import Tensor
from .model import Model

__all__ = ["Sequential"]


class Sequential(Model):
    """A linear stack of layers.

    The input shape comes from a first ``Input``/``InputLayer``, from ``input_shape=`` /
    ``input_dim=`` on the first layer, from ``build(input_shape)``, or from the first batch the
    model sees (it builds lazily).

    Args:
        layers: a list of layers (or add them one by one with ``add``).
        name: the model's name ('sequential' by default).

    Example::

        model = fastnn.models.Sequential()
        model.add(fastnn.layers.Input((784,)))
        model.add(fastnn.layers.Dense(10, activation="softmax"))
        model.summary()
    """

    def __init__(self, layers=None, name: str | None = None, trainable: bool = True):
        super().__init__(name=name, trainable=trainable)
        self._seq: list[Layer] = []
        self._input_layer: InputLayer | None = None
        self._fast_calls = None
        self._infer_plan = None
        for layer in layers or []:
            self.add(layer, rebuild=False)
        self._rebuild()

    @property
    def layers(self) -> list[Layer]:
        """The layers, without the InputLayer (as Keras)."""
        return list(self._seq)

    def add(self, layer, rebuild: bool = True) -> None:
        """Append a layer (or an Input tensor / InputLayer to set the input shape)."""
        if isinstance(layer, KerasTensor):
            src = layer._history[0] if layer._history else None
            if not isinstance(src, InputLayer):
                raise TypeError(f"Sequential.add takes layers or an Input tensor, got the symbolic tensor {layer}")
            layer = src
        if not isinstance(layer, Layer):
            raise TypeError(
                f"The added layer must be an instance of class Layer. Received: layer={layer!r} of type {type(layer)}"
            )
        if isinstance(layer, InputLayer):
            if self._seq or self._input_layer is not None:
                raise ValueError("an InputLayer can only be the first layer of a Sequential model")
            self._input_layer = layer
            if rebuild:
                self._rebuild()
            return
        if any(lyr.name == layer.name for lyr in self._seq):
            raise ValueError(
                f"All layers added to a Sequential model should have unique names. Name '{layer.name}' is already "
                f"the name of a layer in this model. Update the name argument to pass a unique name."
            )
        if not self._seq and self._input_layer is None and layer._batch_input_shape is not None:
            self._input_layer = InputLayer(batch_shape=layer._batch_input_shape)
        self._seq.append(layer)
        self._layers = list(self._seq)
        if rebuild:
            self._rebuild()

    def pop(self) -> Layer:
        """Remove and return the last layer."""
        if not self._seq:
            raise TypeError("There are no layers in the model.")
        layer = self._seq.pop()
        self._layers = list(self._seq)
        self._rebuild()
        return layer

    def _rebuild(self) -> None:
        self._fast_calls = None
        self._infer_plan = None
        self._layers = list(self._seq)
        self._is_graph = False
        self.built = False
        if self._input_layer is None:
            return
        x = self._input_layer.output
        for layer in self._seq:
            x = layer(x)
            if not isinstance(x, KerasTensor):
                raise ValueError(
                    f"All layers in a Sequential model should have a single output tensor; layer '{layer.name}' "
                    "returned several. For multi-output layers, use the functional API."
                )
        self._init_graph(self._input_layer.output, x)
        self._layers = list(self._seq)

    def build(self, input_shape=None) -> None:
        """Build for inputs of `input_shape` (the batch first, e.g. (None, 784))."""
        if self._input_layer is None:
            if input_shape is None:
                raise ValueError("Sequential.build needs an input_shape (with the batch first) for an unbuilt model")
            shape = standardize_shape(tuple(input_shape), "input_shape")
            self._input_layer = InputLayer(batch_shape=(None,) + shape[1:])
            self._built_input_shape = (None,) + shape[1:]
        self._rebuild()

    def _maybe_build(self, input_shape) -> None:
        if not self.built:
            if not isinstance(input_shape, tuple):
                raise ValueError(f"a Sequential model takes one input tensor, got inputs of shapes {input_shape}")
            self.build(input_shape)

    def call(self, inputs, training=None):
        if isinstance(inputs, (list, tuple)):
            if len(inputs) != 1:
                raise ValueError(
                    f"Sequential model '{self.name}' takes one input, but it received {len(inputs)} input tensors"
                )
            inputs = inputs[0]
        if not isinstance(inputs, Tensor):
            inputs = Tensor(inputs)
        if self._is_graph:
            self._check_input_arrays([inputs])
            fast = self._fast_calls
            if fast is None:
                fast = self._fast_calls = self._make_fast_calls()
            x = inputs
            for call, takes_training in fast:
                x = call(x, training=training) if takes_training else call(x)
            return x
        x = inputs
        for layer in self._seq:
            x = layer(x, training=training)
        return x

    # ------------------------------------------------------------------ direct inference
    def _inference_plan(self) -> tuple | None:
        """(the layers' direct inference functions (Layer._inference_fn), the weights they read,
        the input shape), or None when a layer has no direct path: then every call goes the
        general way. Built once; rebuilding the model drops it."""
        plan = self._infer_plan
        if plan is None:
            fns = [layer._inference_fn() if layer.built else None for layer in self._seq]
            ok = self._is_graph and fns and all(f is not None for f in fns)
            plan = self._infer_plan = (fns, self.weights, self._input_layer.output.shape) if ok else False
        return plan or None

    def _inference_fn(self):
        plan = self._inference_plan()
        if plan is None:
            return None
        fns = plan[0]

        def run(a):
            for fn in fns:
                a = fn(a)
                if a is None:
                    return None
            return a

        return run

    def _direct_inference(self, xs: list) -> list | None:
        """Outputs for one batch of raw inputs through the direct inference path, or None when it
        does not apply (an input of another shape or dtype, weights off the CPU, a layer without a
        direct path): the caller then runs the model the general way, which also raises the
        errors."""
        plan = self._inference_plan()
        if plan is None or len(xs) != 1:
            return None
        fns, weights, want = plan
        a = xs[0]
        if (type(a) is not np.ndarray or a.dtype != np.float32 or a.ndim != len(want)
                or any(w is not None and w != d for w, d in zip(want, a.shape))):
            return None
        for v in weights:
            if type(v._data) is not np.ndarray:
                return None
        y = a if a.flags.c_contiguous else np.ascontiguousarray(a)
        for fn in fns:
            y = fn(y)
            if y is None:
                return None
        return [y.copy() if y is a else y]

    def _make_fast_calls(self) -> list:
        """Built layers without an activity regularizer run their call() directly; the others go
        through __call__ (which handles the rest)."""
        out = []
        # A layer that makes masks needs every layer to go through __call__, which carries them.
        masks = any(layer._makes_masks() for layer in self._seq)
        for layer in self._seq:
            if layer.built and layer.activity_regularizer is None and not masks:
                out.append((layer.call, layer._call_accepts_training))
            else:
                out.append((layer.__call__, True))
        return out

    def compute_output_shape(self, input_shape):
        if not self.built:
            self.build(input_shape)
        return super().compute_output_shape(input_shape)

    @property
    def input_names(self) -> list[str]:
        return [self._input_layer.name] if self._input_layer is not None else []

    def get_config(self) -> dict:
        from ..layers import serialize

        layers = []
        if self._input_layer is not None:
            layers.append(serialize(self._input_layer))
        layers.extend(serialize(lyr) for lyr in self._seq)
        return {"name": self.name, "trainable": self.trainable, "layers": layers}

    @classmethod
    def from_config(cls, config: dict, custom_objects: dict | None = None) -> Sequential:
        from ..layers import deserialize

        model = cls(name=config.get("name"))
        for lc in config["layers"]:
            model.add(deserialize(lc, custom_objects), rebuild=False)
        model._rebuild()
        if config.get("trainable") is False:
            model.trainable = False
        return model
