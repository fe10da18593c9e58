"""Adam, Keras 3 form (bias correction folded into the step size)."""

from __future__ import annotations

import math
from typing import Any

from .. import _C
from .base import LearningRate, Optimizer, check_float


class Adam(Optimizer):
    """Adam (Keras 3 update rule), with t = iterations + 1::

        m += (g - m) * (1 - beta_1)
        v += (g^2 - v) * (1 - beta_2)
        amsgrad:  vh = max(vh, v), used in place of v below
        alpha = learning_rate * sqrt(1 - beta_2^t) / (1 - beta_1^t)
        w -= alpha * m / (sqrt(v) + epsilon)

    torch.optim.Adam computes lr / (1 - beta_1^t) * m / (sqrt(v) / sqrt(1 - beta_2^t) + eps):
    the same for epsilon = 0; otherwise torch's epsilon is Keras's divided by sqrt(1 - beta_2^t).

    Args:
        learning_rate: float >= 0 or a schedule. Defaults to 0.001.
        beta_1: float in [0, 1), decay of the first moment. Defaults to 0.9.
        beta_2: float in [0, 1), decay of the second moment. Defaults to 0.999.
        epsilon: float >= 0. Defaults to 1e-7.
        amsgrad: use the AMSGrad variant (the running maximum of v). Defaults to False.
        **kwargs: the common arguments of ``Optimizer``.

    Example::

        opt = fastnn.optimizers.Adam(learning_rate=1e-3)
        opt.apply_gradients([(w.grad, w)])
    """

    _DEFAULT_NAME = "adam"

    def __init__(
        self,
        learning_rate: LearningRate = 0.001,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-7,
        amsgrad: bool = False,
        **kwargs: Any,
    ):
        super().__init__(learning_rate=learning_rate, **kwargs)
        self.beta_1 = check_float("beta_1", beta_1, 0.0, 1.0, hi_open=True)
        self.beta_2 = check_float("beta_2", beta_2, 0.0, 1.0, hi_open=True)
        self.epsilon = check_float("epsilon", epsilon, 0.0)
        self.amsgrad = bool(amsgrad)
        self._alpha_cache = (None, None, None)  # (iterations, lr, alpha)

    def _slot_specs(self):
        specs = [("momentum", 0.0), ("velocity", 0.0)]
        if self.amsgrad:
            specs.append(("velocity_hat", 0.0))
        return specs

    def _alpha(self, learning_rate: float) -> float:
        it, lr, alpha = self._alpha_cache
        if it != self._iterations or lr != learning_rate:
            t = self._iterations + 1
            alpha = learning_rate * math.sqrt(1.0 - self.beta_2**t) / (1.0 - self.beta_1**t)
            self._alpha_cache = (self._iterations, learning_rate, alpha)
        return alpha

    def update_step(self, gradient, variable, learning_rate, grad_scale=1.0, clip_value=float("inf"), decay=0.0):
        s = self._slots_of(variable)
        self._run_kernel(
            _C.adam_update,
            _C.adam_update_sparse,
            variable._data,
            s["momentum"],
            s["velocity"],
            s.get("velocity_hat"),
            gradient,
            self._alpha(learning_rate),
            self.beta_1,
            self.beta_2,
            self.epsilon,
            grad_scale,
            clip_value,
            decay,
        )

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(beta_1=self.beta_1, beta_2=self.beta_2, epsilon=self.epsilon, amsgrad=self.amsgrad)
        return config


class AdamW(Adam):
    """Adam with decoupled weight decay (Keras 3): before each Adam step,
    ``w -= w * weight_decay * learning_rate``; the decay never enters m or v. The same as
    torch.optim.AdamW (``w *= 1 - lr * weight_decay``) when epsilon coincides (see Adam).

    Args:
        learning_rate: float >= 0 or a schedule. Defaults to 0.001.
        weight_decay: float >= 0 (required). Defaults to 0.004.
        beta_1, beta_2, epsilon, amsgrad: as in ``Adam``.
        **kwargs: the common arguments of ``Optimizer``.

    Example::

        opt = fastnn.optimizers.AdamW(learning_rate=1e-3, weight_decay=0.01)
        opt.apply_gradients([(w.grad, w)])
    """

    _DEFAULT_NAME = "adamw"

    def __init__(
        self,
        learning_rate: LearningRate = 0.001,
        weight_decay: float = 0.004,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-7,
        amsgrad: bool = False,
        **kwargs: Any,
    ):
        if weight_decay is None:
            raise ValueError("AdamW: weight_decay must be a float, got weight_decay=None")
        super().__init__(
            learning_rate=learning_rate,
            beta_1=beta_1,
            beta_2=beta_2,
            epsilon=epsilon,
            amsgrad=amsgrad,
            weight_decay=weight_decay,
            **kwargs,
        )
