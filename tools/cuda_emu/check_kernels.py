# The CUDA kernels of csrc/cuda, compiled for the host by build.sh (emulated launches), against
# torch and NumPy references. No GPU needed. Run: tools/cuda_emu/build.sh && python tools/cuda_emu/check_kernels.py
import ctypes as ct
import math
import pathlib
import sys

import numpy as np
import torch

torch.set_default_dtype(torch.float32)
L = ct.CDLL(str(pathlib.Path(__file__).resolve().parents[2] / 'build' / 'cuda_emu' / 'libemu.so'))
def P(a):
    return a.ctypes.data_as(ct.c_void_p) if a is not None else None
i64, f32, u64, b = ct.c_int64, ct.c_float, ct.c_uint64, ct.c_bool
rng = np.random.default_rng(0)
fails = []
def close(name, got, want, rtol=1e-5, atol=1e-5):
    want = np.asarray(want, dtype=got.dtype)
    ok = got.shape == want.shape and np.allclose(got, want, rtol=rtol, atol=atol, equal_nan=True)
    if not ok:
        if got.shape == want.shape:
            d = np.nanmax(np.abs(got.astype(np.float64) - want))
        else:
            d = (got.shape, want.shape, got, want)
        fails.append(name)
        print('FAIL', name, 'maxdiff', d)
def call(fn, *a):
    r = getattr(L, fn)(*a)
    assert r == 0, fn
def T(a):
    return torch.tensor(a, requires_grad=True)

# ---- unary
U = ['Neg', 'Abs', 'Exp', 'Log', 'Sqrt', 'Square', 'Sigmoid', 'Tanh', 'Relu', 'LeakyRelu', 'Elu', 'Selu', 'Gelu',
     'GeluTanh', 'Softplus', 'Swish', 'HardSigmoid', 'Step', 'Clip']
F = torch.nn.functional
tf = {'Neg': lambda x: -x, 'Abs': torch.abs, 'Exp': torch.exp, 'Log': torch.log, 'Sqrt': torch.sqrt,
      'Square': torch.square, 'Sigmoid': torch.sigmoid, 'Tanh': torch.tanh, 'Relu': F.relu,
      'LeakyRelu': lambda x: F.leaky_relu(x, 0.2), 'Elu': lambda x: F.elu(x, 0.7), 'Selu': F.selu, 'Gelu': F.gelu,
      'GeluTanh': lambda x: F.gelu(x, approximate='tanh'), 'Softplus': F.softplus, 'Swish': F.silu,
      'HardSigmoid': F.hardsigmoid, 'Step': lambda x: (x > 0).float() + 0 * x,
      'Clip': lambda x: torch.clamp(x, -0.5, 0.8)}
params = {'LeakyRelu': (0.2, 0), 'Elu': (0.7, 0), 'Clip': (-0.5, 0.8)}
for n in [1, 7, 300]:
    for k, name in enumerate(U):
        x = (rng.standard_normal(n) * 4).astype(np.float32)
        if name in ('Log', 'Sqrt'):
            x = np.abs(x) + 0.1
        if name == 'Clip':
            x[:2] = [-0.5, 0.8][:len(x[:2])]
        a, bb = params.get(name, (0, 0))
        y = np.empty_like(x)
        call('e_unary_forward', k, P(y), P(x), i64(n), f32(a), f32(bb))
        xt = T(x)
        yt = tf[name](xt)
        close(f'unary {name} n={n}', y, yt.detach().numpy())
        g = rng.standard_normal(n).astype(np.float32)
        yt.backward(torch.tensor(g))
        want = xt.grad.numpy() if xt.grad is not None else np.zeros_like(x)
        dx = np.empty_like(x)
        call('e_unary_backward', k, P(dx), P(g), P(x), P(y), i64(n), f32(a), f32(bb))
        close(f'unary_bwd {name} n={n}', dx, want, rtol=1e-4)
        dx2 = np.empty_like(x)
        call('e_unary_backward', k, P(dx2), P(g), P(x), None, i64(n), f32(a), f32(bb))
        close(f'unary_bwd(no y) {name} n={n}', dx2, want, rtol=1e-4)
# NaN behaviour
x = np.array([np.nan, -1, 2], np.float32)
y = np.empty_like(x)
for k, name in enumerate(U):
    call('e_unary_forward', k, P(y), P(x), i64(3), f32(params.get(name,(0,0))[0]), f32(params.get(name,(0,0))[1]))
    if name != 'Step':
        close(f'nan {name}', y[:1], tf[name](torch.tensor(x)).numpy()[:1])

# ---- binary with broadcasting
B = ['Add','Sub','Mul','Div','Pow','Maximum','Minimum']
tb = {'Add': torch.add, 'Sub': torch.sub, 'Mul': torch.mul, 'Div': torch.div, 'Pow': torch.pow,
      'Maximum': torch.maximum, 'Minimum': torch.minimum}
def bstrides(shape, out_shape):
    shape = (1,) * (len(out_shape) - len(shape)) + tuple(shape)
    st, acc = [0] * len(shape), 1
    for d in reversed(range(len(shape))):
        st[d] = 0 if shape[d] == 1 else acc
        acc *= shape[d]
    return st
for sa, sb in [((5,), (5,)), ((3, 4), (4,)), ((3, 1), (1, 4)), ((2, 3, 4), (3, 1)), ((1,), (2, 5)), ((), (3,)),
               ((7, 1, 3), (1, 5, 1))]:
    out_shape = np.broadcast_shapes(sa, sb)
    nd = len(out_shape)
    sh = np.array(out_shape or [1], np.int64)
    as_ = np.array(bstrides(sa, out_shape) or [0], np.int64)
    bs_ = np.array(bstrides(sb, out_shape) or [0], np.int64)
    for k, name in enumerate(B):
        a = rng.standard_normal(sa).astype(np.float32)
        bv = rng.standard_normal(sb).astype(np.float32)
        if name == 'Pow':
            a = np.abs(a) + 0.2
        if name in ('Maximum', 'Minimum') and a.size > 1 and bv.size > 0:
            a.flat[0] = bv.flat[0]  # a tie somewhere
        a = np.require(a, requirements="C")
        bv = np.require(bv, requirements="C")
        out = np.empty(out_shape, np.float32)
        call('e_binary_forward', k, P(out), P(a), P(bv), nd, P(sh), P(as_), P(bs_))
        at, bt = T(a), T(bv)
        ot = tb[name](at, bt)
        close(f'binary {name} {sa} {sb}', out, ot.detach().numpy())
        g = rng.standard_normal(out_shape).astype(np.float32)
        da = np.empty(out_shape, np.float32)
        db = np.empty(out_shape, np.float32)
        call('e_binary_backward', k, P(da), P(db), P(g), P(a), P(bv), P(out), nd, P(sh), P(as_), P(bs_))
        ot.backward(torch.tensor(g))
        # reduce to input shapes
        def red(d, s):
            d = d.sum(axis=tuple(range(d.ndim - len(s)))) if d.ndim > len(s) else d
            return d.sum(axis=tuple(i for i, n in enumerate(s) if n == 1), keepdims=True) if len(s) else d.sum()
        close(f'binary_bwd da {name} {sa} {sb}', np.asarray(red(da, sa)).reshape(sa), at.grad.numpy(), rtol=1e-4)
        close(f'binary_bwd db {name} {sa} {sb}', np.asarray(red(db, sb)).reshape(sb), bt.grad.numpy(), rtol=1e-4)
# pow edge cases: a == 0
a = np.array([0, 0, 0, 2], np.float32)
bv = np.array([0, 2, 0.5, 3], np.float32)
sh = np.array([4], np.int64)
st = np.array([1], np.int64)
out = np.empty(4, np.float32)
call('e_binary_forward', 4, P(out), P(a), P(bv), 1, P(sh), P(st), P(st))
da = np.empty(4, np.float32)
db = np.empty(4, np.float32)
g = np.ones(4, np.float32)
call('e_binary_backward', 4, P(da), P(db), P(g), P(a), P(bv), P(out), 1, P(sh), P(st), P(st))
at, bt = T(a), T(bv)
torch.pow(at, bt).backward(torch.ones(4))
close('pow0 da', da, at.grad.numpy())
close('pow0 db', db, bt.grad.numpy())
# where
n = 50
cond = (rng.random(n) > 0.5).astype(np.float32)
a = rng.standard_normal(n).astype(np.float32)
bv = rng.standard_normal(n).astype(np.float32)
out = np.empty(n, np.float32)
call('e_where_forward', P(out), P(cond), P(a), P(bv), i64(n))
close('where', out, np.where(cond != 0, a, bv))
da = np.empty(n, np.float32)
db = np.empty(n, np.float32)
call('e_where_backward', P(da), P(db), P(a), P(cond), i64(n))
close('where_bwd', np.concatenate([da, db]), np.concatenate([np.where(cond != 0, a, 0), np.where(cond != 0, 0, a)]))
call('e_where_backward', None, P(db), P(a), P(cond), i64(n))

# ---- reductions
shapes = [(3, 5, 1), (2, 100, 1), (1, 20000, 1), (4, 7, 3), (2, 600, 5), (1, 1000, 2), (3, 0, 2), (1, 1, 1), (5, 64, 1)]
for (O, R, I) in shapes:
    x = rng.standard_normal((O, R, I)).astype(np.float32)
    if R > 3:
        x[0, 1, 0] = x[0, 3, 0] = 5.0  # ties for max
    xt = T(x)
    for op, tfn in enumerate([lambda t: t.sum(1), lambda t: t.mean(1), lambda t: t.amax(1), lambda t: t.amin(1)]):
        if R == 0 and op > 0:
            continue
        y = np.empty((O, I), np.float32)
        call('e_reduce_forward', op, P(y), P(x), i64(O), i64(R), i64(I))
        xt.grad = None
        yt = tfn(xt)
        close(f'reduce {op} {(O,R,I)}', y, yt.detach().numpy(), rtol=1e-4, atol=1e-4)
        g = rng.standard_normal((O, I)).astype(np.float32)
        yt.backward(torch.tensor(g))
        dx = np.empty_like(x)
        call('e_reduce_backward', op, P(dx), P(g), P(x), P(y), i64(O), i64(R), i64(I))
        close(f'reduce_bwd {op} {(O,R,I)}', dx, xt.grad.numpy())
    if R == 0:
        continue
    for is_min in (False, True):
        idx = np.empty((O, I), np.int64)
        call('e_argmax_forward', P(idx), P(x), i64(O), i64(R), i64(I), b(is_min))
        want = torch.argmin(torch.tensor(x), 1) if is_min else torch.argmax(torch.tensor(x), 1)
        close(f'argmax {is_min} {(O,R,I)}', idx, want.numpy())
    for corr in (0, 1):
        if R - corr <= 0:
            continue
        v = np.empty((O, I), np.float32)
        m = np.empty((O, I), np.float32)
        call('e_var_forward', P(v), P(m), P(x), i64(O), i64(R), i64(I), i64(corr))
        xt.grad = None
        vt = torch.var(xt, 1, correction=corr)
        close(f'var {corr} {(O,R,I)}', v, vt.detach().numpy(), rtol=1e-4)
        close(f'mean {(O,R,I)}', m, x.mean(1), rtol=1e-4, atol=1e-5)
        g = rng.standard_normal((O, I)).astype(np.float32)
        vt.backward(torch.tensor(g))
        dx = np.empty_like(x)
        call('e_var_backward', P(dx), P(g), P(x), P(m), i64(O), i64(R), i64(I), i64(corr))
        close(f'var_bwd {corr} {(O,R,I)}', dx, xt.grad.numpy(), rtol=1e-4)
    for nm, tfn in [('softmax', torch.softmax), ('log_softmax', torch.log_softmax)]:
        xt.grad = None
        yt = tfn(xt, 1)
        y = np.empty_like(x)
        call(f'e_{nm}_forward', P(y), P(x), i64(O), i64(R), i64(I))
        close(f'{nm} {(O,R,I)}', y, yt.detach().numpy())
        g = rng.standard_normal(x.shape).astype(np.float32)
        yt.backward(torch.tensor(g))
        dx = np.empty_like(x)
        call(f'e_{nm}_backward', P(dx), P(g), P(y), i64(O), i64(R), i64(I))
        close(f'{nm}_bwd {(O,R,I)}', dx, xt.grad.numpy(), rtol=1e-4)
# ---- masked softmax of attention scores: (b, heads, t, s) with a mask (b, t, s) shared by the heads
for (B_, H_, T_, S_) in [(2, 3, 5, 7), (1, 1, 1, 1), (2, 2, 3, 300), (3, 1, 4, 16)]:
    x = rng.standard_normal((B_, H_, T_, S_)).astype(np.float32)
    mk = (rng.random((B_, T_, S_)) > 0.3).astype(np.float32)
    mk[..., 0] = 1
    mk[0, 0] = 0  # one fully masked row
    rows = B_ * H_ * T_
    for zm in (False, True):
        for use_mask in (True, False):
            sc = 0.37
            mt = torch.tensor(mk)[:, None] if use_mask else torch.ones(1)
            xt = T(x)
            xt.grad = None
            yt = torch.softmax(xt * sc - 1e9 * (1 - mt), -1)
            if zm and use_mask:
                yt = yt * mt
            y = np.empty_like(x)
            call('e_masked_softmax_forward', P(y), P(x), P(mk) if use_mask else None,
                 i64(rows), i64(S_), i64(H_), i64(T_), f32(sc), b(zm))
            close(f'masked_softmax {(B_, H_, T_, S_)} zm={zm} mask={use_mask}', y, yt.detach().numpy(),
                  rtol=1e-5, atol=1e-6)
            g = rng.standard_normal(x.shape).astype(np.float32)
            yt.backward(torch.tensor(g))
            dx = np.empty_like(x)
            call('e_masked_softmax_backward', P(dx), P(g), P(y), i64(rows), i64(S_), f32(sc))
            close(f'masked_softmax_bwd {(B_, H_, T_, S_)} zm={zm} mask={use_mask}', dx, xt.grad.numpy(),
                  rtol=1e-4, atol=1e-6)
# NaN reductions
x = np.array([[1, np.nan, 3, 3] * 20], np.float32).reshape(1, 80, 1)
for op in (2, 3):
    y = np.empty((1, 1), np.float32)
    call('e_reduce_forward', op, P(y), P(x), 1, 80, 1)
    close(f'nan reduce {op}', y, [[np.nan]])
idx = np.empty((1, 1), np.int64)
call('e_argmax_forward', P(idx), P(x), 1, 80, 1, b(False))
close('nan argmax', idx, [[1]])
x2 = x.reshape(1, 80, 1)[:, :5].copy()
call('e_argmax_forward', P(idx), P(x2), 1, 5, 1, b(True))
close('nan argmin', idx, [[1]])

# ---- gemm
def gemm_case(ta, tb_, batch, M, N, K, alpha, beta, sa0=None, sb0=None):
    A = rng.standard_normal((batch, K, M) if ta else (batch, M, K)).astype(np.float32)
    Bm = rng.standard_normal((batch, N, K) if tb_ else (batch, K, N)).astype(np.float32)
    C = rng.standard_normal((batch, M, N)).astype(np.float32)
    if beta == 0:
        C[:] = np.nan
    opA = A.transpose(0, 2, 1) if ta else A
    opB = Bm.transpose(0, 2, 1) if tb_ else Bm
    want = alpha * (opA.astype(np.float64) @ opB) + (beta * C if beta != 0 else 0)
    sA = A[0].size if sa0 is None else sa0
    sB = Bm[0].size if sb0 is None else sb0
    if sa0 == 0:
        want = alpha * ((A[0].T if ta else A[0]).astype(np.float64) @ opB) + (beta * C if beta != 0 else 0)
    lda = M if ta else K
    ldb = K if tb_ else N
    call('e_sgemm_batched', b(ta), b(tb_), i64(batch), i64(M), i64(N), i64(K), f32(alpha),
         P(A), i64(max(lda,1)), i64(sA), P(Bm), i64(max(ldb,1)), i64(sB), f32(beta), P(C), i64(max(N,1)), i64(M * N))
    close(f'gemm ta={ta} tb={tb_} b={batch} {M}x{N}x{K} a={alpha} b={beta} sA={sa0}', C, want,
          rtol=1e-4, atol=1e-4 * max(1, math.sqrt(K)))
for ta in (False, True):
    for tb_ in (False, True):
        for (M, N, K) in [(1, 1, 1), (5, 7, 3), (64, 64, 16), (65, 63, 17), (130, 70, 33), (3, 129, 100), (20, 20, 0)]:
            gemm_case(ta, tb_, 1, M, N, K, 1.0, 0.0)
        gemm_case(ta, tb_, 3, 33, 17, 9, 0.5, 2.0)
        gemm_case(ta, tb_, 2, 10, 9, 8, 1.0, 0.0, sa0=0)
# sgemm with padded leading dims
M, N, K = 9, 11, 13
A = rng.standard_normal((M, K + 3)).astype(np.float32)
Bm = rng.standard_normal((K, N + 5)).astype(np.float32)
C = np.full((M, N + 2), 7, np.float32)
call('e_sgemm', b(False), b(False), i64(M), i64(N), i64(K), f32(1),
     P(A), i64(K + 3), P(Bm), i64(N + 5), f32(0), P(C), i64(N + 2))
close('gemm ld', C[:, :N], A[:, :K] @ Bm[:, :N], rtol=1e-4, atol=1e-4)
close('gemm ld pad untouched', C[:, N:], np.full((M, 2), 7, np.float32))

# ---- random: against a numpy Philox reference of the mapping
def philox4(seed, ctr):
    M0, M1, W0, W1 = 0xD2511F53, 0xCD9E8D57, 0x9E3779B9, 0xBB67AE85
    c0, c1, c2, c3 = ctr & 0xffffffff, ctr >> 32, 0, 0
    k0, k1 = seed & 0xffffffff, seed >> 32
    for _ in range(10):
        p0, p1 = M0 * c0, M1 * c2
        c0, c1, c2, c3 = (((p1 >> 32) ^ c1 ^ k0) & 0xffffffff, p1 & 0xffffffff,
                          ((p0 >> 32) ^ c3 ^ k1) & 0xffffffff, p0 & 0xffffffff)
        k0 = (k0 + W0) & 0xffffffff
        k1 = (k1 + W1) & 0xffffffff
    return (c0, c1, c2, c3)
def word(seed, j):
    return philox4(seed, j >> 2)[j & 3]
def unit(w):
    return np.float32((w >> 8) * (1.0 / 16777216.0))
for n, seed, off in [(1, 0, 0), (13, 42, 0), (13, 42, 3), (37, 2**40 + 5, 1001), (8, 7, 2)]:
    out = np.empty(n, np.float32)
    call('e_uniform_fill', P(out), i64(n), u64(seed), u64(off), f32(-2), f32(3))
    # fma: exact product, one rounding
    want = np.array([np.float32(np.float64(np.float32(5)) * np.float64(unit(word(seed, off + i))) + -2)
                     for i in range(n)], np.float32)
    close(f'uniform {n} {seed} {off}', out, want, rtol=0, atol=0)
    out = np.empty(n, np.float32)
    call('e_normal_fill', P(out), i64(n), u64(seed), u64(off), f32(0.5), f32(2))
    want = []
    for i in range(n):  # kernels/random.h: pair p = i // 2 uses words off + 2p, off + 2p + 1
        p = i // 2
        u1 = np.float32(((word(seed, off + 2*p) >> 8) + 1) / 16777216.0)
        u2 = unit(word(seed, off + 2*p + 1))
        r = math.sqrt(-2 * math.log(u1))
        t = 2 * math.pi * float(u2)
        want.append(np.float32(0.5 + 2 * r * (math.cos(t) if i % 2 == 0 else math.sin(t))))
    close(f'normal {n} {seed} {off}', out, np.array(want, np.float32), rtol=3e-6, atol=3e-6)  # float libm
    x = rng.standard_normal(n).astype(np.float32)
    y = np.empty_like(x)
    rate = 0.3
    call('e_dropout_forward', P(y), P(x), i64(n), f32(rate), u64(seed), u64(off))
    keep = np.array([unit(word(seed, off + i)) >= np.float32(rate) for i in range(n)])
    sc = np.float32(1) / (np.float32(1) - np.float32(rate))
    close(f'dropout {n}', y, np.where(keep, x * sc, 0), rtol=0, atol=0)
    dx = np.empty_like(x)
    call('e_dropout_backward', P(dx), P(x), i64(n), f32(rate), u64(seed), u64(off))
    close('dropout_bwd', dx, y, rtol=0, atol=0)
big = np.empty(200000, np.float32)
call('e_normal_fill', P(big), i64(big.size), u64(1), u64(0), f32(0), f32(1))
print('normal stats', big.mean(), big.std())
call('e_uniform_fill', P(big), i64(big.size), u64(1), u64(0), f32(0), f32(1))
print('uniform stats', big.mean(), big.min(), big.max())

# ---- index
for (O, V, I, N) in [(1, 10, 4, 6), (3, 5, 1, 7), (2, 7, 3, 0), (1, 50, 33, 100)]:
    x = rng.standard_normal((O, V, I)).astype(np.float32)
    idx = rng.integers(0, V, N).astype(np.int64)
    out = np.empty((O, N, I), np.float32)
    call('e_index_select_forward', P(out), P(x), P(idx), i64(O), i64(V), i64(I), i64(N))
    close(f'index_select {(O,V,I,N)}', out, x[:, idx, :])
    g = rng.standard_normal((O, N, I)).astype(np.float32)
    dx = np.ones_like(x)
    call('e_index_select_backward', P(dx), P(g), P(idx), i64(O), i64(V), i64(I), i64(N))
    want = np.ones_like(x)
    np.add.at(want, (slice(None), idx, slice(None)), g)
    close(f'index_select_bwd {(O,V,I,N)}', dx, want)
for dt in (np.float32, np.int64):
    src = np.arange(60).astype(dt).reshape(3, 4, 5)
    for perm in [(0, 1, 2), (2, 0, 1), (1, 2, 0)]:
        v = src.transpose(perm)
        dst = np.empty(v.shape, dt)
        sh = np.array(v.shape, np.int64)
        ss = np.array([s // src.itemsize for s in v.strides], np.int64)
        ds = np.array([s // dst.itemsize for s in dst.strides], np.int64)
        call('e_strided_copy', P(dst), P(src), 3, P(sh), P(ds), P(ss), i64(src.itemsize))
        close(f'copy {dt.__name__} {perm}', dst, v, 0, 0)
    # negative strides (reverse) and broadcast
    dst = np.empty((3, 4, 5), dt)
    sh = np.array([3, 4, 5], np.int64)
    ss = np.array([20, 5, -1], np.int64)
    ds = np.array([20, 5, 1], np.int64)
    src_p = src.ctypes.data + 4 * src.itemsize
    L.e_strided_copy(P(dst), ct.c_void_p(src_p), 3, P(sh), P(ds), P(ss), i64(src.itemsize))
    close('copy reverse', dst, src[:, :, ::-1], 0, 0)
    dst = np.empty((3, 5), dt)
    sh = np.array([3, 5], np.int64)
    ss = np.array([0, 1], np.int64)
    ds = np.array([5, 1], np.int64)
    call('e_strided_copy', P(dst), P(src), 2, P(sh), P(ds), P(ss), i64(src.itemsize))
    close('copy broadcast', dst, np.broadcast_to(src.reshape(-1)[:5], (3, 5)), 0, 0)
# 0-d copy
s0 = np.array([3.5], np.float32)
d0 = np.zeros(1, np.float32)
call('e_strided_copy', P(d0), P(s0), 0, None, None, None, i64(4))
close('copy 0d', d0, s0)

# ---- losses (per-sample; Keras semantics)
eps = 1e-7
for (N, D) in [(1, 1), (5, 3), (4, 40), (3, 300)]:
    p = rng.standard_normal((N, D)).astype(np.float32)
    t = rng.standard_normal((N, D)).astype(np.float32)
    for nm, fn in [('mse', lambda a, b: ((a - b) ** 2).mean(-1)), ('mae', lambda a, b: (a - b).abs().mean(-1)),
                   ('bce_logits', lambda a, b: F.binary_cross_entropy_with_logits(a, b, reduction='none').mean(-1))]:
        tt = t if nm != 'bce_logits' else (t > 0).astype(np.float32)
        pt = T(p)
        lt = fn(pt, torch.tensor(tt))
        l = np.empty(N, np.float32)
        call(f'e_{nm}_forward', P(l), P(p), P(tt), i64(N), i64(D))
        close(f'{nm} {(N,D)}', l, lt.detach().numpy())
        g = rng.standard_normal(N).astype(np.float32)
        lt.backward(torch.tensor(g))
        dp = np.empty_like(p)
        call(f'e_{nm}_backward', P(dp), P(g), P(p), P(tt), i64(N), i64(D))
        close(f'{nm}_bwd {(N,D)}', dp, pt.grad.numpy())
    # bce on probabilities, including saturated ones
    pr = (1 / (1 + np.exp(-3 * p))).astype(np.float32)
    pr.flat[0] = 1.0
    tt = (t > 0).astype(np.float32)
    pt = T(pr)
    q = torch.clamp(pt, eps, 1 - eps)
    ttt = torch.tensor(tt)
    lt = (-(ttt * torch.log(q) + (1 - ttt) * torch.log(1 - q))).mean(-1)
    l = np.empty(N, np.float32)
    call('e_bce_forward', P(l), P(pr), P(tt), i64(N), i64(D), f32(eps))
    close(f'bce {(N,D)}', l, lt.detach().numpy())
    g = rng.standard_normal(N).astype(np.float32)
    lt.backward(torch.tensor(g))
    dp = np.empty_like(pr)
    call('e_bce_backward', P(dp), P(g), P(pr), P(tt), i64(N), i64(D), f32(eps))
    close(f'bce_bwd {(N,D)}', dp, pt.grad.numpy(), rtol=1e-4)
for (N, C) in [(1, 1), (5, 3), (4, 40), (3, 300)]:
    for ls in (0.0, 0.1):
        x = rng.standard_normal((N, C)).astype(np.float32)
        lab = rng.integers(0, C, N).astype(np.int64)
        soft = rng.random((N, C)).astype(np.float32)
        soft /= soft.sum(1, keepdims=True)
        prob = np.exp(x) / np.exp(x).sum(1, keepdims=True)
        prob = (prob * 1.3).astype(np.float32)  # not normalised on purpose
        for sparse in (False, True):
            tgt = np.eye(C, dtype=np.float32)[lab] if sparse else soft
            tsm = torch.tensor(tgt) * (1 - ls) + ls / C
            # logits
            xt = T(x)
            lt = -(tsm * torch.log_softmax(xt, -1)).sum(-1)
            l = np.empty(N, np.float32)
            nm = 'e_sparse_cce_logits' if sparse else 'e_cce_logits'
            tp = P(lab) if sparse else P(tgt)
            call(nm + '_forward', P(l), P(x), tp, i64(N), i64(C), f32(ls))
            close(f'{nm} {(N,C,ls)}', l, lt.detach().numpy())
            g = rng.standard_normal(N).astype(np.float32)
            lt.backward(torch.tensor(g))
            dx = np.empty_like(x)
            call(nm + '_backward', P(dx), P(g), P(x), tp, i64(N), i64(C), f32(ls))
            close(f'{nm}_bwd {(N,C,ls)}', dx, xt.grad.numpy())
            # probabilities
            pt = T(prob)
            q = torch.clamp(pt / pt.sum(-1, keepdim=True), eps, 1 - eps)
            lt = -(tsm * torch.log(q)).sum(-1)
            nm = 'e_sparse_cce' if sparse else 'e_cce'
            call(nm + '_forward', P(l), P(prob), tp, i64(N), i64(C), f32(ls), f32(eps))
            close(f'{nm} {(N,C,ls)}', l, lt.detach().numpy())
            lt.backward(torch.tensor(g))
            dp = np.empty_like(prob)
            call(nm + '_backward', P(dp), P(g), P(prob), tp, i64(N), i64(C), f32(ls), f32(eps))
            close(f'{nm}_bwd {(N,C,ls)}', dp, pt.grad.numpy(), rtol=1e-4)

# the regression, probabilistic, hinge and focal losses (Keras formulas in torch ops)
def _focal_ref(x, t, gamma, alpha, bal, logits):
    if logits:
        pr = torch.sigmoid(x)
        ce = F.binary_cross_entropy_with_logits(x, t, reduction='none')
    else:
        pr = x
        q = torch.clamp(x, eps, 1 - eps)
        ce = -(t * torch.log(q) + (1 - t) * torch.log(1 - q))
    w = t * alpha + (1 - t) * (1 - alpha) if bal else 1.0
    return (w * (1 - (t * pr + (1 - t) * (1 - pr))) ** gamma * ce).mean(-1)
def _cos_ref(p, t):
    def n(v):
        return v * torch.rsqrt(torch.clamp_min((v * v).sum(-1, keepdim=True), eps * eps))
    return -(n(t) * n(p)).sum(-1)
for (N, D) in [(1, 1), (5, 3), (4, 40), (3, 300)]:
    p = (rng.standard_normal((N, D)) * 2).astype(np.float32)
    t = rng.standard_normal((N, D)).astype(np.float32)
    pos_p = np.abs(p) + 0.05
    pos_t = np.abs(t) + 0.05
    prob = rng.uniform(0.02, 0.98, (N, D)).astype(np.float32)
    prob.flat[0] = 0.0
    tprob = rng.uniform(0.02, 0.98, (N, D)).astype(np.float32)
    pm = np.sign(t).astype(np.float32)
    pm[pm == 0] = 1
    onehot = np.eye(D, dtype=np.float32)[rng.integers(0, D, N)]
    zero_p = p.copy()
    zero_p[0] = 0  # a zero vector: Keras's normalize gives 0
    cases = [  # name, e_ suffix, pred, target, extra ctypes args, torch reference
        ('mape', 'mape', p, t, [f32(eps)],
         lambda a, b: (100 * ((b - a) / torch.clamp_min(b.abs(), eps)).abs()).mean(-1)),
        ('msle', 'msle', p, pos_t, [f32(eps)],
         lambda a, b: ((torch.log1p(torch.clamp_min(a, eps)) - torch.log1p(b)) ** 2).mean(-1)),
        ('huber', 'huber', p, t, [f32(0.7)], lambda a, b: F.huber_loss(a, b, reduction='none', delta=0.7).mean(-1)),
        ('log_cosh', 'log_cosh', p * 30, t, [],
         lambda a, b: (torch.abs(a - b) + F.softplus(-2 * torch.abs(a - b)) - math.log(2)).mean(-1)),
        ('poisson', 'poisson', pos_p, pos_t, [f32(eps)],
         lambda a, b: F.poisson_nll_loss(a, b, log_input=False, full=False, eps=eps, reduction='none').mean(-1)),
        ('kld', 'kld', prob, tprob, [f32(eps)],
         lambda a, b: (torch.clamp(b, eps, 1) * torch.log(torch.clamp(b, eps, 1) / torch.clamp(a, eps, 1))).sum(-1)),
        ('hinge', 'hinge', p, pm, [], lambda a, b: torch.relu(1 - a * b).mean(-1)),
        ('squared_hinge', 'squared_hinge', p, pm, [], lambda a, b: (torch.relu(1 - a * b) ** 2).mean(-1)),
        ('categorical_hinge', 'categorical_hinge', p, onehot, [],
         lambda a, b: torch.relu(((1 - b) * a).amax(-1) - (b * a).sum(-1) + 1)),
        ('cosine', 'cosine', zero_p, t, [f32(eps)], _cos_ref),
    ]
    for gamma, alpha, bal in [(2.0, 0.25, False), (0.0, 0.25, True), (1.5, 0.6, True), (3.0, 0.25, True)]:
        tt = (tprob > 0.5).astype(np.float32)
        cases.append((f'focal g={gamma} bal={bal}', 'focal', prob, tt, [f32(gamma), f32(alpha), b(bal), f32(eps)],
                      lambda a, c, g=gamma, al=alpha, bl=bal: _focal_ref(a, c, g, al, bl, False)))
        xl = p * 3
        xl.flat[0] = 1e4
        if xl.size > 1:
            xl.flat[1] = -1e4
        cases.append((f'focal_logits g={gamma} bal={bal}', 'focal_logits', xl, tt, [f32(gamma), f32(alpha), b(bal)],
                      lambda a, c, g=gamma, al=alpha, bl=bal: _focal_ref(a, c, g, al, bl, True)))
    for nm, fn, pp, tt, extra, ref in cases:
        pp = np.ascontiguousarray(pp, np.float32)
        tt = np.ascontiguousarray(tt, np.float32)
        pt = T(pp)
        lt = ref(pt, torch.tensor(tt))
        l = np.empty(N, np.float32)
        call(f'e_{fn}_forward', P(l), P(pp), P(tt), i64(N), i64(D), *extra)
        close(f'{nm} {(N,D)}', l, lt.detach().numpy(), rtol=2e-5)
        g = rng.standard_normal(N).astype(np.float32)
        lt.backward(torch.tensor(g))
        dp = np.empty_like(pp)
        call(f'e_{fn}_backward', P(dp), P(g), P(pp), P(tt), i64(N), i64(D), *extra)
        close(f'{nm}_bwd {(N,D)}', dp, pt.grad.numpy(), rtol=1e-4)

# ---- optimizer updates (kernels/optim.h) against float64 NumPy, 3 steps, with the gradient prep
for n in [1, 7, 300, 70000]:
    w0 = rng.standard_normal(n).astype(np.float32)
    gs = [rng.standard_normal(n).astype(np.float32) for _ in range(3)]
    for (sc, cl, dc) in [(1.0, math.inf, 0.0), (0.5, 0.7, 0.01)]:
        def pg(g, sc=sc, cl=cl):
            return np.clip(g.astype(np.float64) * sc, -cl, cl)
        # sgd, momentum + nesterov
        w = w0.copy()
        v = np.zeros(n, np.float32)
        rw = w0.astype(np.float64)
        rv = np.zeros(n)
        for g in gs:
            call('e_sgd_update', P(w), P(v), P(g), i64(n), f32(0.1), f32(0.9), b(True), f32(sc), f32(cl), f32(dc))
            gg = pg(g)
            rw = rw - rw * dc
            rv = rv * 0.9 - gg * 0.1
            rw = rw + rv * 0.9 - gg * 0.1
        close(f'sgd n={n} prep={sc}', w, rw)
        # adagrad
        w = w0.copy()
        a = np.full(n, 0.1, np.float32)
        rw = w0.astype(np.float64)
        ra = np.full(n, 0.1)
        for g in gs:
            call('e_adagrad_update', P(w), P(a), P(g), i64(n), f32(0.1), f32(1e-7), f32(sc), f32(cl), f32(dc))
            gg = pg(g)
            rw = rw - rw * dc
            ra = ra + gg * gg
            rw = rw - 0.1 * gg / np.sqrt(ra + 1e-7)
        close(f'adagrad n={n} prep={sc}', w, rw)
        # rmsprop, centered + momentum
        w = w0.copy()
        v, m, ga = (np.zeros(n, np.float32) for _ in range(3))
        rw = w0.astype(np.float64)
        rv, rm, rga = (np.zeros(n) for _ in range(3))
        for g in gs:
            call('e_rmsprop_update', P(w), P(v), P(m), P(ga), P(g), i64(n),
                 f32(0.01), f32(0.9), f32(0.5), f32(1e-7), f32(sc), f32(cl), f32(dc))
            gg = pg(g)
            rw = rw - rw * dc
            rv = 0.9 * rv + 0.1 * gg * gg
            rga = 0.9 * rga + 0.1 * gg
            rm = 0.5 * rm + 0.01 * gg / np.sqrt(rv - rga * rga + 1e-7)
            rw = rw - rm
        close(f'rmsprop n={n} prep={sc}', w, rw, rtol=1e-4)
        # adam, amsgrad
        w = w0.copy()
        m, v, vh = (np.zeros(n, np.float32) for _ in range(3))
        rw = w0.astype(np.float64)
        rm, rv, rvh = (np.zeros(n) for _ in range(3))
        for t, g in enumerate(gs, 1):
            al = 0.01 * math.sqrt(1 - 0.999 ** t) / (1 - 0.9 ** t)
            call('e_adam_update', P(w), P(m), P(v), P(vh), P(g), i64(n),
                 f32(al), f32(0.9), f32(0.999), f32(1e-7), f32(sc), f32(cl), f32(dc))
            gg = pg(g)
            rw = rw - rw * dc
            rm = rm + (gg - rm) * 0.1
            rv = rv + (gg * gg - rv) * 0.001
            rvh = np.maximum(rvh, rv)
            rw = rw - al * rm / (np.sqrt(rvh) + 1e-7)
        close(f'adam n={n} prep={sc}', w, rw, rtol=1e-4)
        # adamax
        w = w0.copy()
        m, u = (np.zeros(n, np.float32) for _ in range(2))
        rw = w0.astype(np.float64)
        rm, ru = np.zeros(n), np.zeros(n)
        for t, g in enumerate(gs, 1):
            lt = 0.01 / (1 - 0.9 ** t)
            call('e_adamax_update', P(w), P(m), P(u), P(g), i64(n),
                 f32(lt), f32(0.9), f32(0.999), f32(1e-7), f32(sc), f32(cl), f32(dc))
            gg = pg(g)
            rw = rw - rw * dc
            rm = rm + (gg - rm) * 0.1
            ru = np.maximum(0.999 * ru, np.abs(gg))
            rw = rw - lt * rm / (ru + 1e-7)
        close(f'adamax n={n} prep={sc}', w, rw, rtol=1e-4)
        # nadam (arbitrary per-step scalars: the kernel only combines them)
        w = w0.copy()
        m, v = (np.zeros(n, np.float32) for _ in range(2))
        rw = w0.astype(np.float64)
        rm, rv = np.zeros(n), np.zeros(n)
        for t, g in enumerate(gs, 1):
            cm, cg, cv = 0.5 / t, 0.3 / t, 1 / (1 - 0.999 ** t)
            call('e_nadam_update', P(w), P(m), P(v), P(g), i64(n), f32(0.01), f32(0.9), f32(0.999), f32(1e-7),
                 f32(cm), f32(cg), f32(cv), f32(sc), f32(cl), f32(dc))
            gg = pg(g)
            rw = rw - rw * dc
            rm = rm + (gg - rm) * 0.1
            rv = rv + (gg * gg - rv) * 0.001
            rw = rw - 0.01 * (cm * rm + cg * gg) / (np.sqrt(rv * np.float32(cv)) + 1e-7)
        close(f'nadam n={n} prep={sc}', w, rw, rtol=1e-4)
        # adadelta
        w = w0.copy()
        ag, ad = (np.zeros(n, np.float32) for _ in range(2))
        rw = w0.astype(np.float64)
        rag, rad = np.zeros(n), np.zeros(n)
        for g in gs:
            call('e_adadelta_update', P(w), P(ag), P(ad), P(g), i64(n),
                 f32(1.0), f32(0.95), f32(1e-7), f32(sc), f32(cl), f32(dc))
            gg = pg(g)
            rw = rw - rw * dc
            rag = 0.95 * rag + 0.05 * gg * gg
            d = -np.sqrt(rad + 1e-7) * gg / np.sqrt(rag + 1e-7)
            rad = 0.95 * rad + 0.05 * d * d
            rw = rw + d
        close(f'adadelta n={n} prep={sc}', w, rw, rtol=1e-4)
    out = ct.c_double(0)
    call('e_sum_squares', P(w0), i64(n), ct.byref(out))
    close(f'sum_squares n={n}', np.array(out.value), np.sum(w0.astype(np.float64) ** 2), rtol=1e-6)

# ---- row-sparse gradients: row_coalesce against np.add.at, and every *_update_sparse against the
# dense kernel on the densified gradient (the same per-element body: equal to rounding)
for (N, V, D) in [(1, 1, 1), (12, 50, 7), (300, 40, 3), (700, 2000, 5)]:
    idx = rng.integers(0, V, size=N).astype(np.int64)
    rows = rng.standard_normal((N, D)).astype(np.float32)
    oi = np.empty(N, np.int64)
    ov = np.empty((N, D), np.float32)
    U = ct.c_int64(0)
    call('e_row_coalesce', P(oi), P(ov), P(idx), P(rows), i64(N), i64(V), i64(D), ct.byref(U))
    want_i = np.unique(idx)
    dense = np.zeros((V, D), np.float64)
    np.add.at(dense, idx, rows.astype(np.float64))
    close(f'row_coalesce idx {(N, V, D)}', oi[:U.value], want_i)
    close(f'row_coalesce rows {(N, V, D)}', ov[:U.value], dense[want_i])
SP = [('sgd', 1, (f32(0.1), f32(0.0), b(False))),
      ('sgd', 1, (f32(0.1), f32(0.9), b(True))),
      ('adagrad', 1, (f32(0.1), f32(1e-7))),
      ('rmsprop', 3, (f32(0.01), f32(0.9), f32(0.5), f32(1e-7))),
      ('adam', 3, (f32(0.01), f32(0.9), f32(0.999), f32(1e-7))),
      ('adamax', 2, (f32(0.01), f32(0.9), f32(0.999), f32(1e-7))),
      ('nadam', 2, (f32(0.01), f32(0.9), f32(0.999), f32(1e-7), f32(0.5), f32(0.3), f32(1.2))),
      ('adadelta', 2, (f32(1.0), f32(0.95), f32(1e-7)))]
for (rows_, cols, nnz) in [(1, 1, 1), (50, 7, 12), (64, 33, 0), (300, 5, 299)]:
    w0 = rng.standard_normal((rows_, cols)).astype(np.float32)
    for name, nslots, args in SP:
        for (sc, cl, dc) in [(1.0, math.inf, 0.0), (0.5, 0.7, 0.01)]:
            ws, wd = w0.copy(), w0.copy()
            ss = [np.full((rows_, cols), 0.1 if name == 'adagrad' else 0.0, np.float32) for _ in range(nslots)]
            sd = [x.copy() for x in ss]
            for _ in range(3):
                idx = np.sort(rng.choice(rows_, size=nnz, replace=False)).astype(np.int64)
                vals = rng.standard_normal((nnz, cols)).astype(np.float32)
                g = np.zeros((rows_, cols), np.float32)
                g[idx] = vals
                call(f'e_{name}_update_sparse', P(ws), *[P(x) for x in ss], P(idx), P(vals),
                     i64(nnz), i64(rows_), i64(cols), *args, f32(sc), f32(cl), f32(dc))
                call(f'e_{name}_update', P(wd), *[P(x) for x in sd], P(g), i64(rows_ * cols),
                     *args, f32(sc), f32(cl), f32(dc))
            close(f'{name}_sparse {(rows_, cols, nnz)} prep={sc}', ws, wd, rtol=1e-6, atol=1e-7)
            for k in range(nslots):
                close(f'{name}_sparse slot{k} {(rows_, cols, nnz)} prep={sc}', ss[k], sd[k], rtol=1e-6, atol=1e-7)
# ---- conv2d (im2col / col2im + GEMM), against torch with explicit padding; NHWC by permuting
def conv_case(N, H, W, C, OC, KH, KW, s, pads, d, groups, cl):
    keff = ((KH - 1) * d[0] + 1, (KW - 1) * d[1] + 1)
    OH = (H + pads[0] + pads[1] - keff[0]) // s[0] + 1
    OW = (W + pads[2] + pads[3] - keff[1]) // s[1] + 1
    v = np.array([N, H, W, C, OH, OW, OC, KH, KW, s[0], s[1], *pads, d[0], d[1], groups], np.int64)
    xs = (N, H, W, C) if cl else (N, C, H, W)
    ys = (N, OH, OW, OC) if cl else (N, OC, OH, OW)
    x = rng.standard_normal(xs).astype(np.float32)
    w = rng.standard_normal((KH, KW, C // groups, OC)).astype(np.float32)
    bias = rng.standard_normal(OC).astype(np.float32)
    cb = rng.standard_normal(C).astype(np.float32)
    xt, wt, bt = T(x), T(w), T(bias)
    xn = xt.permute(0, 3, 1, 2) if cl else xt
    yt = F.conv2d(F.pad(xn, (pads[2], pads[3], pads[0], pads[1])), wt.permute(3, 2, 0, 1), bt,
                  stride=s, dilation=d, groups=groups)
    yt = torch.relu(yt.permute(0, 2, 3, 1) if cl else yt)
    tag = f'conv {xs} k=({KH},{KW}) s={s} p={pads} d={d} g={groups} cl={cl}'
    y = np.empty(ys, np.float32)
    call('e_conv2d_forward', P(y), P(x), P(w), P(bias), 1, P(v), b(cl))
    close(tag + ' fwd', y, yt.detach().numpy(), rtol=1e-4, atol=1e-4)
    g = rng.standard_normal(ys).astype(np.float32)
    yt.backward(torch.tensor(g))
    gz = g * (y > 0)  # the kernels below take the gradient after the activation
    dx = np.empty(xs, np.float32)
    call('e_conv2d_backward_data', P(dx), P(gz), P(w), P(cb), P(v), b(cl))
    close(tag + ' dx', dx, xt.grad.numpy() + (cb if cl else cb[:, None, None]), rtol=1e-4, atol=1e-4)
    dw = np.empty(w.shape, np.float32)
    db = np.empty(OC, np.float32)
    call('e_conv2d_backward_weight', P(dw), P(db), P(gz), P(x), P(v), b(cl))
    close(tag + ' dw', dw, wt.grad.numpy(), rtol=1e-4, atol=1e-3)
    close(tag + ' db', db, bt.grad.numpy(), rtol=1e-4, atol=1e-3)
for cl in (True, False):
    conv_case(2, 7, 6, 3, 4, 3, 3, (1, 1), (1, 1, 1, 1), (1, 1), 1, cl)
    conv_case(2, 9, 8, 4, 6, 5, 2, (2, 3), (1, 2, 0, 1), (1, 1), 2, cl)
    conv_case(1, 8, 9, 3, 6, 3, 3, (2, 2), (0, 1, 0, 1), (1, 1), 3, cl)  # depthwise, multiplier 2
    conv_case(2, 4, 5, 4, 3, 1, 1, (1, 1), (0, 0, 0, 0), (1, 1), 1, cl)  # direct 1x1
    conv_case(1, 9, 9, 2, 3, 3, 2, (1, 1), (2, 2, 1, 1), (2, 3), 1, cl)  # dilation
# ---- recurrent layers: the ops loop on the emulated gate kernels against torch's nn.RNN/LSTM/GRU
# (no mask) and a float64 step loop of Keras's formulas (masks, go_backwards, reset_after=False)
L.e_rnn_workspace_size.restype = i64
L.e_rnn_scratch_size.restype = i64
def np_act(a, x):
    return [lambda v: v, np.tanh, lambda v: 1 / (1 + np.exp(-v)), lambda v: np.maximum(v, 0),
            lambda v: np.clip(v / 6 + 0.5, 0, 1)][a](x)
def ref_rnn(cell, act, ract, gb, zo, rs, x, W, Ur, bias, h0, c0, mask):
    """Keras 3's step loop (backend rnn with masks) in float64 torch, for values and gradients."""
    B, T, _ = x.shape
    U = Ur.shape[0]
    fa = [lambda v: v, torch.tanh, torch.sigmoid, torch.relu, lambda v: torch.clamp(v / 6 + 0.5, 0, 1)]
    A, S = fa[act], fa[ract]
    h, c, prev, outs = h0, c0, torch.zeros_like(h0), []
    for s in range(T):
        t = T - 1 - s if gb else s
        xt = x[:, t]
        if cell == 0:
            hn = A(xt @ W + bias + h @ Ur)
            cn = c
        elif cell == 1:
            g = xt @ W + bias + h @ Ur
            i, f, cc, o = g.split(U, 1)
            cn = S(f) * c + S(i) * A(cc)
            hn = S(o) * A(cn)
        elif cell == 2:
            gx = xt @ W + bias[0]
            gr = h @ Ur + bias[1]
            z = S(gx[:, :U] + gr[:, :U])
            r = S(gx[:, U:2*U] + gr[:, U:2*U])
            hh = A(gx[:, 2*U:] + r * gr[:, 2*U:])
            hn = z * h + (1 - z) * hh
            cn = c
        else:
            gx = xt @ W + bias
            z = S(gx[:, :U] + h @ Ur[:, :U])
            r = S(gx[:, U:2*U] + h @ Ur[:, U:2*U])
            hh = A(gx[:, 2*U:] + (r * h) @ Ur[:, 2*U:])
            hn = z * h + (1 - z) * hh
            cn = c
        m = mask[:, t:t+1] > 0 if mask is not None else torch.ones(B, 1, dtype=torch.bool)
        out = torch.where(m, hn, torch.zeros_like(hn) if zo else prev)
        h = torch.where(m, hn, h)
        c = torch.where(m, cn, c)
        prev = out
        outs.append(out)
    return (torch.stack(outs, 1) if rs else outs[-1]), h, c
for cell, k in [(0, 1), (1, 4), (2, 3), (3, 3)]:
    for (B, Ts, I, U, gb, zo, rs, masked, act) in [(3, 4, 5, 7, False, False, True, False, 1),
                                                 (2, 5, 3, 33, True, False, False, True, 1),
                                                 (4, 3, 2, 5, False, True, True, True, 3 if cell == 0 else 1)]:
        ract = 2 if cell else 1
        x = rng.standard_normal((B, Ts, I)).astype(np.float32)
        W = (rng.standard_normal((I, k * U)) * .4).astype(np.float32)
        Ur = (rng.standard_normal((U, k * U)) * .4).astype(np.float32)
        bias = (rng.standard_normal((2, k * U) if cell == 2 else (k * U,)) * .3).astype(np.float32)
        h0 = rng.standard_normal((B, U)).astype(np.float32)
        c0 = rng.standard_normal((B, U)).astype(np.float32) if cell == 1 else None
        mask = (rng.random((B, Ts)) > 0.4).astype(np.float32) if masked else None
        y = np.empty((B, Ts, U) if rs else (B, U), np.float32)
        hT = np.empty((B, U), np.float32)
        cT = np.empty((B, U), np.float32) if cell == 1 else None
        ws = np.empty(L.e_rnn_workspace_size(cell, i64(B), i64(Ts), i64(U)), np.float32)
        call('e_rnn_forward', cell, act, ract, b(gb), b(zo), b(rs), i64(B), i64(Ts), i64(I), i64(U),
             P(x), P(W), P(Ur), P(bias), P(h0), P(c0), P(mask), P(y), P(hT), P(cT), P(ws))
        def D(a):
            return torch.tensor(a, dtype=torch.float64, requires_grad=True)
        tx, tW, tU, tb, th = D(x), D(W), D(Ur), D(bias), D(h0)
        tc = D(c0) if c0 is not None else torch.zeros(B, U, dtype=torch.float64)
        ry, rh, rc = ref_rnn(cell, act, ract, gb, zo, rs, tx, tW, tU, tb, th, tc,
                             torch.tensor(mask) if masked else None)
        name = f'rnn cell={cell} B={B} Ts={Ts} U={U} gb={gb} zo={zo} rs={rs} mask={masked}'
        close(name + ' y', y, ry.detach().numpy(), rtol=1e-4, atol=1e-5)
        close(name + ' hT', hT, rh.detach().numpy(), rtol=1e-4, atol=1e-5)
        if cell == 1:
            close(name + ' cT', cT, rc.detach().numpy(), rtol=1e-4, atol=1e-5)
        dy = rng.standard_normal(y.shape).astype(np.float32)
        dh = rng.standard_normal((B, U)).astype(np.float32)
        dc = rng.standard_normal((B, U)).astype(np.float32)
        loss = (ry * torch.tensor(dy, dtype=torch.float64)).sum() + (rh * torch.tensor(dh, dtype=torch.float64)).sum()
        if cell == 1:
            loss = loss + (rc * torch.tensor(dc, dtype=torch.float64)).sum()
        loss.backward()
        dx = np.empty_like(x)
        dW = np.empty_like(W)
        dU = np.empty_like(Ur)
        db = np.empty_like(bias)
        dh0 = np.empty_like(h0)
        dc0 = np.empty_like(h0) if cell == 1 else None
        scratch = np.empty(L.e_rnn_scratch_size(cell, i64(B), i64(Ts), i64(U)), np.float32)
        call('e_rnn_backward', cell, act, ract, b(gb), b(zo), b(rs), i64(B), i64(Ts), i64(I), i64(U),
             P(x), P(W), P(Ur), P(mask), P(ws), P(dy), P(dh), P(dc if cell == 1 else None),
             P(dx), P(dW), P(dU), P(db), P(dh0), P(dc0), P(scratch))
        grads = [('dx', dx, tx), ('dW', dW, tW), ('dU', dU, tU), ('db', db, tb), ('dh0', dh0, th)]
        for nm, got, ref in grads + ([('dc0', dc0, tc)] if cell == 1 else []):
            close(name + ' ' + nm, got, ref.grad.numpy(), rtol=1e-4, atol=1e-4)
        print('checked', name)
# ---- pooling (TF 'same' geometry) and bilinear resize, both layouts, against torch
def geom(N, C, H, W, k, s, same):
    if same:
        OH, OW = -(-H // s[0]), -(-W // s[1])
        ph, pw = max((OH - 1) * s[0] + k[0] - H, 0), max((OW - 1) * s[1] + k[1] - W, 0)
    else:
        OH, OW, ph, pw = (H - k[0]) // s[0] + 1, (W - k[1]) // s[1] + 1, 0, 0
    return np.array([N, C, H, W, OH, OW, k[0], k[1], s[0], s[1], ph // 2, pw // 2], np.int64), (ph, pw)
def nan_out(*shape, dt=np.float32):
    return np.full(shape, np.nan if dt == np.float32 else -5, dt)
for (N, C, H, W, k, s, same) in [(2, 3, 7, 5, (2, 2), (2, 2), False), (1, 4, 9, 8, (3, 3), (2, 2), True),
                                 (2, 2, 5, 5, (3, 2), (1, 3), True), (1, 5, 6, 7, (4, 4), (3, 3), True),
                                 (3, 1, 1, 9, (1, 3), (1, 2), False)]:
    v, (ph, pw) = geom(N, C, H, W, k, s, same)
    OH, OW = int(v[4]), int(v[5])
    x = rng.standard_normal((N, C, H, W)).astype(np.float32)
    for cl in (True, False):
        xin = np.ascontiguousarray(x.transpose(0, 2, 3, 1)) if cl else x
        to = (lambda a: np.ascontiguousarray(a.transpose(0, 2, 3, 1))) if cl else (lambda a: a)
        tag = f'{(N, C, H, W)} k={k} s={s} same={same} cl={cl}'
        xt = T(x)
        pad = (pw // 2, pw - pw // 2, ph // 2, ph - ph // 2)
        yt = F.max_pool2d(F.pad(xt, pad, value=-math.inf), k, s)
        y = nan_out(*to(yt.detach().numpy()).shape)
        am = nan_out(*y.shape, dt=np.int64)
        call('e_max_pool2d_forward', P(y), P(am), P(xin), P(v), b(cl))
        close('max_pool fwd ' + tag, y, to(yt.detach().numpy()))
        g = rng.standard_normal(yt.shape).astype(np.float32)
        yt.backward(torch.tensor(g))
        dx = nan_out(*xin.shape)
        call('e_max_pool2d_backward', P(dx), P(to(g)), P(am), P(v), b(cl))
        close('max_pool bwd ' + tag, dx, to(xt.grad.numpy()))
        xt = T(x)
        sm = F.avg_pool2d(F.pad(xt, pad), k, s, divisor_override=1)
        cnt = F.avg_pool2d(F.pad(torch.ones_like(xt), pad), k, s, divisor_override=1)
        yt = sm / cnt
        y = nan_out(*to(yt.detach().numpy()).shape)
        call('e_avg_pool2d_forward', P(y), P(xin), P(v), b(cl))
        close('avg_pool fwd ' + tag, y, to(yt.detach().numpy()))
        yt.backward(torch.tensor(g))
        dx = nan_out(*xin.shape)
        call('e_avg_pool2d_backward', P(dx), P(to(g)), P(v), b(cl))
        close('avg_pool bwd ' + tag, dx, to(xt.grad.numpy()))
    for (OH, OW) in [(2 * H, 2 * W), (3 * H, W + 1)]:
        v = np.array([N, C, H, W, OH, OW, 1, 1, 1, 1, 0, 0], np.int64)
        for cl in (True, False):
            xin = np.ascontiguousarray(x.transpose(0, 2, 3, 1)) if cl else x
            to = (lambda a: np.ascontiguousarray(a.transpose(0, 2, 3, 1))) if cl else (lambda a: a)
            xt = T(x)
            yt = F.interpolate(xt, size=(OH, OW), mode='bilinear', align_corners=False)
            y = nan_out(*to(yt.detach().numpy()).shape)
            call('e_resize_bilinear_forward', P(y), P(xin), P(v), b(cl))
            close(f'bilinear fwd {(N, C, H, W)}->{(OH, OW)} cl={cl}', y, to(yt.detach().numpy()))
            g = rng.standard_normal(yt.shape).astype(np.float32)
            yt.backward(torch.tensor(g))
            dx = nan_out(*xin.shape)
            call('e_resize_bilinear_backward', P(dx), P(to(g)), P(v), b(cl))
            close(f'bilinear bwd {(N, C, H, W)}->{(OH, OW)} cl={cl}', dx, to(xt.grad.numpy()), rtol=1e-4)

# ---- batch norm (x as (O, C, I)) and layer norm against torch
for (O, C, I) in [(7, 3, 1), (300, 5, 1), (4, 6, 33), (1, 2, 700), (2, 1, 1)]:
    x = (rng.standard_normal((O, C, I)) * 2 + 1).astype(np.float32)
    gm = rng.uniform(0.5, 1.5, C).astype(np.float32)
    bt = rng.standard_normal(C).astype(np.float32)
    m = nan_out(C)
    v = nan_out(C)
    call('e_batch_norm_stats', P(m), P(v), P(x), i64(O), i64(C), i64(I))
    close(f'bn stats mean {(O, C, I)}', m, x.astype(np.float64).mean((0, 2)), rtol=1e-5)
    close(f'bn stats var {(O, C, I)}', v, x.astype(np.float64).var((0, 2)), rtol=1e-5)
    for training in (True, False):
        xt, gt, btt = T(x.transpose(0, 1, 2).reshape(O, C, I)), T(gm), T(bt)
        if training:
            mm, vv = torch.tensor(m), torch.tensor(v)
        else:
            mm = torch.tensor(rng.standard_normal(C).astype(np.float32))
            vv = torch.tensor(rng.uniform(0.5, 2, C).astype(np.float32))
        yt = F.batch_norm(xt, None if training else mm, None if training else vv, gt, btt, training, 0.0, 1e-3)
        if training:
            mm, vv = torch.tensor(m), torch.tensor(v)
        y = nan_out(O, C, I)
        call('e_batch_norm_forward', P(y), P(x), P(mm.numpy()), P(vv.numpy()), P(gm), P(bt),
             i64(O), i64(C), i64(I), f32(1e-3))
        close(f'bn fwd {(O, C, I)} training={training}', y, yt.detach().numpy(), rtol=1e-4, atol=1e-4)
        if O * I < 2:
            continue
        g = rng.standard_normal((O, C, I)).astype(np.float32)
        yt.backward(torch.tensor(g))
        dx, dg, db = nan_out(O, C, I), nan_out(C), nan_out(C)
        call('e_batch_norm_backward', P(dx), P(dg), P(db), P(g), P(x), P(mm.numpy()), P(vv.numpy()), P(gm),
             i64(O), i64(C), i64(I), f32(1e-3), b(training))
        close(f'bn bwd dx {(O, C, I)} training={training}', dx, xt.grad.numpy(), rtol=1e-4, atol=1e-4)
        close(f'bn bwd dgamma {(O, C, I)} training={training}', dg, gt.grad.numpy(), rtol=1e-4, atol=1e-4)
        close(f'bn bwd dbeta {(O, C, I)} training={training}', db, btt.grad.numpy(), rtol=1e-4, atol=1e-4)
for (R, D) in [(5, 7), (3, 300), (1, 1), (40, 33)]:
    x = rng.standard_normal((R, D)).astype(np.float32)
    gm = rng.uniform(0.5, 1.5, D).astype(np.float32)
    bt = rng.standard_normal(D).astype(np.float32)
    xt, gt, btt = T(x), T(gm), T(bt)
    yt = F.layer_norm(xt, (D,), gt, btt, 1e-3)
    y, m, r = nan_out(R, D), nan_out(R), nan_out(R)
    call('e_layer_norm_forward', P(y), P(m), P(r), P(x), P(gm), P(bt), i64(R), i64(D), f32(1e-3))
    close(f'ln fwd {(R, D)}', y, yt.detach().numpy(), rtol=1e-4, atol=1e-4)
    g = rng.standard_normal((R, D)).astype(np.float32)
    yt.backward(torch.tensor(g))
    dx, dg, db = nan_out(R, D), nan_out(D), nan_out(D)
    call('e_layer_norm_backward', P(dx), P(dg), P(db), P(g), P(x), P(m), P(r), P(gm), i64(R), i64(D))
    close(f'ln bwd dx {(R, D)}', dx, xt.grad.numpy(), rtol=1e-4, atol=1e-4)
    close(f'ln bwd dgamma {(R, D)}', dg, gt.grad.numpy(), rtol=1e-4, atol=1e-4)
    close(f'ln bwd dbeta {(R, D)}', db, btt.grad.numpy(), rtol=1e-4, atol=1e-4)

# ---- image resampling: affine / projective pass and half-pixel resize, both layouts, against
# float64 references (the input extended with np.pad; resize as interpolation matrices)
PADM = {0: 'symmetric', 1: 'wrap', 2: 'constant', 3: 'edge'}  # FillMode: reflect wrap constant nearest
def ref_affine(x, t, interp, mode, fv, oh, ow):
    B, H, W, C = x.shape
    p = 4 * max(H, W) + 2
    ext = np.pad(x.astype(np.float64), ((0, 0), (p, p), (p, p), (0, 0)), mode=PADM[mode],
                 **({'constant_values': fv} if mode == 2 else {}))
    ys, xs = np.meshgrid(np.arange(oh, dtype=np.float64), np.arange(ow, dtype=np.float64), indexing='ij')
    out = np.empty((B, oh, ow, C))
    for i in range(B):
        a = t[i if len(t) > 1 else 0]
        k = a[6] * xs + a[7] * ys + 1
        X = (a[0] * xs + a[1] * ys + a[2]) / k
        Y = (a[3] * xs + a[4] * ys + a[5]) / k
        e = ext[i]
        if interp == 0:
            out[i] = e[np.rint(Y).astype(int) + p, np.rint(X).astype(int) + p]
            continue
        x0, y0 = np.floor(X), np.floor(Y)
        ax, ay = (X - x0)[..., None], (Y - y0)[..., None]
        r, q = y0.astype(int) + p, x0.astype(int) + p
        out[i] = ((1 - ay) * ((1 - ax) * e[r, q] + ax * e[r, q + 1])
                  + ay * ((1 - ax) * e[r + 1, q] + ax * e[r + 1, q + 1]))
    return out
def resize_mat(n_in, n_out, interp):
    m = np.zeros((n_out, n_in))
    sc = n_in / n_out
    for i in range(n_out):
        if interp == 0:
            m[i, min(math.floor((i + 0.5) * sc), n_in - 1)] = 1
            continue
        s_ = min(max((i + 0.5) * sc - 0.5, 0.0), n_in - 1)
        i0 = math.floor(s_)
        m[i, i0] += 1 - (s_ - i0)
        m[i, min(i0 + 1, n_in - 1)] += s_ - i0
    return m
for (B, H, W, C, OH, OW) in [(2, 7, 10, 1, 7, 10), (3, 9, 5, 3, 6, 11), (1, 1, 1, 2, 3, 2), (2, 6, 7, 33, 6, 7)]:
    x = rng.random((B, H, W, C), dtype=np.float32)
    rows = []
    for _ in range(B):
        ang, z = rng.uniform(-math.pi, math.pi), rng.uniform(0.4, 2.5)
        cc, ss = math.cos(ang) * z, math.sin(ang) * z
        cx, cy = (W - 1) / 2, (H - 1) / 2
        rows.append([cc, -ss, cx - cc * cx + ss * cy + rng.uniform(-1.5, 1.5) * W,
                     ss, cc, cy - ss * cx - cc * cy + rng.uniform(-1.5, 1.5) * H,
                     rng.uniform(-0.2, 0.2) / W, rng.uniform(-0.2, 0.2) / H])
    t = np.ascontiguousarray(rows, dtype=np.float64)
    for shared in (False, True):
        tt = t[:1].copy() if shared else t
        for interp in (0, 1):
            for mode in range(4):
                want = ref_affine(x, tt, interp, mode, -0.6, OH, OW)
                for cf in (False, True):
                    xin = np.ascontiguousarray(x.transpose(0, 3, 1, 2)) if cf else x
                    out = np.empty((B, C, OH, OW) if cf else (B, OH, OW, C), np.float32)
                    call('e_affine', b(cf), P(out), P(xin), i64(B), i64(H), i64(W), i64(C), i64(OH), i64(OW),
                         P(tt), i64(0 if shared else 8), interp, mode, f32(-0.6))
                    close(f'affine interp={interp} mode={mode} cf={cf} shared={shared} {(B, H, W, C, OH, OW)}',
                          out.transpose(0, 2, 3, 1) if cf else out, want, rtol=1e-5, atol=2e-6)
    for interp in (0, 1):
        for (top, left, CH, CW) in [(0, 0, H, W), (H // 3, W // 4, H - H // 3, W - W // 4)]:
            crop = x[:, top:top + CH, left:left + CW].astype(np.float64)
            want = np.einsum('yh,bhwc,xw->byxc', resize_mat(CH, OH + 2, interp), crop, resize_mat(CW, OW + 3, interp))
            for cf in (False, True):
                xin = np.ascontiguousarray(x.transpose(0, 3, 1, 2)) if cf else x
                out = np.empty((B, C, OH + 2, OW + 3) if cf else (B, OH + 2, OW + 3, C), np.float32)
                call('e_resize', b(cf), P(out), P(xin), i64(B), i64(H), i64(W), i64(C),
                     i64(top), i64(left), i64(CH), i64(CW), i64(OH + 2), i64(OW + 3), interp)
                close(f'resize interp={interp} cf={cf} crop={(top, left, CH, CW)} {(B, H, W, C)}',
                      out.transpose(0, 2, 3, 1) if cf else out, want, rtol=1e-5, atol=2e-6)
# a degenerate projective row (k = 0 inside the image): finite results, the fill value there
x = rng.random((1, 4, 5, 2), dtype=np.float32)
out = np.empty_like(x)
t = np.array([1, 0, 0, 0, 1, 0, -0.5, 0], np.float64)
call('e_affine', b(False), P(out), P(x), i64(1), i64(4), i64(5), i64(2), i64(4), i64(5), P(t), i64(0), 1, 2, f32(7.0))
close('affine degenerate projective', out[0, :, 2], np.full((4, 2), 7.0))
close('affine degenerate finite', np.isfinite(out).astype(np.float32), np.ones_like(out))

# ---- memory
L.e_alloc.restype = ct.c_void_p
p1 = L.e_alloc(i64(1000))
L.e_free(ct.c_void_p(p1))
p2 = L.e_alloc(i64(1020))
if p1 != p2:
    fails.append('the caching allocator did not reuse a freed block of the same size class')
L.e_free(ct.c_void_p(p2))
L.e_set_limit(ct.c_long(1 << 20))
p3 = L.e_alloc(i64(5 << 20))
if p3 is not None:
    fails.append('an allocation over the emulated device limit was not refused')
L.e_set_limit(ct.c_long(-1))
f = np.zeros(1000, np.float32)
call('e_fill_f32', P(f), f32(2.5), i64(1000))
close('fill', f, np.full(1000, 2.5, np.float32))
f = np.zeros(33, np.int64)
call('e_fill_i64', P(f), i64(-7), i64(33))
close('fill64', f, np.full(33, -7))
print(f'cuda emulation: {L.e_launches()} kernel launches checked, {len(fails)} failed')
for f in fails:
    print(' ', f)
sys.exit(1 if fails else 0)
