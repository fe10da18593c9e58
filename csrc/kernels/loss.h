// Fused, numerically stable loss kernels. N = samples, D = values per sample (C = classes).
// Each forward writes the per-sample loss (N,) (the mean over D for elementwise losses, as
// Keras does); each backward takes the per-sample upstream gradient dloss (N,). The Python
// layer applies the reduction (mean over samples, sample weights).
// Probabilities are clipped to [eps, 1 - eps] as Keras does (eps = 1e-7 by default).
#pragma once
#include <cstdint>

#include "core/common.h"

namespace fastnn {

#define FASTNN_DECLARE_LOSS_KERNELS                                                                \
  void mse_forward(float* loss, const float* pred, const float* target, int64_t N, int64_t D);     \
  void mse_backward(float* dpred, const float* dloss, const float* pred, const float* target,     \
                    int64_t N, int64_t D);                                                        \
  void mae_forward(float* loss, const float* pred, const float* target, int64_t N, int64_t D);     \
  void mae_backward(float* dpred, const float* dloss, const float* pred, const float* target,     \
                    int64_t N, int64_t D);                                                        \
  /* binary cross-entropy on probabilities (clipped) or on logits (log-sum-exp form) */            \
  void bce_forward(float* loss, const float* pred, const float* target, int64_t N, int64_t D,      \
                   float eps);                                                                    \
  void bce_backward(float* dpred, const float* dloss, const float* pred, const float* target,     \
                    int64_t N, int64_t D, float eps);                                             \
  void bce_logits_forward(float* loss, const float* logits, const float* target, int64_t N,        \
                          int64_t D);                                                             \
  void bce_logits_backward(float* dlogits, const float* dloss, const float* logits,               \
                           const float* target, int64_t N, int64_t D);                            \
  /* categorical cross-entropy, target (N, C) one-hot or soft; label_smoothing ls: */              \
  /* target' = target * (1 - ls) + ls / C. On probabilities: pred / sum(pred), clipped. */         \
  void cce_forward(float* loss, const float* pred, const float* target, int64_t N, int64_t C,      \
                   float label_smoothing, float eps);                                             \
  void cce_backward(float* dpred, const float* dloss, const float* pred, const float* target,     \
                    int64_t N, int64_t C, float label_smoothing, float eps);                      \
  void cce_logits_forward(float* loss, const float* logits, const float* target, int64_t N,        \
                          int64_t C, float label_smoothing);                                      \
  void cce_logits_backward(float* dlogits, const float* dloss, const float* logits,               \
                           const float* target, int64_t N, int64_t C, float label_smoothing);     \
  /* sparse: labels (N,) int64 in [0, C) (checked by the caller) */                                \
  void sparse_cce_forward(float* loss, const float* pred, const int64_t* labels, int64_t N,        \
                          int64_t C, float label_smoothing, float eps);                           \
  void sparse_cce_backward(float* dpred, const float* dloss, const float* pred,                   \
                           const int64_t* labels, int64_t N, int64_t C, float label_smoothing,    \
                           float eps);                                                            \
  void sparse_cce_logits_forward(float* loss, const float* logits, const int64_t* labels,          \
                                 int64_t N, int64_t C, float label_smoothing);                    \
  void sparse_cce_logits_backward(float* dlogits, const float* dloss, const float* logits,        \
                                  const int64_t* labels, int64_t N, int64_t C,                    \
                                  float label_smoothing);

namespace cpu { FASTNN_DECLARE_LOSS_KERNELS }
namespace cuda { FASTNN_DECLARE_LOSS_KERNELS }

}  // namespace fastnn
