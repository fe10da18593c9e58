// Elementwise kernels on the CPU: unary math and activations, binary arithmetic with NumPy
// broadcasting, where. Each op is a small struct of scalar formulas (forward and backward side
// by side); templated leaf loops marked FASTNN_SIMD apply them, so every op gets AVX-512, AVX2
// and portable clones, and parallel_for splits the work in contiguous ranges (each element is
// computed alone, so results do not depend on the thread count).
// Letters: x = input, y = output, g = upstream gradient (dy or dout), a and b = binary operands,
// o = binary output, n = number of elements, SA / SB = inner element strides (0 or 1) of a / b.
#include "kernels/elementwise.h"

#include <algorithm>
#include <cmath>
#include <type_traits>

#include "core/parallel.h"
#include "cpu/vec_math.h"

namespace fastnn::cpu {
namespace {

constexpr int64_t kGrain = 32768;  // elements per thread at least: small arrays stay serial

// ---------------------------------------------------------------------------- unary ops
// fwd(x, alpha, beta) -> y; bwd(g, x, y, alpha, beta) -> dx. kX / kY: which of the forward
// input and output bwd reads (the other pointer may be null). Keep in step with
// ops::unary_backward_reads_x / _y, which the CUDA kernels follow too.
namespace uop {
#define FASTNN_OP_READS(X, Y) static constexpr bool kX = X, kY = Y;
struct Neg {
  FASTNN_OP_READS(false, false)
  static FASTNN_INLINE float fwd(float x, float, float) { return -x; }
  static FASTNN_INLINE float bwd(float g, float, float, float, float) { return -g; }
};
struct Abs {
  FASTNN_OP_READS(true, false)
  static FASTNN_INLINE float fwd(float x, float, float) { return vm::fabs(x); }
  static FASTNN_INLINE float bwd(float g, float x, float, float, float) {
    return g * (float)((x > 0.0f) - (x < 0.0f));  // torch: g * sign(x), sign(0) = 0
  }
};
struct Exp {
  FASTNN_OP_READS(false, true)
  static FASTNN_INLINE float fwd(float x, float, float) { return vm::exp(x); }
  static FASTNN_INLINE float bwd(float g, float, float y, float, float) { return g * y; }
};
struct Log {
  FASTNN_OP_READS(true, false)
  static FASTNN_INLINE float fwd(float x, float, float) { return vm::log(x); }
  static FASTNN_INLINE float bwd(float g, float x, float, float, float) { return g / x; }
};
struct Sqrt {
  FASTNN_OP_READS(false, true)
  static FASTNN_INLINE float fwd(float x, float, float) { return std::sqrt(x); }
  static FASTNN_INLINE float bwd(float g, float, float y, float, float) { return g / (2.0f * y); }
};
struct Square {
  FASTNN_OP_READS(true, false)
  static FASTNN_INLINE float fwd(float x, float, float) { return x * x; }
  static FASTNN_INLINE float bwd(float g, float x, float, float, float) { return g * (2.0f * x); }
};
struct Sigmoid {
  FASTNN_OP_READS(false, true)
  static FASTNN_INLINE float fwd(float x, float, float) { return vm::sigmoid(x); }
  static FASTNN_INLINE float bwd(float g, float, float y, float, float) { return g * (1.0f - y) * y; }
};
struct Tanh {
  FASTNN_OP_READS(false, true)
  static FASTNN_INLINE float fwd(float x, float, float) { return vm::tanh(x); }
  static FASTNN_INLINE float bwd(float g, float, float y, float, float) { return g * (1.0f - y * y); }
};
struct Relu {
  FASTNN_OP_READS(true, false)
  static FASTNN_INLINE float fwd(float x, float, float) { return x > 0.0f ? x : (x != x ? x : 0.0f); }
  static FASTNN_INLINE float bwd(float g, float x, float, float, float) { return x <= 0.0f ? 0.0f : g; }
};
struct LeakyRelu {  // alpha = negative slope
  FASTNN_OP_READS(true, false)
  static FASTNN_INLINE float fwd(float x, float al, float) { return x > 0.0f ? x : x * al; }
  static FASTNN_INLINE float bwd(float g, float x, float, float al, float) { return x > 0.0f ? g : g * al; }
};
struct Elu {  // alpha * (e^x - 1) below 0
  FASTNN_OP_READS(true, false)
  static FASTNN_INLINE float fwd(float x, float al, float) { return x > 0.0f ? x : vm::expm1(x) * al; }
  static FASTNN_INLINE float bwd(float g, float x, float, float al, float) {
    return x > 0.0f ? g : g * al * vm::exp(x);
  }
};
constexpr float kSeluScale = 1.0507009873554804934193349852946f;
constexpr float kSeluAlpha = 1.6732632423543772848170429916717f;
constexpr float kSeluNeg = kSeluScale * kSeluAlpha;
struct Selu {
  FASTNN_OP_READS(true, false)
  static FASTNN_INLINE float fwd(float x, float, float) {
    return x > 0.0f ? x * kSeluScale : vm::expm1(x) * kSeluNeg;
  }
  static FASTNN_INLINE float bwd(float g, float x, float, float, float) {
    return x > 0.0f ? g * kSeluScale : g * kSeluNeg * vm::exp(x);
  }
};
constexpr float kSqrt1_2 = 0.70710678118654752440f;
constexpr float kInvSqrt2Pi = 0.39894228040143267794f;  // 1 / sqrt(2 pi)
struct Gelu {  // exact: x Phi(x)
  FASTNN_OP_READS(true, false)
  static FASTNN_INLINE float fwd(float x, float, float) { return x * 0.5f * (1.0f + vm::erf(x * kSqrt1_2)); }
  static FASTNN_INLINE float bwd(float g, float x, float, float, float) {
    float cdf = 0.5f * (1.0f + vm::erf(x * kSqrt1_2));
    float pdf = kInvSqrt2Pi * vm::exp(x * x * -0.5f);
    return g * (cdf + x * pdf);
  }
};
constexpr float kGeluBeta = 0.79788456080286535588f;  // sqrt(2 / pi)
constexpr float kGeluKappa = 0.044715f;
struct GeluTanh {  // torch's approximate='tanh'
  FASTNN_OP_READS(true, false)
  static FASTNN_INLINE float fwd(float x, float, float) {
    float inner = kGeluBeta * (x + kGeluKappa * x * x * x);
    return 0.5f * x * (1.0f + vm::tanh(inner));
  }
  static FASTNN_INLINE float bwd(float g, float x, float, float, float) {
    float x2 = x * x;
    float t = vm::tanh(kGeluBeta * (x + kGeluKappa * x2 * x));
    float left_d = 0.5f * (1.0f + t);
    float right_d = 0.5f * x * (1.0f - t * t) * kGeluBeta * (1.0f + 3.0f * kGeluKappa * x2);
    return g * (left_d + right_d);
  }
};
constexpr float kSoftplusThreshold = 20.0f;  // torch: linear above it
struct Softplus {
  FASTNN_OP_READS(true, false)
  static FASTNN_INLINE float fwd(float x, float, float) {
    return x > kSoftplusThreshold ? x : vm::log1p(vm::exp(x));
  }
  static FASTNN_INLINE float bwd(float g, float x, float, float, float) {
    float z = vm::exp(x);
    return x > kSoftplusThreshold ? g : g * z / (z + 1.0f);
  }
};
struct Swish {  // x sigmoid(x)
  FASTNN_OP_READS(true, false)
  static FASTNN_INLINE float fwd(float x, float, float) { return x * vm::sigmoid(x); }
  static FASTNN_INLINE float bwd(float g, float x, float, float, float) {
    float s = vm::sigmoid(x);
    return g * s * (1.0f + x * (1.0f - s));
  }
};
struct HardSigmoid {  // relu6(x + 3) / 6
  FASTNN_OP_READS(true, false)
  static FASTNN_INLINE float fwd(float x, float, float) {
    float t = x + 3.0f;
    t = t < 0.0f ? 0.0f : t;  // NaN passes both selects
    t = t > 6.0f ? 6.0f : t;
    return t / 6.0f;
  }
  static FASTNN_INLINE float bwd(float g, float x, float, float, float) {
    return (x > -3.0f && x < 3.0f) ? g * (1.0f / 6.0f) : 0.0f;
  }
};
struct Step {  // Heaviside: zero gradient everywhere
  FASTNN_OP_READS(false, false)
  static FASTNN_INLINE float fwd(float x, float, float) { return x > 0.0f ? 1.0f : (x != x ? x : 0.0f); }
  static FASTNN_INLINE float bwd(float, float, float, float, float) { return 0.0f; }
};
struct Clip {  // to [alpha, beta]
  FASTNN_OP_READS(true, false)
  static FASTNN_INLINE float fwd(float x, float lo, float hi) {
    float t = x < lo ? lo : x;
    return t > hi ? hi : t;
  }
  static FASTNN_INLINE float bwd(float g, float x, float, float lo, float hi) {
    return (x >= lo && x <= hi) ? g : 0.0f;
  }
};
#undef FASTNN_OP_READS
}  // namespace uop

template <class Op>
FASTNN_SIMD void unary_fwd_leaf(float* y, const float* x, int64_t n, float alpha, float beta) {
  for (int64_t i = 0; i < n; ++i) y[i] = Op::fwd(x[i], alpha, beta);
}

template <class Op>
FASTNN_SIMD void unary_bwd_leaf(float* dx, const float* dy, const float* x, const float* y, int64_t n,
                                float alpha, float beta) {
  for (int64_t i = 0; i < n; ++i)
    dx[i] = Op::bwd(dy[i], Op::kX ? x[i] : 0.0f, Op::kY ? y[i] : 0.0f, alpha, beta);
}

template <class Op>
void unary_fwd(float* y, const float* x, int64_t n, float alpha, float beta) {
  parallel_for(n, kGrain, [&](int64_t s, int64_t e) { unary_fwd_leaf<Op>(y + s, x + s, e - s, alpha, beta); });
}

template <class Op>
void unary_bwd(float* dx, const float* dy, const float* x, const float* y, int64_t n, float alpha,
               float beta) {
  parallel_for(n, kGrain, [&](int64_t s, int64_t e) {
    unary_bwd_leaf<Op>(dx + s, dy + s, Op::kX ? x + s : nullptr, Op::kY ? y + s : nullptr, e - s, alpha, beta);
  });
}

#define FASTNN_UNARY_CASES(CALL)                                                                  \
  CALL(Neg) CALL(Abs) CALL(Exp) CALL(Log) CALL(Sqrt) CALL(Square) CALL(Sigmoid) CALL(Tanh)        \
  CALL(Relu) CALL(LeakyRelu) CALL(Elu) CALL(Selu) CALL(Gelu) CALL(GeluTanh) CALL(Softplus)        \
  CALL(Swish) CALL(HardSigmoid) CALL(Step) CALL(Clip)

// ---------------------------------------------------------------------------- binary ops
// fwd(a, b) -> o; da / db(g, a, b, o) -> gradient at the broadcast shape. Only Pow reads o.
namespace bop {
struct Add {
  static FASTNN_INLINE float fwd(float a, float b) { return a + b; }
  static FASTNN_INLINE float da(float g, float, float, float) { return g; }
  static FASTNN_INLINE float db(float g, float, float, float) { return g; }
};
struct Sub {
  static FASTNN_INLINE float fwd(float a, float b) { return a - b; }
  static FASTNN_INLINE float da(float g, float, float, float) { return g; }
  static FASTNN_INLINE float db(float g, float, float, float) { return -g; }
};
struct Mul {
  static FASTNN_INLINE float fwd(float a, float b) { return a * b; }
  static FASTNN_INLINE float da(float g, float, float b, float) { return g * b; }
  static FASTNN_INLINE float db(float g, float a, float, float) { return g * a; }
};
struct Div {
  static FASTNN_INLINE float fwd(float a, float b) { return a / b; }
  static FASTNN_INLINE float da(float g, float, float b, float) { return g / b; }
  static FASTNN_INLINE float db(float g, float a, float b, float) { return -g * ((a / b) / b); }  // torch's order
};
struct Pow {  // libm powf: scalar; b == 2 (x ** 2) has a vectorised path in the leaves
  static FASTNN_INLINE float fwd(float a, float b) { return std::pow(a, b); }
  static FASTNN_INLINE float da(float g, float a, float b, float) {
    return b == 0.0f ? 0.0f : g * (b * std::pow(a, b - 1.0f));
  }
  static FASTNN_INLINE float db(float g, float a, float b, float o) {
    return (a == 0.0f && b >= 0.0f) ? 0.0f : g * (o * vm::log(a));  // torch: 0 where a == 0, b >= 0
  }
};
struct Maximum {  // NaN propagates; ties split the gradient in halves (torch)
  static FASTNN_INLINE float fwd(float a, float b) { return (a > b || a != a) ? a : b; }
  static FASTNN_INLINE float da(float g, float a, float b, float) { return a == b ? g * 0.5f : (a < b ? 0.0f : g); }
  static FASTNN_INLINE float db(float g, float a, float b, float) { return a == b ? g * 0.5f : (a > b ? 0.0f : g); }
};
struct Minimum {
  static FASTNN_INLINE float fwd(float a, float b) { return (a < b || a != a) ? a : b; }
  static FASTNN_INLINE float da(float g, float a, float b, float) { return a == b ? g * 0.5f : (a > b ? 0.0f : g); }
  static FASTNN_INLINE float db(float g, float a, float b, float) { return a == b ? g * 0.5f : (a < b ? 0.0f : g); }
};
}  // namespace bop

#define FASTNN_BINARY_CASES(CALL) \
  CALL(Add) CALL(Sub) CALL(Mul) CALL(Div) CALL(Pow) CALL(Maximum) CALL(Minimum)

// Leaves over one contiguous run of the output; a is read at a[i * SA], b at b[i * SB].
template <class Op, int SA, int SB>
FASTNN_SIMD void binary_fwd_leaf(float* o, const float* a, const float* b, int64_t n) {
  if constexpr (std::is_same_v<Op, bop::Pow> && SB == 0) {
    if (b[0] == 2.0f) {
      for (int64_t i = 0; i < n; ++i) o[i] = a[i * SA] * a[i * SA];
      return;
    }
  }
  for (int64_t i = 0; i < n; ++i) o[i] = Op::fwd(a[i * SA], b[i * SB]);
}

// WHICH = 0: da, 1: db. o is only read by Pow (callers pass g in its place otherwise).
template <class Op, int WHICH, int SA, int SB>
FASTNN_SIMD void binary_bwd_leaf(float* d, const float* g, const float* a, const float* b, const float* o,
                                 int64_t n) {
  if constexpr (std::is_same_v<Op, bop::Pow> && WHICH == 0 && SB == 0) {
    if (b[0] == 2.0f) {
      for (int64_t i = 0; i < n; ++i) d[i] = g[i] * (2.0f * a[i * SA]);
      return;
    }
  }
  for (int64_t i = 0; i < n; ++i) {
    if constexpr (WHICH == 0)
      d[i] = Op::da(g[i], a[i * SA], b[i * SB], o[i]);
    else
      d[i] = Op::db(g[i], a[i * SA], b[i * SB], o[i]);
  }
}

// Any inner strides (only reached by callers that do not coalesce the map, see ops::).
template <class Op>
void binary_fwd_strided(float* o, const float* a, const float* b, int64_t n, int64_t sa, int64_t sb) {
  for (int64_t i = 0; i < n; ++i) o[i] = Op::fwd(a[i * sa], b[i * sb]);
}
template <class Op, int WHICH>
void binary_bwd_strided(float* d, const float* g, const float* a, const float* b, const float* o, int64_t n,
                        int64_t sa, int64_t sb) {
  for (int64_t i = 0; i < n; ++i) {
    if constexpr (WHICH == 0)
      d[i] = Op::da(g[i], a[i * sa], b[i * sb], o[i]);
    else
      d[i] = Op::db(g[i], a[i * sa], b[i * sb], o[i]);
  }
}

// Calls leaf(out_offset, a_offset, b_offset, len) over runs of the last dim of the index map,
// in parallel over the flattened output (any run may be split between threads).
template <class Leaf>
void broadcast_walk(const Broadcast& bc, Leaf&& leaf) {
  const int nd = bc.ndim;
  const int64_t n = bc.numel();
  if (n == 0) return;
  if (nd == 0) {
    leaf(int64_t(0), int64_t(0), int64_t(0), int64_t(1));
    return;
  }
  const int64_t L = bc.shape[nd - 1], sa = bc.a_stride[nd - 1], sb = bc.b_stride[nd - 1];
  parallel_for(n, kGrain, [&](int64_t s, int64_t e) {
    int64_t idx[kMaxDims] = {};
    int64_t row = s / L, col = s % L, ao = 0, bo = 0;
    for (int d = nd - 2; d >= 0; --d) {
      idx[d] = row % bc.shape[d];
      row /= bc.shape[d];
      ao += idx[d] * bc.a_stride[d];
      bo += idx[d] * bc.b_stride[d];
    }
    for (int64_t pos = s; pos < e;) {
      int64_t len = std::min(L - col, e - pos);
      leaf(pos, ao + col * sa, bo + col * sb, len);
      pos += len;
      col = 0;
      for (int d = nd - 2; d >= 0; --d) {  // odometer over the outer dims
        ao += bc.a_stride[d];
        bo += bc.b_stride[d];
        if (++idx[d] < bc.shape[d]) break;
        ao -= bc.a_stride[d] * bc.shape[d];
        bo -= bc.b_stride[d] * bc.shape[d];
        idx[d] = 0;
      }
    }
  });
}

template <class Op>
void binary_fwd(float* o, const float* a, const float* b, const Broadcast& bc) {
  const int64_t sa = bc.ndim ? bc.a_stride[bc.ndim - 1] : 0, sb = bc.ndim ? bc.b_stride[bc.ndim - 1] : 0;
  broadcast_walk(bc, [&](int64_t p, int64_t ap, int64_t bp, int64_t len) {
    float* op = o + p;
    const float *aq = a + ap, *bq = b + bp;
    if (sa == 1 && sb == 1) binary_fwd_leaf<Op, 1, 1>(op, aq, bq, len);
    else if (sa == 1 && sb == 0) binary_fwd_leaf<Op, 1, 0>(op, aq, bq, len);
    else if (sa == 0 && sb == 1) binary_fwd_leaf<Op, 0, 1>(op, aq, bq, len);
    else if (sa == 0 && sb == 0) std::fill_n(op, len, Op::fwd(*aq, *bq));
    else binary_fwd_strided<Op>(op, aq, bq, len, sa, sb);
  });
}

template <class Op, int WHICH>
void binary_bwd_one(float* d, const float* g, const float* a, const float* b, const float* o,
                    const Broadcast& bc) {
  const int64_t sa = bc.ndim ? bc.a_stride[bc.ndim - 1] : 0, sb = bc.ndim ? bc.b_stride[bc.ndim - 1] : 0;
  if (!o) o = g;  // never read unless Op is Pow
  broadcast_walk(bc, [&](int64_t p, int64_t ap, int64_t bp, int64_t len) {
    float* dp = d + p;
    const float *gp = g + p, *op = o + p, *aq = a + ap, *bq = b + bp;
    if (sa == 1 && sb == 1) binary_bwd_leaf<Op, WHICH, 1, 1>(dp, gp, aq, bq, op, len);
    else if (sa == 1 && sb == 0) binary_bwd_leaf<Op, WHICH, 1, 0>(dp, gp, aq, bq, op, len);
    else if (sa == 0 && sb == 1) binary_bwd_leaf<Op, WHICH, 0, 1>(dp, gp, aq, bq, op, len);
    else if (sa == 0 && sb == 0) binary_bwd_leaf<Op, WHICH, 0, 0>(dp, gp, aq, bq, op, len);
    else binary_bwd_strided<Op, WHICH>(dp, gp, aq, bq, op, len, sa, sb);
  });
}

// ---------------------------------------------------------------------------- where
FASTNN_SIMD void where_fwd_leaf(float* o, const float* c, const float* a, const float* b, int64_t n) {
  for (int64_t i = 0; i < n; ++i) o[i] = c[i] != 0.0f ? a[i] : b[i];
}
// da = g where cond, else 0 (db is the complement, flip = true).
FASTNN_SIMD void where_bwd_leaf(float* d, const float* g, const float* c, int64_t n, bool flip) {
  if (flip)
    for (int64_t i = 0; i < n; ++i) d[i] = c[i] != 0.0f ? 0.0f : g[i];
  else
    for (int64_t i = 0; i < n; ++i) d[i] = c[i] != 0.0f ? g[i] : 0.0f;
}

// ---------------------------------------------------------------------------- test hook
template <int F>
FASTNN_SIMD void vec_math_leaf(float* y, const float* x, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    float v = x[i];
    if constexpr (F == 0) y[i] = vm::exp(v);
    else if constexpr (F == 1) y[i] = vm::expm1(v);
    else if constexpr (F == 2) y[i] = vm::log(v);
    else if constexpr (F == 3) y[i] = vm::log1p(v);
    else if constexpr (F == 4) y[i] = vm::tanh(v);
    else if constexpr (F == 5) y[i] = vm::sigmoid(v);
    else y[i] = vm::erf(v);
  }
}

}  // namespace

void unary_forward(UnaryOp op, float* y, const float* x, int64_t n, float alpha, float beta) {
  switch (op) {
#define FASTNN_CASE(Name) \
  case UnaryOp::Name:     \
    return unary_fwd<uop::Name>(y, x, n, alpha, beta);
    FASTNN_UNARY_CASES(FASTNN_CASE)
#undef FASTNN_CASE
  }
}

void unary_backward(UnaryOp op, float* dx, const float* dy, const float* x, const float* y, int64_t n,
                    float alpha, float beta) {
  switch (op) {
#define FASTNN_CASE(Name) \
  case UnaryOp::Name:     \
    return unary_bwd<uop::Name>(dx, dy, x, y, n, alpha, beta);
    FASTNN_UNARY_CASES(FASTNN_CASE)
#undef FASTNN_CASE
  }
}

void binary_forward(BinaryOp op, float* out, const float* a, const float* b, const Broadcast& bc) {
  switch (op) {
#define FASTNN_CASE(Name) \
  case BinaryOp::Name:    \
    return binary_fwd<bop::Name>(out, a, b, bc);
    FASTNN_BINARY_CASES(FASTNN_CASE)
#undef FASTNN_CASE
  }
}

void binary_backward(BinaryOp op, float* da, float* db, const float* dout, const float* a, const float* b,
                     const float* out, const Broadcast& bc) {
  switch (op) {
#define FASTNN_CASE(Name)                                                \
  case BinaryOp::Name:                                                   \
    if (da) binary_bwd_one<bop::Name, 0>(da, dout, a, b, out, bc);         \
    if (db) binary_bwd_one<bop::Name, 1>(db, dout, a, b, out, bc);         \
    return;
    FASTNN_BINARY_CASES(FASTNN_CASE)
#undef FASTNN_CASE
  }
}

void where_forward(float* out, const float* cond, const float* a, const float* b, int64_t n) {
  parallel_for(n, kGrain, [&](int64_t s, int64_t e) { where_fwd_leaf(out + s, cond + s, a + s, b + s, e - s); });
}

void where_backward(float* da, float* db, const float* dout, const float* cond, int64_t n) {
  parallel_for(n, kGrain, [&](int64_t s, int64_t e) {
    if (da) where_bwd_leaf(da + s, dout + s, cond + s, e - s, false);
    if (db) where_bwd_leaf(db + s, dout + s, cond + s, e - s, true);
  });
}

void vec_math_eval(int fn, float* y, const float* x, int64_t n) {
  using Leaf = void (*)(float*, const float*, int64_t);
  static const Leaf leaves[] = {vec_math_leaf<0>, vec_math_leaf<1>, vec_math_leaf<2>, vec_math_leaf<3>,
                                vec_math_leaf<4>, vec_math_leaf<5>, vec_math_leaf<6>};
  Leaf leaf = leaves[fn];
  parallel_for(n, kGrain, [&](int64_t s, int64_t e) { leaf(y + s, x + s, e - s); });
}

}  // namespace fastnn::cpu
