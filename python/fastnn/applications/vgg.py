"""VGG16 and VGG19 (Simonyan and Zisserman, 2014) with Keras's layer names."""

from __future__ import annotations

from typing import Any, Optional

from .. import layers
from ..models import Model
from ._common import check_pooling, check_weights, global_pooling, image_input, load_weights

__all__ = ["VGG16", "VGG19"]


def _vgg(convs_per_block, model_name, include_top, weights, input_tensor, input_shape, pooling, classes,
         classifier_activation) -> Model:
    label = model_name.upper()
    check_weights(weights, label)
    check_pooling(pooling, label)
    inp = image_input(input_shape, (224, 224, 3), 32, label, input_tensor)
    x = inp
    for b, (n, filters) in enumerate(zip(convs_per_block, (64, 128, 256, 512, 512)), start=1):
        for c in range(1, n + 1):
            x = layers.Conv2D(filters, 3, padding="same", activation="relu", name=f"block{b}_conv{c}")(x)
        x = layers.MaxPooling2D(2, strides=2, name=f"block{b}_pool")(x)
    if include_top:
        x = layers.Flatten(name="flatten")(x)
        x = layers.Dense(4096, activation="relu", name="fc1")(x)
        x = layers.Dense(4096, activation="relu", name="fc2")(x)
        x = layers.Dense(classes, activation=classifier_activation, name="predictions")(x)
    else:
        x = global_pooling(x, pooling)
    model = Model(inp, x, name=model_name)
    load_weights(model, weights)
    return model


def VGG16(
    include_top: bool = True,
    weights: Optional[str] = None,
    input_tensor=None,
    input_shape: Optional[tuple] = None,
    pooling: Optional[str] = None,
    classes: int = 1000,
    classifier_activation: Any = "softmax",
) -> Model:
    """VGG16: five blocks of 3x3 'same' convolutions (2, 2, 3, 3, 3 of 64, 128, 256, 512, 512
    filters) each ending in 2x2 max pooling, then fc1, fc2 (4096, relu) and predictions.
    138,357,544 parameters at 224x224x3 with the top.

    Args:
        include_top: keep flatten, fc1, fc2 and predictions (fixes the input size).
        weights: None (random initialization) or the path of a weights file to load; 'imagenet'
            raises (nothing is downloaded).
        input_tensor: a symbolic tensor to build the model on instead of a new Input.
        input_shape: (rows, cols, channels), default (224, 224, 3), each side at least 32.
        pooling: without the top, None (the block5_pool maps), 'avg' or 'max'.
        classes: number of classes of the top layer.
        classifier_activation: activation of the top layer (None for logits).

    Example::

        base = fastnn.applications.VGG16(include_top=False, input_shape=(64, 64, 3), pooling="avg")
        base.output_shape   # (None, 512)
    """
    return _vgg((2, 2, 3, 3, 3), "vgg16", include_top, weights, input_tensor, input_shape, pooling, classes,
                classifier_activation)


def VGG19(
    include_top: bool = True,
    weights: Optional[str] = None,
    input_tensor=None,
    input_shape: Optional[tuple] = None,
    pooling: Optional[str] = None,
    classes: int = 1000,
    classifier_activation: Any = "softmax",
) -> Model:
    """VGG19: VGG16 with a fourth convolution in blocks 3, 4 and 5 (block3_conv4, ...).
    143,667,240 parameters at 224x224x3 with the top. Arguments as VGG16.

    Example::

        model = fastnn.applications.VGG19(include_top=False, input_shape=(32, 32, 3))
        model.get_layer("block5_conv4").filters   # 512
    """
    return _vgg((2, 2, 4, 4, 4), "vgg19", include_top, weights, input_tensor, input_shape, pooling, classes,
                classifier_activation)
