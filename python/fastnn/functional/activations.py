"""Activation functions, with Keras 3 names and defaults: step, sigmoid, tanh, relu, relu6,
leaky_relu, elu, selu, gelu, softplus, swish (silu), hard_sigmoid, linear.

Each is one fused kernel forward and one backward (csrc/cpu/elementwise.cpp), with the same
formulas and gradients as torch. softmax / log_softmax live in fastnn.functional.reductions.
"""

from __future__ import annotations

from typing import Any

from ..tensor import Tensor
from .elementwise import _float_tensor, _unary_class, clip, where

__all__ = [
    "step", "sigmoid", "tanh", "relu", "relu6", "leaky_relu", "elu", "selu", "gelu", "softplus",
    "swish", "silu", "hard_sigmoid", "linear",
]

Sigmoid = _unary_class("sigmoid", "Sigmoid")
Tanh = _unary_class("tanh", "Tanh")
Relu = _unary_class("relu", "Relu")
LeakyRelu = _unary_class("leaky_relu", "LeakyRelu")
Elu = _unary_class("elu", "Elu")
Selu = _unary_class("selu", "Selu")
Gelu = _unary_class("gelu", "Gelu")
GeluTanh = _unary_class("gelu_tanh", "GeluTanh")
Softplus = _unary_class("softplus", "Softplus")
Swish = _unary_class("swish", "Swish")
HardSigmoid = _unary_class("hard_sigmoid", "HardSigmoid")
Step = _unary_class("step", "Step")


def step(x: Any) -> Tensor:
    """Heaviside step: 1 where x > 0, else 0 (NaN stays NaN).

    Its gradient is zero everywhere (and undefined at 0), so a network that uses it cannot be
    trained by backpropagation: nothing flows back through it. It is the activation of Rosenblatt's
    perceptron, which is trained by the perceptron learning rule (w += lr * (target - output) * x)
    rather than by gradients; use sigmoid or relu when you need gradients.
    """
    return Step.apply(_float_tensor(x, "step"))


def sigmoid(x: Any) -> Tensor:
    """1 / (1 + e^-x), computed without overflow (sigmoid(-1e4) is 0, sigmoid(1e4) is 1)."""
    return Sigmoid.apply(_float_tensor(x, "sigmoid"))


def tanh(x: Any) -> Tensor:
    """Hyperbolic tangent."""
    return Tanh.apply(_float_tensor(x, "tanh"))


def relu(
    x: Any, negative_slope: float = 0.0, max_value: float | None = None, threshold: float = 0.0
) -> Tensor:
    """max(x, 0); NaN propagates and the gradient is 0 at x <= 0 (as torch).

    With the Keras 3 arguments: ``max_value`` caps the output, ``negative_slope`` is the slope
    below ``threshold``, and values below ``threshold`` map to
    ``negative_slope * (x - threshold)``.
    """
    x = _float_tensor(x, "relu")
    if threshold != 0.0:
        out = where(x >= threshold, x, (x - threshold) * negative_slope)
    elif negative_slope != 0.0:
        out = LeakyRelu.apply(x, alpha=float(negative_slope))
    else:
        out = Relu.apply(x)
    if max_value is not None:
        out = clip(out, None, float(max_value))
    return out


def relu6(x: Any) -> Tensor:
    """min(max(x, 0), 6); the gradient is 0 at x <= 0 (as relu) and 1 up to 6 inclusive."""
    return clip(Relu.apply(_float_tensor(x, "relu6")), None, 6.0)


def leaky_relu(x: Any, negative_slope: float = 0.2) -> Tensor:
    """x where x > 0, negative_slope * x elsewhere (Keras 3 default slope 0.2; torch's is 0.01)."""
    return LeakyRelu.apply(_float_tensor(x, "leaky_relu"), alpha=float(negative_slope))


def elu(x: Any, alpha: float = 1.0) -> Tensor:
    """x where x > 0, alpha * (e^x - 1) elsewhere."""
    return Elu.apply(_float_tensor(x, "elu"), alpha=float(alpha))


def selu(x: Any) -> Tensor:
    """scale * elu(x, alpha) with the self-normalising constants (alpha 1.6732632423543772,
    scale 1.0507009873554805), as torch and Keras."""
    return Selu.apply(_float_tensor(x, "selu"))


def gelu(x: Any, approximate: bool = False) -> Tensor:
    """Gaussian error linear unit: x * Phi(x) = 0.5 x (1 + erf(x / sqrt 2)); with
    ``approximate=True`` the tanh form 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))), as torch's
    approximate='tanh'."""
    x = _float_tensor(x, "gelu")
    return GeluTanh.apply(x) if approximate else Gelu.apply(x)


def softplus(x: Any) -> Tensor:
    """log(1 + e^x); linear above 20 like torch (softplus(1e4) is 1e4, not inf)."""
    return Softplus.apply(_float_tensor(x, "softplus"))


def swish(x: Any) -> Tensor:
    """x * sigmoid(x) (also called SiLU)."""
    return Swish.apply(_float_tensor(x, "swish"))


silu = swish


def hard_sigmoid(x: Any) -> Tensor:
    """relu6(x + 3) / 6 (Keras 3 and torch); gradient 1/6 inside (-3, 3), 0 outside."""
    return HardSigmoid.apply(_float_tensor(x, "hard_sigmoid"))


def linear(x: Any) -> Tensor:
    """The identity (Keras' 'linear' activation)."""
    return _float_tensor(x, "linear")
