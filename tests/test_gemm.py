"""GEMM: the blocked kernel (through _C.sgemm / _C.sgemm_ex / _C.matmul) against a float64 NumPy
product, with each micro-kernel (AVX-512, AVX2, portable) forced through _C.set_isa, and the
matmul / dense Functions against torch."""

import itertools

import fastnn
import numpy as np
import pytest
import torch
from fastnn import _C
from fastnn.functional import dense, matmul
from oracle import TOL, assert_close, check_op, rand

TRANS = list(itertools.product([False, True], repeat=2))
_LEVELS = ["generic", "avx2", "avx512"]
ISAS = _LEVELS[: _LEVELS.index(_C.detected_isa()) + 1]


@pytest.fixture(params=ISAS)
def isa(request):
    """Runs the test with the micro-kernel of one ISA, then restores the previous one."""
    before = _C.active_isa()
    _C.set_isa(request.param)
    yield request.param
    _C.set_isa(before)


def ref_gemm(ta, tb, A, B, alpha, beta, C):
    a = (A.T if ta else A).astype(np.float64)
    b = (B.T if tb else B).astype(np.float64)
    out = alpha * (a @ b)
    if beta != 0:
        out = out + beta * C.astype(np.float64)
    return out


def run_sgemm(ta, tb, M, N, K, alpha=1.0, beta=0.0, pad=(0, 0, 0), seed=0, c_fill=None):
    """_C.sgemm on buffers whose leading dimensions exceed the sizes by `pad`."""
    rng = np.random.default_rng(seed)
    ar, ac = (K, M) if ta else (M, K)
    br, bc = (N, K) if tb else (K, N)
    lda, ldb, ldc = ac + pad[0], bc + pad[1], N + pad[2]
    Abuf = rng.uniform(-1, 1, (ar, lda)).astype(np.float32)
    Bbuf = rng.uniform(-1, 1, (br, ldb)).astype(np.float32)
    Cbuf = rng.uniform(-1, 1, (M, ldc)).astype(np.float32)
    if c_fill is not None:
        Cbuf[:, :N] = c_fill
    C0 = Cbuf.copy()
    _C.sgemm(ta, tb, M, N, K, alpha, Abuf, max(lda, 1), Bbuf, max(ldb, 1), beta, Cbuf, max(ldc, 1))
    want = ref_gemm(ta, tb, Abuf[:, :ac], Bbuf[:, :bc], alpha, beta, C0[:, :N])
    assert_close(Cbuf[:, :N], want, "sgemm", "forward", **TOL["gemm"](K))
    # the padding columns of C are never written
    np.testing.assert_array_equal(Cbuf[:, N:], C0[:, N:])
    return Cbuf


# ------------------------------------------------------------------ kernel sweeps
@pytest.mark.parametrize("ta,tb", TRANS)
@pytest.mark.parametrize("dim", ["M", "N", "K"])
def test_sweep_one_dimension(isa, ta, tb, dim):
    for s in range(1, 65):
        for others in [(5, 13), (17, 3)]:
            sizes = dict(zip([d for d in "MNK" if d != dim], others))
            sizes[dim] = s
            run_sgemm(ta, tb, sizes["M"], sizes["N"], sizes["K"], seed=s)


@pytest.mark.parametrize("ta,tb", TRANS)
def test_random_triples(isa, ta, tb):
    rng = np.random.default_rng(1)
    for i in range(40):
        M, N, K = (int(v) for v in rng.integers(1, 65, 3))
        run_sgemm(ta, tb, M, N, K, seed=i)


@pytest.mark.parametrize("ta,tb", TRANS)
def test_block_remainders(isa, ta, tb):
    # around the block sizes of each ISA (MR 6/12, NR 16/32, MC 288/240, KC 256/320, NC 4096);
    # N <= 64 reads A in place, M <= 12 / 24 reads B in place (with K over several blocks)
    for M, N, K in [(143, 15, 255), (144, 16, 256), (145, 17, 257), (289, 33, 513), (7, 4097, 3),
                    (239, 31, 319), (240, 32, 320), (241, 65, 321), (300, 64, 400), (24, 300, 450),
                    (13, 95, 385), (770, 5, 20), (5, 4100, 40)]:
        run_sgemm(ta, tb, M, N, K)


ALPHA_BETA = [(1.0, 0.0), (1.0, 1.0), (0.5, -2.0), (-1.5, 0.25), (0.0, 0.5), (0.0, 0.0)]


@pytest.mark.parametrize("alpha,beta", ALPHA_BETA)
def test_alpha_beta(isa, alpha, beta):
    for ta, tb in TRANS:
        run_sgemm(ta, tb, 37, 29, 300, alpha, beta)


@pytest.mark.parametrize("ta,tb", TRANS)
def test_against_reference_kernel(isa, ta, tb):
    # cpu::sgemm_ref (the plain triple loop kept beside the blocked kernel) as the oracle
    rng = np.random.default_rng(7)
    for M, N, K in [(1, 1, 1), (6, 16, 256), (13, 47, 300), (150, 33, 9), (7, 100, 513)]:
        for alpha, beta in [(1.0, 0.0), (0.5, 2.0)]:
            a = rng.uniform(-1, 1, (K, M) if ta else (M, K)).astype(np.float32)
            b = rng.uniform(-1, 1, (N, K) if tb else (K, N)).astype(np.float32)
            c0 = rng.uniform(-1, 1, (M, N)).astype(np.float32)
            got, want = c0.copy(), c0.copy()
            _C.sgemm(ta, tb, M, N, K, alpha, a, a.shape[1], b, b.shape[1], beta, got, N)
            _C.sgemm_ref(ta, tb, M, N, K, alpha, a, a.shape[1], b, b.shape[1], beta, want, N)
            assert_close(got, want, "sgemm", "vs sgemm_ref", **TOL["gemm"](K))
    with pytest.raises(ValueError, match="lda"):
        _C.sgemm_ref(False, False, 2, 2, 3, 1.0, np.zeros(6, np.float32), 2, np.zeros(6, np.float32), 2,
                     0.0, np.zeros(4, np.float32), 2)


def test_beta_zero_never_reads_c(isa):
    for ta, tb in TRANS:
        C = run_sgemm(ta, tb, 23, 41, 19, 1.0, 0.0, c_fill=np.nan)
        assert np.isfinite(C).all()
    C = run_sgemm(False, False, 9, 11, 0, 1.0, 0.0, c_fill=np.nan)  # K == 0: C = 0
    np.testing.assert_array_equal(C, 0)


def test_k_zero_scales_c():
    run_sgemm(False, False, 5, 6, 0, 1.0, 3.0)
    run_sgemm(True, True, 5, 6, 0, 2.0, 1.0)


@pytest.mark.parametrize("pad", [(1, 0, 0), (0, 3, 0), (0, 0, 5), (7, 9, 11)])
def test_leading_dimensions(isa, pad):
    for ta, tb in TRANS:
        run_sgemm(ta, tb, 31, 45, 70, 1.0, 0.5, pad=pad)
    run_sgemm(False, True, 200, 150, 300, 1.0, 0.0, pad=pad)


def test_sgemm_bounds_are_checked():
    A = np.zeros((4, 5), np.float32)
    B = np.zeros((5, 6), np.float32)
    C = np.zeros((4, 6), np.float32)
    _C.sgemm(False, False, 4, 6, 5, 1.0, A, 5, B, 6, 0.0, C, 6)
    with pytest.raises(ValueError, match="lda"):
        _C.sgemm(False, False, 4, 6, 5, 1.0, A, 4, B, 6, 0.0, C, 6)
    with pytest.raises(ValueError, match="A"):
        _C.sgemm(False, False, 5, 6, 5, 1.0, A, 5, B, 6, 0.0, np.zeros((5, 6), np.float32), 6)
    with pytest.raises(ValueError, match="B"):
        _C.sgemm(False, False, 4, 6, 5, 1.0, A, 5, B, 7, 0.0, C, 7)
    with pytest.raises(ValueError, match="C"):
        _C.sgemm(False, False, 4, 6, 5, 1.0, A, 5, B, 6, 0.0, C, 7)
    with pytest.raises(ValueError, match=r"\(4, 5\)"):  # op(A) 5 x 5 from A stored 5 x 5: too short
        _C.sgemm(True, False, 5, 6, 5, 1.0, A, 5, B, 6, 0.0, np.zeros((5, 6), np.float32), 6)
    with pytest.raises(ValueError, match="non-negative"):
        _C.sgemm(False, False, -1, 6, 5, 1.0, A, 5, B, 6, 0.0, C, 6)
    with pytest.raises(TypeError):
        _C.sgemm(False, False, 4, 6, 5, 1.0, A.astype(np.float64), 5, B, 6, 0.0, C, 6)


def test_nan_propagates():
    A = rand(20, 30)
    B = rand(30, 40, seed=1)
    A[3, 7] = np.nan
    B[2, 5] = np.inf
    C = _C.matmul(A, B, False, False)
    assert np.isnan(C[3]).all()
    assert not np.isnan(np.delete(C, 3, axis=0)[:, np.arange(40) != 5]).any()


def test_large_checksum():
    M, N, K = 1000, 1200, 900
    A, B = rand(M, K, low=-1, high=1), rand(K, N, low=-1, high=1, seed=1)
    x = np.random.default_rng(2).uniform(-1, 1, N)
    for ta, tb in TRANS:
        a = np.ascontiguousarray(A.T) if ta else A
        b = np.ascontiguousarray(B.T) if tb else B
        C = _C.matmul(a, b, ta, tb)
        got = C.astype(np.float64) @ x
        want = A.astype(np.float64) @ (B.astype(np.float64) @ x)
        tol = TOL["gemm"](K * N)
        assert_close(got, want, "sgemm", "checksum", **tol)


@pytest.mark.parametrize("shape", [(1, 256, 784), (1, 1000, 333), (1, 77, 4000), (300, 500, 700), (7, 3000, 100),
                                   (1000, 5, 64), (150, 270, 1100), (20, 600, 300), (900, 40, 300), (40, 4200, 50)])
def test_threads_bit_identical(isa, shape):
    M, N, K = shape
    for ta, tb in TRANS:
        a = rand(K, M) if ta else rand(M, K)
        b = rand(N, K, seed=1) if tb else rand(K, N, seed=1)
        outs = []
        for t in (1, 2):
            fastnn.set_num_threads(t)
            outs.append(_C.matmul(a, b, ta, tb))
        np.testing.assert_array_equal(outs[0], outs[1])
    # the fused epilogue too
    bias = rand(N, seed=3)
    outs = []
    for t in (1, 2):
        fastnn.set_num_threads(t)
        c = np.full((M, N), np.nan, np.float32)
        _C.sgemm_ex(False, False, M, N, K, 1.0, rand(M, K), K, rand(K, N, seed=1), N, 0.0, c, N, bias, 3)
        outs.append(c)
    np.testing.assert_array_equal(outs[0], outs[1])


def test_batched_threads_bit_identical(isa):
    for shape in [(64, 9, 17, 11), (3, 200, 300, 250)]:
        B, M, N, K = shape
        a, b = rand(B, M, K), rand(1, K, N, seed=1)
        outs = []
        for t in (1, 2):
            fastnn.set_num_threads(t)
            outs.append(_C.matmul(a, b, False, False))
        np.testing.assert_array_equal(outs[0], outs[1])
        want = np.stack([a[i].astype(np.float64) @ b[0] for i in range(B)])
        assert_close(outs[0], want, "sgemm_batched", "forward", **TOL["gemm"](K))


# ------------------------------------------------------------------ fused epilogue (sgemm_ex)
ACTS = {0: lambda z: z, 1: lambda z: np.maximum(z, 0), 2: lambda z: 1 / (1 + np.exp(-z)), 3: np.tanh}


def run_sgemm_ex(ta, tb, M, N, K, act, use_bias, alpha=1.0, beta=0.0, pad=0, seed=0):
    rng = np.random.default_rng(seed)
    ar, ac = (K, M) if ta else (M, K)
    br, bc = (N, K) if tb else (K, N)
    A = rng.uniform(-1, 1, (ar, ac + pad)).astype(np.float32)
    B = rng.uniform(-1, 1, (br, bc + pad)).astype(np.float32)
    C = rng.uniform(-1, 1, (M, N + pad)).astype(np.float32)
    if beta == 0:
        C[:, :N] = np.nan
    bias = rng.uniform(-1, 1, N).astype(np.float32) if use_bias else None
    C0 = C.copy()
    _C.sgemm_ex(ta, tb, M, N, K, alpha, A, max(ac + pad, 1), B, max(bc + pad, 1), beta, C,
                max(N + pad, 1), bias, act)
    z = ref_gemm(ta, tb, A[:, :ac], B[:, :bc], alpha, beta, C0[:, :N])
    if use_bias:
        z = z + bias
    assert_close(C[:, :N], ACTS[act](z), "sgemm_ex", "forward", **TOL["gemm"](K))
    np.testing.assert_array_equal(C[:, N:], C0[:, N:])


@pytest.mark.parametrize("act", [0, 1, 2, 3])
@pytest.mark.parametrize("use_bias", [False, True])
def test_epilogue(isa, act, use_bias):
    # edge tiles, several K blocks (the epilogue only after the last), A / B read in place
    for i, (M, N, K) in enumerate([(1, 1, 1), (13, 37, 5), (50, 70, 300), (7, 200, 30), (130, 20, 600)]):
        for ta, tb in TRANS:
            run_sgemm_ex(ta, tb, M, N, K, act, use_bias, seed=i)
    run_sgemm_ex(False, False, 31, 45, 70, act, use_bias, alpha=0.5, beta=1.0, pad=3)
    run_sgemm_ex(True, False, 31, 45, 400, act, use_bias, alpha=-1.0, beta=0.25)
    run_sgemm_ex(False, True, 9, 11, 0, act, use_bias, beta=0.5)  # K == 0: act(beta C + bias)


def test_epilogue_nan_and_bad_input():
    c = np.zeros((2, 3), np.float32)
    a = np.array([[np.nan], [1.0]], np.float32)
    _C.sgemm_ex(False, False, 2, 3, 1, 1.0, a, 1, np.ones((1, 3), np.float32), 3, 0.0, c, 3, None, 1)
    assert np.isnan(c[0]).all() and (c[1] == 1).all()  # relu keeps NaN
    args = (False, False, 2, 3, 1, 1.0, a, 1, np.ones((1, 3), np.float32), 3, 0.0, c, 3)
    with pytest.raises(ValueError, match=r"bias of shape \(4,\)"):
        _C.sgemm_ex(*args, np.zeros(4, np.float32), 0)
    with pytest.raises(ValueError, match="activation"):
        _C.sgemm_ex(*args, None, 7)
    with pytest.raises(TypeError):
        _C.sgemm_ex(*args, np.zeros(3, np.float64), 0)
    with pytest.raises(ValueError, match=r"\(2, 3\).*\(4, 5\)"):
        _C.dense(rand(2, 3), rand(4, 5))


def test_raw_matmul_shapes():
    a, b = rand(4, 3, 5), rand(5, 6)
    assert _C.matmul(a, b, False, False).shape == (4, 3, 6)
    assert _C.matmul(b, rand(2, 6, 7), False, False).shape == (2, 5, 7)
    with pytest.raises(ValueError, match=r"\(4, 3, 5\).*\(3, 5, 6\)"):
        _C.matmul(a, rand(3, 5, 6), False, False)
    with pytest.raises(ValueError, match=r"\(4, 3, 5\).*\(6, 5\)"):
        _C.matmul(a, rand(6, 5), False, False)
    with pytest.raises(ValueError):
        _C.matmul(rand(5), b, False, False)


# ------------------------------------------------------------------ matmul Function vs torch
def _tm(a, b, ta=False, tb=False):
    return torch.matmul(a.transpose(-1, -2) if ta else a, b.transpose(-1, -2) if tb else b)


MATMUL_CASES = [
    ((3, 5), (5, 4)),
    ((1, 1), (1, 1)),
    ((17, 31), (31, 13)),
    ((7,), (7,)),
    ((7,), (7, 3)),
    ((4, 7), (7,)),
    ((2, 3, 7), (7,)),
    ((7,), (2, 7, 3)),
    ((2, 3, 5), (2, 5, 4)),
    ((2, 3, 5), (5, 4)),
    ((3, 5), (2, 5, 4)),
    ((2, 1, 3, 5), (4, 5, 6)),
    ((1, 3, 5), (4, 5, 6)),
    ((3, 1, 4, 5), (1, 2, 5, 3)),
    ((65, 33), (33, 17)),
]


@pytest.mark.parametrize("sa,sb", MATMUL_CASES)
def test_matmul_vs_torch(sa, sb):
    k = sa[-1]
    check_op(matmul, torch.matmul, [rand(*sa), rand(*sb, seed=1)], "matmul",
             tol=TOL["gemm"](k), grad_tol=TOL["gemm"](64))


@pytest.mark.parametrize("ta,tb", TRANS)
@pytest.mark.parametrize("batch", [(), (3,), (2, 1)])
def test_matmul_transposed_vs_torch(ta, tb, batch):
    M, N, K = 9, 14, 23
    sa = batch + ((K, M) if ta else (M, K))
    sb = ((N, K) if tb else (K, N))
    sb = (batch[-1:] if batch else ()) + sb
    check_op(lambda a, b: matmul(a, b, transpose_a=ta, transpose_b=tb),
             lambda a, b: _tm(a, b, ta, tb), [rand(*sa), rand(*sb, seed=1)], "matmul",
             tol=TOL["gemm"](K), grad_tol=TOL["gemm"](64))


def test_matmul_operator_and_empty():
    a, b = fastnn.tensor(rand(3, 4)), fastnn.tensor(rand(4, 2))
    np.testing.assert_array_equal((a @ b).numpy(), matmul(a, b).numpy())
    check_op(matmul, torch.matmul, [rand(0, 4), rand(4, 3)], "matmul")
    check_op(matmul, torch.matmul, [rand(3, 0), rand(0, 5)], "matmul")
    check_op(matmul, torch.matmul, [rand(0, 3, 4), rand(4, 5)], "matmul")


def test_matmul_bad_input():
    with pytest.raises(ValueError, match=r"\(3, 4\) and \(5, 2\)"):
        matmul(fastnn.tensor(rand(3, 4)), fastnn.tensor(rand(5, 2)))
    with pytest.raises(ValueError, match=r"\(2, 3, 4\) and \(3, 4, 2\)"):
        matmul(fastnn.tensor(rand(2, 3, 4)), fastnn.tensor(rand(3, 4, 2)))
    with pytest.raises(ValueError, match="scalar"):
        matmul(fastnn.tensor(np.float32(2.0)), fastnn.tensor(rand(3)))
    with pytest.raises(TypeError):
        matmul(fastnn.tensor(np.ones((2, 2), np.int64)), fastnn.tensor(rand(2, 2)))


def test_matmul_threads_identical_with_grad():
    outs = []
    for t in (1, 2):
        fastnn.set_num_threads(t)
        a = fastnn.tensor(rand(2, 130, 250), requires_grad=True)
        b = fastnn.tensor(rand(250, 90, seed=1), requires_grad=True)
        c = matmul(a, b)
        c.backward(fastnn.tensor(rand(*c.shape, seed=2)))
        outs.append((c.numpy(), a.grad.numpy(), b.grad.numpy()))
    for x, y in zip(*outs):
        np.testing.assert_array_equal(x, y)


# ------------------------------------------------------------------ linear
@pytest.mark.parametrize("xs", [(5, 7), (1, 7), (2, 3, 7), (0, 7)])
@pytest.mark.parametrize("use_bias", [True, False])
def test_dense_vs_torch(xs, use_bias):
    inputs = [rand(*xs), rand(7, 11, seed=1)] + ([rand(11, seed=2)] if use_bias else [])

    def tf(x, k, b=None):
        return torch.nn.functional.linear(x, k.T, b)

    check_op(dense, tf, inputs, "dense", tol=TOL["gemm"](7), grad_tol=TOL["gemm"](max(xs[0], 7)))


TORCH_ACTS = {None: lambda z: z, "linear": lambda z: z, "relu": torch.relu, "sigmoid": torch.sigmoid,
              "tanh": torch.tanh}


@pytest.mark.parametrize("activation", list(TORCH_ACTS))
@pytest.mark.parametrize("xs,n", [((5, 7), 11), ((2, 3, 40), 33), ((70, 300), 65), ((0, 7), 4)])
@pytest.mark.parametrize("use_bias", [True, False])
def test_dense_activation_vs_torch(activation, xs, n, use_bias):
    k = xs[-1]
    inputs = [rand(*xs), rand(k, n, seed=1)] + ([rand(n, seed=2)] if use_bias else [])

    def tf(x, w, b=None):
        return TORCH_ACTS[activation](torch.nn.functional.linear(x, w.T, b))

    def ff(x, w, b=None):
        return dense(x, w, b, activation=activation)

    m = int(np.prod(xs[:-1]))
    check_op(ff, tf, inputs, "dense", tol=TOL["gemm"](k), grad_tol=TOL["gemm"](max(m, k, n)))


def test_dense_bad_activation():
    with pytest.raises(ValueError, match="'softmax'"):
        dense(fastnn.tensor(rand(5, 7)), fastnn.tensor(rand(7, 11)), activation="softmax")


def test_dense_does_not_write_bias():
    b = rand(4)
    bt = fastnn.tensor(b.copy())
    dense(fastnn.tensor(rand(1, 3)), fastnn.tensor(rand(3, 4)), bt)
    np.testing.assert_array_equal(bt.numpy(), b)


def test_dense_bad_shapes():
    with pytest.raises(ValueError, match=r"\(5, 6\).*\(7, 11\)"):
        dense(fastnn.tensor(rand(5, 6)), fastnn.tensor(rand(7, 11)))
    with pytest.raises(ValueError, match="bias"):
        dense(fastnn.tensor(rand(5, 7)), fastnn.tensor(rand(7, 11)), fastnn.tensor(rand(10)))
