// Loss kernels on the CPU, fused and numerically stable (see kernels/loss.h for the contract).
// N = samples, D = values per sample, C = classes; pred / target are (N, D) or (N, C) row-major,
// labels (N,) int64, loss and dloss (N,). Each row is computed by one thread with 16-lane
// partial sums in a fixed order, so results never depend on the thread count.
// Conventions (Keras): elementwise losses are the mean over D; probabilities are clipped to
// [eps, 1 - eps] (the clip passes no gradient outside it); categorical losses on probabilities
// first divide pred by its row sum; label smoothing: target' = target * (1 - ls) + ls / C.
#include "kernels/loss.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "core/parallel.h"
#include "cpu/simd.h"
#include "cpu/vec_math.h"

namespace fastnn::cpu {
namespace {

constexpr int64_t kGrain = 32768;  // elements per thread at least
inline int64_t row_grain(int64_t len) { return std::max<int64_t>(1, kGrain / std::max<int64_t>(len, 1)); }

// Runs f(n) for every row n in parallel.
template <class F>
void each_row(int64_t N, int64_t D, F&& f) {
  parallel_for(N, row_grain(D), [&](int64_t b, int64_t e) {
    for (int64_t n = b; n < e; ++n) f(n);
  });
}

FASTNN_INLINE float hsum16(float* acc) {  // lanes of a 16-wide accumulator, fixed tree
  for (int w = 8; w >= 1; w /= 2)
    for (int j = 0; j < w; ++j) acc[j] += acc[j + w];
  return acc[0];
}

// NaN stays NaN: std::max(NaN, eps) and std::min(NaN, 1 - eps) both return NaN.
FASTNN_INLINE float clip(float p, float eps) { return std::min(std::max(p, eps), 1.0f - eps); }
// true inside [eps, 1 - eps] and for NaN (so that NaN reaches the gradient)
FASTNN_INLINE bool unclipped(float p, float eps) { return !(p < eps || p > 1.0f - eps); }

using simd::lane_sum;  // sum of f(i) in 16 lanes, fixed order, vectorised in every clone

// ------------------------------------------------------------------ elementwise losses
// K = 0: squared error, 1: absolute error, 2: bce on probabilities, 3: bce on logits
template <int K>
FASTNN_INLINE float ew_value(float x, float y, float eps) {
  if (K == 0) return (x - y) * (x - y);
  if (K == 1) return vm::fabs(x - y);
  if (K == 2) {
    float c = clip(x, eps);
    return -(y * vm::log(c) + (1.0f - y) * vm::log(1.0f - c));
  }
  // max(x, 0) - x t + log(1 + exp(-|x|)): no overflow for any x
  return (x > 0.f ? x : 0.f) - x * y + vm::log1p(vm::exp(-vm::fabs(x)));
}

template <int K>
FASTNN_INLINE float ew_grad(float x, float y, float eps) {
  if (K == 0) return 2.0f * (x - y);
  if (K == 1) {
    float e = x - y;  // sign(e), 0 at 0 (as torch's l1_loss), NaN stays NaN
    return e > 0.f ? 1.f : (e < 0.f ? -1.f : e * 0.f);
  }
  if (K == 2) {
    float c = clip(x, eps);
    return unclipped(x, eps) ? (1.0f - y) / (1.0f - c) - y / c : 0.f;
  }
  // sigmoid(x) - t, with exp of a non-positive argument only
  float e = vm::exp(-vm::fabs(x));
  float sig = x >= 0.f ? 1.0f / (1.0f + e) : e / (1.0f + e);
  return (x != x ? x : sig) - y;
}

template <int K>
FASTNN_INLINE float ew_row(const float* p, const float* t, int64_t D, float eps) {
  return lane_sum(D, [&](int64_t i) { return ew_value<K>(p[i], t[i], eps); }) / (float)D;
}
template <int K>
FASTNN_INLINE void ew_row_grad(float* dp, float g, const float* p, const float* t, int64_t D, float eps) {
  const float s = g / (float)D;
  for (int64_t i = 0; i < D; ++i) dp[i] = ew_grad<K>(p[i], t[i], eps) * s;
}

FASTNN_SIMD float elementwise_row(int kind, const float* p, const float* t, int64_t D, float eps) {
  switch (kind) {
    case 0: return ew_row<0>(p, t, D, eps);
    case 1: return ew_row<1>(p, t, D, eps);
    case 2: return ew_row<2>(p, t, D, eps);
    default: return ew_row<3>(p, t, D, eps);
  }
}

FASTNN_SIMD void elementwise_row_grad(int kind, float* dp, float g, const float* p, const float* t, int64_t D,
                                      float eps) {
  switch (kind) {
    case 0: return ew_row_grad<0>(dp, g, p, t, D, eps);
    case 1: return ew_row_grad<1>(dp, g, p, t, D, eps);
    case 2: return ew_row_grad<2>(dp, g, p, t, D, eps);
    default: return ew_row_grad<3>(dp, g, p, t, D, eps);
  }
}

void elementwise_forward(int kind, float* loss, const float* pred, const float* target, int64_t N, int64_t D,
                         float eps) {
  each_row(N, D, [&](int64_t n) { loss[n] = elementwise_row(kind, pred + n * D, target + n * D, D, eps); });
}
void elementwise_backward(int kind, float* dpred, const float* dloss, const float* pred, const float* target,
                          int64_t N, int64_t D, float eps) {
  each_row(N, D, [&](int64_t n) {
    elementwise_row_grad(kind, dpred + n * D, dloss[n], pred + n * D, target + n * D, D, eps);
  });
}

// ------------------------------------------------------------------ categorical cross-entropy
// Probabilities: q = p / sum(p), c = clip(q); loss = -sum t' log(c).
FASTNN_SIMD float cce_row(const float* p, const float* t, int64_t C, float ls, float eps) {
  const float S = lane_sum(C, [&](int64_t j) { return p[j]; }), a = 1.0f - ls, b = ls / (float)C;
  return -lane_sum(C, [&](int64_t j) {
    float tj = t[j] * a + b;
    float c = clip(p[j] / S, eps);
    return tj * vm::log(c);  // log(c) is finite: c >= eps
  });
}

// dL/dq_j = g_j = -t'_j / c_j inside the clip (else 0); dL/dp_k = (g_k - sum_j g_j q_j) / S.
FASTNN_SIMD void cce_row_grad(float* dp, float g, const float* p, const float* t, int64_t C, float ls, float eps) {
  const float S = lane_sum(C, [&](int64_t j) { return p[j]; }), a = 1.0f - ls, b = ls / (float)C;
  const float dot = lane_sum(C, [&](int64_t j) {
    float q = p[j] / S, tj = t[j] * a + b;
    float gj = unclipped(q, eps) ? -tj / clip(q, eps) : 0.f;
    dp[j] = gj;  // stash g_j, finished below
    return gj * q;
  });
  const float s = g / S;
  for (int64_t j = 0; j < C; ++j) dp[j] = (dp[j] - dot) * s;
}

// Logits: loss = -sum t' ((x - max) - log(sum exp(x - max))).
FASTNN_SIMD float cce_logits_row(const float* x, const float* t, int64_t C, float ls) {
  float m = x[0];
  for (int64_t j = 1; j < C; ++j) m = (x[j] > m || x[j] != x[j]) ? x[j] : m;
  const float lse = std::log(lane_sum(C, [&](int64_t j) { return vm::exp(x[j] - m); }));
  const float a = 1.0f - ls, b = ls / (float)C;
  return -lane_sum(C, [&](int64_t j) {
    float tj = t[j] * a + b;
    // 0 * log(0) = 0 for a -inf logit with no target mass (NaN still propagates)
    return tj == 0.f && x[j] == -std::numeric_limits<float>::infinity() ? 0.f : tj * ((x[j] - m) - lse);
  });
}

// dx = softmax(x) * sum(t') - t'
FASTNN_SIMD void cce_logits_row_grad(float* dx, float g, const float* x, const float* t, int64_t C, float ls) {
  float m = x[0];
  for (int64_t j = 1; j < C; ++j) m = (x[j] > m || x[j] != x[j]) ? x[j] : m;
  const float a = 1.0f - ls, b = ls / (float)C;
  const float T = lane_sum(C, [&](int64_t j) { return t[j] * a + b; });
  const float inv = 1.0f / lane_sum(C, [&](int64_t j) {
    float e = vm::exp(x[j] - m);
    dx[j] = e;
    return e;
  });
  for (int64_t j = 0; j < C; ++j) dx[j] = (dx[j] * inv * T - (t[j] * a + b)) * g;
}

// The sparse kernels expand each label into a one-hot row (C floats per thread) and reuse the
// dense rows: one extra pass over C, far cheaper than the exp/log of the row itself.
template <class F>
void sparse_rows(int64_t N, int64_t C, const int64_t* labels, F&& f) {
  parallel_for(N, row_grain(C), [&](int64_t b, int64_t e) {
    std::vector<float> onehot(C, 0.f);
    for (int64_t n = b; n < e; ++n) {
      int64_t k = labels[n];
      onehot[k] = 1.f;
      f(n, onehot.data());
      onehot[k] = 0.f;
    }
  });
}

}  // namespace

// ------------------------------------------------------------------ entries
void mse_forward(float* loss, const float* pred, const float* target, int64_t N, int64_t D) {
  elementwise_forward(0, loss, pred, target, N, D, 0.f);
}
void mse_backward(float* dpred, const float* dloss, const float* pred, const float* target, int64_t N, int64_t D) {
  elementwise_backward(0, dpred, dloss, pred, target, N, D, 0.f);
}
void mae_forward(float* loss, const float* pred, const float* target, int64_t N, int64_t D) {
  elementwise_forward(1, loss, pred, target, N, D, 0.f);
}
void mae_backward(float* dpred, const float* dloss, const float* pred, const float* target, int64_t N, int64_t D) {
  elementwise_backward(1, dpred, dloss, pred, target, N, D, 0.f);
}
void bce_forward(float* loss, const float* pred, const float* target, int64_t N, int64_t D, float eps) {
  elementwise_forward(2, loss, pred, target, N, D, eps);
}
void bce_backward(float* dpred, const float* dloss, const float* pred, const float* target, int64_t N, int64_t D,
                  float eps) {
  elementwise_backward(2, dpred, dloss, pred, target, N, D, eps);
}
void bce_logits_forward(float* loss, const float* logits, const float* target, int64_t N, int64_t D) {
  elementwise_forward(3, loss, logits, target, N, D, 0.f);
}
void bce_logits_backward(float* dlogits, const float* dloss, const float* logits, const float* target, int64_t N,
                         int64_t D) {
  elementwise_backward(3, dlogits, dloss, logits, target, N, D, 0.f);
}

void cce_forward(float* loss, const float* pred, const float* target, int64_t N, int64_t C, float label_smoothing,
                 float eps) {
  each_row(N, C, [&](int64_t n) { loss[n] = cce_row(pred + n * C, target + n * C, C, label_smoothing, eps); });
}
void cce_backward(float* dpred, const float* dloss, const float* pred, const float* target, int64_t N, int64_t C,
                  float label_smoothing, float eps) {
  each_row(N, C, [&](int64_t n) {
    cce_row_grad(dpred + n * C, dloss[n], pred + n * C, target + n * C, C, label_smoothing, eps);
  });
}
void cce_logits_forward(float* loss, const float* logits, const float* target, int64_t N, int64_t C,
                        float label_smoothing) {
  if (C == 0) {  // a sum over no classes
    for (int64_t n = 0; n < N; ++n) loss[n] = 0.f;
    return;
  }
  each_row(N, C, [&](int64_t n) { loss[n] = cce_logits_row(logits + n * C, target + n * C, C, label_smoothing); });
}
void cce_logits_backward(float* dlogits, const float* dloss, const float* logits, const float* target, int64_t N,
                         int64_t C, float label_smoothing) {
  if (C == 0) return;
  each_row(N, C, [&](int64_t n) {
    cce_logits_row_grad(dlogits + n * C, dloss[n], logits + n * C, target + n * C, C, label_smoothing);
  });
}

void sparse_cce_forward(float* loss, const float* pred, const int64_t* labels, int64_t N, int64_t C,
                        float label_smoothing, float eps) {
  sparse_rows(N, C, labels, [&](int64_t n, const float* t) { loss[n] = cce_row(pred + n * C, t, C, label_smoothing, eps); });
}
void sparse_cce_backward(float* dpred, const float* dloss, const float* pred, const int64_t* labels, int64_t N,
                         int64_t C, float label_smoothing, float eps) {
  sparse_rows(N, C, labels, [&](int64_t n, const float* t) {
    cce_row_grad(dpred + n * C, dloss[n], pred + n * C, t, C, label_smoothing, eps);
  });
}
void sparse_cce_logits_forward(float* loss, const float* logits, const int64_t* labels, int64_t N, int64_t C,
                               float label_smoothing) {
  sparse_rows(N, C, labels, [&](int64_t n, const float* t) {
    loss[n] = cce_logits_row(logits + n * C, t, C, label_smoothing);
  });
}
void sparse_cce_logits_backward(float* dlogits, const float* dloss, const float* logits, const int64_t* labels,
                                int64_t N, int64_t C, float label_smoothing) {
  sparse_rows(N, C, labels, [&](int64_t n, const float* t) {
    cce_logits_row_grad(dlogits + n * C, dloss[n], logits + n * C, t, C, label_smoothing);
  });
}

}  // namespace fastnn::cpu
