"""Adadelta, Keras 3 form."""

from __future__ import annotations

from typing import Any

from .. import _C
from .base import LearningRate, Optimizer, check_float


class Adadelta(Optimizer):
    """Adadelta (Keras 3 update rule, Zeiler 2012)::

        ag = rho * ag + (1 - rho) * g^2
        d = -sqrt(ad + epsilon) * g / sqrt(ag + epsilon)
        ad = rho * ad + (1 - rho) * d^2
        w += learning_rate * d

    The same formula as torch.optim.Adadelta (whose default eps is 1e-6, Keras's 1e-7).

    Args:
        learning_rate: float >= 0 or a schedule. Defaults to 0.001 (1.0 is the paper's form).
        rho: float in [0, 1], the decay rate. Defaults to 0.95.
        epsilon: float >= 0. Defaults to 1e-7.
        **kwargs: the common arguments of ``Optimizer``.

    Example::

        opt = fastnn.optimizers.Adadelta(learning_rate=1.0)
        opt.apply_gradients([(w.grad, w)])
    """

    _DEFAULT_NAME = "adadelta"

    def __init__(self, learning_rate: LearningRate = 0.001, rho: float = 0.95, epsilon: float = 1e-7, **kwargs: Any):
        super().__init__(learning_rate=learning_rate, **kwargs)
        self.rho = check_float("rho", rho, 0.0, 1.0)
        self.epsilon = check_float("epsilon", epsilon, 0.0)

    def _slot_specs(self):
        return [("accumulated_grad", 0.0), ("accumulated_delta_var", 0.0)]

    def update_step(self, gradient, variable, learning_rate, grad_scale=1.0, clip_value=float("inf"), decay=0.0):
        s = self._slots_of(variable)
        self._run_kernel(
            _C.adadelta_update,
            _C.adadelta_update_sparse,
            variable._data,
            s["accumulated_grad"],
            s["accumulated_delta_var"],
            gradient,
            learning_rate,
            self.rho,
            self.epsilon,
            grad_scale,
            clip_value,
            decay,
        )

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(rho=self.rho, epsilon=self.epsilon)
        return config
