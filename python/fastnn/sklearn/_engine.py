"""The training engine under the MLP estimators: a multilayer perceptron on float32 NumPy arrays,
driven straight through fastnn's C++ kernels (``_C.sgemm_ex`` with the fused bias+activation
epilogue forward, ``_C.sgemm`` backward, the fused Adam/SGD updates), with every scratch buffer
allocated once per fit. No Tensor, no tape: one mini-batch step is about twenty kernel calls.

The arithmetic is scikit-learn's (sklearn/neural_network/_multilayer_perceptron.py and
_stochastic_optimizers.py): delta = output - y at the output (canonical link), gradients
(a^T delta + alpha W) / sum(sample_weight), the L2 term 0.5 * alpha * ||W||^2 / sum(sample_weight)
added to each batch loss, and the same Adam and (Nesterov) momentum updates.

This module does not import scikit-learn.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Optional

import numpy as np

from .. import _C
from .._raw import EPILOGUE as _CODES
from .._raw import UNARY

# sgemm_ex epilogue codes of scikit-learn's activation names
EPILOGUE = {"identity": _CODES["linear"], "relu": _CODES["relu"], "logistic": _CODES["sigmoid"],
            "tanh": _CODES["tanh"]}
# unary_backward ops; each derivative is read off the activation's output (relu: output > 0 iff input > 0)
_DERIVATIVE = {"relu": UNARY["relu"], "logistic": UNARY["sigmoid"], "tanh": UNARY["tanh"]}
_INF = math.inf


def as_f32(a: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(a, dtype=np.float32)


def forward(X: np.ndarray, coefs: Sequence[np.ndarray], intercepts: Sequence[np.ndarray], activation: str
            ) -> np.ndarray:
    """The output layer's pre-activation (logits, or the regression output before 'exp') for
    float32 X: every hidden layer is one fused GEMM + bias + activation."""
    one_row = X.shape[0] == 1
    # a single row would take the GEMM's GEMV path, whose summation order differs from the
    # blocked kernel's in the last bits; doubling it keeps each row's prediction independent of
    # the rows predicted with it
    a = np.concatenate([X, X]) if one_row else X
    last = len(coefs) - 1
    act = EPILOGUE[activation]
    for i, (W, b) in enumerate(zip(coefs, intercepts)):
        a = _C.dense(a, as_f32(W), as_f32(b), act if i < last else 0)
    return a[:1] if one_row else a


def output_activation(z: np.ndarray, out_activation: str) -> np.ndarray:
    """The output activation applied in float64 (probabilities that sum to 1 to double precision)."""
    z = z.astype(np.float64)
    if out_activation == "softmax":
        z -= z.max(axis=1, keepdims=True)
        np.exp(z, out=z)
        z /= z.sum(axis=1, keepdims=True)
    elif out_activation == "logistic":
        # expit without overflow warnings: 1 / (1 + exp(-z)) for z >= 0, exp(z) / (1 + exp(z)) else
        e = np.exp(-np.abs(z))
        z = np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))
    elif out_activation == "exp":
        np.exp(z, out=z)
    return z


class AdamState:
    """sklearn's AdamOptimizer: first and second moments per parameter, the step count t, and
    learning_rate (the bias-corrected step of the last update, as sklearn reports it)."""

    def __init__(self, params: Sequence[np.ndarray], learning_rate_init: float, beta_1: float, beta_2: float,
                 epsilon: float):
        self.learning_rate_init = float(learning_rate_init)
        self.learning_rate = float(learning_rate_init)
        self.beta_1, self.beta_2, self.epsilon = float(beta_1), float(beta_2), float(epsilon)
        self.t = 0
        self.ms = [np.zeros_like(p) for p in params]
        self.vs = [np.zeros_like(p) for p in params]

    def update(self, params: Sequence[np.ndarray], grads: Sequence[np.ndarray]) -> None:
        self.t += 1
        b1, b2, eps = self.beta_1, self.beta_2, self.epsilon
        lr = self.learning_rate_init * math.sqrt(1.0 - b2 ** self.t) / (1.0 - b1 ** self.t)
        self.learning_rate = lr
        upd = _C.adam_update
        for w, m, v, g in zip(params, self.ms, self.vs, grads):
            upd(w, m, v, None, g, lr, b1, b2, eps, 1.0, _INF, 0.0)

    def iteration_ends(self, time_step: int) -> None:
        pass

    def trigger_stopping(self, msg: str, verbose: bool) -> bool:
        if verbose:
            print(msg + " Stopping.")
        return True


class SGDState:
    """sklearn's SGDOptimizer: velocities, the learning-rate schedule (constant, invscaling,
    adaptive: divided by 5 when the loss stalls) and (Nesterov) momentum."""

    def __init__(self, params: Sequence[np.ndarray], learning_rate_init: float, lr_schedule: str, momentum: float,
                 nesterov: bool, power_t: float):
        self.learning_rate_init = float(learning_rate_init)
        self.learning_rate = float(learning_rate_init)
        self.lr_schedule = lr_schedule
        self.momentum = float(momentum)
        self.nesterov = bool(nesterov)
        self.power_t = float(power_t)
        self.velocities = [np.zeros_like(p) for p in params] if self.momentum > 0 else [None for _ in params]

    def update(self, params: Sequence[np.ndarray], grads: Sequence[np.ndarray]) -> None:
        lr, mom, nest = self.learning_rate, self.momentum, self.nesterov
        upd = _C.sgd_update
        for w, v, g in zip(params, self.velocities, grads):
            upd(w, v, g, lr, mom, nest, 1.0, _INF, 0.0)

    def iteration_ends(self, time_step: int) -> None:
        if self.lr_schedule == "invscaling":
            self.learning_rate = self.learning_rate_init / (time_step + 1) ** self.power_t

    def trigger_stopping(self, msg: str, verbose: bool) -> bool:
        if self.lr_schedule != "adaptive":
            if verbose:
                print(msg + " Stopping.")
            return True
        if self.learning_rate <= 1e-6:
            if verbose:
                print(msg + " Learning rate too small. Stopping.")
            return True
        self.learning_rate /= 5.0
        if verbose:
            print(msg + f" Setting learning rate to {self.learning_rate:f}")
        return False


class Trainer:
    """Scratch buffers and the mini-batch step for one network shape and batch size.

    ``step(Xb, Yb, sw)`` runs forward, the loss, backward and the optimizer update on one batch
    (Xb, Yb float32 C-contiguous, rows <= batch_size; sw the batch's sample weights or None)
    and returns the batch loss as sklearn computes it (data term + L2 term)."""

    def __init__(self, coefs: list[np.ndarray], intercepts: list[np.ndarray], activation: str, out_activation: str,
                 alpha: float, batch_size: int, optimizer):
        self.coefs, self.intercepts = coefs, intercepts
        self.params = coefs + intercepts
        self.activation, self.out_activation = activation, out_activation
        self.alpha = float(alpha)
        self.opt = optimizer
        units = [coefs[0].shape[0]] + [W.shape[1] for W in coefs]
        self.units = units
        n = batch_size
        # acts[i + 1] is the output of layer i; deltas[i] the gradient at layer i's pre-activation
        self.acts = [None] + [np.empty((n, u), np.float32) for u in units[1:]]
        self.deltas = [np.empty((n, u), np.float32) for u in units[1:]]
        self.coef_grads = [np.empty_like(W) for W in coefs]
        self.intercept_grads = [np.empty_like(b) for b in intercepts]
        self.grads = self.coef_grads + self.intercept_grads
        self.ones = np.ones(n, np.float32)
        self.ones_out = np.ones(units[-1], np.float32)
        self.scratch = np.empty((n, units[-1]), np.float32)
        # a narrow layer (fan_out < fan_in, e.g. 256 -> 10) has its weight gradient computed
        # transposed, d^T a (fan_out x fan_in), then copied back: the GEMM is far faster with
        # the long side as its N
        self.coef_grads_t = [np.empty((W.shape[1], W.shape[0]), np.float32) if W.shape[1] < W.shape[0] else None
                             for W in coefs]
        self.hidden_code = EPILOGUE[activation]
        self.derivative = _DERIVATIVE.get(activation)

    def _softmax_loss(self, z: np.ndarray, Yb: np.ndarray, sw: Optional[np.ndarray], sw_sum: float) -> float:
        """Softmax in place on the logits z (n, k) and the log loss -sum(log p_y) (weighted) / sw_sum.

        The shift before exp is the batch's largest logit, one fast reduction instead of a
        per-row max over rows of ten values (NumPy is slow along a short axis); should a row
        then underflow (all its logits more than ~87 below the batch maximum), the batch is
        redone with per-row maxima."""
        n = z.shape[0]
        t = self.scratch[:n]
        np.subtract(z, z.max(), out=t)
        zy = float(np.vdot(t, Yb)) if sw is None else None
        zyv = None if sw is None else np.einsum("ij,ij->i", t, Yb)
        np.exp(t, out=t)
        srow = np.dot(t, self.ones_out)
        if srow.min() < 1e-30:
            np.subtract(z, z.max(axis=1, keepdims=True), out=t)
            zy = float(np.vdot(t, Yb)) if sw is None else None
            zyv = None if sw is None else np.einsum("ij,ij->i", t, Yb)
            np.exp(t, out=t)
            srow = np.dot(t, self.ones_out)
        np.divide(t, srow.reshape(-1, 1), out=z)
        # -log p_y = log(sum_j exp(t_j)) - t_y, with t the shifted logits and Y one-hot
        if sw is None:
            return (float(np.log(srow).sum()) - zy) / n
        return float(np.dot(np.log(srow) - zyv, sw)) / sw_sum

    def _output_loss(self, z: np.ndarray, Yb: np.ndarray, sw: Optional[np.ndarray], sw_sum: float) -> float:
        """The output activation in place on the last layer's pre-activation z, and the batch's
        data loss as sklearn defines it (weighted mean over samples)."""
        oa = self.out_activation
        if oa == "softmax":
            return self._softmax_loss(z, Yb, sw, sw_sum)
        if oa == "logistic":
            np.negative(z, out=z)
            np.exp(z, out=z)
            z += 1.0
            np.reciprocal(z, out=z)
            # kernel: mean over outputs of the clipped binary cross-entropy; sklearn sums over outputs
            per = _C.loss_forward("bce", z, Yb, 1e-7) * float(z.shape[1])
        elif oa == "identity":
            diff = z - Yb
            per = 0.5 * np.einsum("ij,ij->i", diff, diff) / z.shape[1]  # sklearn: half the mean square
        else:  # exp: half Poisson deviance, sklearn's xlogy(y, y / p) - y + p summed over outputs
            np.exp(z, out=z)
            yd, pd = Yb.astype(np.float64), z.astype(np.float64)
            with np.errstate(divide="ignore", invalid="ignore"):
                tt = np.where(yd > 0, yd * np.log(yd / pd), 0.0) - yd + pd
            per = tt.sum(axis=1)
        if sw is None:
            return float(per.sum()) / z.shape[0]
        return float(np.dot(per, sw)) / sw_sum

    def step(self, Xb: np.ndarray, Yb: np.ndarray, sw: Optional[np.ndarray] = None) -> float:
        sgemm, sgemm_ex = _C.sgemm, _C.sgemm_ex
        coefs, intercepts, units = self.coefs, self.intercepts, self.units
        n = Xb.shape[0]
        L = len(coefs)
        acts = [Xb] + [a[:n] for a in self.acts[1:]]
        hc = self.hidden_code
        for i in range(L):
            fi, fo = units[i], units[i + 1]
            sgemm_ex(False, False, n, fo, fi, 1.0, acts[i], fi, coefs[i], fo, 0.0, acts[i + 1], fo, intercepts[i],
                     hc if i < L - 1 else 0)
        out = acts[L]
        sw_sum = float(n) if sw is None else float(sw.sum())
        loss = self._output_loss(out, Yb, sw, sw_sum)
        alpha = self.alpha
        if alpha:
            sq = 0.0
            for W in coefs:
                sq += _C.sum_squares(W)
            loss += 0.5 * alpha * sq / sw_sum
        d = self.deltas[L - 1][:n]
        np.subtract(out, Yb, out=d)
        if sw is not None:
            d *= sw.reshape(-1, 1)
        inv = 1.0 / sw_sum
        ones = self.ones[:n]
        for i in range(L - 1, -1, -1):
            fi, fo = units[i], units[i + 1]
            gW, gWt = self.coef_grads[i], self.coef_grads_t[i]
            # gW = (a^T d + alpha W) / sw_sum; gb = (1^T d) / sw_sum
            if gWt is not None:
                sgemm(True, False, fo, fi, n, inv, d, fo, acts[i], fi, 0.0, gWt, fi)
                if alpha:
                    np.multiply(coefs[i], alpha * inv, out=gW)
                    gW += gWt.T
                else:
                    gW[...] = gWt.T
            else:
                if alpha:
                    np.multiply(coefs[i], alpha * inv, out=gW)
                sgemm(True, False, fi, fo, n, inv, acts[i], fi, d, fo, 1.0 if alpha else 0.0, gW, fo)
            sgemm(True, False, 1, fo, n, inv, ones, 1, d, fo, 0.0, self.intercept_grads[i], fo)
            if i > 0:
                dp = self.deltas[i - 1][:n]
                sgemm(False, True, n, fi, fo, 1.0, d, fo, coefs[i], fo, 0.0, dp, fi)
                if self.derivative is not None:
                    dp = _C.unary_backward(self.derivative, dp, acts[i], acts[i])
                d = dp
        self.opt.update(self.params, self.grads)
        return loss
