"""ResNet50 (He et al., 2015) with Keras's layer names, and a ResNet18-style model of basic
residual blocks (two 3x3 convolutions) for small images."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Optional

from .. import layers
from ..models import Model
from ._common import check_pooling, check_weights, global_pooling, image_input, load_weights

__all__ = ["ResNet50", "ResNet18", "bottleneck_block", "basic_block"]

_BN_EPS = 1.001e-5  # Keras's ResNet value (the Caffe models' 1e-5 kept after a float32 round trip)


def bottleneck_block(x, filters: int, stride: int = 1, conv_shortcut: bool = True, name: str = "block"):
    """1x1 (filters) -> 3x3 (filters) -> 1x1 (4 filters), each with batch norm, added to the
    shortcut (a strided 1x1 convolution when `conv_shortcut`, else the input), then relu.
    Keras's residual_block_v1 and its layer names (name_0_conv, name_1_conv, ..., name_add)."""
    if conv_shortcut:
        shortcut = layers.Conv2D(4 * filters, 1, strides=stride, name=f"{name}_0_conv")(x)
        shortcut = layers.BatchNormalization(epsilon=_BN_EPS, name=f"{name}_0_bn")(shortcut)
    else:
        shortcut = x
    x = layers.Conv2D(filters, 1, strides=stride, name=f"{name}_1_conv")(x)
    x = layers.BatchNormalization(epsilon=_BN_EPS, name=f"{name}_1_bn")(x)
    x = layers.Activation("relu", name=f"{name}_1_relu")(x)
    x = layers.Conv2D(filters, 3, padding="same", name=f"{name}_2_conv")(x)
    x = layers.BatchNormalization(epsilon=_BN_EPS, name=f"{name}_2_bn")(x)
    x = layers.Activation("relu", name=f"{name}_2_relu")(x)
    x = layers.Conv2D(4 * filters, 1, name=f"{name}_3_conv")(x)
    x = layers.BatchNormalization(epsilon=_BN_EPS, name=f"{name}_3_bn")(x)
    x = layers.Add(name=f"{name}_add")([shortcut, x])
    return layers.Activation("relu", name=f"{name}_out")(x)


def basic_block(x, filters: int, stride: int = 1, name: str = "block"):
    """3x3 (filters, stride) -> 3x3 (filters), each with batch norm and no conv bias, added to
    the shortcut (a strided 1x1 convolution with batch norm where the shape changes), then relu:
    the block of ResNet-18/34."""
    channels = x.shape[-1]
    if stride != 1 or channels != filters:
        shortcut = layers.Conv2D(filters, 1, strides=stride, use_bias=False, name=f"{name}_0_conv")(x)
        shortcut = layers.BatchNormalization(epsilon=1e-5, name=f"{name}_0_bn")(shortcut)
    else:
        shortcut = x
    x = layers.Conv2D(filters, 3, strides=stride, padding="same", use_bias=False, name=f"{name}_1_conv")(x)
    x = layers.BatchNormalization(epsilon=1e-5, name=f"{name}_1_bn")(x)
    x = layers.Activation("relu", name=f"{name}_1_relu")(x)
    x = layers.Conv2D(filters, 3, padding="same", use_bias=False, name=f"{name}_2_conv")(x)
    x = layers.BatchNormalization(epsilon=1e-5, name=f"{name}_2_bn")(x)
    x = layers.Add(name=f"{name}_add")([shortcut, x])
    return layers.Activation("relu", name=f"{name}_out")(x)


def ResNet50(
    include_top: bool = True,
    weights: Optional[str] = None,
    input_tensor=None,
    input_shape: Optional[tuple] = None,
    pooling: Optional[str] = None,
    classes: int = 1000,
    classifier_activation: Any = "softmax",
) -> Model:
    """ResNet50 as Keras builds it: a 7x7/2 stem (conv1_conv, conv1_bn) and 3x3/2 max pooling,
    then stages conv2..conv5 of 3, 4, 6, 3 bottleneck blocks (64, 128, 256, 512 filters; the
    first block of each stage has a convolution shortcut), global average pooling and the
    predictions layer. 25,636,712 parameters at 224x224x3 with the top.

    Args:
        include_top: keep avg_pool and predictions.
        weights: None (random initialization) or the path of a weights file to load; 'imagenet'
            raises (nothing is downloaded).
        input_tensor: a symbolic tensor to build the model on instead of a new Input.
        input_shape: (rows, cols, channels), default (224, 224, 3), each side at least 32.
        pooling: without the top, None (the conv5_block3_out maps), 'avg' or 'max'.
        classes: number of classes of the top layer.
        classifier_activation: activation of the top layer (None for logits).

    Example::

        model = fastnn.applications.ResNet50(weights=None)
        model.count_params()   # 25636712
    """
    check_weights(weights, "ResNet50")
    check_pooling(pooling, "ResNet50")
    inp = image_input(input_shape, (224, 224, 3), 32, "ResNet50", input_tensor)
    x = layers.ZeroPadding2D(((3, 3), (3, 3)), name="conv1_pad")(inp)
    x = layers.Conv2D(64, 7, strides=2, name="conv1_conv")(x)
    x = layers.BatchNormalization(epsilon=_BN_EPS, name="conv1_bn")(x)
    x = layers.Activation("relu", name="conv1_relu")(x)
    x = layers.ZeroPadding2D(((1, 1), (1, 1)), name="pool1_pad")(x)
    x = layers.MaxPooling2D(3, strides=2, name="pool1_pool")(x)
    for stage, (filters, blocks) in enumerate(((64, 3), (128, 4), (256, 6), (512, 3)), start=2):
        for b in range(1, blocks + 1):
            stride = 2 if b == 1 and stage > 2 else 1
            x = bottleneck_block(x, filters, stride=stride, conv_shortcut=b == 1, name=f"conv{stage}_block{b}")
    if include_top:
        x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
        x = layers.Dense(classes, activation=classifier_activation, name="predictions")(x)
    else:
        x = global_pooling(x, pooling, "avg_pool", "max_pool")
    model = Model(inp, x, name="resnet50")
    load_weights(model, weights)
    return model


def ResNet18(
    include_top: bool = True,
    weights: Optional[str] = None,
    input_tensor=None,
    input_shape: Optional[tuple] = None,
    pooling: Optional[str] = None,
    classes: int = 1000,
    classifier_activation: Any = "softmax",
    width: int = 64,
    blocks: Sequence[int] = (2, 2, 2, 2),
    small_inputs: bool = False,
    name: str = "resnet18",
) -> Model:
    """A ResNet-18-style model: a stem, stages of `blocks` basic residual blocks (two 3x3
    convolutions joined to the shortcut by Add) with width, 2 width, 4 width, ... filters, the
    first block of each later stage striding by 2, then global average pooling and the top.

    With the defaults (the ImageNet stem: 7x7/2 convolution and 3x3/2 max pooling) it is
    torchvision's resnet18: 11,689,512 trainable parameters (plus 9,600 moving statistics).
    `small_inputs=True` takes a 3x3/1 stem and no pooling, for 28x28 or 32x32 images; a
    narrower `width` and fewer `blocks` make a small model.

    Args:
        include_top, weights, input_tensor, pooling, classes, classifier_activation: as ResNet50.
        input_shape: (rows, cols, channels); default (224, 224, 3), or (32, 32, 3) with
            small_inputs.
        width: filters of the first stage.
        blocks: number of basic blocks in each stage.
        small_inputs: the 3x3 stride-1 stem without max pooling.
        name: the model's name.

    Example::

        model = fastnn.applications.ResNet18(input_shape=(28, 28, 1), classes=10, width=16,
                                             blocks=(1, 1, 1), small_inputs=True)
        model.output_shape   # (None, 10)
    """
    check_weights(weights, "ResNet18")
    check_pooling(pooling, "ResNet18")
    if isinstance(width, bool) or not isinstance(width, int) or width <= 0:
        raise ValueError(f"ResNet18: width must be a positive integer, got width={width!r}")
    blocks = tuple(blocks)
    if not blocks or any(isinstance(b, bool) or not isinstance(b, int) or b <= 0 for b in blocks):
        raise ValueError(f"ResNet18: blocks must be positive integers, one per stage, got blocks={blocks!r}")
    default = (32, 32, 3) if small_inputs else (224, 224, 3)
    inp = image_input(input_shape, default, 8 if small_inputs else 32, "ResNet18", input_tensor)
    if small_inputs:
        x = layers.Conv2D(width, 3, padding="same", use_bias=False, name="conv1_conv")(inp)
    else:
        x = layers.ZeroPadding2D(((3, 3), (3, 3)), name="conv1_pad")(inp)
        x = layers.Conv2D(width, 7, strides=2, use_bias=False, name="conv1_conv")(x)
    x = layers.BatchNormalization(epsilon=1e-5, name="conv1_bn")(x)
    x = layers.Activation("relu", name="conv1_relu")(x)
    if not small_inputs:
        x = layers.ZeroPadding2D(((1, 1), (1, 1)), name="pool1_pad")(x)
        x = layers.MaxPooling2D(3, strides=2, name="pool1_pool")(x)
    for s, n in enumerate(blocks):
        for b in range(1, n + 1):
            stride = 2 if b == 1 and s > 0 else 1
            x = basic_block(x, width * 2**s, stride=stride, name=f"conv{s + 2}_block{b}")
    if include_top:
        x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
        x = layers.Dense(classes, activation=classifier_activation, name="predictions")(x)
    else:
        x = global_pooling(x, pooling, "avg_pool", "max_pool")
    model = Model(inp, x, name=name)
    load_weights(model, weights)
    return model
