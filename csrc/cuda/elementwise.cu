// Elementwise kernels on CUDA: unary math and activations, binary ops with NumPy broadcasting,
// and where. n = number of elements. The math is written once per op in unary_f / unary_df /
// binary_f below and is the definition the CPU kernels (csrc/cpu/elementwise.cpp) follow:
//
//   op           y = f(x)                                   dx = dy * f'(x)
//   Neg          -x                                         -dy
//   Abs          |x|                                        dy * sign(x), sign(0) = sign(NaN) = 0
//   Exp          exp(x)                                     dy * y
//   Log          log(x)                                     dy / x
//   Sqrt         sqrt(x)                                    dy / (2 y)
//   Square       x * x                                      dy * 2 x
//   Sigmoid      x >= 0 ? 1 / (1 + exp(-x))                 dy * y * (1 - y)
//                       : exp(x) / (1 + exp(x))
//   Tanh         tanh(x)                                    dy * (1 - y * y)
//   Relu         x > 0 || isnan(x) ? x : 0                  x > 0 ? dy : 0
//   LeakyRelu    x > 0 ? x : alpha * x                      x > 0 ? dy : alpha * dy
//   Elu          x <= 0 ? alpha * expm1(x) : x              x <= 0 ? dy * alpha * exp(x) : dy
//   Selu         scale * (x <= 0 ? alpha * expm1(x) : x)    scale * (x <= 0 ? dy * alpha * exp(x) : dy)
//                alpha = 1.6732632423543772, scale = 1.0507009873554805 (torch's constants)
//   Gelu         0.5 x (1 + erf(x / sqrt(2)))               dy * (0.5 (1 + erf(x / sqrt 2)) + x exp(-x^2 / 2) / sqrt(2 pi))
//   GeluTanh     0.5 x (1 + tanh(k (x + 0.044715 x^3))),    torch's gelu_backward(approximate='tanh'), k = sqrt(2 / pi)
//   Softplus     x > 20 ? x : log1p(exp(x))                 x > 20 ? dy : dy * z / (z + 1), z = exp(x)   (torch, beta 1)
//   Swish        x * sigmoid(x)                             dy * s * (1 + x * (1 - s)), s = sigmoid(x)
//   HardSigmoid  min(max(x + 3, 0), 6) / 6 (NaN stays NaN)  -3 < x < 3 ? dy / 6 : 0
//   Step         x > 0 ? 1 : 0                              0
//   Clip         x < alpha ? alpha : x > beta ? beta : x    alpha <= x <= beta ? dy : 0   (torch.clamp)
//
// Binary (out = f(a, b); gradients at the broadcast shape):
//   Add a + b (da = g, db = g); Sub a - b (g, -g); Mul a * b (g b, g a);
//   Div a / b (g / b, -g a / (b b));
//   Pow pow(a, b): da = b == 0 ? 0 : g b pow(a, b - 1); db = a == 0 && b >= 0 ? 0 : g out log(a)
//   Maximum: NaN if either is NaN; da = a == b ? g / 2 : a < b ? 0 : g, db = a == b ? g / 2 : a > b ? 0 : g
//   Minimum: NaN if either is NaN; da = a == b ? g / 2 : a > b ? 0 : g, db = a == b ? g / 2 : a < b ? 0 : g
// (the Pow and Maximum/Minimum gradients are torch's; a NaN pair gives g to both sides).
#include "kernels/elementwise.h"

#include "cuda/common.cuh"

namespace fastnn::cuda {

// ---- unary

constexpr float kSeluAlpha = 1.6732632423543772f, kSeluScale = 1.0507009873554805f;
constexpr float kSqrt1_2 = 0.70710678118654752f;     // 1 / sqrt(2)
constexpr float kInvSqrt2Pi = 0.39894228040143268f;  // 1 / sqrt(2 pi)
constexpr float kSqrt2_Pi = 0.79788456080286536f;    // sqrt(2 / pi)
constexpr float kGeluC = 0.044715f;

__device__ __forceinline__ float sigmoidf(float x) {
  if (x >= 0.f) return 1.f / (1.f + expf(-x));
  float z = expf(x);
  return z / (1.f + z);
}

__device__ __forceinline__ float unary_f(UnaryOp op, float x, float alpha, float beta) {
  switch (op) {
    case UnaryOp::Neg: return -x;
    case UnaryOp::Abs: return fabsf(x);
    case UnaryOp::Exp: return expf(x);
    case UnaryOp::Log: return logf(x);
    case UnaryOp::Sqrt: return sqrtf(x);
    case UnaryOp::Square: return x * x;
    case UnaryOp::Sigmoid: return sigmoidf(x);
    case UnaryOp::Tanh: return tanhf(x);
    case UnaryOp::Relu: return (x > 0.f || x != x) ? x : 0.f;
    case UnaryOp::LeakyRelu: return x > 0.f ? x : alpha * x;
    case UnaryOp::Elu: return x <= 0.f ? alpha * expm1f(x) : x;
    case UnaryOp::Selu: return kSeluScale * (x <= 0.f ? kSeluAlpha * expm1f(x) : x);
    case UnaryOp::Gelu: return 0.5f * x * (1.f + erff(x * kSqrt1_2));
    case UnaryOp::GeluTanh: return 0.5f * x * (1.f + tanhf(kSqrt2_Pi * (x + kGeluC * x * x * x)));
    case UnaryOp::Softplus: return x > 20.f ? x : log1pf(expf(x));
    case UnaryOp::Swish: return x * sigmoidf(x);
    case UnaryOp::HardSigmoid: {
      float t = x + 3.f;
      t = t < 0.f ? 0.f : t;
      t = t > 6.f ? 6.f : t;
      return t / 6.f;
    }
    case UnaryOp::Step: return x > 0.f ? 1.f : 0.f;
    case UnaryOp::Clip: return x < alpha ? alpha : (x > beta ? beta : x);
  }
  return 0.f;
}

// dy * f'(x); y = f(x) (the ops that use it: Exp, Sqrt, Sigmoid, Tanh).
__device__ __forceinline__ float unary_df(UnaryOp op, float g, float x, float y, float alpha,
                                          float beta) {
  switch (op) {
    case UnaryOp::Neg: return -g;
    case UnaryOp::Abs: return x > 0.f ? g : (x < 0.f ? -g : 0.f);
    case UnaryOp::Exp: return g * y;
    case UnaryOp::Log: return g / x;
    case UnaryOp::Sqrt: return g / (2.f * y);
    case UnaryOp::Square: return g * 2.f * x;
    case UnaryOp::Sigmoid: return g * y * (1.f - y);
    case UnaryOp::Tanh: return g * (1.f - y * y);
    case UnaryOp::Relu: return x > 0.f ? g : 0.f;
    case UnaryOp::LeakyRelu: return x > 0.f ? g : g * alpha;
    case UnaryOp::Elu: return x <= 0.f ? g * alpha * expf(x) : g;
    case UnaryOp::Selu: return x <= 0.f ? g * kSeluScale * kSeluAlpha * expf(x) : g * kSeluScale;
    case UnaryOp::Gelu: {
      float cdf = 0.5f * (1.f + erff(x * kSqrt1_2));
      float pdf = kInvSqrt2Pi * expf(-0.5f * x * x);
      return g * (cdf + x * pdf);
    }
    case UnaryOp::GeluTanh: {
      float x2 = x * x;
      float t = tanhf(kSqrt2_Pi * (x + kGeluC * x2 * x));
      float left = 0.5f * x, right = 1.f + t;
      float dleft = 0.5f * right;
      float dright = left * (1.f - t * t) * kSqrt2_Pi * (1.f + 3.f * kGeluC * x2);
      return g * (dleft + dright);
    }
    case UnaryOp::Softplus: {
      if (x > 20.f) return g;
      float z = expf(x);
      return g * z / (z + 1.f);
    }
    case UnaryOp::Swish: {
      float s = sigmoidf(x);
      return g * s * (1.f + x * (1.f - s));
    }
    case UnaryOp::HardSigmoid: return (x > -3.f && x < 3.f) ? g / 6.f : 0.f;
    case UnaryOp::Step: return 0.f;
    case UnaryOp::Clip: return (x >= alpha && x <= beta) ? g : 0.f;
  }
  return 0.f;
}

// The ops whose backward reads the forward output y rather than the input x.
static bool backward_uses_y(UnaryOp op) {
  return op == UnaryOp::Exp || op == UnaryOp::Sqrt || op == UnaryOp::Sigmoid || op == UnaryOp::Tanh;
}

__global__ void unary_forward_kernel(UnaryOp op, float* y, const float* x, int64_t n, float alpha,
                                     float beta) {
  FASTNN_KERNEL_LOOP(i, n) y[i] = unary_f(op, x[i], alpha, beta);
}

// x or y may be null when the op does not read it; a missing y is recomputed from x.
__global__ void unary_backward_kernel(UnaryOp op, float* dx, const float* dy, const float* x,
                                      const float* y, int64_t n, float alpha, float beta) {
  FASTNN_KERNEL_LOOP(i, n) {
    float xv = x ? x[i] : 0.f;
    float yv = y ? y[i] : (x ? unary_f(op, xv, alpha, beta) : 0.f);
    dx[i] = unary_df(op, dy[i], xv, yv, alpha, beta);
  }
}

void unary_forward(UnaryOp op, float* y, const float* x, int64_t n, float alpha, float beta) {
  FASTNN_CHECK((int)op >= 0 && (int)op <= (int)UnaryOp::Clip, ValueError,
               "unary_forward: unknown op " << (int)op);
  if (n <= 0) return;
  unary_forward_kernel<<<grid_for(n), kThreads>>>(op, y, x, n, alpha, beta);
  FASTNN_CUDA_CHECK_LAUNCH();
}

void unary_backward(UnaryOp op, float* dx, const float* dy, const float* x, const float* y,
                    int64_t n, float alpha, float beta) {
  FASTNN_CHECK((int)op >= 0 && (int)op <= (int)UnaryOp::Clip, ValueError,
               "unary_backward: unknown op " << (int)op);
  FASTNN_CHECK(x || (y && backward_uses_y(op)), ValueError,
               "unary_backward: op " << (int)op << " needs the forward input x");
  if (n <= 0) return;
  unary_backward_kernel<<<grid_for(n), kThreads>>>(op, dx, dy, x, y, n, alpha, beta);
  FASTNN_CUDA_CHECK_LAUNCH();
}

// ---- binary with broadcasting

__device__ __forceinline__ float binary_f(BinaryOp op, float a, float b) {
  switch (op) {
    case BinaryOp::Add: return a + b;
    case BinaryOp::Sub: return a - b;
    case BinaryOp::Mul: return a * b;
    case BinaryOp::Div: return a / b;
    case BinaryOp::Pow: return powf(a, b);
    case BinaryOp::Maximum: return (a != a || a > b) ? a : b;
    case BinaryOp::Minimum: return (a != a || a < b) ? a : b;
  }
  return 0.f;
}

// Offsets of output element i in a and b (bc has been simplified, see below).
__device__ __forceinline__ void bc_offsets(const Broadcast& bc, int64_t i, int64_t& ia,
                                           int64_t& ib) {
  ia = 0;
  ib = 0;
  for (int d = bc.ndim - 1; d >= 0; --d) {
    int64_t k = i % bc.shape[d];
    i /= bc.shape[d];
    ia += k * bc.a_stride[d];
    ib += k * bc.b_stride[d];
  }
}

__global__ void binary_forward_kernel(BinaryOp op, float* out, const float* a, const float* b,
                                      Broadcast bc, int64_t n) {
  FASTNN_KERNEL_LOOP(i, n) {
    int64_t ia, ib;
    bc_offsets(bc, i, ia, ib);
    out[i] = binary_f(op, a[ia], b[ib]);
  }
}

__global__ void binary_backward_kernel(BinaryOp op, float* da, float* db, const float* dout,
                                       const float* a, const float* b, const float* out,
                                       Broadcast bc, int64_t n) {
  FASTNN_KERNEL_LOOP(i, n) {
    int64_t ia, ib;
    bc_offsets(bc, i, ia, ib);
    const float g = dout[i], av = a[ia], bv = b[ib];
    float ga = 0.f, gb = 0.f;
    switch (op) {
      case BinaryOp::Add: ga = g; gb = g; break;
      case BinaryOp::Sub: ga = g; gb = -g; break;
      case BinaryOp::Mul: ga = g * bv; gb = g * av; break;
      case BinaryOp::Div: ga = g / bv; gb = -g * av / (bv * bv); break;
      case BinaryOp::Pow: {
        ga = bv == 0.f ? 0.f : g * bv * powf(av, bv - 1.f);
        float o = out ? out[i] : powf(av, bv);
        gb = (av == 0.f && bv >= 0.f) ? 0.f : g * o * logf(av);
        break;
      }
      case BinaryOp::Maximum:
        ga = av == bv ? 0.5f * g : (av < bv ? 0.f : g);
        gb = av == bv ? 0.5f * g : (av > bv ? 0.f : g);
        break;
      case BinaryOp::Minimum:
        ga = av == bv ? 0.5f * g : (av > bv ? 0.f : g);
        gb = av == bv ? 0.5f * g : (av < bv ? 0.f : g);
        break;
    }
    if (da) da[i] = ga;
    if (db) db[i] = gb;
  }
}

// Drops size-1 dims and merges neighbours that are contiguous in out, a and b alike, so the
// common cases (same shape, scalar, bias row) index with one or two dims.
static Broadcast simplify(const Broadcast& in) {
  Broadcast s;
  for (int d = 0; d < in.ndim; ++d) {
    if (in.shape[d] == 1) continue;
    int k = s.ndim - 1;
    if (k >= 0 && s.a_stride[k] == in.a_stride[d] * in.shape[d] &&
        s.b_stride[k] == in.b_stride[d] * in.shape[d]) {
      s.shape[k] *= in.shape[d];
      s.a_stride[k] = in.a_stride[d];
      s.b_stride[k] = in.b_stride[d];
    } else {
      s.shape[s.ndim] = in.shape[d];
      s.a_stride[s.ndim] = in.a_stride[d];
      s.b_stride[s.ndim] = in.b_stride[d];
      ++s.ndim;
    }
  }
  return s;
}

static void check_broadcast(const char* what, BinaryOp op, const Broadcast& bc) {
  FASTNN_CHECK((int)op >= 0 && (int)op <= (int)BinaryOp::Minimum, ValueError,
               what << ": unknown op " << (int)op);
  FASTNN_CHECK(bc.ndim >= 0 && bc.ndim <= kMaxDims, ValueError,
               what << ": ndim " << bc.ndim << " out of range");
}

void binary_forward(BinaryOp op, float* out, const float* a, const float* b, const Broadcast& bc) {
  check_broadcast("binary_forward", op, bc);
  const int64_t n = bc.numel();
  if (n <= 0) return;
  binary_forward_kernel<<<grid_for(n), kThreads>>>(op, out, a, b, simplify(bc), n);
  FASTNN_CUDA_CHECK_LAUNCH();
}

void binary_backward(BinaryOp op, float* da, float* db, const float* dout, const float* a,
                     const float* b, const float* out, const Broadcast& bc) {
  check_broadcast("binary_backward", op, bc);
  const int64_t n = bc.numel();
  if (n <= 0 || (!da && !db)) return;
  binary_backward_kernel<<<grid_for(n), kThreads>>>(op, da, db, dout, a, b, out, simplify(bc), n);
  FASTNN_CUDA_CHECK_LAUNCH();
}

// ---- where

__global__ void where_forward_kernel(float* out, const float* cond, const float* a,
                                     const float* b, int64_t n) {
  FASTNN_KERNEL_LOOP(i, n) out[i] = cond[i] != 0.f ? a[i] : b[i];
}

__global__ void where_backward_kernel(float* da, float* db, const float* dout, const float* cond,
                                      int64_t n) {
  FASTNN_KERNEL_LOOP(i, n) {
    const bool c = cond[i] != 0.f;
    if (da) da[i] = c ? dout[i] : 0.f;
    if (db) db[i] = c ? 0.f : dout[i];
  }
}

void where_forward(float* out, const float* cond, const float* a, const float* b, int64_t n) {
  if (n <= 0) return;
  where_forward_kernel<<<grid_for(n), kThreads>>>(out, cond, a, b, n);
  FASTNN_CUDA_CHECK_LAUNCH();
}

void where_backward(float* da, float* db, const float* dout, const float* cond, int64_t n) {
  if (n <= 0 || (!da && !db)) return;
  where_backward_kernel<<<grid_for(n), kThreads>>>(da, db, dout, cond, n);
  FASTNN_CUDA_CHECK_LAUNCH();
}

}  // namespace fastnn::cuda
