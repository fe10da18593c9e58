"""fastnn.layers: Keras-style layers (see fastnn.layers.Layer for the contract).

Example::

    from fastnn import layers
    model = fastnn.models.Sequential([
        layers.Input(shape=(4,)),
        layers.Dense(16, activation="relu"),
        layers.Dense(3, activation="softmax"),
    ])
"""

from .attention import AdditiveAttention, Attention, MultiHeadAttention
from .augmentation import (
    RandomContrast,
    RandomCrop,
    RandomFlip,
    RandomRotation,
    RandomTranslation,
    RandomZoom,
    Rescaling,
    Resizing,
)
from .base import Layer, clear_session
from .convolutional import Conv1D, Conv2D, Conv2DTranspose, DepthwiseConv2D, SeparableConv2D
from .core import Activation, Dense, Dropout, Flatten, Input, InputLayer, Lambda, RepeatVector, Reshape, TensorOp
from .embedding import Embedding
from .merge import (
    Add,
    Average,
    Concatenate,
    Dot,
    Maximum,
    Minimum,
    Multiply,
    Subtract,
    add,
    average,
    concatenate,
    dot,
    maximum,
    minimum,
    multiply,
    subtract,
)
from .normalization import BatchNormalization, LayerNormalization
from .pooling import (
    AveragePooling1D,
    AveragePooling2D,
    GlobalAveragePooling1D,
    GlobalAveragePooling2D,
    GlobalMaxPooling1D,
    GlobalMaxPooling2D,
    MaxPooling1D,
    MaxPooling2D,
)
from .preprocessing import Normalization
from .reshaping import Cropping2D, SpatialDropout2D, UpSampling2D, ZeroPadding2D
from .rnn import (
    GRU,
    LSTM,
    RNN,
    Bidirectional,
    GRUCell,
    LSTMCell,
    Masking,
    SimpleRNN,
    SimpleRNNCell,
    StackedRNNCells,
    TimeDistributed,
)

# Keras 3's short names of the same classes.
MaxPool1D, MaxPool2D, AvgPool1D, AvgPool2D = MaxPooling1D, MaxPooling2D, AveragePooling1D, AveragePooling2D
GlobalAvgPool1D, GlobalAvgPool2D = GlobalAveragePooling1D, GlobalAveragePooling2D
GlobalMaxPool1D, GlobalMaxPool2D = GlobalMaxPooling1D, GlobalMaxPooling2D

__all__ = [
    "Layer",
    "clear_session",
    "Input",
    "InputLayer",
    "Dense",
    "Embedding",
    "Activation",
    "Dropout",
    "Flatten",
    "Reshape",
    "Lambda",
    "RepeatVector",
    "TensorOp",
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
    "Normalization",
    "Rescaling",
    "Resizing",
    "RandomFlip",
    "RandomTranslation",
    "RandomRotation",
    "RandomZoom",
    "RandomCrop",
    "RandomContrast",
    "Attention",
    "AdditiveAttention",
    "MultiHeadAttention",
    "Conv1D",
    "Conv2D",
    "Conv2DTranspose",
    "DepthwiseConv2D",
    "SeparableConv2D",
    "SimpleRNNCell",
    "StackedRNNCells",
    "LSTMCell",
    "GRUCell",
    "RNN",
    "SimpleRNN",
    "LSTM",
    "GRU",
    "Bidirectional",
    "TimeDistributed",
    "Masking",
    "BatchNormalization",
    "LayerNormalization",
    "MaxPooling1D",
    "MaxPooling2D",
    "AveragePooling1D",
    "AveragePooling2D",
    "GlobalAveragePooling1D",
    "GlobalAveragePooling2D",
    "GlobalMaxPooling1D",
    "GlobalMaxPooling2D",
    "MaxPool1D",
    "MaxPool2D",
    "AvgPool1D",
    "AvgPool2D",
    "GlobalAvgPool1D",
    "GlobalAvgPool2D",
    "GlobalMaxPool1D",
    "GlobalMaxPool2D",
    "UpSampling2D",
    "ZeroPadding2D",
    "Cropping2D",
    "SpatialDropout2D",
    "get",
    "serialize",
    "deserialize",
]


def get(name: str) -> type:
    """The layer class registered under `name` (its class name)."""
    from . import (
        attention,
        augmentation,
        convolutional,
        core,
        embedding,
        merge,
        normalization,
        pooling,
        preprocessing,
        reshaping,
        rnn,
    )

    for mod in (core, embedding, merge, preprocessing, augmentation, attention, convolutional, rnn, pooling,
                normalization, reshaping):
        cls = getattr(mod, name, None)
        if isinstance(cls, type) and issubclass(cls, Layer):
            return cls
    try:
        from .. import models

        cls = getattr(models, name, None)
        if isinstance(cls, type) and issubclass(cls, Layer):
            return cls
    except ImportError:  # pragma: no cover
        pass
    raise ValueError(f"unknown layer class {name!r}")


def serialize(layer: Layer) -> dict:
    """{'class_name': ..., 'config': ...} of a layer."""
    return {"class_name": type(layer).__name__, "config": layer.get_config()}


def deserialize(config: dict, custom_objects: dict | None = None) -> Layer:
    """A layer from serialize()'s dict; classes from custom_objects first."""
    from .. import saving

    name = config["class_name"]
    cls = saving.get_registered_object(config.get("registered_name"), custom_objects) or saving.get_registered_object(
        name, custom_objects
    )
    if not (isinstance(cls, type) and issubclass(cls, Layer)):
        cls = get(name)
    import inspect

    # wrappers (Lambda, RNN, Bidirectional, TimeDistributed) resolve inner objects with them
    if "custom_objects" in inspect.signature(cls.from_config).parameters:
        return cls.from_config(config["config"], custom_objects=custom_objects)
    return cls.from_config(config["config"])
