// Loss kernels on the CPU, fused and numerically stable (see kernels/loss.h for the contract).
// N = samples, D = values per sample, C = classes; pred / target are (N, D) or (N, C) row-major,
// labels (N,) int64, loss and dloss (N,). Each row is computed by one thread with 16-lane
// partial sums in a fixed order, so results never depend on the thread count.
// Conventions (Keras): elementwise losses are the mean over D (kld the sum); probabilities are clipped to
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
// One template per kind, instantiated in every SIMD clone; K is the kind below.
// kFocal* take a whole gamma in [0, 64], kFocal*Pow any other (see focal_pow).
enum EwKind : int {
  kMse, kMae, kBce, kBceLogits, kMape, kMsle, kHuber, kLogCosh, kPoisson, kKld, kHinge, kSqHinge, kFocal,
  kFocalLogits, kFocalPow, kFocalLogitsPow
};

// The scalars of the elementwise losses; each kind reads the ones it needs. No bool member: a
// bool read in a loop keeps GCC from vectorising it.
struct EwParams {
  float eps = 0.f, delta = 1.f, gamma = 0.f;
  float w0 = 1.f, dw = 0.f;  // focal class weight w0 + t dw: 1 - alpha and 2 alpha - 1 when balancing
  int gamma_int = -1;        // gamma when it is a whole number in [0, 64], else -1
};

EwParams focal_params(float gamma, float alpha, bool balance, float eps) {
  EwParams q;
  q.eps = eps, q.gamma = gamma;
  if (balance) q.w0 = 1.0f - alpha, q.dw = alpha - (1.0f - alpha);
  q.gamma_int = (gamma >= 0.f && gamma <= 64.f && gamma == std::floor(gamma)) ? (int)gamma : -1;
  return q;
}

constexpr float kLn2 = 0.693147180559945309f;

// NaN-preserving bounds (a NaN input stays NaN)
FASTNN_INLINE float at_least(float x, float lo) { return x < lo ? lo : x; }
FASTNN_INLINE float clip_to(float x, float lo, float hi) { return x < lo ? lo : (x > hi ? hi : x); }
FASTNN_INLINE float sign_of(float e) { return e > 0.f ? 1.f : (e < 0.f ? -1.f : e * 0.f); }  // sign(0) = 0, NaN stays

// b^g for the focal factor. A whole g in [0, 64] (gi = g) takes exponentiation by squaring in a
// fixed number of steps with selects, so that the loop vectorises (exact for the usual g = 2);
// any other g takes exp(g log b) (NaN for b < 0, as pow). 0^0 = 1.
template <bool General>
FASTNN_INLINE float focal_pow(float b, float g, int gi) {
  if (General) return vm::exp(g * vm::log(b));
  float r = 1.f, sq = b;
  for (int k = 0; k < 7; ++k) {
    r = ((gi >> k) & 1) ? r * sq : r;
    sq = sq * sq;
  }
  return r;
}
// d(b^g)/db = g b^(g - 1); 0 for g = 0 (as torch's pow backward)
template <bool General>
FASTNN_INLINE float focal_dpow(float b, const EwParams& q) {
  const float d = q.gamma * focal_pow<General>(b, q.gamma - 1.f, q.gamma_int - 1);
  return q.gamma == 0.f ? 0.f : d;
}
// alpha_t = t alpha + (1 - t)(1 - alpha) when balancing, exactly 1 otherwise
FASTNN_INLINE float focal_weight(float y, const EwParams& q) { return q.w0 + y * q.dw; }
// sigmoid(x) and sigmoid(-x) = 1 - sigmoid(x), each without cancellation
FASTNN_INLINE void sigmoid_pair(float x, float& s, float& sn) {
  float e = vm::exp(-vm::fabs(x)), r = 1.0f / (1.0f + e);
  s = x >= 0.f ? r : e * r;  // NaN: e * r is NaN
  sn = x >= 0.f ? e * r : r;
}

template <int K>
FASTNN_INLINE float ew_value(float x, float y, const EwParams& q) {
  const float eps = q.eps;
  if (K == kMse) return (x - y) * (x - y);
  if (K == kMae) return vm::fabs(x - y);
  if (K == kBce) {
    float c = clip(x, eps);
    return -(y * vm::log(c) + (1.0f - y) * vm::log(1.0f - c));
  }
  if (K == kBceLogits)  // max(x, 0) - x t + log(1 + exp(-|x|)): no overflow for any x
    return (x > 0.f ? x : 0.f) - x * y + vm::log1p(vm::exp(-vm::fabs(x)));
  if (K == kMape) return 100.0f * vm::fabs((y - x) / at_least(vm::fabs(y), eps));
  if (K == kMsle) {
    float d = vm::log1p(at_least(x, eps)) - vm::log1p(at_least(y, eps));
    return d * d;
  }
  if (K == kHuber) {
    float e = x - y, a = vm::fabs(e);
    return a <= q.delta ? 0.5f * e * e : q.delta * a - 0.5f * q.delta * q.delta;
  }
  if (K == kLogCosh) {  // log cosh is even: |e| + softplus(-2 |e|) - log 2, no overflow
    float a = vm::fabs(x - y);
    return a + vm::log1p(vm::exp(-2.0f * a)) - kLn2;
  }
  if (K == kPoisson) return x - y * vm::log(x + eps);
  if (K == kKld) {
    float t = clip_to(y, eps, 1.0f), p = clip_to(x, eps, 1.0f);
    return t * vm::log(t / p);
  }
  if (K == kHinge) {
    float m = 1.0f - y * x;
    return m < 0.f ? 0.f : m;
  }
  if (K == kSqHinge) {
    float m = 1.0f - y * x;
    m = m < 0.f ? 0.f : m;
    return m * m;
  }
  constexpr bool general = K == kFocalPow || K == kFocalLogitsPow;
  if (K == kFocal || K == kFocalPow) {  // Keras: bce on the clipped probability, the focal factor on p itself
    float c = clip(x, eps);
    float bce = -(y * vm::log(c) + (1.0f - y) * vm::log(1.0f - c));
    float base = 1.0f - (y * x + (1.0f - y) * (1.0f - x));  // 1 - p_t
    return focal_weight(y, q) * focal_pow<general>(base, q.gamma, q.gamma_int) * bce;
  }
  // kFocalLogits: 1 - p_t = y sigmoid(-x) + (1 - y) sigmoid(x), bce in the log-sum-exp form
  float s, sn;
  sigmoid_pair(x, s, sn);
  float ce = (x > 0.f ? x : 0.f) - x * y + vm::log1p(vm::exp(-vm::fabs(x)));
  float base = y * sn + (1.0f - y) * s;
  return focal_weight(y, q) * focal_pow<general>(base, q.gamma, q.gamma_int) * ce;
}

template <int K>
FASTNN_INLINE float ew_grad(float x, float y, const EwParams& q) {
  const float eps = q.eps;
  if (K == kMse) return 2.0f * (x - y);
  if (K == kMae) return sign_of(x - y);  // 0 at 0 (as torch's l1_loss), NaN stays NaN
  if (K == kBce) {
    float c = clip(x, eps);
    return unclipped(x, eps) ? (1.0f - y) / (1.0f - c) - y / c : 0.f;
  }
  if (K == kBceLogits) {  // sigmoid(x) - t, with exp of a non-positive argument only
    float e = vm::exp(-vm::fabs(x));
    float sig = x >= 0.f ? 1.0f / (1.0f + e) : e / (1.0f + e);
    return (x != x ? x : sig) - y;
  }
  if (K == kMape) return 100.0f * sign_of(x - y) / at_least(vm::fabs(y), eps);
  if (K == kMsle) {  // max(p, eps) passes no gradient below eps
    float xp = at_least(x, eps);
    float d = vm::log1p(xp) - vm::log1p(at_least(y, eps));
    return x < eps ? 0.f : 2.0f * d / (1.0f + xp);
  }
  if (K == kHuber) {
    float e = x - y;
    return (vm::fabs(e) <= q.delta || e != e) ? e : vm::copysign(q.delta, e);
  }
  if (K == kLogCosh) return vm::tanh(x - y);
  if (K == kPoisson) return 1.0f - y / (x + eps);
  if (K == kKld) {  // the clip passes the gradient on [eps, 1] (and NaN)
    float t = clip_to(y, eps, 1.0f), p = clip_to(x, eps, 1.0f);
    return (x < eps || x > 1.0f) ? 0.f : -t / p;
  }
  if (K == kHinge) {  // 0 where the margin is exactly met, as relu's gradient at 0
    float m = 1.0f - y * x;
    return m > 0.f ? -y : (m != m ? m : 0.f);
  }
  if (K == kSqHinge) {
    float m = 1.0f - y * x;
    m = m < 0.f ? 0.f : m;
    return -2.0f * y * m;
  }
  constexpr bool general = K == kFocalPow || K == kFocalLogitsPow;
  if (K == kFocal || K == kFocalPow) {
    float c = clip(x, eps);
    float bce = -(y * vm::log(c) + (1.0f - y) * vm::log(1.0f - c));
    float dbce = unclipped(x, eps) ? (1.0f - y) / (1.0f - c) - y / c : 0.f;
    float base = 1.0f - (y * x + (1.0f - y) * (1.0f - x));
    float dbase = 1.0f - 2.0f * y;
    return focal_weight(y, q) *
           (focal_dpow<general>(base, q) * dbase * bce + focal_pow<general>(base, q.gamma, q.gamma_int) * dbce);
  }
  // kFocalLogits: d(1 - p_t)/dx = (1 - 2y) s (1 - s), d ce/dx = s - y
  float s, sn;
  sigmoid_pair(x, s, sn);
  float ce = (x > 0.f ? x : 0.f) - x * y + vm::log1p(vm::exp(-vm::fabs(x)));
  float base = y * sn + (1.0f - y) * s;
  float dbase = (1.0f - 2.0f * y) * s * sn;
  return focal_weight(y, q) *
         (focal_dpow<general>(base, q) * dbase * ce + focal_pow<general>(base, q.gamma, q.gamma_int) * (s - y));
}

// kld is a sum over the row (Keras), the others a mean
// The parameters are copied by value so that their loads leave the loop (GCC does not vectorise a
// loop that reloads a bool through a reference).
template <int K>
FASTNN_INLINE float ew_row(const float* p, const float* t, int64_t D, const EwParams q) {
  const float s = lane_sum(D, [&](int64_t i) { return ew_value<K>(p[i], t[i], q); });
  return K == kKld ? s : s / (float)D;
}
template <int K>
FASTNN_INLINE void ew_row_grad(float* dp, float g, const float* p, const float* t, int64_t D, const EwParams q) {
  const float s = K == kKld ? g : g / (float)D;
  for (int64_t i = 0; i < D; ++i) dp[i] = ew_grad<K>(p[i], t[i], q) * s;
}

FASTNN_SIMD float elementwise_row(int kind, const float* p, const float* t, int64_t D, const EwParams& q) {
  switch (kind) {
    case kMse: return ew_row<kMse>(p, t, D, q);
    case kMae: return ew_row<kMae>(p, t, D, q);
    case kBce: return ew_row<kBce>(p, t, D, q);
    case kBceLogits: return ew_row<kBceLogits>(p, t, D, q);
    case kMape: return ew_row<kMape>(p, t, D, q);
    case kMsle: return ew_row<kMsle>(p, t, D, q);
    case kHuber: return ew_row<kHuber>(p, t, D, q);
    case kLogCosh: return ew_row<kLogCosh>(p, t, D, q);
    case kPoisson: return ew_row<kPoisson>(p, t, D, q);
    case kKld: return ew_row<kKld>(p, t, D, q);
    case kHinge: return ew_row<kHinge>(p, t, D, q);
    case kSqHinge: return ew_row<kSqHinge>(p, t, D, q);
    case kFocal: return ew_row<kFocal>(p, t, D, q);
    case kFocalLogits: return ew_row<kFocalLogits>(p, t, D, q);
    case kFocalPow: return ew_row<kFocalPow>(p, t, D, q);
    default: return ew_row<kFocalLogitsPow>(p, t, D, q);
  }
}

FASTNN_SIMD void elementwise_row_grad(int kind, float* dp, float g, const float* p, const float* t, int64_t D,
                                      const EwParams& q) {
  switch (kind) {
    case kMse: return ew_row_grad<kMse>(dp, g, p, t, D, q);
    case kMae: return ew_row_grad<kMae>(dp, g, p, t, D, q);
    case kBce: return ew_row_grad<kBce>(dp, g, p, t, D, q);
    case kBceLogits: return ew_row_grad<kBceLogits>(dp, g, p, t, D, q);
    case kMape: return ew_row_grad<kMape>(dp, g, p, t, D, q);
    case kMsle: return ew_row_grad<kMsle>(dp, g, p, t, D, q);
    case kHuber: return ew_row_grad<kHuber>(dp, g, p, t, D, q);
    case kLogCosh: return ew_row_grad<kLogCosh>(dp, g, p, t, D, q);
    case kPoisson: return ew_row_grad<kPoisson>(dp, g, p, t, D, q);
    case kKld: return ew_row_grad<kKld>(dp, g, p, t, D, q);
    case kHinge: return ew_row_grad<kHinge>(dp, g, p, t, D, q);
    case kSqHinge: return ew_row_grad<kSqHinge>(dp, g, p, t, D, q);
    case kFocal: return ew_row_grad<kFocal>(dp, g, p, t, D, q);
    case kFocalLogits: return ew_row_grad<kFocalLogits>(dp, g, p, t, D, q);
    case kFocalPow: return ew_row_grad<kFocalPow>(dp, g, p, t, D, q);
    default: return ew_row_grad<kFocalLogitsPow>(dp, g, p, t, D, q);
  }
}

void elementwise_forward(int kind, float* loss, const float* pred, const float* target, int64_t N, int64_t D,
                         const EwParams& q) {
  each_row(N, D, [&](int64_t n) { loss[n] = elementwise_row(kind, pred + n * D, target + n * D, D, q); });
}
void elementwise_backward(int kind, float* dpred, const float* dloss, const float* pred, const float* target,
                          int64_t N, int64_t D, const EwParams& q) {
  each_row(N, D, [&](int64_t n) {
    elementwise_row_grad(kind, dpred + n * D, dloss[n], pred + n * D, target + n * D, D, q);
  });
}
EwParams with_eps(float eps) {
  EwParams q;
  q.eps = eps;
  return q;
}
EwParams with_delta(float delta) {
  EwParams q;
  q.delta = delta;
  return q;
}

// ------------------------------------------------------------------ categorical hinge
// neg = max_c (1 - t_c) p_c (NaN-propagating), pos = sum_c t_c p_c
FASTNN_INLINE float cat_hinge_neg(const float* p, const float* t, int64_t C) {
  float m = -std::numeric_limits<float>::infinity();
  for (int64_t j = 0; j < C; ++j) {
    float v = (1.0f - t[j]) * p[j];
    m = (v > m || v != v) ? v : m;
  }
  return m;
}

FASTNN_SIMD float cat_hinge_row(const float* p, const float* t, int64_t C) {
  const float pos = lane_sum(C, [&](int64_t j) { return t[j] * p[j]; });
  const float l = cat_hinge_neg(p, t, C) - pos + 1.0f;
  return l < 0.f ? 0.f : l;
}

// dL/dp_j = -t_j + (1 - t_j) [v_j == neg] / (number of ties) where the loss is positive
// (torch's amax shares the gradient among ties the same way), 0 elsewhere.
FASTNN_SIMD void cat_hinge_row_grad(float* dp, float g, const float* p, const float* t, int64_t C) {
  const float pos = lane_sum(C, [&](int64_t j) { return t[j] * p[j]; });
  const float neg = cat_hinge_neg(p, t, C);
  const float l = neg - pos + 1.0f;
  if (l != l) {
    for (int64_t j = 0; j < C; ++j) dp[j] = l;
    return;
  }
  if (!(l > 0.f)) {
    for (int64_t j = 0; j < C; ++j) dp[j] = 0.f;
    return;
  }
  const float ties = lane_sum(C, [&](int64_t j) { return (1.0f - t[j]) * p[j] == neg ? 1.f : 0.f; });
  const float share = g / ties;
  for (int64_t j = 0; j < C; ++j)
    dp[j] = -g * t[j] + ((1.0f - t[j]) * p[j] == neg ? (1.0f - t[j]) * share : 0.f);
}

// ------------------------------------------------------------------ cosine similarity
// Keras's normalize: x * min(1 / sqrt(sum x^2), 1 / eps), so a zero vector gives 0.
FASTNN_INLINE float inv_norm(float sq, float eps, bool& capped) {
  const float r = 1.0f / std::sqrt(sq), cap = 1.0f / eps;
  capped = r > cap;
  return capped ? cap : r;
}

FASTNN_SIMD float cosine_row(const float* p, const float* t, int64_t D, float eps) {
  const float sp = lane_sum(D, [&](int64_t j) { return p[j] * p[j]; });
  const float st = lane_sum(D, [&](int64_t j) { return t[j] * t[j]; });
  const float dot = lane_sum(D, [&](int64_t j) { return t[j] * p[j]; });
  bool cp, ct;
  return -(dot * (inv_norm(sp, eps, cp) * inv_norm(st, eps, ct)));
}

// loss = -b dot a(p): dL/dp = -b (a t - dot a^3 p), the second term absent where a is capped
FASTNN_SIMD void cosine_row_grad(float* dp, float g, const float* p, const float* t, int64_t D, float eps) {
  const float sp = lane_sum(D, [&](int64_t j) { return p[j] * p[j]; });
  const float st = lane_sum(D, [&](int64_t j) { return t[j] * t[j]; });
  const float dot = lane_sum(D, [&](int64_t j) { return t[j] * p[j]; });
  bool cp, ct;
  const float a = inv_norm(sp, eps, cp), b = inv_norm(st, eps, ct);
  const float kt = -g * b * a, kp = cp ? 0.f : g * b * dot * (a * a * a);
  for (int64_t j = 0; j < D; ++j) dp[j] = kt * t[j] + kp * p[j];
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
  elementwise_forward(kMse, loss, pred, target, N, D, EwParams{});
}
void mse_backward(float* dpred, const float* dloss, const float* pred, const float* target, int64_t N, int64_t D) {
  elementwise_backward(kMse, dpred, dloss, pred, target, N, D, EwParams{});
}
void mae_forward(float* loss, const float* pred, const float* target, int64_t N, int64_t D) {
  elementwise_forward(kMae, loss, pred, target, N, D, EwParams{});
}
void mae_backward(float* dpred, const float* dloss, const float* pred, const float* target, int64_t N, int64_t D) {
  elementwise_backward(kMae, dpred, dloss, pred, target, N, D, EwParams{});
}
void bce_forward(float* loss, const float* pred, const float* target, int64_t N, int64_t D, float eps) {
  elementwise_forward(kBce, loss, pred, target, N, D, with_eps(eps));
}
void bce_backward(float* dpred, const float* dloss, const float* pred, const float* target, int64_t N, int64_t D,
                  float eps) {
  elementwise_backward(kBce, dpred, dloss, pred, target, N, D, with_eps(eps));
}
void bce_logits_forward(float* loss, const float* logits, const float* target, int64_t N, int64_t D) {
  elementwise_forward(kBceLogits, loss, logits, target, N, D, EwParams{});
}
void bce_logits_backward(float* dlogits, const float* dloss, const float* logits, const float* target, int64_t N,
                         int64_t D) {
  elementwise_backward(kBceLogits, dlogits, dloss, logits, target, N, D, EwParams{});
}
void mape_forward(float* loss, const float* pred, const float* target, int64_t N, int64_t D, float eps) {
  elementwise_forward(kMape, loss, pred, target, N, D, with_eps(eps));
}
void mape_backward(float* dpred, const float* dloss, const float* pred, const float* target, int64_t N, int64_t D,
                   float eps) {
  elementwise_backward(kMape, dpred, dloss, pred, target, N, D, with_eps(eps));
}
void msle_forward(float* loss, const float* pred, const float* target, int64_t N, int64_t D, float eps) {
  elementwise_forward(kMsle, loss, pred, target, N, D, with_eps(eps));
}
void msle_backward(float* dpred, const float* dloss, const float* pred, const float* target, int64_t N, int64_t D,
                   float eps) {
  elementwise_backward(kMsle, dpred, dloss, pred, target, N, D, with_eps(eps));
}
void huber_forward(float* loss, const float* pred, const float* target, int64_t N, int64_t D, float delta) {
  elementwise_forward(kHuber, loss, pred, target, N, D, with_delta(delta));
}
void huber_backward(float* dpred, const float* dloss, const float* pred, const float* target, int64_t N, int64_t D,
                    float delta) {
  elementwise_backward(kHuber, dpred, dloss, pred, target, N, D, with_delta(delta));
}
void log_cosh_forward(float* loss, const float* pred, const float* target, int64_t N, int64_t D) {
  elementwise_forward(kLogCosh, loss, pred, target, N, D, EwParams{});
}
void log_cosh_backward(float* dpred, const float* dloss, const float* pred, const float* target, int64_t N,
                       int64_t D) {
  elementwise_backward(kLogCosh, dpred, dloss, pred, target, N, D, EwParams{});
}
void poisson_forward(float* loss, const float* pred, const float* target, int64_t N, int64_t D, float eps) {
  elementwise_forward(kPoisson, loss, pred, target, N, D, with_eps(eps));
}
void poisson_backward(float* dpred, const float* dloss, const float* pred, const float* target, int64_t N,
                      int64_t D, float eps) {
  elementwise_backward(kPoisson, dpred, dloss, pred, target, N, D, with_eps(eps));
}
void kld_forward(float* loss, const float* pred, const float* target, int64_t N, int64_t D, float eps) {
  elementwise_forward(kKld, loss, pred, target, N, D, with_eps(eps));
}
void kld_backward(float* dpred, const float* dloss, const float* pred, const float* target, int64_t N, int64_t D,
                  float eps) {
  elementwise_backward(kKld, dpred, dloss, pred, target, N, D, with_eps(eps));
}
void hinge_forward(float* loss, const float* pred, const float* target, int64_t N, int64_t D) {
  elementwise_forward(kHinge, loss, pred, target, N, D, EwParams{});
}
void hinge_backward(float* dpred, const float* dloss, const float* pred, const float* target, int64_t N, int64_t D) {
  elementwise_backward(kHinge, dpred, dloss, pred, target, N, D, EwParams{});
}
void squared_hinge_forward(float* loss, const float* pred, const float* target, int64_t N, int64_t D) {
  elementwise_forward(kSqHinge, loss, pred, target, N, D, EwParams{});
}
void squared_hinge_backward(float* dpred, const float* dloss, const float* pred, const float* target, int64_t N,
                            int64_t D) {
  elementwise_backward(kSqHinge, dpred, dloss, pred, target, N, D, EwParams{});
}
void focal_forward(float* loss, const float* pred, const float* target, int64_t N, int64_t D, float gamma,
                   float alpha, bool balance, float eps) {
  const EwParams q = focal_params(gamma, alpha, balance, eps);
  elementwise_forward(q.gamma_int >= 0 ? kFocal : kFocalPow, loss, pred, target, N, D, q);
}
void focal_backward(float* dpred, const float* dloss, const float* pred, const float* target, int64_t N, int64_t D,
                    float gamma, float alpha, bool balance, float eps) {
  const EwParams q = focal_params(gamma, alpha, balance, eps);
  elementwise_backward(q.gamma_int >= 0 ? kFocal : kFocalPow, dpred, dloss, pred, target, N, D, q);
}
void focal_logits_forward(float* loss, const float* logits, const float* target, int64_t N, int64_t D, float gamma,
                          float alpha, bool balance) {
  const EwParams q = focal_params(gamma, alpha, balance, 0.f);
  elementwise_forward(q.gamma_int >= 0 ? kFocalLogits : kFocalLogitsPow, loss, logits, target, N, D, q);
}
void focal_logits_backward(float* dlogits, const float* dloss, const float* logits, const float* target, int64_t N,
                           int64_t D, float gamma, float alpha, bool balance) {
  const EwParams q = focal_params(gamma, alpha, balance, 0.f);
  elementwise_backward(q.gamma_int >= 0 ? kFocalLogits : kFocalLogitsPow, dlogits, dloss, logits, target, N, D, q);
}

void categorical_hinge_forward(float* loss, const float* pred, const float* target, int64_t N, int64_t C) {
  each_row(N, C, [&](int64_t n) { loss[n] = cat_hinge_row(pred + n * C, target + n * C, C); });
}
void categorical_hinge_backward(float* dpred, const float* dloss, const float* pred, const float* target, int64_t N,
                                int64_t C) {
  each_row(N, C, [&](int64_t n) { cat_hinge_row_grad(dpred + n * C, dloss[n], pred + n * C, target + n * C, C); });
}
void cosine_forward(float* loss, const float* pred, const float* target, int64_t N, int64_t D, float eps) {
  each_row(N, D, [&](int64_t n) { loss[n] = cosine_row(pred + n * D, target + n * D, D, eps); });
}
void cosine_backward(float* dpred, const float* dloss, const float* pred, const float* target, int64_t N, int64_t D,
                     float eps) {
  each_row(N, D, [&](int64_t n) { cosine_row_grad(dpred + n * D, dloss[n], pred + n * D, target + n * D, D, eps); });
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
