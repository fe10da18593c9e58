"""The torch oracle: run the same seeded inputs through fastnn and torch and compare.

Every op test goes through `check_op`, which asserts shape and dtype before values, then
drives backward with a random upstream gradient (so that a transposed gradient cannot hide
behind a gradient of ones) and compares the input gradients. Tolerances live in TOL below and
nowhere else. The largest errors seen per op are collected in ERRORS and printed at the end
of the run (tests/conftest.py).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from typing import Callable

import fastnn
import numpy as np
import torch

torch.set_default_dtype(torch.float32)

# ---------------------------------------------------------------------------- tolerances
# fp32 elementwise: torch's own defaults for float32 (torch.testing.assert_close).
ELEMENTWISE = dict(rtol=1.3e-6, atol=1e-5)


def reduction_tol(n: int) -> dict:
    """A sum of n fp32 terms: rounding grows with log2(n) relative, sqrt(n) absolute."""
    n = max(int(n), 1)
    return dict(rtol=1.3e-6 * max(1.0, math.log2(n + 1)), atol=1e-5 * max(1.0, math.sqrt(n) / 4))


TOL = {
    "elementwise": ELEMENTWISE,
    # exp/log/tanh/erf of fastnn's vectorised math against torch's: a few ulp apart.
    "transcendental": dict(rtol=4e-6, atol=1e-5),
    "reduction": reduction_tol,  # call with the reduction length
    "gemm": reduction_tol,  # call with K
    "exact": dict(rtol=0.0, atol=0.0),
    # 50-step optimizer trajectories in fp32 against torch or a float64 reference: each step adds
    # a few ulp of rounding to the variable and its slots.
    "optimizer": dict(rtol=1e-5, atol=1e-5),
    # float64 learning rate schedules against a NumPy transcription or torch's schedulers: the
    # same closed forms a few ulp apart; torch's recursive (chainable) updates add ~1 ulp a step.
    "schedule": dict(rtol=1e-10, atol=1e-14),
    # a few epochs of fp32 mini-batch training (fastnn.sklearn) against scikit-learn's float64
    # MLP from the same initial weights and shuffles: the rounding compounds through every step.
    "sklearn_trajectory": dict(rtol=2e-4, atol=1e-6),
}

def auc_bucket_tol(y_true, scores, thresholds) -> dict:
    """AUC from counts at fixed thresholds against the exact (sorted-scores) ROC AUC: within each
    interval between thresholds the curve is a straight segment, which scores every
    (positive, negative) pair in that interval as a half; the AUC can thus differ by at most
    sum_b pos_b * neg_b / (2 * P * N) over the intervals b (plus fp64 rounding)."""
    y = np.asarray(y_true).ravel() != 0
    b = np.searchsorted(np.asarray(thresholds, np.float32), np.asarray(scores, np.float32).ravel(), side="left")
    pos = np.bincount(b[y], minlength=len(thresholds) + 1).astype(np.float64)
    neg = np.bincount(b[~y], minlength=len(thresholds) + 1).astype(np.float64)
    return dict(rtol=0.0, atol=float(np.sum(pos * neg)) / (2.0 * y.sum() * (~y).sum()) + 1e-12)


TOL["auc_bucketed"] = auc_bucket_tol
# Metrics reported in float64 from float32 predictions against scikit-learn on the same float64
# labels: the same sums in a different order, a few ulp of float64.
# Recurrent layers against torch or a float64 step loop: each of T steps adds fp32 rounding of a
# gate sum over features + units and feeds it back through the state.
TOL["rnn"] = dict(rtol=5e-5, atol=5e-5)
TOL["metric_fp64"] = dict(rtol=1e-12, atol=1e-12)
# Image resampling (affine_transform, resize) in fp32 against a float64 reference or torch's
# interpolate: four fp32 products of values in [0, 1] with weights rounded to fp32.
TOL["resample"] = dict(rtol=1e-5, atol=2e-6)
# Attention layers against torch: projections, two GEMMs and a softmax chained (and their
# backward through all of them), each stage adding fp32 rounding: 4x a reduction of length n.
TOL["attention"] = lambda n: {k: 4 * v for k, v in reduction_tol(n).items()}
# A seq2seq decoder run one step at a time against the same weights run over the whole target
# sequence (teacher forcing): the same fp32 sums, grouped differently by the fused kernels.
TOL["seq2seq_step"] = dict(rtol=2e-5, atol=2e-6)

# Sample statistics of n random draws from a distribution of standard deviation sigma: 6
# standard errors, sigma / sqrt(n) for the mean and sigma * sqrt((kurtosis - 1) / (4 n)) for the
# standard deviation, with kurtosis <= 3 for the normal, truncated normal and uniform draws.
TOL["sample_mean"] = lambda sigma, n: dict(rtol=0.0, atol=6.0 * sigma / math.sqrt(n))
TOL["sample_std"] = lambda sigma, n: dict(rtol=0.0, atol=6.0 * sigma * math.sqrt(0.5 / n))

# Bilinear resizing: four weighted terms whose products torch associates differently (a few ulp).
TOL["resize"] = dict(rtol=1e-5, atol=1e-6)
# Moving statistics after fit(): the batch mean / variance are rounded once from double here and
# from NumPy's float64 there, then both follow the same float32 update (an ulp or two apart).
TOL["moving_stats"] = dict(rtol=2e-6, atol=1e-7)
# Ten fp32 training steps of a CNN (conv im2col GEMMs, pooling, dense, softmax cross-entropy and
# the optimizer) against torch from the same weights: the 1e-4 relative bound. The
# absolute floor: Adam and RMSprop divide by the root of the gradient's square, so a gradient
# near zero turns its rounding into up to a whole step (lr 1e-3); 1e-5 is 1e-3 of ten such steps.
TOL["cnn_training"] = dict(rtol=1e-4, atol=1e-5)

# op name -> [max abs error, max relative error] over every check of the run
ERRORS: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0])


def _record(name: str, kind: str, got: np.ndarray, want: np.ndarray) -> None:
    if got.size == 0:
        return
    g, w = got.astype(np.float64), want.astype(np.float64)
    fin = np.isfinite(w) & np.isfinite(g)
    if not fin.any():
        return
    diff = np.abs(g[fin] - w[fin])
    # Relative error only where it means something: values well above the absolute tolerance.
    big = np.abs(w[fin]) > 1e-4
    rel = diff[big] / np.abs(w[fin][big])
    e = ERRORS[f"{name} ({kind})"]
    e[0] = max(e[0], float(diff.max()))
    e[1] = max(e[1], float(rel.max()) if rel.size else 0.0)


def assert_close(got, want, name: str = "op", kind: str = "forward", rtol: float = 1.3e-6, atol: float = 1e-5):
    got = np.asarray(got)
    want = np.asarray(want)
    assert got.shape == want.shape, f"{name} {kind}: shape {got.shape} != torch {want.shape}"
    _record(name, kind, got, want)
    np.testing.assert_allclose(got, want, rtol=rtol, atol=atol, err_msg=f"{name} {kind}", equal_nan=True)


def to_torch(a: np.ndarray, requires_grad: bool = False) -> torch.Tensor:
    t = torch.from_numpy(np.array(a, copy=True))
    if requires_grad:
        t.requires_grad_(True)
    return t


_DTYPE = {np.dtype("float32"): torch.float32, np.dtype("int64"): torch.int64}


def check_op(
    fn: Callable,
    torch_fn: Callable,
    inputs: Sequence[np.ndarray],
    name: str = "op",
    tol: dict | None = None,
    grad_tol: dict | None = None,
    grad: bool | Sequence[bool] = True,
    seed: int = 0,
    device: str = "cpu",
):
    """Compare fn(*fastnn tensors) with torch_fn(*torch tensors), forward and backward.

    Args:
        inputs: NumPy arrays; float32 ones get requires_grad when `grad` says so.
        grad: True (every float input), False, or one flag per input.
        tol / grad_tol: rtol/atol dicts (default TOL["elementwise"]; grad_tol defaults to tol).
    Returns the fastnn output tensor.
    """
    tol = tol or TOL["elementwise"]
    grad_tol = grad_tol or tol
    flags = [grad] * len(inputs) if isinstance(grad, bool) else list(grad)
    flags = [f and np.asarray(a).dtype == np.float32 for f, a in zip(flags, inputs)]
    xs = [fastnn.tensor(np.array(a, copy=True), device=device) for a in inputs]
    for x, f in zip(xs, flags):
        if f:
            x.requires_grad = True
    ts = [to_torch(a, f) for a, f in zip(inputs, flags)]
    out = fn(*xs)
    ref = torch_fn(*ts)
    assert out.shape == tuple(ref.shape), f"{name}: shape {out.shape} != torch {tuple(ref.shape)}"
    assert _DTYPE[out.dtype] == ref.dtype, f"{name}: dtype {out.dtype} != torch {ref.dtype}"
    assert_close(out.numpy(), ref.detach().numpy(), name, "forward", **tol)
    if any(flags) and ref.requires_grad:
        rng = np.random.default_rng(seed + 1)
        g = rng.standard_normal(out.shape).astype(np.float32)
        out.backward(fastnn.tensor(g, device=device))
        ref.backward(torch.from_numpy(g))
        for i, (x, t, f) in enumerate(zip(xs, ts, flags)):
            if not f:
                continue
            assert x.grad is not None, f"{name}: no gradient for input {i}"
            want = t.grad if t.grad is not None else torch.zeros_like(t)
            assert_close(x.grad.numpy(), want.numpy(), name, f"grad[{i}]", **grad_tol)
    return out


def rand(*shape, low: float = -2.0, high: float = 2.0, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).uniform(low, high, size=shape).astype(np.float32)


def randn(*shape, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


# Odd sizes used across the op tests: 1, primes, sizes that are not multiples of 16.
ODD_SHAPES = [(1,), (7,), (17,), (3, 5), (13, 31), (2, 3, 7), (1, 65, 3), (1031,)]
