// Normalization: batch normalization and layer normalization, forward and backward.
//
// Batch normalization sees x as (O, C, I) with the channel axis in the middle (channels_last:
// O = all other elements, I = 1; channels_first: O = N, I = H * W). Statistics are per channel
// over O * I values, the variance biased (divided by O * I), as Keras normalises with and
// stores in its moving variance. y = (x - mean) * gamma / sqrt(var + eps) + beta, computed as
// x * scale + (beta - mean * scale) (TensorFlow's order). gamma / beta may be null (scale=False
// / center=False: 1 and 0). Backward with training = true differentiates through the batch
// statistics (the fused formula):
//   xhat = (x - mean) * invstd,  dbeta = sum(dy),  dgamma = sum(dy * xhat)
//   dx = gamma * invstd * (dy - dbeta / n - xhat * dgamma / n)
// and with training = false treats mean and var as constants (dx = dy * gamma * invstd).
//
// Layer normalization sees x as (R, D) and normalises each row over D (Keras
// LayerNormalization on the trailing axes): y = (x - mean) * rstd * gamma + beta with
// rstd = 1 / sqrt(var + eps), var biased; gamma and beta have D elements (or are null).
//
// Sums run in double over fixed blocks of rows combined in order: results do not depend on the
// thread count. dgamma / dbeta may be null when not wanted.
#pragma once
#include <cstdint>

#include "core/common.h"

namespace fastnn {

#define FASTNN_DECLARE_NORM_KERNELS                                                                \
  void batch_norm_stats(float* mean, float* var, const float* x, int64_t O, int64_t C, int64_t I); \
  void batch_norm_forward(float* y, const float* x, const float* mean, const float* var,          \
                          const float* gamma, const float* beta, int64_t O, int64_t C, int64_t I,  \
                          float eps);                                                             \
  void batch_norm_backward(float* dx, float* dgamma, float* dbeta, const float* dy,               \
                           const float* x, const float* mean, const float* var,                   \
                           const float* gamma, int64_t O, int64_t C, int64_t I, float eps,        \
                           bool training);                                                        \
  /* mean and rstd (R elements) are written for backward */                                        \
  void layer_norm_forward(float* y, float* mean, float* rstd, const float* x, const float* gamma, \
                          const float* beta, int64_t R, int64_t D, float eps);                    \
  void layer_norm_backward(float* dx, float* dgamma, float* dbeta, const float* dy,               \
                           const float* x, const float* mean, const float* rstd,                  \
                           const float* gamma, int64_t R, int64_t D);

namespace cpu { FASTNN_DECLARE_NORM_KERNELS }
namespace cuda { FASTNN_DECLARE_NORM_KERNELS }

}  // namespace fastnn
