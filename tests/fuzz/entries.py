"""One argument generator per fastnn._C entry, in the order of csrc/bindings/.

A generator gets a Draw `d` and the entry's name and returns the call to make. It builds the
plausible call (sizes consistent with each other, so that the kernels run), and asks Draw for
each argument, which may swap in a hostile one. Destinations are marked `dest=True`: they may be
written, every other array must come back unchanged, read-only ones included.

`after` hooks check what a normal return cannot show: that a kernel still runs after a thread
count or ISA was accepted, and that an output aliasing an input got the right product.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import hypothesis.strategies as st
import numpy as np

from .draw import Call, Draw
from .values import ArraySpec, Built

# op-code counts (python/fastnn/_raw.py, csrc/bindings/rnn.cpp, csrc/kernels/*.h)
N_UNARY, N_BINARY, N_REDUCE, N_ACT, N_CELL, N_RNN_ACT = 19, 7, 4, 4, 4, 5
LOSS_KINDS = ("mse", "mae", "bce", "bce_logits", "cce", "cce_logits", "sparse_cce", "sparse_cce_logits", "mape",
              "msle", "huber", "log_cosh", "poisson", "kld", "hinge", "squared_hinge", "focal", "focal_logits",
              "categorical_hinge", "cosine")
ISAS = ("avx512", "avx2", "generic")


@dataclass
class Entry:
    name: str
    gen: Callable[[Draw, str], Call]
    # after(C, call, built, result) -> problems; runs after a normal return
    after: Callable | None = None


ENTRIES: dict[str, Entry] = {}


def entry(*names: str, after=None):
    def register(gen):
        for n in names:
            ENTRIES[n] = Entry(n, gen, after)
        return gen

    return register


# --- threads, SIMD level, CUDA, storage (module.cpp, core.cpp, bench.cpp) ---------------------

def _probe(C) -> None:
    """A parallel kernel and a GEMM: what a bad thread count or ISA breaks."""
    a = np.ones((96, 96), np.float32)
    C.sgemm(False, False, 96, 96, 96, 1.0, a, 96, a, 96, 0.0, np.empty_like(a), 96)
    C.reduce_forward(0, np.ones(1 << 16, np.float32), 1, 1 << 16, 1)


def _probe_then_restore(C, call, built, result):
    _probe(C)
    C.set_num_threads(2)
    C.set_isa(C.detected_isa())
    return []


@entry("get_num_threads", "detected_isa", "active_isa", "cuda_built", "cuda_device_count", "cuda_synchronize",
       "cuda_empty_cache")
def _no_args(d, name):
    return d.call()


@entry("cuda_device_name")
def _device_index(d, name):
    return d.call(d.count(0, 1))


@entry("set_num_threads", after=_probe_then_restore)
def _threads(d, name):
    return d.call(d.count(1, 4))


@entry("set_isa", after=_probe_then_restore)
def _isa(d, name):
    return d.call(d.string(ISAS))


@entry("tune_malloc")
def _malloc(d, name):
    return d.call(d.size(d.pick((0, 4096, 1 << 17, 1 << 25))), d.size(d.pick((0, 4096, 1 << 17, 1 << 25))))


@entry("fma_peak")
def _fma_peak(d, name):
    # a short measurement: seconds stay tiny unless hostile (NaN, inf, negative)
    seconds = d.pick((0.0, 0.001, 0.003)) if not d.hostile() else d.pick((math.nan, math.inf, -1.0, -math.inf))
    return d.call(d.string(ISAS), seconds, d.count(1, 2))


@entry("to_device", "to_host", "device_clone")
def _storage(d, name):
    return d.call(d.array(d.shape(), d.pick(("float32", "int64"))))


@entry("device_full", "device_empty")
def _device_alloc(d, name):
    args = (d.shape_arg(d.shape()),) + ((d.real(),) if name == "device_full" else ())
    return d.call(*args, d.string(("float32", "int64")))


# --- elementwise (elementwise.cpp) -------------------------------------------------------------

def _broadcast_pair(d):
    """Two shapes that broadcast: b is a with some dimensions 1 and leading ones dropped."""
    a = d.shape(0, 4)
    b = tuple(1 if d.percent() < 30 else s for s in a)[d.integer(0, len(a)):]
    return (a, b) if d.coin() else (b, a)


def _out_shape(a, b):
    n = max(len(a), len(b))
    a, b = (1,) * (n - len(a)) + tuple(a), (1,) * (n - len(b)) + tuple(b)
    return tuple(max(x, y) if min(x, y) != 0 else 0 for x, y in zip(a, b))


@entry("unary_forward")
def _unary_forward(d, name):
    return d.call(d.op(N_UNARY), d.array(d.shape(0, 4)), d.real(), d.real())


@entry("unary_backward")
def _unary_backward(d, name):
    s = d.shape(0, 4)
    return d.call(d.op(N_UNARY), d.array(s), d.array(s, optional=True), d.array(s, optional=True), d.real(),
                  d.real())


@entry("unary_backward_reads")
def _unary_reads(d, name):
    return d.call(d.op(N_UNARY))


@entry("binary_backward_reads_out")
def _binary_reads(d, name):
    return d.call(d.op(N_BINARY))


@entry("broadcast_shape")
def _broadcast_shape(d, name):
    a, b = _broadcast_pair(d)
    return d.call(d.shape_arg(a), d.shape_arg(b))


@entry("binary_forward")
def _binary_forward(d, name):
    a, b = _broadcast_pair(d)
    return d.call(d.op(N_BINARY), d.array(a), d.array(b))


@entry("binary_backward")
def _binary_backward(d, name):
    a, b = _broadcast_pair(d)
    o = _out_shape(a, b)
    return d.call(d.op(N_BINARY), d.array(o), d.array(a), d.array(b), d.array(o, optional=True), d.flag(),
                  d.flag())


@entry("where_forward")
def _where_forward(d, name):
    s = d.shape(0, 4)
    return d.call(d.array(s, fill=d.pick(("zeros", "ones", "normal"))), d.array(s), d.array(s))


@entry("where_backward")
def _where_backward(d, name):
    s = d.shape(0, 4)
    return d.call(d.array(s), d.array(s), d.flag(), d.flag())


@entry("_vec_math")
def _vec_math(d, name):
    return d.call(d.string(("exp", "expm1", "log", "log1p", "tanh", "sigmoid", "erf")), d.array(d.shape(0, 3)))


# --- reductions and softmax (reduce.cpp): x seen as (O, R, I) ---------------------------------

def _ori(d):
    O, R, I = d.dim(), d.dim(), d.dim()
    return (O, R, I), (d.size(O), d.size(R), d.size(I))


def _flat_or(d, shape):
    """The array's own shape need not be (O, R, I): only its element count matters."""
    return shape if d.coin() else (math.prod(shape),)


@entry("reduce_forward")
def _reduce_forward(d, name):
    (O, R, I), ori = _ori(d)
    return d.call(d.op(N_REDUCE), d.array(_flat_or(d, (O, R, I))), *ori)


@entry("reduce_backward")
def _reduce_backward(d, name):
    (O, R, I), ori = _ori(d)
    return d.call(d.op(N_REDUCE), d.array((O * I,)), d.array(_flat_or(d, (O, R, I))), d.array((O * I,)), *ori)


@entry("argmax_forward")
def _argmax(d, name):
    (O, R, I), ori = _ori(d)
    return d.call(d.array(_flat_or(d, (O, R, I))), *ori, d.flag())


@entry("var_forward")
def _var_forward(d, name):
    (O, R, I), ori = _ori(d)
    return d.call(d.array(_flat_or(d, (O, R, I))), *ori, d.count(0, 1))


@entry("var_backward")
def _var_backward(d, name):
    (O, R, I), ori = _ori(d)
    return d.call(d.array((O * I,)), d.array(_flat_or(d, (O, R, I))), d.array((O * I,)), *ori, d.count(0, 1))


@entry("softmax_forward")
def _softmax_forward(d, name):
    (O, R, I), ori = _ori(d)
    return d.call(d.array(_flat_or(d, (O, R, I))), *ori, d.flag())


@entry("softmax_backward")
def _softmax_backward(d, name):
    (O, R, I), ori = _ori(d)
    s = _flat_or(d, (O, R, I))
    return d.call(d.array(s), d.array(s), *ori, d.flag())


@entry("masked_softmax_forward")
def _masked_softmax_forward(d, name):
    rep, inner, n = d.integer(1, 3), d.integer(1, 3), d.dim()
    rows = d.integer(0, 3) * rep * inner
    return d.call(d.array((rows, n)), d.array((rows // rep, n), fill=d.pick(("zeros", "ones")), optional=True),
                  d.size(rows), d.size(n), d.size(rep), d.size(inner), d.real(), d.flag())


@entry("masked_softmax_backward")
def _masked_softmax_backward(d, name):
    rows, n = d.dim(), d.dim()
    return d.call(d.array((rows, n)), d.array((rows, n)), d.size(rows), d.size(n), d.real())


# --- losses (loss.cpp) ---------------------------------------------------------------------------

def _loss_args(d):
    kind = d.string(LOSS_KINDS)
    N, D = d.dim(), d.dim()
    if kind in ("sparse_cce", "sparse_cce_logits"):
        target = d.index_array((N,), D)
    else:
        target = d.array((N, D), fill=d.pick(("normal", "zeros", "ones")))
    params = {k: d.real(0.0, 2.0) for k in ("eps", "label_smoothing", "delta", "gamma", "alpha")
              if d.percent() < 30}
    if d.percent() < 20:
        params["class_balancing"] = d.flag()
    return kind, N, D, d.array((N, D)), target, params


@entry("loss_forward")
def _loss_forward(d, name):
    kind, N, D, pred, target, params = _loss_args(d)
    return d.call(kind, pred, target, **params)


@entry("loss_backward")
def _loss_backward(d, name):
    kind, N, D, pred, target, params = _loss_args(d)
    return d.call(kind, d.array((N,)), pred, target, **params)


# --- GEMM (gemm.cpp) -------------------------------------------------------------------------------

def _aliased_product_is_right(C, call, built: Built, result):
    """An output that aliases an input must still get alpha * op(A) op(B) + beta * C."""
    tA, tB, M, N, K, alpha, A, lda, B, ldb, beta, Cs, ldc = call.args[:13]
    specs = (A, B, Cs)
    if not all(isinstance(s, ArraySpec) for s in specs) or (Cs is not A and Cs is not B):
        return []
    if any(s.fill not in ("normal", "zeros", "ones") or s.dtype != "float32" or s.layout != "c" for s in specs):
        return []
    if (lda, ldb, ldc) != ((M if tA else K), (K if tB else N), N) or len(call.args) > 13:
        return []
    a, b, c = (built.before(s).astype(np.float64).reshape(-1) for s in specs)
    opa = a[:M * K].reshape((K, M) if tA else (M, K))
    opb = b[:K * N].reshape((N, K) if tB else (K, N))
    want = alpha * (opa.T if tA else opa) @ (opb.T if tB else opb) + (beta * c[:M * N].reshape(M, N) if beta else 0)
    got = built.array(Cs).reshape(-1)[:M * N].reshape(M, N)
    err = float(np.max(np.abs(got - want))) if want.size else 0.0
    scale = 1.0 + float(np.max(np.abs(want))) if want.size else 1.0
    return [] if err <= 1e-3 * scale else [f"C aliases {'A' if Cs is A else 'B'}: max error {err:.3g}"]


@entry("sgemm", "sgemm_ref", "sgemm_ex", after=_aliased_product_is_right)
def _sgemm(d, name):
    tA, tB = d.flag(), d.flag()
    alias = d.mood != "clean" and d.percent() < 15
    M, N, K = (d.dim(),) * 3 if alias else (d.dim(), d.dim(), d.dim())
    pad = (lambda: 0) if d.coin() else (lambda: d.integer(0, 3))
    lda, ldb, ldc = (M if tA else K) + pad(), (K if tB else N) + pad(), N + pad()
    A = d.array(((K if tA else M), lda))
    B = d.array(((N if tB else K), ldb))
    Cm = d.array((M, ldc), dest=True)
    if alias:  # the output is one of the inputs (square, natural leading dimensions)
        lda = ldb = ldc = M
        A = B = None
        Cm = d.array((M, M), dest=True)
        A, B = (Cm, d.array((M, M))) if d.coin() else (d.array((M, M)), Cm)
    args = [tA, tB, d.size(M), d.size(N), d.size(K), d.real(), A, d.size(lda), B, d.size(ldb),
            d.pick((0.0, 1.0, 0.5)) if not d.hostile() else d.real(), Cm, d.size(ldc)]
    if name == "sgemm_ex":
        args += [d.array((N,), optional=True), d.op(N_ACT)]
    return d.call(*args)


@entry("dense")
def _dense(d, name):
    M, K, N = d.dim(), d.dim(), d.dim()
    return d.call(d.array((M, K)), d.array((K, N)), d.array((N,), optional=True), d.op(N_ACT))


@entry("matmul")
def _matmul(d, name):
    M, K, N = d.dim(), d.dim(), d.dim()
    ta, tb = d.flag(), d.flag()
    batch = () if d.coin() else (d.dim(),)
    a = batch + ((K, M) if ta is True else (M, K))
    b = (batch if d.coin() else batch[:0] + ((1,) if batch else ())) + ((N, K) if tb is True else (K, N))
    return d.call(d.array(a), d.array(b), ta, tb)


# --- random numbers (random.cpp) ----------------------------------------------------------------

@entry("uniform", "normal")
def _random_fill(d, name):
    kw = {"device": d.string(("cpu",))} if d.percent() < 20 else {}
    return d.call(d.shape_arg(d.shape(0, 3)), d.u64(), d.u64(), d.real(), d.real(), **kw)


@entry("dropout_forward", "dropout_backward")
def _dropout(d, name):
    rate = d.real(0.0, 1.0) if d.percent() < 90 else d.pick((1.0, 0.0, -0.5, 2.0))
    return d.call(d.array(d.shape(0, 3)), rate, d.u64(), d.u64())


@entry("philox4")
def _philox(d, name):
    return d.call(d.u64(), d.u64())


# --- gather / copy (index.cpp) ---------------------------------------------------------------------

@entry("index_select_forward")
def _index_select_forward(d, name):
    x = d.shape(1, 3)
    axis = d.integer(0, len(x) - 1)
    return d.call(d.array(x), d.index_array(d.shape(0, 2), x[axis]), d.size(axis))


@entry("index_select_backward")
def _index_select_backward(d, name):
    x = d.shape(1, 3)
    axis = d.integer(0, len(x) - 1)
    idx = d.shape(0, 2)
    dout = x[:axis] + idx + x[axis + 1:]
    return d.call(d.array(x, dest=True), d.array(dout), d.index_array(idx, x[axis]), d.size(axis))


@entry("row_coalesce")
def _row_coalesce(d, name):
    idx, V = d.shape(0, 2), d.dim()
    return d.call(d.index_array(idx, V), d.array(idx + d.shape(0, 2)), d.size(V))


@entry("strided_copy")
def _strided_copy(d, name):
    shape = d.shape(0, 3)
    n = math.prod(shape)
    strides = tuple(math.prod(shape[i + 1:]) for i in range(len(shape)))
    # sometimes a transposed or broadcast source, as _raw.broadcast_to makes
    src_strides = strides if d.coin() else tuple(0 if d.coin() else s for s in strides)
    dt = d.pick(("float32", "int64"))
    doff, soff = d.integer(0, 2), d.integer(0, 2)
    dst, src = d.array((n + doff,), dt, dest=True), d.array((n + soff,), dt)
    return d.call(dst, d.size(doff), d.shape_arg(strides), src, d.size(soff), d.shape_arg(src_strides),
                  d.shape_arg(shape))


# --- fused optimizer updates (optim.cpp) -------------------------------------------------------
# W variable, S slot, S? optional slot, G gradient (indices, values when sparse), B bool, F float
OPTIM = {
    "sgd": "W S? G F F B F F F",
    "adagrad": "W S G F F F F F",
    "rmsprop": "W S S? S? G F F F F F F F",
    "adam": "W S S S? G F F F F F F F",
    "adamax": "W S S G F F F F F F F",
    "nadam": "W S S G F F F F F F F F F F",
    "adadelta": "W S S G F F F F F F",
}


def _update(d, name):
    sparse = name.endswith("_sparse")
    rows, D = d.dim(), d.dim()
    shape = (rows, D) if sparse or d.coin() else d.shape(0, 3)
    args = []
    for tok in OPTIM[name.split("_update")[0]].split():
        if tok in ("W", "S"):
            args.append(d.array(shape, dest=True))
        elif tok == "S?":
            args.append(d.array(shape, dest=True, optional=True))
        elif tok == "G" and sparse:
            U = d.integer(0, rows)
            if d.mood != "clean" and d.percent() < 30:  # unsorted, repeated or out of range
                indices = d.index_array((U,), rows)
            else:  # sorted unique rows, as row_coalesce gives
                rows_ = st.lists(st.integers(0, max(rows - 1, 0)), min_size=U, max_size=U, unique=True)
                indices = ArraySpec((U,), "int64", "given", items=sorted(d.draw(rows_)))
            args += [indices, d.array((U, D))]
        elif tok == "G":
            args.append(d.array(shape))
        elif tok == "B":
            args.append(d.flag())
        else:
            args.append(d.real(0.0, 1.0))
    return d.call(*args)


for _opt in OPTIM:
    entry(f"{_opt}_update", f"{_opt}_update_sparse")(_update)


@entry("sum_squares")
def _sum_squares(d, name):
    return d.call(d.array(d.shape(0, 3)))


# --- convolution (conv.cpp) ----------------------------------------------------------------------

def _conv_geometry(d):
    """(N, H, W, C, KH, KW, OC, groups, strides, dilation, padding, OH, OW) of a plausible conv,
    'same' padding (TensorFlow's split) included, with dilated kernels wider than the input."""
    N, H, W = d.integer(0, 2), d.dim(), d.dim()
    groups = d.pick((1, 1, 1, 2, 3))
    C, OC = groups * d.integer(1, 3), groups * d.integer(1, 3)
    KH, KW = d.integer(1, 4), d.integer(1, 4)
    sh, sw, dh, dw = d.integer(1, 3), d.integer(1, 3), d.integer(1, 4), d.integer(1, 4)
    mode = d.pick(("valid", "same", "same", "any"))
    if mode == "valid":
        pad = (0, 0, 0, 0)
    elif mode == "same":
        th = max((-(-H // sh) - 1) * sh + (KH - 1) * dh + 1 - H, 0)
        tw = max((-(-W // sw) - 1) * sw + (KW - 1) * dw + 1 - W, 0)
        pad = (th // 2, th - th // 2, tw // 2, tw - tw // 2)
    else:
        pad = tuple(d.integer(0, 3) for _ in range(4))
    OH = (H + pad[0] + pad[1] - dh * (KH - 1) - 1) // sh + 1
    OW = (W + pad[2] + pad[3] - dw * (KW - 1) - 1) // sw + 1
    return N, H, W, C, KH, KW, OC, groups, (sh, sw), (dh, dw), pad, max(OH, 0), max(OW, 0)


def _image(cl, N, H, W, C):
    return (N, H, W, C) if cl else (N, C, H, W)


def _hyper(d, strides, pad, dilation):
    """The strides, padding and dilation arguments, each maybe hostile (huge strides included)."""
    return (d.shape_arg(tuple(d.size(s) for s in strides)), d.shape_arg(tuple(d.size(p) for p in pad)),
            d.shape_arg(tuple(d.size(x) for x in dilation)))


@entry("conv2d_forward")
def _conv_forward(d, name):
    N, H, W, C, KH, KW, OC, g, s, dil, pad, OH, OW = _conv_geometry(d)
    cl = d.flag()
    return d.call(d.array(_image(cl is not False, N, H, W, C)), d.array((KH, KW, C // g, OC)),
                  d.array((OC,), optional=True), *_hyper(d, s, pad, dil), d.size(g), cl, d.op(N_ACT))


@entry("conv2d_backward_data")
def _conv_backward_data(d, name):
    N, H, W, C, KH, KW, OC, g, s, dil, pad, OH, OW = _conv_geometry(d)
    cl = d.flag()
    return d.call(d.array(_image(cl is not False, N, OH, OW, OC)), d.array((KH, KW, C // g, OC)),
                  d.shape_arg(_image(cl is not False, N, H, W, C)), *_hyper(d, s, pad, dil), d.size(g), cl,
                  d.array((C,), optional=True))


@entry("conv2d_backward_weight")
def _conv_backward_weight(d, name):
    N, H, W, C, KH, KW, OC, g, s, dil, pad, OH, OW = _conv_geometry(d)
    cl = d.flag()
    return d.call(d.array(_image(cl is not False, N, OH, OW, OC)), d.array(_image(cl is not False, N, H, W, C)),
                  d.shape_arg((KH, KW, C // g, OC)), *_hyper(d, s, pad, dil), d.size(g), cl, d.flag())


@entry("conv_bias_grad")
def _conv_bias_grad(d, name):
    return d.call(d.array(d.shape(4, 4)), d.flag())


# --- pooling and resizing (pool.cpp) ---------------------------------------------------------------

def _pool_geometry(d):
    N, H, W, C = d.integer(0, 2), d.dim(), d.dim(), d.integer(1, 3)
    kh, kw = d.integer(1, 4), d.integer(1, 4)
    sh, sw = d.integer(1, 3), d.integer(1, 3)
    padding = d.string(("valid", "same"))
    if padding == "same":
        OH, OW = -(-H // sh), -(-W // sw)
    else:
        OH, OW = max((H - kh) // sh + 1, 0), max((W - kw) // sw + 1, 0)
    cl = d.flag()
    window = (d.size(kh), d.size(kw), d.size(sh), d.size(sw), padding, cl)
    return (N, H, W, C), (N, OH, OW, C), window, cl is not False


def _nhwc(shape, cl):
    N, H, W, C = shape
    return _image(cl, N, H, W, C)


@entry("max_pool2d_forward", "avg_pool2d_forward")
def _pool_forward(d, name):
    x, y, window, cl = _pool_geometry(d)
    return d.call(d.array(_nhwc(x, cl)), *window)


@entry("max_pool2d_backward")
def _max_pool_backward(d, name):
    x, y, window, cl = _pool_geometry(d)
    ys = _nhwc(y, cl)
    # argmax holds offsets into each input plane (H * W); hostile ones point far outside it
    return d.call(d.array(ys), d.index_array(ys, x[1] * x[2]), d.shape_arg(_nhwc(x, cl)), *window)


@entry("avg_pool2d_backward")
def _avg_pool_backward(d, name):
    x, y, window, cl = _pool_geometry(d)
    return d.call(d.array(_nhwc(y, cl)), d.shape_arg(_nhwc(x, cl)), *window)


@entry("pool_output_shape")
def _pool_output_shape(d, name):
    x, y, window, cl = _pool_geometry(d)
    return d.call(d.shape_arg(_nhwc(x, cl)), *window)


@entry("resize_bilinear_forward")
def _resize_bilinear_forward(d, name):
    x, cl = (d.integer(0, 2), d.dim(), d.dim(), d.integer(1, 3)), d.flag()
    return d.call(d.array(_nhwc(x, cl is not False)), d.size(d.dim()), d.size(d.dim()), cl)


@entry("resize_bilinear_backward")
def _resize_bilinear_backward(d, name):
    N, H, W, C = d.integer(0, 2), d.dim(), d.dim(), d.integer(1, 3)
    cl = d.flag()
    return d.call(d.array(_nhwc((N, d.dim(), d.dim(), C), cl is not False)),
                  d.shape_arg(_nhwc((N, H, W, C), cl is not False)), cl)


# --- normalization (norm.cpp) ----------------------------------------------------------------------

def _bn(d):
    x = d.shape(2, 4)
    axis = d.integer(-len(x), len(x) - 1)
    return x, (x[axis],), d.size(axis)


@entry("batch_norm_stats")
def _bn_stats(d, name):
    x, c, axis = _bn(d)
    return d.call(d.array(x), axis)


@entry("batch_norm_forward")
def _bn_forward(d, name):
    x, c, axis = _bn(d)
    return d.call(d.array(x), d.array(c), d.array(c, fill="ones"), d.array(c, optional=True),
                  d.array(c, optional=True), axis, d.real(0.0, 0.1))


@entry("batch_norm_backward")
def _bn_backward(d, name):
    x, c, axis = _bn(d)
    return d.call(d.array(x), d.array(x), d.array(c), d.array(c, fill="ones"), d.array(c, optional=True), axis,
                  d.real(0.0, 0.1), d.flag(), d.flag())


def _ln(d):
    x = d.shape(1, 4)
    k = d.integer(1, len(x))
    return x, x[len(x) - k:], (math.prod(x[:len(x) - k]),), d.size(k)


@entry("layer_norm_forward")
def _ln_forward(d, name):
    x, norm, rows, k = _ln(d)
    return d.call(d.array(x), d.array(norm, optional=True), d.array(norm, optional=True), k, d.real(0.0, 0.1))


@entry("layer_norm_backward")
def _ln_backward(d, name):
    x, norm, rows, k = _ln(d)
    return d.call(d.array(x), d.array(x), d.array(rows), d.array(rows, fill="ones"), d.array(norm, optional=True),
                  k, d.flag())


# --- recurrent layers (rnn.cpp): cell 0 SimpleRNN, 1 LSTM, 2 GRU, 3 GRU reset_after=False -------
GATES = {0: 1, 1: 4, 2: 3, 3: 3}
WORKSPACE = {0: 2, 1: 7, 2: 7, 3: 5}  # times B * T * U (ops/rnn.h)


def _rnn(d):
    cell = d.integer(0, N_CELL - 1)
    B, T, F, U = d.integer(0, 3), d.integer(0, 4), d.integer(1, 4), d.integer(1, 4)
    head = (d.op(N_CELL) if d.percent() < 10 else cell, d.op(N_RNN_ACT), d.op(N_RNN_ACT), d.flag(), d.flag())
    return cell, B, T, F, U, GATES[cell] * U, head


@entry("rnn_forward")
def _rnn_forward(d, name):
    cell, B, T, F, U, GU, head = _rnn(d)
    bias = (2, GU) if cell == 2 else (GU,)
    return d.call(*head, d.flag(), d.array((B, T, F)), d.array((F, GU)), d.array((U, GU)),
                  d.array(bias, optional=True), d.array((B, U), optional=True),
                  d.array((B, U), optional=True) if cell == 1 or d.hostile() else None,
                  d.array((B, T), fill="ones", optional=True))


@entry("rnn_backward")
def _rnn_backward(d, name):
    cell, B, T, F, U, GU, head = _rnn(d)
    seq = d.flag()
    ws = d.array((WORKSPACE[cell] * B * T * U,))
    dy = d.array((B, T, U) if seq is True else (B, U), optional=True)
    return d.call(*head, seq, d.array((B, T, F)), d.array((F, GU)), d.array((U, GU)), d.flag(),
                  d.array((B, T), fill="ones", optional=True), ws, dy, d.array((B, U), optional=True),
                  d.array((B, U), optional=True) if cell == 1 else None, d.flag())


# --- image resampling (image.cpp) ------------------------------------------------------------------

def _images(d):
    cf = d.flag()
    N, H, W, C = d.integer(1, 2), d.dim(), d.dim(), d.integer(1, 3)
    shape = _image(cf is not True, N, H, W, C)
    return (shape[1:] if d.coin() else shape), N, H, W, cf


@entry("affine_transform")
def _affine(d, name):
    shape, N, H, W, cf = _images(d)
    rows = d.pick(((), (1,), (N,)))
    t = np.array([1, 0, 0, 0, 1, 0, 0, 0], np.float64) + (np.arange(8) % 3) * d.real(-1.0, 1.0)
    if d.hostile():
        t[d.integer(0, 7)] = d.pick((1e30, -1e30, 1e300, 2.0**63, math.nan))
    transforms = np.broadcast_to(t, rows + (8,)).tolist() if d.percent() < 90 else d.pick((None, "t", [1.0] * 7))
    size = (d.size(d.dim()), d.size(d.dim())) if d.coin() else None
    return d.call(d.array(shape), transforms, size, d.string(("bilinear", "nearest")),
                  d.string(("constant", "reflect", "wrap", "nearest")), d.real(), cf)


@entry("resize")
def _resize(d, name):
    shape, N, H, W, cf = _images(d)
    top, left = d.integer(0, max(H - 1, 0)), d.integer(0, max(W - 1, 0))
    crop = (d.size(top), d.size(left), d.size(d.integer(1, max(H - top, 1))), d.size(d.integer(1, max(W - left, 1))))
    size = (d.size(d.integer(1, 9)), d.size(d.integer(1, 9)))
    return d.call(d.array(shape), d.shape_arg(size), d.string(("bilinear", "nearest")),
                  d.shape_arg(crop) if d.coin() else None, cf)
