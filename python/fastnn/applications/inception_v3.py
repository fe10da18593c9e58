"""InceptionV3 (Szegedy et al., 2015) as Keras builds it: conv2d_bn units (convolution without
bias, BatchNormalization(scale=False), relu) and inception modules whose branches are joined
with Concatenate (mixed0 ... mixed10)."""

from __future__ import annotations

from typing import Any, Optional

from .. import layers
from ..models import Model
from ._common import check_pooling, check_weights, global_pooling, image_input, load_weights

__all__ = ["InceptionV3", "conv2d_bn"]


def conv2d_bn(x, filters: int, num_row: int, num_col: int, padding: str = "same", strides=(1, 1),
              name: Optional[str] = None):
    """Conv2D(filters, (num_row, num_col), use_bias=False) -> BatchNormalization(scale=False) ->
    relu; with `name`, the layers are name_conv, name_bn and name."""
    x = layers.Conv2D(filters, (num_row, num_col), strides=strides, padding=padding, use_bias=False,
                      name=None if name is None else f"{name}_conv")(x)
    x = layers.BatchNormalization(scale=False, name=None if name is None else f"{name}_bn")(x)
    return layers.Activation("relu", name=name)(x)


def _chain(x, specs):
    """conv2d_bn units in sequence; a spec is (filters, rows, cols) or (filters, rows, cols,
    strides, padding)."""
    for spec in specs:
        f, r, c, *rest = spec
        strides, padding = rest if rest else ((1, 1), "same")
        x = conv2d_bn(x, f, r, c, padding=padding, strides=strides)
    return x


def _pool_branch(x, filters: int):
    x = layers.AveragePooling2D((3, 3), strides=(1, 1), padding="same")(x)
    return conv2d_bn(x, filters, 1, 1)


def _module_a(x, pool_filters: int, name: str):  # 35x35: 1x1, 5x5, double 3x3, pool
    return layers.concatenate([
        _chain(x, [(64, 1, 1)]),
        _chain(x, [(48, 1, 1), (64, 5, 5)]),
        _chain(x, [(64, 1, 1), (96, 3, 3), (96, 3, 3)]),
        _pool_branch(x, pool_filters),
    ], axis=-1, name=name)


def _module_c(x, mid: int, name: str):  # 17x17: 1x1, factorised 7x7, double factorised 7x7, pool
    return layers.concatenate([
        _chain(x, [(192, 1, 1)]),
        _chain(x, [(mid, 1, 1), (mid, 1, 7), (192, 7, 1)]),
        _chain(x, [(mid, 1, 1), (mid, 7, 1), (mid, 1, 7), (mid, 7, 1), (192, 1, 7)]),
        _pool_branch(x, 192),
    ], axis=-1, name=name)


def _module_e(x, i: int):  # 8x8: 1x1, 3x3 split into 1x3 and 3x1, double 3x3 split, pool
    b3 = conv2d_bn(x, 384, 1, 1)
    b3 = layers.concatenate([conv2d_bn(b3, 384, 1, 3), conv2d_bn(b3, 384, 3, 1)], axis=-1, name=f"mixed9_{i}")
    bd = _chain(x, [(448, 1, 1), (384, 3, 3)])
    bd = layers.concatenate([conv2d_bn(bd, 384, 1, 3), conv2d_bn(bd, 384, 3, 1)], axis=-1)
    return layers.concatenate([conv2d_bn(x, 320, 1, 1), b3, bd, _pool_branch(x, 192)], axis=-1,
                              name=f"mixed{9 + i}")


def InceptionV3(
    include_top: bool = True,
    weights: Optional[str] = None,
    input_tensor=None,
    input_shape: Optional[tuple] = None,
    pooling: Optional[str] = None,
    classes: int = 1000,
    classifier_activation: Any = "softmax",
) -> Model:
    """InceptionV3: a stem of five conv2d_bn units and two max poolings, three 35x35 modules
    (mixed0-2), a grid reduction (mixed3), four 17x17 modules with factorised 7x7 convolutions
    (mixed4-7), a second reduction (mixed8), two 8x8 modules (mixed9, mixed10), global average
    pooling and predictions. 23,851,784 parameters at 299x299x3 with the top.

    Args:
        include_top: keep avg_pool and predictions.
        weights: None (random initialization) or the path of a weights file to load; 'imagenet'
            raises (nothing is downloaded).
        input_tensor: a symbolic tensor to build the model on instead of a new Input.
        input_shape: (rows, cols, channels), default (299, 299, 3), each side at least 75.
        pooling: without the top, None (the mixed10 maps), 'avg' or 'max'.
        classes: number of classes of the top layer.
        classifier_activation: activation of the top layer (None for logits).

    Example::

        base = fastnn.applications.InceptionV3(include_top=False, input_shape=(75, 75, 3))
        base.output_shape   # (None, 1, 1, 2048)
    """
    check_weights(weights, "InceptionV3")
    check_pooling(pooling, "InceptionV3")
    inp = image_input(input_shape, (299, 299, 3), 75, "InceptionV3", input_tensor)
    x = _chain(inp, [(32, 3, 3, (2, 2), "valid"), (32, 3, 3, (1, 1), "valid"), (64, 3, 3)])
    x = layers.MaxPooling2D((3, 3), strides=(2, 2))(x)
    x = _chain(x, [(80, 1, 1, (1, 1), "valid"), (192, 3, 3, (1, 1), "valid")])
    x = layers.MaxPooling2D((3, 3), strides=(2, 2))(x)

    x = _module_a(x, 32, "mixed0")
    x = _module_a(x, 64, "mixed1")
    x = _module_a(x, 64, "mixed2")
    x = layers.concatenate([  # 35x35 -> 17x17
        _chain(x, [(384, 3, 3, (2, 2), "valid")]),
        _chain(x, [(64, 1, 1), (96, 3, 3), (96, 3, 3, (2, 2), "valid")]),
        layers.MaxPooling2D((3, 3), strides=(2, 2))(x),
    ], axis=-1, name="mixed3")
    x = _module_c(x, 128, "mixed4")
    x = _module_c(x, 160, "mixed5")
    x = _module_c(x, 160, "mixed6")
    x = _module_c(x, 192, "mixed7")
    x = layers.concatenate([  # 17x17 -> 8x8
        _chain(x, [(192, 1, 1), (320, 3, 3, (2, 2), "valid")]),
        _chain(x, [(192, 1, 1), (192, 1, 7), (192, 7, 1), (192, 3, 3, (2, 2), "valid")]),
        layers.MaxPooling2D((3, 3), strides=(2, 2))(x),
    ], axis=-1, name="mixed8")
    x = _module_e(x, 0)
    x = _module_e(x, 1)

    if include_top:
        x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
        x = layers.Dense(classes, activation=classifier_activation, name="predictions")(x)
    else:
        x = global_pooling(x, pooling)
    model = Model(inp, x, name="inception_v3")
    load_weights(model, weights)
    return model
