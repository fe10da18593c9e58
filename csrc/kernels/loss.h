// Fused, numerically stable loss kernels. N = samples, D = values per sample (C = classes).
// Each forward writes the per-sample loss (N,) (the mean over D for elementwise losses, as
// Keras does; kld, categorical hinge and cosine similarity are sums over D); each backward
// takes the per-sample upstream gradient dloss (N,). The Python layer applies the reduction
// (mean over samples, sample weights) and the target transforms (label smoothing, the 0/1 ->
// -1/1 hinge labels).
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
                                  float label_smoothing);                                  \
  /* 100 |p - t| / max(|t|, eps) */                                                              \
  void mape_forward(float* loss, const float* pred, const float* target, int64_t N, int64_t D,    \
                    float eps);                                                                   \
  void mape_backward(float* dpred, const float* dloss, const float* pred, const float* target,    \
                     int64_t N, int64_t D, float eps);                                            \
  /* (log1p(max(p, eps)) - log1p(max(t, eps)))^2 */                                              \
  void msle_forward(float* loss, const float* pred, const float* target, int64_t N, int64_t D,    \
                    float eps);                                                                   \
  void msle_backward(float* dpred, const float* dloss, const float* pred, const float* target,    \
                     int64_t N, int64_t D, float eps);                                            \
  /* e = p - t: e^2 / 2 where |e| <= delta, delta |e| - delta^2 / 2 elsewhere */                   \
  void huber_forward(float* loss, const float* pred, const float* target, int64_t N, int64_t D,   \
                     float delta);                                                                \
  void huber_backward(float* dpred, const float* dloss, const float* pred, const float* target,   \
                      int64_t N, int64_t D, float delta);                                         \
  /* log(cosh(e)) = |e| + log1p(exp(-2 |e|)) - log 2 */                                          \
  void log_cosh_forward(float* loss, const float* pred, const float* target, int64_t N,           \
                        int64_t D);                                                               \
  void log_cosh_backward(float* dpred, const float* dloss, const float* pred,                     \
                         const float* target, int64_t N, int64_t D);                              \
  /* p - t log(p + eps) */                                                                       \
  void poisson_forward(float* loss, const float* pred, const float* target, int64_t N, int64_t D, \
                       float eps);                                                                \
  void poisson_backward(float* dpred, const float* dloss, const float* pred, const float* target, \
                        int64_t N, int64_t D, float eps);                                         \
  /* sum over D of t' log(t' / p'), t' = clip(t, eps, 1), p' = clip(p, eps, 1) */                 \
  void kld_forward(float* loss, const float* pred, const float* target, int64_t N, int64_t D,     \
                   float eps);                                                                    \
  void kld_backward(float* dpred, const float* dloss, const float* pred, const float* target,     \
                    int64_t N, int64_t D, float eps);                                             \
  /* max(1 - t p, 0) and its square; t in {-1, 1} (the caller converts 0/1 labels) */             \
  void hinge_forward(float* loss, const float* pred, const float* target, int64_t N, int64_t D);  \
  void hinge_backward(float* dpred, const float* dloss, const float* pred, const float* target,   \
                      int64_t N, int64_t D);                                                      \
  void squared_hinge_forward(float* loss, const float* pred, const float* target, int64_t N,      \
                             int64_t D);                                                          \
  void squared_hinge_backward(float* dpred, const float* dloss, const float* pred,                \
                              const float* target, int64_t N, int64_t D);                         \
  /* binary focal cross-entropy: (1 - p_t)^gamma bce, times alpha_t when balance; on */           \
  /* probabilities (bce on clip(p), the focal factor on p, as Keras) or on logits (the */         \
  /* log-sum-exp bce and the factor from sigmoid(x)) */                                          \
  void focal_forward(float* loss, const float* pred, const float* target, int64_t N, int64_t D,   \
                     float gamma, float alpha, bool balance, float eps);                          \
  void focal_backward(float* dpred, const float* dloss, const float* pred, const float* target,   \
                      int64_t N, int64_t D, float gamma, float alpha, bool balance, float eps);   \
  void focal_logits_forward(float* loss, const float* logits, const float* target, int64_t N,     \
                            int64_t D, float gamma, float alpha, bool balance);                   \
  void focal_logits_backward(float* dlogits, const float* dloss, const float* logits,             \
                             const float* target, int64_t N, int64_t D, float gamma, float alpha, \
                             bool balance);                                                       \
  /* max(max_c((1 - t) p) - sum_c t p + 1, 0); ties of the max share its gradient */              \
  void categorical_hinge_forward(float* loss, const float* pred, const float* target, int64_t N,  \
                                 int64_t C);                                                      \
  void categorical_hinge_backward(float* dpred, const float* dloss, const float* pred,            \
                                  const float* target, int64_t N, int64_t C);                     \
  /* -sum(t a * p b), a = min(1 / |t|, 1 / eps), b = min(1 / |p|, 1 / eps) (Keras normalize) */   \
  void cosine_forward(float* loss, const float* pred, const float* target, int64_t N, int64_t D,  \
                      float eps);                                                                 \
  void cosine_backward(float* dpred, const float* dloss, const float* pred, const float* target,  \
                       int64_t N, int64_t D, float eps);

namespace cpu { FASTNN_DECLARE_LOSS_KERNELS }
namespace cuda { FASTNN_DECLARE_LOSS_KERNELS }

}  // namespace fastnn
