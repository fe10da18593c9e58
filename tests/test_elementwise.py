"""Elementwise arithmetic and math against torch: forward and backward over odd shapes,
broadcasting, empty tensors, large values, NaN, bad input, thread-count independence, and the
accuracy of the vectorised math (csrc/cpu/vec_math.h) against float64."""

import math

import fastnn
import fastnn.functional as F
import numpy as np
import pytest
import torch
from fastnn import _C
from oracle import ODD_SHAPES, TOL, check_op, rand, randn

EW = TOL["elementwise"]
TR = TOL["transcendental"]


def _away_from_zero(shape, seed=0, low=0.5, high=2.0):
    a = rand(*shape, low=low, high=high, seed=seed)
    sign = np.where(np.random.default_rng(seed + 7).random(shape) < 0.5, -1.0, 1.0).astype(np.float32)
    return a * sign


# ---------------------------------------------------------------------------- unary math
UNARY = [
    ("neg", F.neg, torch.neg, lambda s: randn(*s), EW),
    ("abs", F.abs, torch.abs, lambda s: _away_from_zero(s), EW),
    ("exp", F.exp, torch.exp, lambda s: rand(*s, low=-10, high=10), TR),
    ("log", F.log, torch.log, lambda s: rand(*s, low=1e-3, high=100.0), TR),
    ("sqrt", F.sqrt, torch.sqrt, lambda s: rand(*s, low=1e-2, high=100.0), EW),
    ("square", F.square, torch.square, lambda s: randn(*s), EW),
]


@pytest.mark.parametrize("shape", ODD_SHAPES)
@pytest.mark.parametrize("name,fn,tfn,gen,tol", UNARY, ids=[u[0] for u in UNARY])
def test_unary(name, fn, tfn, gen, tol, shape):
    check_op(fn, tfn, [gen(shape)], name=name, tol=tol)


def test_unary_aliases_and_methods():
    x = randn(4, 5)
    t = fastnn.tensor(x)
    np.testing.assert_array_equal(F.negative(t).numpy(), -x)
    np.testing.assert_array_equal((-t).numpy(), -x)
    np.testing.assert_array_equal(abs(t).numpy(), np.abs(x))
    np.testing.assert_array_equal(t.square().numpy(), x * x)
    np.testing.assert_array_equal(F.neg([1.0, -2.0]).numpy(), np.array([-1.0, 2.0], np.float32))


def test_abs_gradient_at_zero():
    x = np.array([-1.0, 0.0, 2.0], np.float32)
    check_op(F.abs, torch.abs, [x], name="abs")


def test_unary_special_values():
    x = np.array([0.0, -0.0, -1.0, np.inf, -np.inf, np.nan, 1e-45, 100.0, -100.0, 88.8, -104.0], np.float32)
    for fn, tfn in [(F.exp, torch.exp), (F.log, torch.log), (F.sqrt, torch.sqrt), (F.abs, torch.abs),
                    (F.neg, torch.neg), (F.square, torch.square)]:
        got = fn(fastnn.tensor(x)).numpy()
        want = tfn(torch.from_numpy(x)).numpy()
        np.testing.assert_allclose(got, want, rtol=TR["rtol"], atol=0, equal_nan=True, err_msg=fn.__name__)
    assert F.exp(fastnn.tensor([100.0])).item() == math.inf
    assert F.exp(fastnn.tensor([-1e4])).item() == 0.0


# ---------------------------------------------------------------------------- binary ops
def _binary_inputs(name, sa, sb, seed=0):
    if name == "div":
        return randn(*sa, seed=seed), _away_from_zero(sb, seed=seed + 1)
    if name == "pow":
        return rand(*sa, low=0.1, high=3.0, seed=seed), rand(*sb, low=-2.0, high=2.0, seed=seed + 1)
    return randn(*sa, seed=seed), randn(*sb, seed=seed + 1)


BINARY = [
    ("add", F.add, torch.add, EW),
    ("sub", F.sub, torch.sub, EW),
    ("mul", F.mul, torch.mul, EW),
    ("div", F.div, torch.div, EW),
    ("pow", F.pow, torch.pow, TR),
    ("maximum", F.maximum, torch.maximum, EW),
    ("minimum", F.minimum, torch.minimum, EW),
]
BIN_IDS = [b[0] for b in BINARY]


@pytest.mark.parametrize("shape", ODD_SHAPES)
@pytest.mark.parametrize("name,fn,tfn,tol", BINARY, ids=BIN_IDS)
def test_binary_same_shape(name, fn, tfn, tol, shape):
    check_op(fn, tfn, list(_binary_inputs(name, shape, shape)), name=name, tol=tol)


BROADCASTS = [
    ((3, 1), (1, 4)),
    ((2, 3, 4), (4,)),
    ((4,), (2, 3, 4)),
    ((37, 19), (19,)),  # row broadcast, (N, C) + (C,)
    ((37, 19), (37, 1)),  # column broadcast
    ((5, 1, 7), (1, 3, 1)),
    ((2, 1, 3, 1), (4, 1, 5)),
    ((3, 4), ()),  # tensor and 0-d
    ((), (3, 4)),
    ((1,), (6, 5)),
    ((), ()),
]


@pytest.mark.parametrize("sa,sb", BROADCASTS, ids=[f"{a}-{b}" for a, b in BROADCASTS])
@pytest.mark.parametrize("name,fn,tfn,tol", BINARY, ids=BIN_IDS)
def test_binary_broadcast(name, fn, tfn, tol, sa, sb):
    a, b = _binary_inputs(name, sa, sb, seed=3)
    grad_tol = TOL["reduction"](max(a.size, b.size) * 2)  # gradients are summed over broadcast dims
    check_op(fn, tfn, [a, b], name=f"{name} broadcast", tol=tol, grad_tol=dict(
        rtol=max(grad_tol["rtol"], tol["rtol"]), atol=max(grad_tol["atol"], tol["atol"])))


@pytest.mark.parametrize("name,fn,tfn,tol", BINARY, ids=BIN_IDS)
def test_binary_one_side_grad(name, fn, tfn, tol):
    a, b = _binary_inputs(name, (6, 5), (5,), seed=5)
    check_op(fn, tfn, [a, b], name=name, tol=tol, grad=[True, False])
    check_op(fn, tfn, [a, b], name=name, tol=tol, grad=[False, True])


@pytest.mark.parametrize("scalar", [2.0, -0.5, 3])
@pytest.mark.parametrize("name,fn,tfn,tol", BINARY, ids=BIN_IDS)
def test_binary_python_scalar(name, fn, tfn, tol, scalar):
    x = rand(4, 7, low=0.5, high=2.0)
    ts = torch.tensor(scalar, dtype=torch.float32)
    check_op(lambda t: fn(t, scalar), lambda t: tfn(t, ts), [x], name=f"{name} scalar", tol=tol)
    if name == "pow" and scalar < 0:
        return  # (-0.5) ** x is NaN for both, nothing to compare
    check_op(lambda t: fn(scalar, t), lambda t: tfn(ts, t), [x],
             name=f"{name} rscalar", tol=tol)


def test_operators_and_conversions():
    x = randn(3, 4)
    t = fastnn.tensor(x)
    np.testing.assert_allclose((t + 1).numpy(), x + 1)
    np.testing.assert_allclose((1 - t).numpy(), 1 - x)
    np.testing.assert_allclose((2 * t).numpy(), 2 * x)
    np.testing.assert_allclose((1 / t).numpy(), 1 / x, rtol=EW["rtol"])
    np.testing.assert_allclose((t ** 2).numpy(), x * x, rtol=EW["rtol"])
    row = np.arange(4, dtype=np.float32)
    np.testing.assert_allclose((t + row).numpy(), x + row)
    np.testing.assert_allclose((row + t).numpy(), x + row)  # NumPy array on the left
    np.testing.assert_allclose(F.add(t, [1.0, 2.0, 3.0, 4.0]).numpy(), x + np.array([1, 2, 3, 4], np.float32))
    np.testing.assert_allclose(F.mul(t, np.float64(0.5)).numpy(), x * np.float32(0.5))
    out = F.add(2.0, 3.0)
    assert out.shape == () and out.dtype == np.float32 and out.item() == 5.0
    assert F.divide is F.div and F.true_divide is F.div and F.power is F.pow


def test_int64_arithmetic():
    i = fastnn.arange(5)
    assert i.dtype == np.int64
    out = i * 2 + 1
    assert out.dtype == np.int64
    np.testing.assert_array_equal(out.numpy(), np.arange(5) * 2 + 1)
    f = i * 1.5  # promoted, as torch
    assert f.dtype == np.float32
    np.testing.assert_allclose(f.numpy(), np.arange(5) * 1.5)
    np.testing.assert_allclose((i / 2).numpy(), np.arange(5) / 2)


def test_pow_special_cases():
    # torch's conventions: d/db is 0 where a == 0 and b >= 0; d/da is 0 where b == 0.
    a = np.array([0.0, 0.0, 2.0, 0.5, 3.0, 1.0], np.float32)
    b = np.array([0.0, 2.5, 0.0, -1.0, 2.0, 3.0], np.float32)
    check_op(F.pow, torch.pow, [a, b], name="pow", tol=TR)
    for e in [2.0, 3.0, 0.5, -1.0, 0.0, 1.0]:
        x = rand(17, low=0.1, high=3.0)
        check_op(lambda t, e=e: t ** e, lambda t, e=e: t ** e, [x], name="pow scalar", tol=TR)
    x = np.array([-2.0, -0.0, 0.0, 2.0, np.inf, -np.inf, np.nan], np.float32)
    check_op(lambda t: t ** 2.0, lambda t: t ** 2.0, [x], name="pow 2", grad=False)


def test_div_by_zero():
    a = np.array([1.0, -1.0, 0.0, 2.0], np.float32)
    b = np.array([0.0, 0.0, 0.0, -0.0], np.float32)
    check_op(F.div, torch.div, [a, b], name="div", grad=False)


def test_maximum_minimum_ties_and_nan():
    a = np.array([1.0, 2.0, 3.0, np.nan, 5.0, -1.0], np.float32)
    b = np.array([1.0, 1.0, 4.0, 0.0, np.nan, -1.0], np.float32)
    check_op(F.maximum, torch.maximum, [a, b], name="maximum")
    check_op(F.minimum, torch.minimum, [a, b], name="minimum")


@pytest.mark.parametrize("name,fn,tfn,tol", BINARY, ids=BIN_IDS)
def test_binary_nan_propagation(name, fn, tfn, tol):
    a = np.array([np.nan, 1.5, np.nan, 2.0], np.float32)  # (pow(1, nan) is 1 in IEEE)
    b = np.array([1.5, np.nan, np.nan, 0.5], np.float32)
    got = fn(fastnn.tensor(a), fastnn.tensor(b)).numpy()
    assert np.isnan(got[:3]).all(), (name, got)
    want = tfn(torch.from_numpy(a), torch.from_numpy(b)).numpy()
    np.testing.assert_allclose(got, want, equal_nan=True, **tol)


def test_large_values():
    x = np.array([1e30, -1e30, 3e38, -3e38], np.float32)
    for name, fn, tfn, _ in BINARY[:4]:
        check_op(fn, tfn, [x, x[::-1].copy()], name=f"{name} large", grad=False)


# ---------------------------------------------------------------------------- empty tensors
@pytest.mark.parametrize("shape", [(0,), (3, 0), (0, 4, 2)])
def test_empty(shape):
    x = np.zeros(shape, np.float32)
    check_op(F.exp, torch.exp, [x], name="exp empty")
    check_op(F.mul, torch.mul, [x, x], name="mul empty")
    row = np.ones(shape[-1:], np.float32)
    check_op(F.add, torch.add, [x, row], name="add empty broadcast")
    check_op(lambda t: F.clip(t, -1.0, 1.0), lambda t: torch.clamp(t, -1.0, 1.0), [x], name="clip empty")


# ---------------------------------------------------------------------------- where, clip
WHERES = [((5, 7), (5, 7), (5, 7)), ((5, 1), (1, 7), (5, 7)), ((5, 7), (7,), ()), ((3, 1, 4), (2, 1), (4,))]


@pytest.mark.parametrize("sc,sa,sb", WHERES, ids=[str(w) for w in WHERES])
def test_where(sc, sa, sb):
    c = (randn(*sc, seed=1) > 0).astype(np.float32)
    a, b = randn(*sa, seed=2), randn(*sb, seed=3)
    check_op(lambda c_, a_, b_: F.where(c_, a_, b_), lambda c_, a_, b_: torch.where(c_ != 0, a_, b_),
             [c, a, b], name="where", grad=[False, True, True])


def test_where_conditions():
    x = randn(4, 6)
    t = fastnn.tensor(x, requires_grad=True)
    y = F.where(t > 0, t, 0.1 * t)
    np.testing.assert_allclose(y.numpy(), np.where(x > 0, x, np.float32(0.1) * x), rtol=EW["rtol"])
    y.backward(np.ones_like(x))
    np.testing.assert_allclose(t.grad.numpy(), np.where(x > 0, 1.0, 0.1).astype(np.float32), rtol=1e-6)
    np.testing.assert_array_equal(F.where(x > 0, 1.0, 0.0).numpy(), (x > 0).astype(np.float32))
    np.testing.assert_array_equal(F.where(fastnn.arange(3), 1.0, -1.0).numpy(), [-1.0, 1.0, 1.0])
    with pytest.raises(ValueError, match=r"\(4, 6\).*\(5,\)"):
        F.where(x > 0, t, np.zeros(5, np.float32))


@pytest.mark.parametrize("lo,hi", [(-0.5, 0.5), (None, 0.3), (-0.3, None), (1.0, -1.0)])
def test_clip(lo, hi):
    x = randn(13, 31)
    x[0, :4] = [-0.5, 0.5, -0.3, 0.3]  # exactly at the bounds: gradient 1 (inclusive), as torch
    check_op(lambda t: F.clip(t, lo, hi), lambda t: torch.clamp(t, lo, hi), [x], name="clip")
    check_op(lambda t: t.clip(lo, hi), lambda t: torch.clamp(t, lo, hi), [x], name="clip")


def test_clip_tensor_bounds_and_errors():
    x, lo, hi = randn(6, 5, seed=1), randn(6, 5, seed=2) - 1, randn(5, seed=3) + 1
    check_op(lambda t, a, b: F.clip(t, a, b), lambda t, a, b: torch.minimum(torch.maximum(t, a), b),
             [x, lo, hi], name="clip tensors")
    with pytest.raises(ValueError, match="min and max"):
        F.clip(fastnn.tensor(x))
    y = F.clip(fastnn.tensor(np.array([np.nan, 5.0], np.float32)), 0.0, 1.0).numpy()
    assert np.isnan(y[0]) and y[1] == 1.0


# ---------------------------------------------------------------------------- bad input
def test_mismatched_shapes():
    with pytest.raises(ValueError, match=r"\(2, 3\) and \(4,\)"):
        F.add(fastnn.ones(2, 3), fastnn.ones(4))
    with pytest.raises(ValueError, match=r"\(5, 2\) and \(3, 2\)"):
        fastnn.ones(5, 2) * fastnn.ones(3, 2)
    with pytest.raises(ValueError, match=r"\(2, 3\).*\(3, 2\)"):
        _C.binary_backward(0, np.ones((2, 3), np.float32), np.ones((2, 3), np.float32),
                           np.ones((3, 2), np.float32), None, True, True)


def test_wrong_dtype():
    i = fastnn.arange(4)
    with pytest.raises(TypeError, match="exp: expected a float32 tensor, got int64"):
        F.exp(i)
    with pytest.raises(TypeError, match="float32"):
        _C.binary_forward(0, np.ones(3, np.int64), np.ones(3, np.float32))
    with pytest.raises(TypeError):
        F.add(fastnn.ones(2), "abc")
    with pytest.raises(ValueError, match="unknown unary op"):
        _C.unary_forward(99, np.ones(3, np.float32), 0.0, 0.0)
    with pytest.raises(ValueError, match="needs the forward output"):
        _C.unary_backward(fastnn._raw.UNARY["exp"], np.ones(3, np.float32), None, None, 0.0, 0.0)
    with pytest.raises(ValueError, match=r"\(4,\).*\(3,\)"):
        _C.unary_backward(fastnn._raw.UNARY["log"], np.ones(3, np.float32), np.ones(4, np.float32), None,
                          0.0, 0.0)


def test_raw_add_for_gradient_accumulation():
    a, b = randn(7, 3, seed=1), randn(7, 3, seed=2)
    np.testing.assert_array_equal(fastnn._raw.add(a, b), a + b)
    x = fastnn.tensor(randn(7, 3), requires_grad=True)
    y = x * 2 + x * 3  # x used twice: the engine adds the two gradients with _raw.add
    y.backward(np.ones((7, 3), np.float32))
    np.testing.assert_allclose(x.grad.numpy(), np.full((7, 3), 5.0, np.float32))


# ---------------------------------------------------------------------------- threads
def _run_threads(fn, *arrays):
    outs = []
    for n in (1, 2):
        fastnn.set_num_threads(n)
        outs.append(fn(*[fastnn.tensor(a.copy()) for a in arrays]).numpy().copy())
    return outs


def test_threads_bit_identical():
    n = 1_000_003
    x, y = randn(n, seed=1) * 4, randn(n, seed=2)
    for fn in [F.exp, F.log, F.sqrt, lambda t: F.pow(t, 1.7)]:
        o1, o2 = _run_threads(lambda t, fn=fn: fn(F.abs(t)), x)
        np.testing.assert_array_equal(o1, o2)
    for fn in [F.add, F.mul, F.div, F.maximum]:
        o1, o2 = _run_threads(fn, x, y)
        np.testing.assert_array_equal(o1, o2)
    m, r = randn(1009, 991, seed=3), randn(991, seed=4)  # row broadcast, rows split between threads
    o1, o2 = _run_threads(F.mul, m, r)
    np.testing.assert_array_equal(o1, o2)

    def grads(nt):
        fastnn.set_num_threads(nt)
        a, b = fastnn.tensor(x.copy(), requires_grad=True), fastnn.tensor(y.copy(), requires_grad=True)
        F.div(a, b).backward(np.ones(n, np.float32))
        return a.grad.numpy().copy(), b.grad.numpy().copy()

    for g1, g2 in zip(grads(1), grads(2)):
        np.testing.assert_array_equal(g1, g2)


# ---------------------------------------------------------------------------- vec_math accuracy
def _wide_range():
    """Floats spread over the whole range (a stride through the bit patterns) plus specials."""
    bits = np.arange(0, 2**32, 4099, dtype=np.uint64).astype(np.uint32)
    x = bits.view(np.float32)
    special = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, 1e-45, -1e-45, 1.17549435e-38, 88.72283,
                        88.7228394, -87.33654, -103.97, -103.98, 1.0, -1.0, 3.92, 0.625, -0.625], np.float32)
    return np.concatenate([x, special])


def _ulp_error(got: np.ndarray, ref: np.ndarray) -> np.ndarray:
    """|got - ref| in units of the float32 ulp at ref (denormal ulp below the normal range)."""
    with np.errstate(over="ignore"):
        ref32 = ref.astype(np.float32)
    err = np.zeros(ref.shape)
    same_nan = np.isnan(ref) & np.isnan(got)
    inf = np.isinf(ref32)
    err[inf] = np.where(got[inf] == ref32[inf], 0.0, np.inf)
    fin = ~inf & ~np.isnan(ref)
    ulp = np.spacing(np.abs(ref32[fin])).astype(np.float64)
    err[fin] = np.abs(got[fin].astype(np.float64) - ref[fin]) / ulp
    err[np.isnan(ref) & ~same_nan] = np.inf
    return err


VEC_MATH = {
    "exp": (np.exp, None),
    "expm1": (np.expm1, None),
    "log": (np.log, None),
    "log1p": (np.log1p, None),
    "tanh": (np.tanh, None),
    "sigmoid": (lambda v: np.where(v >= 0, 1.0 / (1.0 + np.exp(-v)), np.exp(v) / (1.0 + np.exp(v))), None),
    "erf": (lambda v: torch.special.erf(torch.from_numpy(v)).numpy(), None),
}


@pytest.mark.parametrize("name", list(VEC_MATH))
def test_vec_math_accuracy(name):
    x = _wide_range()
    ref_fn, _ = VEC_MATH[name]
    with np.errstate(all="ignore"):
        ref = ref_fn(x.astype(np.float64))
    got = _C._vec_math(name, x)
    err = _ulp_error(got, ref)
    worst = int(np.argmax(err))
    assert err.max() <= 3.0, (
        f"{name}: {err.max():.2f} ulp at x={x[worst]!r} (got {got[worst]!r}, want {ref[worst]!r})"
    )
