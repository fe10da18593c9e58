"""AlexNet (Krizhevsky, Sutskever and Hinton, 2012) and a reduced variant for small images."""

from __future__ import annotations

from typing import Any, Optional

from .. import functional as F
from .. import layers
from ..layers.base import Layer
from ..models import Model
from ..saving import register_serializable
from ._common import check_pooling, check_weights, global_pooling, image_input, load_weights

__all__ = ["AlexNet", "LocalResponseNormalization"]


@register_serializable(package="fastnn.applications")
class LocalResponseNormalization(Layer):
    """AlexNet's local response normalization across channels (channels last):
    ``y = x / (bias + alpha * sum(x^2 over the 2 depth_radius + 1 nearest channels)) ** beta``,
    as tf.nn.local_response_normalization. Defaults are the paper's (n = 5, k = 2,
    alpha = 1e-4, beta = 0.75). No weights.

    Example::

        lrn = fastnn.applications.LocalResponseNormalization()
        lrn(fastnn.ones(1, 2, 2, 8)).shape   # (1, 2, 2, 8)
    """

    def __init__(self, depth_radius: int = 2, bias: float = 2.0, alpha: float = 1e-4, beta: float = 0.75,
                 **kwargs):
        super().__init__(**kwargs)
        if isinstance(depth_radius, bool) or not isinstance(depth_radius, int) or depth_radius < 0:
            raise ValueError(
                f"LocalResponseNormalization: depth_radius must be a non-negative integer, got {depth_radius!r}"
            )
        self.depth_radius, self.bias, self.alpha, self.beta = depth_radius, float(bias), float(alpha), float(beta)
        self.built = True

    def call(self, inputs):
        if inputs.ndim != 4:
            raise ValueError(f"LocalResponseNormalization expects 4-D inputs, got shape {tuple(inputs.shape)}")
        n, h, w, c = inputs.shape
        r = self.depth_radius
        # The channel window sum as an average pool over channels laid out as image rows: the
        # zero rows make every window 2r + 1 long, so average * (2r + 1) is the sum.
        sq = F.reshape(F.square(inputs), (n * h * w, c, 1, 1))
        sq = F.zero_pad2d(sq, ((r, r), (0, 0)))
        window = F.avg_pool2d(sq, (2 * r + 1, 1), strides=(1, 1))
        window = F.reshape(window, (n, h, w, c))
        return inputs / (self.bias + (self.alpha * (2 * r + 1)) * window) ** self.beta

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(depth_radius=self.depth_radius, bias=self.bias, alpha=self.alpha, beta=self.beta)
        return config


def AlexNet(
    include_top: bool = True,
    weights: Optional[str] = None,
    input_tensor=None,
    input_shape: Optional[tuple] = None,
    pooling: Optional[str] = None,
    classes: int = 1000,
    classifier_activation: Any = "softmax",
    small_inputs: bool = False,
    local_response_normalization: bool = True,
    dropout: float = 0.5,
) -> Model:
    """AlexNet as in the paper: conv1 96@11x11/4, LRN, 3x3/2 max pooling; conv2 256@5x5 'same'
    (two groups, the paper's two GPUs), LRN, pooling; conv3 384@3x3; conv4 384@3x3 and conv5
    256@3x3 (two groups each); pooling; fc6 and fc7 (4096, relu, dropout 0.5); predictions.
    On 227x227x3 (the size the paper's arithmetic needs) it has 60,965,224 parameters.

    `small_inputs=True` is the reduced variant for 32x32 images (CIFAR-10, Fashion-MNIST):
    conv1 64@5x5/1, conv2 192@5x5, conv3 384, conv4 256, conv5 256 (3x3, no groups, all
    'same'), the same three 3x3/2 poolings, fc6 and fc7 of 1024 units.

    Args:
        include_top: keep flatten, fc6, fc7 and predictions.
        weights: None (random initialization) or the path of a weights file to load.
        input_tensor: a symbolic tensor to build the model on instead of a new Input.
        input_shape: (rows, cols, channels); default (227, 227, 3), or (32, 32, 3) with
            small_inputs.
        pooling: without the top, None (the pool5 maps), 'avg' or 'max'.
        classes: number of classes of the top layer.
        classifier_activation: activation of the top layer (None for logits).
        small_inputs: the reduced variant.
        local_response_normalization: the LRN layers after conv1 and conv2.
        dropout: dropout rate before fc7 and predictions.

    Example::

        model = fastnn.applications.AlexNet(weights=None)
        model.count_params()   # 60965224
    """
    check_weights(weights, "AlexNet")
    check_pooling(pooling, "AlexNet")
    if small_inputs:
        inp = image_input(input_shape, (32, 32, 3), 15, "AlexNet", input_tensor)
        specs = [(64, 5, 1, "same", 1), (192, 5, 1, "same", 1), (384, 3, 1, "same", 1),
                 (256, 3, 1, "same", 1), (256, 3, 1, "same", 1)]
        units = 1024
    else:
        inp = image_input(input_shape, (227, 227, 3), 63, "AlexNet", input_tensor)
        specs = [(96, 11, 4, "valid", 1), (256, 5, 1, "same", 2), (384, 3, 1, "same", 1),
                 (384, 3, 1, "same", 2), (256, 3, 1, "same", 2)]
        units = 4096
    x = inp
    for i, (filters, k, s, padding, groups) in enumerate(specs, start=1):
        x = layers.Conv2D(filters, k, strides=s, padding=padding, groups=groups, activation="relu",
                          name=f"conv{i}")(x)
        if i <= 2 and local_response_normalization:
            x = LocalResponseNormalization(name=f"norm{i}")(x)
        if i in (1, 2, 5):
            x = layers.MaxPooling2D(3, strides=2, name=f"pool{i}")(x)
    if include_top:
        x = layers.Flatten(name="flatten")(x)
        x = layers.Dense(units, activation="relu", name="fc6")(x)
        x = layers.Dropout(dropout, name="drop6")(x)
        x = layers.Dense(units, activation="relu", name="fc7")(x)
        x = layers.Dropout(dropout, name="drop7")(x)
        x = layers.Dense(classes, activation=classifier_activation, name="predictions")(x)
    else:
        x = global_pooling(x, pooling)
    model = Model(inp, x, name="alexnet")
    load_weights(model, weights)
    return model
