"""RMSprop, Keras 3 form (epsilon inside the square root)."""

from __future__ import annotations

from typing import Any

from .. import _C
from .base import LearningRate, Optimizer, check_float


class RMSprop(Optimizer):
    """RMSprop (Keras 3 update rule)::

        v = rho * v + (1 - rho) * g^2
        centered:  ga = rho * ga + (1 - rho) * g;  den = v - ga^2 + epsilon
        otherwise: den = v + epsilon
        inc = learning_rate * g / sqrt(den)
        momentum > 0:  mom = momentum * mom + inc;  w -= mom
        otherwise:     w -= inc

    torch.optim.RMSprop divides by sqrt(v) + eps (epsilon outside the root) and keeps its
    momentum buffer without the learning rate: the two coincide for epsilon = 0 and a constant
    learning rate.

    Args:
        learning_rate: float >= 0 or a schedule. Defaults to 0.001.
        rho: float in [0, 1], the discount of the squared-gradient average. Defaults to 0.9.
        momentum: float in [0, 1]. Defaults to 0.0.
        epsilon: float >= 0. Defaults to 1e-7.
        centered: normalise by the estimated variance of the gradient. Defaults to False.
        **kwargs: the common arguments of ``Optimizer``.

    Example::

        opt = fastnn.optimizers.RMSprop(learning_rate=1e-3, momentum=0.9)
        opt.apply_gradients([(w.grad, w)])
    """

    _DEFAULT_NAME = "rmsprop"

    def __init__(
        self,
        learning_rate: LearningRate = 0.001,
        rho: float = 0.9,
        momentum: float = 0.0,
        epsilon: float = 1e-7,
        centered: bool = False,
        **kwargs: Any,
    ):
        super().__init__(learning_rate=learning_rate, **kwargs)
        self.rho = check_float("rho", rho, 0.0, 1.0)
        self.momentum = check_float("momentum", momentum, 0.0, 1.0)
        self.epsilon = check_float("epsilon", epsilon, 0.0)
        self.centered = bool(centered)

    def _slot_specs(self):
        specs = [("velocity", 0.0)]
        if self.momentum > 0:
            specs.append(("momentum", 0.0))
        if self.centered:
            specs.append(("average_gradient", 0.0))
        return specs

    def update_step(self, gradient, variable, learning_rate, grad_scale=1.0, clip_value=float("inf"), decay=0.0):
        s = self._slots_of(variable)
        self._run_kernel(
            _C.rmsprop_update,
            _C.rmsprop_update_sparse,
            variable._data,
            s["velocity"],
            s.get("momentum"),
            s.get("average_gradient"),
            gradient,
            learning_rate,
            self.rho,
            self.momentum,
            self.epsilon,
            grad_scale,
            clip_value,
            decay,
        )

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(rho=self.rho, momentum=self.momentum, epsilon=self.epsilon, centered=self.centered)
        return config
