// Fused optimizer updates on the CPU (formulas in kernels/optim.h). Each optimizer is one leaf
// loop, templated on its options so that the loop body has no branches, marked FASTNN_SIMD
// (AVX-512, AVX2 and portable clones); parallel_for hands contiguous ranges to threads. Each
// element is updated alone, so any thread count gives the same bits.
// Letters: w = variable, g = gradient, n = elements; slots as in kernels/optim.h.
// Every leaf has a kZ variant for the rows of a row-sparse gradient that are absent: there g
// is not read and gi is gz, the prepared zero (prep_grad(0)), so the loop body is the dense
// one with a constant gradient. The _sparse kernels walk the sorted rows (walk_rows below).
#include "kernels/optim.h"

#include <algorithm>
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

template <bool kZ, bool kMomentum, bool kNesterov, bool kDecay>
FASTNN_SIMD void sgd_leaf(float* w, float* v, const float* g, int64_t n, float lr, float mu, float scale,
                          float clip, float decay, float gz) {
  for (int64_t i = 0; i < n; ++i) {
    const float gi = kZ ? gz : prep_grad(g[i], scale, clip);
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

template <bool kZ, bool kDecay>
FASTNN_SIMD void adagrad_leaf(float* w, float* a, const float* g, int64_t n, float lr, float eps, float scale,
                              float clip, float decay, float gz) {
  for (int64_t i = 0; i < n; ++i) {
    const float gi = kZ ? gz : prep_grad(g[i], scale, clip);
    float wi = w[i];
    if constexpr (kDecay) wi -= wi * decay;
    const float ai = a[i] + gi * gi;
    a[i] = ai;
    w[i] = wi - (lr * gi) / std::sqrt(ai + eps);
  }
}

template <bool kZ, bool kMomentum, bool kCentered, bool kDecay>
FASTNN_SIMD void rmsprop_leaf(float* w, float* v, float* mom, float* ga, const float* g, int64_t n, float lr,
                              float rho, float mu, float eps, float scale, float clip, float decay, float gz) {
  const float one_rho = 1.0f - rho;
  for (int64_t i = 0; i < n; ++i) {
    const float gi = kZ ? gz : prep_grad(g[i], scale, clip);
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

template <bool kZ, bool kAmsgrad, bool kDecay>
FASTNN_SIMD void adam_leaf(float* w, float* m, float* v, float* vh, const float* g, int64_t n, float alpha,
                           float one_b1, float one_b2, float eps, float scale, float clip, float decay, float gz) {
  for (int64_t i = 0; i < n; ++i) {
    const float gi = kZ ? gz : prep_grad(g[i], scale, clip);
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

template <bool kZ, bool kDecay>
FASTNN_SIMD void adamax_leaf(float* w, float* m, float* u, const float* g, int64_t n, float lr_t, float one_b1,
                             float beta2, float eps, float scale, float clip, float decay, float gz) {
  for (int64_t i = 0; i < n; ++i) {
    const float gi = kZ ? gz : prep_grad(g[i], scale, clip);
    float wi = w[i];
    if constexpr (kDecay) wi -= wi * decay;
    const float mi = m[i] + (gi - m[i]) * one_b1;
    const float bu = beta2 * u[i], ag = vm::fabs(gi);
    const float ui = (bu > ag || bu != bu) ? bu : ag;  // max, NaN-propagating
    m[i] = mi;
    u[i] = ui;
    w[i] = wi - (lr_t * mi) / (ui + eps);
  }
}

template <bool kZ, bool kDecay>
FASTNN_SIMD void nadam_leaf(float* w, float* m, float* v, const float* g, int64_t n, float lr, float one_b1,
                            float one_b2, float eps, float cm, float cg, float cv, float scale, float clip,
                            float decay, float gz) {
  for (int64_t i = 0; i < n; ++i) {
    const float gi = kZ ? gz : prep_grad(g[i], scale, clip);
    float wi = w[i];
    if constexpr (kDecay) wi -= wi * decay;
    const float mi = m[i] + (gi - m[i]) * one_b1;
    const float vi = v[i] + (gi * gi - v[i]) * one_b2;
    m[i] = mi;
    v[i] = vi;
    const float m_hat = cm * mi + cg * gi;
    w[i] = wi - (m_hat * lr) / (std::sqrt(vi * cv) + eps);
  }
}

template <bool kZ, bool kDecay>
FASTNN_SIMD void adadelta_leaf(float* w, float* ag, float* ad, const float* g, int64_t n, float lr, float rho,
                               float eps, float scale, float clip, float decay, float gz) {
  const float one_rho = 1.0f - rho;
  for (int64_t i = 0; i < n; ++i) {
    const float gi = kZ ? gz : prep_grad(g[i], scale, clip);
    float wi = w[i];
    if constexpr (kDecay) wi -= wi * decay;
    const float agi = rho * ag[i] + one_rho * (gi * gi);
    ag[i] = agi;
    const float d = -(std::sqrt(ad[i] + eps) * gi) / std::sqrt(agi + eps);
    ad[i] = rho * ad[i] + one_rho * (d * d);
    w[i] = wi + lr * d;
  }
}

FASTNN_SIMD float sum_squares_leaf(const float* x, int64_t n) {
  return simd::lane_sum(n, [&](int64_t i) { return x[i] * x[i]; });
}

// Each optimizer is an Op: apply<kZ>(off, g, n) updates elements [off, off + n) of the variable
// and its slots from g[0, n) (kZ false) or from the constant gz (kZ true, g unused), choosing
// the leaf instance for the options once per call.

struct SgdOp {
  float *w, *v;
  float lr, mu;
  bool nesterov;
  UpdatePrep p;
  float gz = 0.0f;
  template <bool kZ>
  void apply(int64_t o, const float* g, int64_t n) const {
    const bool dec = p.decay != 0.0f;
    float* vo = v ? v + o : nullptr;
#define FASTNN_SGD(M, N, D) sgd_leaf<kZ, M, N, D>(w + o, vo, g, n, lr, mu, p.grad_scale, p.clip_value, p.decay, gz)
    if (!v) dec ? FASTNN_SGD(false, false, true) : FASTNN_SGD(false, false, false);
    else if (!nesterov) dec ? FASTNN_SGD(true, false, true) : FASTNN_SGD(true, false, false);
    else dec ? FASTNN_SGD(true, true, true) : FASTNN_SGD(true, true, false);
#undef FASTNN_SGD
  }
};

struct AdagradOp {
  float *w, *a;
  float lr, eps;
  UpdatePrep p;
  float gz = 0.0f;
  template <bool kZ>
  void apply(int64_t o, const float* g, int64_t n) const {
    if (p.decay != 0.0f) adagrad_leaf<kZ, true>(w + o, a + o, g, n, lr, eps, p.grad_scale, p.clip_value, p.decay, gz);
    else adagrad_leaf<kZ, false>(w + o, a + o, g, n, lr, eps, p.grad_scale, p.clip_value, p.decay, gz);
  }
};

struct RmspropOp {
  float *w, *v, *mom, *ga;
  float lr, rho, mu, eps;
  UpdatePrep p;
  float gz = 0.0f;
  template <bool kZ>
  void apply(int64_t o, const float* g, int64_t n) const {
    const bool dec = p.decay != 0.0f;
    float* mo = mom ? mom + o : nullptr;
    float* gao = ga ? ga + o : nullptr;
#define FASTNN_RMS(M, C, D) \
  rmsprop_leaf<kZ, M, C, D>(w + o, v + o, mo, gao, g, n, lr, rho, mu, eps, p.grad_scale, p.clip_value, p.decay, gz)
    if (mom) {
      if (ga) dec ? FASTNN_RMS(true, true, true) : FASTNN_RMS(true, true, false);
      else dec ? FASTNN_RMS(true, false, true) : FASTNN_RMS(true, false, false);
    } else {
      if (ga) dec ? FASTNN_RMS(false, true, true) : FASTNN_RMS(false, true, false);
      else dec ? FASTNN_RMS(false, false, true) : FASTNN_RMS(false, false, false);
    }
#undef FASTNN_RMS
  }
};

struct AdamOp {
  float *w, *m, *v, *vh;
  float alpha, one_b1, one_b2, eps;
  UpdatePrep p;
  float gz = 0.0f;
  template <bool kZ>
  void apply(int64_t o, const float* g, int64_t n) const {
    const bool dec = p.decay != 0.0f;
    float* vho = vh ? vh + o : nullptr;
#define FASTNN_ADAM(A, D) \
  adam_leaf<kZ, A, D>(w + o, m + o, v + o, vho, g, n, alpha, one_b1, one_b2, eps, p.grad_scale, p.clip_value, p.decay, gz)
    if (vh) dec ? FASTNN_ADAM(true, true) : FASTNN_ADAM(true, false);
    else dec ? FASTNN_ADAM(false, true) : FASTNN_ADAM(false, false);
#undef FASTNN_ADAM
  }
};

struct AdamaxOp {
  float *w, *m, *u;
  float lr_t, one_b1, beta2, eps;
  UpdatePrep p;
  float gz = 0.0f;
  template <bool kZ>
  void apply(int64_t o, const float* g, int64_t n) const {
    if (p.decay != 0.0f)
      adamax_leaf<kZ, true>(w + o, m + o, u + o, g, n, lr_t, one_b1, beta2, eps, p.grad_scale, p.clip_value, p.decay, gz);
    else
      adamax_leaf<kZ, false>(w + o, m + o, u + o, g, n, lr_t, one_b1, beta2, eps, p.grad_scale, p.clip_value, p.decay, gz);
  }
};

struct NadamOp {
  float *w, *m, *v;
  float lr, one_b1, one_b2, eps, cm, cg, cv;
  UpdatePrep p;
  float gz = 0.0f;
  template <bool kZ>
  void apply(int64_t o, const float* g, int64_t n) const {
    if (p.decay != 0.0f)
      nadam_leaf<kZ, true>(w + o, m + o, v + o, g, n, lr, one_b1, one_b2, eps, cm, cg, cv, p.grad_scale, p.clip_value,
                           p.decay, gz);
    else
      nadam_leaf<kZ, false>(w + o, m + o, v + o, g, n, lr, one_b1, one_b2, eps, cm, cg, cv, p.grad_scale, p.clip_value,
                            p.decay, gz);
  }
};

struct AdadeltaOp {
  float *w, *ag, *ad;
  float lr, rho, eps;
  UpdatePrep p;
  float gz = 0.0f;
  template <bool kZ>
  void apply(int64_t o, const float* g, int64_t n) const {
    if (p.decay != 0.0f)
      adadelta_leaf<kZ, true>(w + o, ag + o, ad + o, g, n, lr, rho, eps, p.grad_scale, p.clip_value, p.decay, gz);
    else
      adadelta_leaf<kZ, false>(w + o, ag + o, ad + o, g, n, lr, rho, eps, p.grad_scale, p.clip_value, p.decay, gz);
  }
};

// Dense gradient: contiguous ranges of [0, n) in parallel.
template <class Op>
void run_dense(const Op& op, const float* g, int64_t n) {
  parallel_for(n, kGrain, [&](int64_t b, int64_t e) { op.template apply<false>(b, g + b, e - b); });
}

// Row-sparse gradient, every row: threads own contiguous row ranges; each finds its first
// listed row by binary search, then alternates runs of absent rows (one kZ call over the
// run, contiguous in memory) with listed rows (one call on the row of vals).
template <class Op>
void walk_rows(Op op, const RowSparse& g) {
  op.gz = prep_grad(0.0f, op.p.grad_scale, op.p.clip_value);
  const int64_t D = g.cols;
  if (D == 0) return;
  parallel_for(g.rows, std::max<int64_t>(1, kGrain / D), [&](int64_t r0, int64_t r1) {
    int64_t k = std::lower_bound(g.idx, g.idx + g.nnz, r0) - g.idx;
    int64_t r = r0;
    while (r < r1) {
      const int64_t next = k < g.nnz ? std::min(g.idx[k], r1) : r1;
      if (next > r) {
        op.template apply<true>(r * D, nullptr, (next - r) * D);
        r = next;
      }
      if (r < r1) {  // r == g.idx[k]
        op.template apply<false>(r * D, g.vals + k * D, D);
        ++k;
        ++r;
      }
    }
  });
}

// Row-sparse gradient where g = 0 leaves a row as it is: only the listed rows.
template <class Op>
void listed_rows(const Op& op, const RowSparse& g) {
  const int64_t D = g.cols;
  if (D == 0) return;
  parallel_for(g.nnz, std::max<int64_t>(1, kGrain / D), [&](int64_t b, int64_t e) {
    for (int64_t k = b; k < e; ++k) op.template apply<false>(g.idx[k] * D, g.vals + k * D, D);
  });
}

// w - lr * gz leaves every w as it is (gz * lr == +0; NaN or inf scales fall back to the walk).
bool zero_step(float gz, float lr) {
  const float s = gz * lr;
  return s == 0.0f && !std::signbit(s);
}

}  // namespace

void sgd_update(float* w, float* v, const float* g, int64_t n, float lr, float momentum, bool nesterov,
                UpdatePrep p) {
  run_dense(SgdOp{w, momentum != 0.0f ? v : nullptr, lr, momentum, nesterov, p}, g, n);
}

void sgd_update_sparse(float* w, float* v, const RowSparse& g, float lr, float momentum, bool nesterov,
                       UpdatePrep p) {
  SgdOp op{w, momentum != 0.0f ? v : nullptr, lr, momentum, nesterov, p};
  if (!op.v && p.decay == 0.0f && zero_step(prep_grad(0.0f, p.grad_scale, p.clip_value), lr))
    listed_rows(op, g);
  else
    walk_rows(op, g);
}

void adagrad_update(float* w, float* a, const float* g, int64_t n, float lr, float eps, UpdatePrep p) {
  run_dense(AdagradOp{w, a, lr, eps, p}, g, n);
}

// The accumulator never goes below its non-negative start, so with eps > 0 the step
// lr * 0 / sqrt(a + eps) is +0 on absent rows.
void adagrad_update_sparse(float* w, float* a, const RowSparse& g, float lr, float eps, UpdatePrep p) {
  AdagradOp op{w, a, lr, eps, p};
  const float gz = prep_grad(0.0f, p.grad_scale, p.clip_value);
  if (p.decay == 0.0f && eps > 0.0f && zero_step(gz, lr) && gz * gz == 0.0f)
    listed_rows(op, g);
  else
    walk_rows(op, g);
}

void rmsprop_update(float* w, float* v, float* mom, float* ga, const float* g, int64_t n, float lr, float rho,
                    float momentum, float eps, UpdatePrep p) {
  run_dense(RmspropOp{w, v, momentum > 0.0f ? mom : nullptr, ga, lr, rho, momentum, eps, p}, g, n);
}

void rmsprop_update_sparse(float* w, float* v, float* mom, float* ga, const RowSparse& g, float lr, float rho,
                           float momentum, float eps, UpdatePrep p) {
  walk_rows(RmspropOp{w, v, momentum > 0.0f ? mom : nullptr, ga, lr, rho, momentum, eps, p}, g);
}

void adam_update(float* w, float* m, float* v, float* vh, const float* g, int64_t n, float alpha, float beta1,
                 float beta2, float eps, UpdatePrep p) {
  run_dense(AdamOp{w, m, v, vh, alpha, 1.0f - beta1, 1.0f - beta2, eps, p}, g, n);
}

void adam_update_sparse(float* w, float* m, float* v, float* vh, const RowSparse& g, float alpha, float beta1,
                        float beta2, float eps, UpdatePrep p) {
  walk_rows(AdamOp{w, m, v, vh, alpha, 1.0f - beta1, 1.0f - beta2, eps, p}, g);
}

void adamax_update(float* w, float* m, float* u, const float* g, int64_t n, float lr_t, float beta1, float beta2,
                   float eps, UpdatePrep p) {
  run_dense(AdamaxOp{w, m, u, lr_t, 1.0f - beta1, beta2, eps, p}, g, n);
}

void adamax_update_sparse(float* w, float* m, float* u, const RowSparse& g, float lr_t, float beta1, float beta2,
                          float eps, UpdatePrep p) {
  walk_rows(AdamaxOp{w, m, u, lr_t, 1.0f - beta1, beta2, eps, p}, g);
}

void nadam_update(float* w, float* m, float* v, const float* g, int64_t n, float lr, float beta1, float beta2,
                  float eps, float cm, float cg, float cv, UpdatePrep p) {
  run_dense(NadamOp{w, m, v, lr, 1.0f - beta1, 1.0f - beta2, eps, cm, cg, cv, p}, g, n);
}

void nadam_update_sparse(float* w, float* m, float* v, const RowSparse& g, float lr, float beta1, float beta2,
                         float eps, float cm, float cg, float cv, UpdatePrep p) {
  walk_rows(NadamOp{w, m, v, lr, 1.0f - beta1, 1.0f - beta2, eps, cm, cg, cv, p}, g);
}

void adadelta_update(float* w, float* ag, float* ad, const float* g, int64_t n, float lr, float rho, float eps,
                     UpdatePrep p) {
  run_dense(AdadeltaOp{w, ag, ad, lr, rho, eps, p}, g, n);
}

void adadelta_update_sparse(float* w, float* ag, float* ad, const RowSparse& g, float lr, float rho, float eps,
                            UpdatePrep p) {
  walk_rows(AdadeltaOp{w, ag, ad, lr, rho, eps, p}, g);
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
