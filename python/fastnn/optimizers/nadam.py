"""Nadam (Adam with Nesterov momentum), Keras 3 form."""

from __future__ import annotations

from typing import Any

from .. import _C
from .base import LearningRate, Optimizer, check_float


class Nadam(Optimizer):
    """Nadam (Keras 3 update rule, Dozat 2015), with t = iterations + 1::

        u_k = beta_1 * (1 - 0.5 * 0.96^k),   P_t = u_1 * ... * u_t
        m += (g - m) * (1 - beta_1)
        v += (g^2 - v) * (1 - beta_2)
        m_hat = u_{t+1} * m / (1 - P_t * u_{t+1}) + (1 - u_t) * g / (1 - P_t)
        v_hat = v / (1 - beta_2^t)
        w -= learning_rate * m_hat / (sqrt(v_hat) + epsilon)

    The same as torch.optim.NAdam with momentum_decay=1.0 (torch's default 0.004 uses
    0.96^(0.004 k) instead of 0.96^k). The product P_t is a function of the iteration count,
    so the saved state is the iteration count and the slots, as for Adam.

    Args:
        learning_rate: float >= 0 or a schedule. Defaults to 0.001.
        beta_1: float in [0, 1). Defaults to 0.9.
        beta_2: float in [0, 1). Defaults to 0.999.
        epsilon: float >= 0. Defaults to 1e-7.
        **kwargs: the common arguments of ``Optimizer``.

    Example::

        opt = fastnn.optimizers.Nadam(learning_rate=1e-3)
        opt.apply_gradients([(w.grad, w)])
    """

    _DEFAULT_NAME = "nadam"

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
        self._prod = (0, 1.0)  # (k, P_k)
        self._coef = (None, None)  # (iterations, (cm, cg, cv))

    def _slot_specs(self):
        return [("momentum", 0.0), ("velocity", 0.0)]

    def _u(self, k: int) -> float:
        return self.beta_1 * (1.0 - 0.5 * 0.96**k)

    def _coefficients(self) -> tuple[float, float, float]:
        it, coef = self._coef
        if it == self._iterations:
            return coef
        t = self._iterations + 1
        k, prod = self._prod
        if k > t:
            k, prod = 0, 1.0
        while k < t:
            k += 1
            prod *= self._u(k)
        self._prod = (k, prod)
        u_t, u_next = self._u(t), self._u(t + 1)
        coef = (u_next / (1.0 - prod * u_next), (1.0 - u_t) / (1.0 - prod), 1.0 / (1.0 - self.beta_2**t))
        self._coef = (self._iterations, coef)
        return coef

    def update_step(self, gradient, variable, learning_rate, grad_scale=1.0, clip_value=float("inf"), decay=0.0):
        s = self._slots_of(variable)
        cm, cg, cv = self._coefficients()
        self._run_kernel(
            _C.nadam_update,
            _C.nadam_update_sparse,
            variable._data,
            s["momentum"],
            s["velocity"],
            gradient,
            learning_rate,
            self.beta_1,
            self.beta_2,
            self.epsilon,
            cm,
            cg,
            cv,
            grad_scale,
            clip_value,
            decay,
        )

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(beta_1=self.beta_1, beta_2=self.beta_2, epsilon=self.epsilon)
        return config
