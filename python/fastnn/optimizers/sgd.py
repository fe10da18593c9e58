"""SGD with optional (Nesterov) momentum, Keras 3 form."""

from __future__ import annotations

from typing import Any

from .. import _C
from .base import LearningRate, Optimizer, check_float


class SGD(Optimizer):
    """Gradient descent with optional momentum (Keras 3 update rule)::

        momentum == 0:  w -= learning_rate * g
        otherwise:      v = momentum * v - learning_rate * g
                        w += v                                   (nesterov: w += momentum * v - learning_rate * g)

    torch.optim.SGD keeps b = momentum * b + g and steps w -= lr * b: with a constant learning
    rate the two coincide (v = -lr * b); with a changing one they differ.

    Args:
        learning_rate: float >= 0 or a schedule. Defaults to 0.01.
        momentum: float in [0, 1]. Defaults to 0.0.
        nesterov: use Nesterov momentum. Defaults to False.
        **kwargs: the common arguments of ``Optimizer`` (weight_decay, clipnorm, clipvalue,
            global_clipnorm, name, and the Keras 2 ``lr`` and ``decay``).

    Example::

        opt = fastnn.optimizers.SGD(learning_rate=0.1, momentum=0.9)
        opt.apply_gradients([(w.grad, w)])
    """

    _DEFAULT_NAME = "SGD"
    _DEFAULT_LR = 0.01

    def __init__(
        self, learning_rate: LearningRate = 0.01, momentum: float = 0.0, nesterov: bool = False, **kwargs: Any
    ):
        super().__init__(learning_rate=learning_rate, **kwargs)
        self.momentum = check_float("momentum", momentum, 0.0, 1.0)
        self.nesterov = bool(nesterov)

    def _slot_specs(self):
        return [("momentum", 0.0)] if self.momentum != 0 else []

    def update_step(self, gradient, variable, learning_rate, grad_scale=1.0, clip_value=float("inf"), decay=0.0):
        slots = self._slots_of(variable)
        self._run_kernel(
            _C.sgd_update,
            _C.sgd_update_sparse,
            variable._data,
            slots.get("momentum"),
            gradient,
            learning_rate,
            self.momentum,
            self.nesterov,
            grad_scale,
            clip_value,
            decay,
        )

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(momentum=self.momentum, nesterov=self.nesterov)
        return config
