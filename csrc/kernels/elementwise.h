// Elementwise kernels: unary ops (math and activations) and binary ops with NumPy broadcasting.
// Declared once for both devices: fastnn::cpu (csrc/cpu/elementwise.cpp) and fastnn::cuda
// (csrc/cuda/elementwise.cu) implement the same signatures. Pointers are device pointers of
// the namespace's device; n = number of elements.
#pragma once
#include <cstdint>

#include "core/common.h"

namespace fastnn {

// alpha / beta are op parameters: LeakyRelu slope (alpha), Elu alpha, Clip bounds [alpha, beta].
enum class UnaryOp : int {
  Neg = 0, Abs, Exp, Log, Sqrt, Square,
  Sigmoid, Tanh, Relu, LeakyRelu, Elu, Selu, Gelu, GeluTanh, Softplus, Swish, HardSigmoid,
  Step, Clip,
};

enum class BinaryOp : int { Add = 0, Sub, Mul, Div, Pow, Maximum, Minimum };

// The names of the codes, in enum order: the one table the errors and Python (_C.UNARY_OPS,
// _C.BINARY_OPS, read by python/fastnn/_raw.py) take them from.
inline constexpr const char* kUnaryOpNames[] = {
    "neg", "abs", "exp", "log", "sqrt", "square", "sigmoid", "tanh", "relu", "leaky_relu",
    "elu", "selu", "gelu", "gelu_tanh", "softplus", "swish", "hard_sigmoid", "step", "clip"};
static_assert(sizeof(kUnaryOpNames) / sizeof(kUnaryOpNames[0]) == (int)UnaryOp::Clip + 1);
inline constexpr const char* kBinaryOpNames[] = {"add", "sub", "mul", "div", "pow", "maximum", "minimum"};
static_assert(sizeof(kBinaryOpNames) / sizeof(kBinaryOpNames[0]) == (int)BinaryOp::Minimum + 1);

// Index map of a broadcast binary op: out has `shape` (ndim dims, contiguous); a and b are
// read with per-dim element strides that are 0 along broadcast dims.
struct Broadcast {
  int ndim = 0;
  int64_t shape[kMaxDims] = {};
  int64_t a_stride[kMaxDims] = {};
  int64_t b_stride[kMaxDims] = {};
  int64_t numel() const {
    int64_t n = 1;
    for (int i = 0; i < ndim; ++i) n *= shape[i];
    return n;
  }
};

#define FASTNN_DECLARE_ELEMENTWISE_KERNELS                                                          \
  /* y = op(x) */                                                                                   \
  void unary_forward(UnaryOp op, float* y, const float* x, int64_t n, float alpha, float beta);     \
  /* dx = dy * op'(x); x is the forward input, y the forward output (either may be what op needs) */ \
  void unary_backward(UnaryOp op, float* dx, const float* dy, const float* x, const float* y,       \
                      int64_t n, float alpha, float beta);                                          \
  /* out = op(a, b) over bc.shape */                                                                \
  void binary_forward(BinaryOp op, float* out, const float* a, const float* b, const Broadcast& bc); \
  /* da, db (either may be null): gradients at the broadcast shape bc.shape (not yet reduced) */    \
  void binary_backward(BinaryOp op, float* da, float* db, const float* dout, const float* a,        \
                       const float* b, const float* out, const Broadcast& bc);                      \
  /* out = cond != 0 ? a : b, all of length n */                                                    \
  void where_forward(float* out, const float* cond, const float* a, const float* b, int64_t n);     \
  void where_backward(float* da, float* db, const float* dout, const float* cond, int64_t n);

namespace cpu { FASTNN_DECLARE_ELEMENTWISE_KERNELS }
namespace cuda { FASTNN_DECLARE_ELEMENTWISE_KERNELS }

}  // namespace fastnn
