"""Adamax, Keras 3 form."""

from __future__ import annotations

from typing import Any

from .. import _C
from .base import LearningRate, Optimizer, check_float


class Adamax(Optimizer):
    """Adamax, Adam on the infinity norm (Keras 3 update rule), with t = iterations + 1::

        m += (g - m) * (1 - beta_1)
        u = max(beta_2 * u, |g|)
        w -= learning_rate / (1 - beta_1^t) * m / (u + epsilon)

    torch.optim.Adamax takes max(beta_2 * u, |g| + eps) and divides by it: the two coincide for
    epsilon = 0.

    Args:
        learning_rate: float >= 0 or a schedule. Defaults to 0.001.
        beta_1: float in [0, 1). Defaults to 0.9.
        beta_2: float in [0, 1). Defaults to 0.999.
        epsilon: float >= 0. Defaults to 1e-7.
        **kwargs: the common arguments of ``Optimizer``.

    Example::

        opt = fastnn.optimizers.Adamax(learning_rate=2e-3)
        opt.apply_gradients([(w.grad, w)])
    """

    _DEFAULT_NAME = "adamax"

    def __init__(
        self,
        learning_rate: LearningRate = 0.001,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-7,
        **kwargs: Any,
    ):
        super().__init__(learning_rate=learning_rate, **kwargs)
        self.beta_1 = check_float("beta_1", beta_1, 0.0, 1.0, hi_open=True)
        self.beta_2 = check_float("beta_2", beta_2, 0.0, 1.0, hi_open=True)
        self.epsilon = check_float("epsilon", epsilon, 0.0)

    def _slot_specs(self):
        return [("momentum", 0.0), ("norm", 0.0)]

    def update_step(self, gradient, variable, learning_rate, grad_scale=1.0, clip_value=float("inf"), decay=0.0):
        s = self._slots_of(variable)
        lr_t = learning_rate / (1.0 - self.beta_1 ** (self._iterations + 1))
        self._run_kernel(
            _C.adamax_update,
            _C.adamax_update_sparse,
            variable._data,
            s["momentum"],
            s["norm"],
            gradient,
            lr_t,
            self.beta_1,
            self.beta_2,
            self.epsilon,
            grad_scale,
            clip_value,
            decay,
        )

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(beta_1=self.beta_1, beta_2=self.beta_2, epsilon=self.epsilon)
        return config
