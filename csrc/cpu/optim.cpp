// Fused optimizer updates on the CPU (formulas in kernels/optim.h). Each optimizer is one leaf
// loop, templated on its options so that the loop body has no branches, marked FASTNN_SIMD
// (AVX-512, AVX2 and portable clones); parallel_for hands contiguous ranges to threads. Each
// element is updated alone, so any thread count gives the same bits.
// Letters: w = variable, g = gradient, n = elements; slots as in kernels/optim.h.
#include "kernels/optim.h"

#include <cmath>
#include <vector>

#include "core/parallel.h"
#include "cpu/simd.h"
#include "cpu/vec_math.h"

namespace fastnn::cpu {
namespace {

constexpr int64_t kGrain = 32768;  // elements per thread at least
constexpr int64_t kBlock = 8192;   // elements per partial sum of sum_squares

// g * scale, clipped to [-c, c] (c = inf leaves it as it is; NaN passes through).
FASTNN_INLINE float prep_grad(float g, float scale, float c) {
  float x = g * scale;
  x = x < -c ? -c : x;
  return x > c ? c : x;
}

template <bool kMomentum, bool kNesterov, bool kDecay>
FASTNN_SIMD void sgd_leaf(float* w, float* v, const float* g, int64_t n, float lr, float mu, float scale,
                          float clip, float decay) {
  for (int64_t i = 0; i < n; ++i) {
    const float gi = prep_grad(g[i], scale, clip);
    float wi = w[i];
    if constexpr (kDecay) wi -= wi * decay;
    if constexpr (kMomentum) {
      const float vi = v[i] * mu - gi * lr;
      v[i] = vi;
      if constexpr (kNesterov)
        wi += vi * mu - gi * lr;
      else
        wi += vi;
    } else {
      wi -= gi * lr;
    }
    w[i] = wi;
  }
}

template <bool kDecay>
FASTNN_SIMD void adagrad_leaf(float* w, float* a, const float* g, int64_t n, float lr, float eps, float scale,
                              float clip, float decay) {
  for (int64_t i = 0; i < n; ++i) {
    const float gi = prep_grad(g[i], scale, clip);
    float wi = w[i];
    if constexpr (kDecay) wi -= wi * decay;
    const float ai = a[i] + gi * gi;
    a[i] = ai;
    w[i] = wi - (lr * gi) / std::sqrt(ai + eps);
  }
}

template <bool kMomentum, bool kCentered, bool kDecay>
FASTNN_SIMD void rmsprop_leaf(float* w, float* v, float* mom, float* ga, const float* g, int64_t n, float lr,
                              float rho, float mu, float eps, float scale, float clip, float decay) {
  const float one_rho = 1.0f - rho;
  for (int64_t i = 0; i < n; ++i) {
    const float gi = prep_grad(g[i], scale, clip);
    float wi = w[i];
    if constexpr (kDecay) wi -= wi * decay;
    const float vi = rho * v[i] + one_rho * (gi * gi);
    v[i] = vi;
    float den;
    if constexpr (kCentered) {
      const float gai = rho * ga[i] + one_rho * gi;
      ga[i] = gai;
      den = vi - gai * gai + eps;
    } else {
      den = vi + eps;
    }
    const float inc = (lr * gi) / std::sqrt(den);
    if constexpr (kMomentum) {
      const float mi = mu * mom[i] + inc;
      mom[i] = mi;
      wi -= mi;
    } else {
      wi -= inc;
    }
    w[i] = wi;
  }
}

template <bool kAmsgrad, bool kDecay>
FASTNN_SIMD void adam_leaf(float* w, float* m, float* v, float* vh, const float* g, int64_t n, float alpha,
                           float one_b1, float one_b2, float eps, float scale, float clip, float decay) {
  for (int64_t i = 0; i < n; ++i) {
    const float gi = prep_grad(g[i], scale, clip);
    float wi = w[i];
    if constexpr (kDecay) wi -= wi * decay;
    const float mi = m[i] + (gi - m[i]) * one_b1;
    float vi = v[i] + (gi * gi - v[i]) * one_b2;
    m[i] = mi;
    v[i] = vi;
    if constexpr (kAmsgrad) {
      const float h = vh[i];
      vi = (vi > h || vi != vi) ? vi : h;  // max, NaN-propagating
      vh[i] = vi;
    }
    w[i] = wi - (mi * alpha) / (std::sqrt(vi) + eps);
  }
}

FASTNN_SIMD float sum_squares_leaf(const float* x, int64_t n) {
  return simd::lane_sum(n, [&](int64_t i) { return x[i] * x[i]; });
}

// Runs leaf(begin, end) over [0, n) in parallel.
template <class Leaf>
FASTNN_INLINE void run(int64_t n, Leaf&& leaf) {
  parallel_for(n, kGrain, [&](int64_t b, int64_t e) { leaf(b, e); });
}

}  // namespace

void sgd_update(float* w, float* v, const float* g, int64_t n, float lr, float momentum, bool nesterov,
                UpdatePrep p) {
  const bool mom = momentum != 0.0f, dec = p.decay != 0.0f;
  run(n, [&](int64_t b, int64_t e) {
    float* vb = mom ? v + b : nullptr;
#define FASTNN_SGD(M, N, D) \
  sgd_leaf<M, N, D>(w + b, vb, g + b, e - b, lr, momentum, p.grad_scale, p.clip_value, p.decay)
    if (!mom) dec ? FASTNN_SGD(false, false, true) : FASTNN_SGD(false, false, false);
    else if (!nesterov) dec ? FASTNN_SGD(true, false, true) : FASTNN_SGD(true, false, false);
    else dec ? FASTNN_SGD(true, true, true) : FASTNN_SGD(true, true, false);
#undef FASTNN_SGD
  });
}

void adagrad_update(float* w, float* a, const float* g, int64_t n, float lr, float eps, UpdatePrep p) {
  const bool dec = p.decay != 0.0f;
  run(n, [&](int64_t b, int64_t e) {
    if (dec) adagrad_leaf<true>(w + b, a + b, g + b, e - b, lr, eps, p.grad_scale, p.clip_value, p.decay);
    else adagrad_leaf<false>(w + b, a + b, g + b, e - b, lr, eps, p.grad_scale, p.clip_value, p.decay);
  });
}

void rmsprop_update(float* w, float* v, float* mom, float* ga, const float* g, int64_t n, float lr, float rho,
                    float momentum, float eps, UpdatePrep p) {
  const bool has_mom = momentum > 0.0f, centered = ga != nullptr, dec = p.decay != 0.0f;
  run(n, [&](int64_t b, int64_t e) {
    float* mb = has_mom ? mom + b : nullptr;
    float* gab = centered ? ga + b : nullptr;
#define FASTNN_RMS(M, C, D)                                                                                  \
  rmsprop_leaf<M, C, D>(w + b, v + b, mb, gab, g + b, e - b, lr, rho, momentum, eps, p.grad_scale, p.clip_value, \
                        p.decay)
    if (has_mom) {
      if (centered) dec ? FASTNN_RMS(true, true, true) : FASTNN_RMS(true, true, false);
      else dec ? FASTNN_RMS(true, false, true) : FASTNN_RMS(true, false, false);
    } else {
      if (centered) dec ? FASTNN_RMS(false, true, true) : FASTNN_RMS(false, true, false);
      else dec ? FASTNN_RMS(false, false, true) : FASTNN_RMS(false, false, false);
    }
#undef FASTNN_RMS
  });
}

void adam_update(float* w, float* m, float* v, float* vh, const float* g, int64_t n, float alpha, float beta1,
                 float beta2, float eps, UpdatePrep p) {
  const bool ams = vh != nullptr, dec = p.decay != 0.0f;
  const float one_b1 = 1.0f - beta1, one_b2 = 1.0f - beta2;
  run(n, [&](int64_t b, int64_t e) {
    float* vhb = ams ? vh + b : nullptr;
#define FASTNN_ADAM(A, D) \
  adam_leaf<A, D>(w + b, m + b, v + b, vhb, g + b, e - b, alpha, one_b1, one_b2, eps, p.grad_scale, p.clip_value, p.decay)
    if (ams) dec ? FASTNN_ADAM(true, true) : FASTNN_ADAM(true, false);
    else dec ? FASTNN_ADAM(false, true) : FASTNN_ADAM(false, false);
#undef FASTNN_ADAM
  });
}

double sum_squares(const float* x, int64_t n) {
  if (n <= 0) return 0.0;
  const int64_t nb = (n + kBlock - 1) / kBlock;
  if (nb == 1) return (double)sum_squares_leaf(x, n);
  std::vector<float> part(nb);
  parallel_for(nb, std::max<int64_t>(1, kGrain / kBlock), [&](int64_t b, int64_t e) {
    for (int64_t t = b; t < e; ++t) {
      const int64_t r0 = t * kBlock;
      part[t] = sum_squares_leaf(x + r0, std::min(n, r0 + kBlock) - r0);
    }
  });
  double acc = 0.0;
  for (int64_t t = 0; t < nb; ++t) acc += (double)part[t];
  return acc;
}

}  // namespace fastnn::cpu
