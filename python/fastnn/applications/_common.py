"""What every application model shares: the `weights` argument (no downloads), the input
shape check, the optional global pooling of a headless model."""

from __future__ import annotations

import os
from typing import Any, Optional

from .. import layers

__all__ = ["check_weights", "load_weights", "image_input", "global_pooling", "check_pooling"]


def check_weights(weights: Any, model: str) -> None:
    """Refuse 'imagenet' (fastnn downloads nothing) and paths that are not files, before any
    layer is built."""
    if weights is None:
        return
    if weights == "imagenet":
        raise ValueError(
            f"{model}: weights='imagenet' would need a download, and fastnn downloads nothing. Pass "
            f"weights=None (random initialization) or the path of a weights file you have "
            f"(fastnn's save_weights format), e.g. weights='{model.lower()}.weights.safetensors'"
        )
    if not isinstance(weights, (str, os.PathLike)):
        raise TypeError(f"{model}: weights must be None or the path of a weights file, got weights={weights!r}")
    if not os.path.isfile(weights):
        raise ValueError(f"{model}: the weights file {os.fspath(weights)!r} does not exist (weights={weights!r})")


def load_weights(model, weights: Any) -> None:
    if weights is not None:
        model.load_weights(weights)


def check_pooling(pooling: Optional[str], model: str) -> None:
    if pooling not in (None, "avg", "max"):
        raise ValueError(f"{model}: pooling must be None, 'avg' or 'max', got pooling={pooling!r}")


def image_input(input_shape, default: tuple, min_size: int, model: str, input_tensor=None):
    """The model's Input: `input_shape` (default `default`), 3-D, channels last, each spatial
    side at least `min_size` (smaller images shrink to nothing inside the network)."""
    if input_tensor is not None:
        from ..layers.core import InputLayer

        history = getattr(input_tensor, "_history", None)
        if not history or not isinstance(history[0], InputLayer):
            raise ValueError(
                f"{model}: input_tensor must come from fastnn.layers.Input (call the model on other "
                f"tensors instead: model(x)), got {input_tensor!r}"
            )
        shape = tuple(input_tensor.shape[1:])
        if len(shape) != 3:
            raise ValueError(f"{model}: input_tensor must be 4-D (batch, rows, cols, channels), got shape {shape}")
        return input_tensor
    shape = default if input_shape is None else input_shape
    if not isinstance(shape, (tuple, list)) or len(shape) != 3:
        raise ValueError(f"{model}: input_shape must be (rows, cols, channels), got input_shape={input_shape!r}")
    shape = tuple(shape)
    for side in shape:
        if side is not None and (isinstance(side, bool) or not isinstance(side, int) or side <= 0):
            raise ValueError(f"{model}: input_shape entries must be positive integers, got input_shape={shape}")
    if shape[2] is None:
        raise ValueError(f"{model}: the number of channels must be known, got input_shape={shape}")
    for side in shape[:2]:
        if side is not None and side < min_size:
            raise ValueError(
                f"{model}: input size must be at least {min_size}x{min_size}, got input_shape={shape}"
            )
    return layers.Input(shape=shape)


def global_pooling(x, pooling: Optional[str], avg_name: Optional[str] = None, max_name: Optional[str] = None):
    if pooling == "avg":
        return layers.GlobalAveragePooling2D(name=avg_name)(x)
    if pooling == "max":
        return layers.GlobalMaxPooling2D(name=max_name)(x)
    return x
