"""LeNet-5 (LeCun et al., 1998): two convolution + subsampling stages and three dense layers."""

from __future__ import annotations

from typing import Any, Optional

from .. import layers
from ..models import Model
from ._common import check_pooling, check_weights, global_pooling, image_input, load_weights

__all__ = ["LeNet5"]


def LeNet5(
    include_top: bool = True,
    weights: Optional[str] = None,
    input_tensor=None,
    input_shape: Optional[tuple] = None,
    pooling: Optional[str] = None,
    classes: int = 10,
    classifier_activation: Any = "softmax",
    activation: Any = "tanh",
    subsampling: str = "average",
    name: str = "lenet5",
) -> Model:
    """LeNet-5: conv 6@5x5, 2x2 subsampling, conv 16@5x5, 2x2 subsampling, dense 120, 84,
    `classes`.

    On the paper's 32x32x1 input the model has 61,706 parameters: the subsampling layers are
    parameter-free pooling (the paper's subsampling had a trainable coefficient and bias per
    map, 44 more parameters, and its C3 connected only some maps: neither is kept here, as in
    the course notes). On 28x28 images (MNIST) the second stage ends at 4x4x16.

    Args:
        include_top: keep the three dense layers (flatten, fc1, fc2, predictions).
        weights: None (random initialization) or the path of a weights file to load.
        input_tensor: a symbolic tensor to build the model on instead of a new Input.
        input_shape: (rows, cols, channels), default (32, 32, 1); each side at least 16.
        pooling: without the top, None (4-D feature maps), 'avg' or 'max' global pooling.
        classes: number of classes of the top layer.
        classifier_activation: activation of the top layer (None for logits).
        activation: activation of the hidden layers ('tanh' as the paper; 'relu' trains faster).
        subsampling: 'average' (the paper's subsampling) or 'max' pooling.
        name: the model's name.

    Example::

        model = fastnn.applications.LeNet5(input_shape=(32, 32, 1))
        model.count_params()   # 61706
    """
    check_weights(weights, "LeNet5")
    check_pooling(pooling, "LeNet5")
    if subsampling not in ("average", "max"):
        raise ValueError(f"LeNet5: subsampling must be 'average' or 'max', got subsampling={subsampling!r}")
    pool = layers.AveragePooling2D if subsampling == "average" else layers.MaxPooling2D
    inp = image_input(input_shape, (32, 32, 1), 16, "LeNet5", input_tensor)
    x = layers.Conv2D(6, 5, activation=activation, name="conv1")(inp)
    x = pool(2, name="pool1")(x)
    x = layers.Conv2D(16, 5, activation=activation, name="conv2")(x)
    x = pool(2, name="pool2")(x)
    if include_top:
        x = layers.Flatten(name="flatten")(x)
        x = layers.Dense(120, activation=activation, name="fc1")(x)
        x = layers.Dense(84, activation=activation, name="fc2")(x)
        x = layers.Dense(classes, activation=classifier_activation, name="predictions")(x)
    else:
        x = global_pooling(x, pooling)
    model = Model(inp, x, name=name)
    load_weights(model, weights)
    return model
