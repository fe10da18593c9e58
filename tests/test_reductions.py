"""Reductions, argmax/argmin, var/std, softmax/log_softmax and logsumexp against torch."""

import itertools

import fastnn
import fastnn.functional as F
import numpy as np
import pytest
import torch
from fastnn import _C
from oracle import ODD_SHAPES, TOL, check_op, rand, randn

SHAPE = (2, 3, 5, 7)
ALL_AXES = [None] + [c for k in range(1, 5) for c in itertools.combinations(range(4), k)]
HAS_ELEMENTWISE = hasattr(_C, "unary_forward") and hasattr(_C, "binary_forward")
needs_elementwise = pytest.mark.skipif(
    not HAS_ELEMENTWISE, reason="elementwise kernels not built in this branch"
)


def _dims(axis, nd):
    if axis is None:
        return tuple(range(nd))
    return tuple(a % nd for a in (axis if isinstance(axis, tuple) else (axis,)))


def _rlen(shape, axis):
    return int(np.prod([shape[d] for d in _dims(axis, len(shape))], dtype=np.int64))


TORCH = {
    "sum": lambda t, d, k: t.sum(dim=d, keepdim=k),
    "mean": lambda t, d, k: t.mean(dim=d, keepdim=k),
    "max": lambda t, d, k: t.amax(dim=d, keepdim=k),
    "min": lambda t, d, k: t.amin(dim=d, keepdim=k),
    "var": lambda t, d, k: t.var(dim=d, keepdim=k, correction=0),
}


@pytest.mark.parametrize("op", list(TORCH))
@pytest.mark.parametrize("axis", ALL_AXES)
@pytest.mark.parametrize("keepdims", [False, True])
def test_reduce_every_axis_combination(op, axis, keepdims):
    x = randn(*SHAPE, seed=3)
    n = _rlen(SHAPE, axis)
    check_op(
        lambda a: getattr(F, op)(a, axis, keepdims),
        lambda t: TORCH[op](t, _dims(axis, 4), keepdims),
        [x],
        name=op,
        tol=TOL["reduction"](n),
    )


@pytest.mark.parametrize("op", list(TORCH))
@pytest.mark.parametrize("shape", ODD_SHAPES + [(4, 1, 6), (3, 17, 1)])
@pytest.mark.parametrize("axis", [None, 0, -1])
def test_reduce_odd_shapes(op, shape, axis):
    x = rand(*shape, seed=5)
    d = _dims(axis, len(shape))
    check_op(
        lambda a: getattr(F, op)(a, axis),
        lambda t: TORCH[op](t, d, False),
        [x],
        name=op,
        tol=TOL["reduction"](_rlen(shape, axis)),
    )


@pytest.mark.parametrize("op", ["sum", "mean", "var"])
@pytest.mark.parametrize(
    "shape,axis", [((100003,), None), ((7, 14011), 1), ((33331, 3), 0), ((5, 2003, 9), 1)]
)
def test_long_reductions(op, shape, axis):
    x = rand(*shape, seed=7)
    check_op(
        lambda a: getattr(F, op)(a, axis),
        lambda t: TORCH[op](t, _dims(axis, len(shape)), False),
        [x],
        name=op + " long",
        tol=TOL["reduction"](_rlen(shape, axis)),
    )


def test_long_sum_far_from_zero_var_is_stable():
    x = (1000.0 + rand(50001, seed=2)).astype(np.float32)
    check_op(
        lambda a: F.var(a),
        lambda t: t.var(correction=0),
        [x],
        name="var offset",
        tol=TOL["reduction"](x.size),
    )


@pytest.mark.parametrize("op", ["max", "min"])
@pytest.mark.parametrize("axis", [None, 0, 1, (0, 2), (1, 2)])
def test_max_min_ties_share_gradient(op, axis):
    x = np.random.default_rng(0).integers(-2, 3, size=(4, 6, 5)).astype(np.float32)  # many ties
    check_op(
        lambda a: getattr(F, op)(a, axis),
        lambda t: TORCH[op](t, _dims(axis, 3), False),
        [x],
        name=op + " ties",
        tol=TOL["exact"],
        grad_tol=TOL["elementwise"],
    )


@pytest.mark.parametrize("op", ["sum", "mean", "max", "min", "var"])
def test_nan_propagates(op):
    x = rand(4, 9, seed=1)
    x[1, 3] = np.nan
    x[3, 0] = np.nan
    for axis in (0, 1, None):
        y = getattr(F, op)(fastnn.tensor(x), axis).numpy()
        want = TORCH[op](torch.from_numpy(x), _dims(axis, 2), False).numpy()
        np.testing.assert_array_equal(np.isnan(y), np.isnan(want))
    # long contiguous and strided rows too
    big = rand(3, 20000, seed=2)
    big[1, 17777] = np.nan
    assert np.isnan(getattr(F, op)(fastnn.tensor(big), 1).numpy()).tolist() == [False, True, False]
    assert np.isnan(getattr(F, op)(fastnn.tensor(np.ascontiguousarray(big.T)), 0).numpy()).tolist() == [
        False,
        True,
        False,
    ]


def test_max_backward_nan_matches_torch():
    x = np.array([[1.0, np.nan, 3.0], [1.0, 2.0, 2.0]], np.float32)
    check_op(lambda a: F.max(a, 1), lambda t: t.amax(1), [x], name="max nan", tol=TOL["exact"])


def test_empty_axes():
    x = np.zeros((3, 0, 4), np.float32)
    assert F.sum(fastnn.tensor(x), 1).numpy().tolist() == [[0.0] * 4] * 3
    assert F.sum(fastnn.tensor(x)).item() == 0.0
    assert np.isnan(F.mean(fastnn.tensor(x), 1).numpy()).all()
    for op in ("max", "min", "var"):
        with pytest.raises(ValueError):
            getattr(F, op)(fastnn.tensor(x), 1)
    with pytest.raises(ValueError):
        F.argmax(fastnn.tensor(x))
    # reducing a non-empty axis of an empty tensor is an empty result
    assert F.max(fastnn.tensor(x), 2).shape == (3, 0)
    check_op(lambda a: F.sum(a, 1), lambda t: t.sum(1), [x], name="sum empty")


def test_axis_errors_and_dtype():
    x = fastnn.tensor(rand(2, 3))
    with pytest.raises(ValueError, match="out of range"):
        F.sum(x, 2)
    with pytest.raises(ValueError, match="duplicate"):
        F.mean(x, (1, -1))
    with pytest.raises(TypeError):
        F.sum(x, 1.5)
    with pytest.raises(TypeError, match="float32"):
        F.sum(fastnn.tensor(np.arange(6).reshape(2, 3)))


def test_scalar_and_tensor_methods():
    x = fastnn.tensor(np.float32(3.0))
    assert F.sum(x).item() == 3.0 and F.max(x).shape == ()
    t = fastnn.tensor(rand(3, 4))
    np.testing.assert_allclose(
        t.sum(axis=1, keepdims=True).numpy(), t.numpy().sum(1, keepdims=True), rtol=1e-6
    )
    assert t.argmax(axis=1).dtype == fastnn.int64


# ---------------------------------------------------------------------- argmax / argmin
@pytest.mark.parametrize("shape", ODD_SHAPES + [SHAPE])
@pytest.mark.parametrize("is_min", [False, True])
def test_argmax_matches_torch(shape, is_min):
    x = np.random.default_rng(1).integers(-3, 4, size=shape).astype(np.float32)  # ties: first index
    fn, tfn = (F.argmin, torch.argmin) if is_min else (F.argmax, torch.argmax)
    for axis in [None] + list(range(-len(shape), len(shape))):
        for keepdims in (False, True):
            got = fn(fastnn.tensor(x), axis, keepdims)
            want = (
                tfn(torch.from_numpy(x), dim=axis, keepdim=keepdims)
                if axis is not None
                else tfn(torch.from_numpy(x)).reshape((1,) * len(shape) if keepdims else ())
            )
            assert got.dtype == fastnn.int64 and got.shape == tuple(want.shape)
            np.testing.assert_array_equal(got.numpy(), want.numpy())
            np.testing.assert_array_equal(
                got.numpy(), (np.argmin if is_min else np.argmax)(x, axis, keepdims=keepdims)
            )


def test_argmax_nan_and_no_grad():
    x = np.array([[1.0, np.nan, 5.0, np.nan], [np.nan, 0.0, 1.0, 2.0], [0.0, 9.0, 9.0, 1.0]], np.float32)
    for fn, nfn in ((F.argmax, np.argmax), (F.argmin, np.argmin)):
        np.testing.assert_array_equal(fn(fastnn.tensor(x), 1).numpy(), nfn(x, 1))
        np.testing.assert_array_equal(fn(fastnn.tensor(np.ascontiguousarray(x.T)), 0).numpy(), nfn(x.T, 0))
    t = fastnn.tensor(x, requires_grad=True)
    assert not F.argmax(t, 1).requires_grad


# ---------------------------------------------------------------------- var / std
@pytest.mark.filterwarnings("ignore:var.*degrees of freedom")  # axis 0 has 2 entries: correction 2 gives inf
@pytest.mark.parametrize("axis", [None, 0, (1, 3), -1])
@pytest.mark.parametrize("correction", [0, 1, 2])
def test_var_correction(axis, correction):
    x = randn(*SHAPE, seed=4)
    check_op(
        lambda a: F.var(a, axis, correction=correction),
        lambda t: t.var(dim=_dims(axis, 4), correction=correction),
        [x],
        name="var",
        tol=TOL["reduction"](_rlen(SHAPE, axis)),
    )


@pytest.mark.filterwarnings("ignore:Degrees of freedom")
def test_var_ddof_alias_and_degenerate():
    x = rand(5, 3)
    np.testing.assert_allclose(F.var(fastnn.tensor(x), 0, ddof=1).numpy(), x.var(0, ddof=1), rtol=1e-5)
    with pytest.raises(ValueError):
        F.var(fastnn.tensor(x), 0, correction=1, ddof=0)
    with np.errstate(all="ignore"):
        np.testing.assert_array_equal(F.var(fastnn.tensor(x[:1]), 0, ddof=1).numpy(), x[:1].var(0, ddof=1))
    np.testing.assert_array_equal(F.var(fastnn.tensor(x), ()).numpy(), np.zeros_like(x))


@needs_elementwise
@pytest.mark.parametrize("axis", [None, 1, (0, 2)])
def test_std(axis):
    x = randn(4, 6, 5, seed=2)
    check_op(
        lambda a: F.std(a, axis, correction=1),
        lambda t: t.std(dim=_dims(axis, 3), correction=1),
        [x],
        name="std",
        tol=TOL["reduction"](_rlen((4, 6, 5), axis)),
    )


# ---------------------------------------------------------------------- softmax
@pytest.mark.parametrize("log", [False, True])
@pytest.mark.parametrize("axis", [0, 1, 2, 3, -1, -3])
def test_softmax_every_axis(log, axis):
    x = randn(*SHAPE, seed=6) * 3
    fn, tfn = (F.log_softmax, torch.log_softmax) if log else (F.softmax, torch.softmax)
    check_op(
        lambda a: fn(a, axis),
        lambda t: tfn(t, axis),
        [x],
        name="log_softmax" if log else "softmax",
        tol=TOL["transcendental"],
    )


@pytest.mark.parametrize("log", [False, True])
@pytest.mark.parametrize("shape", ODD_SHAPES + [(3, 1000), (1000, 3), (2, 257, 33)])
def test_softmax_odd_shapes(log, shape):
    x = randn(*shape, seed=8) * 4
    fn, tfn = (F.log_softmax, torch.log_softmax) if log else (F.softmax, torch.softmax)
    for axis in (-1, 0):
        check_op(
            lambda a, axis=axis: fn(a, axis),
            lambda t, axis=axis: tfn(t, axis),
            [x],
            name="log_softmax" if log else "softmax",
            tol=TOL["transcendental"],
        )


@pytest.mark.parametrize("log", [False, True])
@pytest.mark.parametrize("axis", [-1, 0])
def test_softmax_large_logits(log, axis):
    x = np.array([[1e4, 0.0, -1e4, 1e4 - 1.0], [-1e4, -1e4, -1e4, -1e4], [3e4, 2e4, 1e4, 0.0]], np.float32)
    fn, tfn = (F.log_softmax, torch.log_softmax) if log else (F.softmax, torch.softmax)
    out = check_op(
        lambda a: fn(a, axis), lambda t: tfn(t, axis), [x], name="softmax 1e4", tol=TOL["transcendental"]
    )
    assert np.isfinite(out.numpy()).all()


def test_softmax_nan_row_and_multi_axis():
    x = randn(3, 5)
    x[1, 2] = np.nan
    y = F.softmax(fastnn.tensor(x)).numpy()
    assert np.isnan(y[1]).all() and np.isfinite(y[[0, 2]]).all()
    x = randn(2, 3, 4, seed=1)
    for axes in [(0, 2), (1, 2)]:
        want = torch.softmax(
            torch.from_numpy(x)
            .permute(*[d for d in range(3) if d not in axes], *axes)
            .reshape(*[x.shape[d] for d in range(3) if d not in axes], -1),
            -1,
        )
        got = F.softmax(fastnn.tensor(x), axes).numpy()
        got = np.transpose(got, [d for d in range(3) if d not in axes] + list(axes))
        np.testing.assert_allclose(got.reshape(want.shape), want.numpy(), **TOL["transcendental"])


@needs_elementwise
@pytest.mark.parametrize("axis", [None, -1, (0, 2)])
def test_logsumexp(axis):
    x = randn(3, 4, 5, seed=9) * 5
    x[0, 0, 0] = 1e4
    check_op(
        lambda a: F.logsumexp(a, axis),
        lambda t: torch.logsumexp(t, dim=_dims(axis, 3)),
        [x],
        name="logsumexp",
        tol=TOL["transcendental"],
    )


# ---------------------------------------------------------------------- threads
def _run_all(x):
    t = fastnn.tensor(x, requires_grad=True)
    outs = [
        F.sum(t, 1),
        F.mean(t, 0),
        F.max(t, 1),
        F.var(t, 0),
        F.var(t),
        F.sum(t),
        F.softmax(t, 1),
        F.log_softmax(t, 0),
    ]
    res = [o.numpy().copy() for o in outs]
    res += [F.argmax(t, 0).numpy(), F.argmin(t, 1).numpy()]
    for o in outs:
        t.grad = None
        o.backward(fastnn.tensor(np.ones(o.shape, np.float32)))
        res.append(t.grad.numpy().copy())
    return res


def test_one_and_two_threads_bit_identical():
    x = randn(300, 1100, seed=11)
    fastnn.set_num_threads(1)
    a = _run_all(x)
    fastnn.set_num_threads(2)
    b = _run_all(x)
    for u, v in zip(a, b):
        np.testing.assert_array_equal(u, v)
