// Reductions, softmax / log_softmax. Every kernel sees x as a contiguous (O, R, I) array and
// reduces the middle axis R: O = product of the dims before the reduced block, I = after it.
// y is (O, I). Results never depend on the thread count (fixed summation order).
#pragma once
#include <cstdint>

#include "core/common.h"

namespace fastnn {

enum class ReduceOp : int { Sum = 0, Mean, Max, Min };
inline constexpr const char* kReduceOpNames[] = {"sum", "mean", "max", "min"};  // enum order (_C.REDUCE_OPS)
static_assert(sizeof(kReduceOpNames) / sizeof(kReduceOpNames[0]) == (int)ReduceOp::Min + 1);

#define FASTNN_DECLARE_REDUCE_KERNELS                                                              \
  void reduce_forward(ReduceOp op, float* y, const float* x, int64_t O, int64_t R, int64_t I);     \
  /* Sum/Mean: dx = dy (/R) broadcast; Max/Min: dy shared equally among the tied extrema */        \
  void reduce_backward(ReduceOp op, float* dx, const float* dy, const float* x, const float* y,    \
                       int64_t O, int64_t R, int64_t I);                                          \
  /* index of the first max (or min) along R */                                                    \
  void argmax_forward(int64_t* idx, const float* x, int64_t O, int64_t R, int64_t I, bool is_min); \
  /* var with `correction` (0: population, 1: sample); mean (O, I) is written too */               \
  void var_forward(float* var, float* mean, const float* x, int64_t O, int64_t R, int64_t I,       \
                   int64_t correction);                                                           \
  void var_backward(float* dx, const float* dvar, const float* x, const float* mean, int64_t O,   \
                    int64_t R, int64_t I, int64_t correction);                                    \
  /* softmax / log_softmax along R, numerically stable (max subtracted) */                         \
  void softmax_forward(float* y, const float* x, int64_t O, int64_t R, int64_t I);                 \
  void softmax_backward(float* dx, const float* dy, const float* y, int64_t O, int64_t R, int64_t I); \
  void log_softmax_forward(float* y, const float* x, int64_t O, int64_t R, int64_t I);             \
  void log_softmax_backward(float* dx, const float* dy, const float* y, int64_t O, int64_t R,      \
                            int64_t I);                                                           \
  /* attention's softmax over the last axis of x (rows, n): z = scale x - 1e9 where mask == 0    */ \
  /* (Keras's additive mask), y = softmax(z), then y *= (mask != 0) when zero_masked (so a row   */ \
  /* with nothing to attend to is 0). mask may be null; row r of x reads mask row               */ \
  /* (r / (rep * inner)) * inner + r % inner (a mask shared by `rep` heads).                     */ \
  void masked_softmax_forward(float* y, const float* x, const float* mask, int64_t rows, int64_t n, \
                              int64_t rep, int64_t inner, float scale, bool zero_masked);          \
  /* dx = scale y (dy - sum(dy y)) from the forward's y (masked entries of y are 0 or ~0) */        \
  void masked_softmax_backward(float* dx, const float* dy, const float* y, int64_t rows, int64_t n, \
                               float scale);

namespace cpu { FASTNN_DECLARE_REDUCE_KERNELS }
namespace cuda { FASTNN_DECLARE_REDUCE_KERNELS }

}  // namespace fastnn
