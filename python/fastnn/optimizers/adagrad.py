"""Adagrad, Keras 3 form (epsilon inside the square root)."""

from __future__ import annotations

from typing import Any

from .. import _C
from .base import LearningRate, Optimizer, check_float


class Adagrad(Optimizer):
    """Adagrad (Keras 3 update rule)::

        a += g^2                                   (a starts at initial_accumulator_value)
        w -= learning_rate * g / sqrt(a + epsilon)

    torch.optim.Adagrad divides by sqrt(a) + eps instead (epsilon outside the root): the two
    coincide for epsilon = 0.

    Args:
        learning_rate: float >= 0 or a schedule. Defaults to 0.001.
        initial_accumulator_value: float >= 0, the starting value of the accumulators. Defaults to 0.1.
        epsilon: float >= 0. Defaults to 1e-7.
        **kwargs: the common arguments of ``Optimizer``.

    Example::

        opt = fastnn.optimizers.Adagrad(learning_rate=0.01)
        opt.apply_gradients([(w.grad, w)])
    """

    _DEFAULT_NAME = "adagrad"

    def __init__(
        self,
        learning_rate: LearningRate = 0.001,
        initial_accumulator_value: float = 0.1,
        epsilon: float = 1e-7,
        **kwargs: Any,
    ):
        super().__init__(learning_rate=learning_rate, **kwargs)
        self.initial_accumulator_value = check_float("initial_accumulator_value", initial_accumulator_value, 0.0)
        self.epsilon = check_float("epsilon", epsilon, 0.0)

    def _slot_specs(self):
        return [("accumulator", self.initial_accumulator_value)]

    def update_step(self, gradient, variable, learning_rate, grad_scale=1.0, clip_value=float("inf"), decay=0.0):
        slots = self._slots_of(variable)
        self._run_kernel(
            _C.adagrad_update,
            _C.adagrad_update_sparse,
            variable._data,
            slots["accumulator"],
            gradient,
            learning_rate,
            self.epsilon,
            grad_scale,
            clip_value,
            decay,
        )

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(initial_accumulator_value=self.initial_accumulator_value, epsilon=self.epsilon)
        return config
