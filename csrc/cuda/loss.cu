// Loss kernels on CUDA. N = samples, D = values per sample, C = classes. Forward writes the
// per-sample loss (N,); backward scales by the per-sample upstream gradient dloss (N,).
// The definitions (Keras 3 conventions; the CPU kernels in csrc/cpu/loss.cpp follow them):
//   mse   loss = sum_d (p - t)^2 / D                  dp = dloss / D * 2 (p - t)
//   mae   loss = sum_d |p - t| / D                    dp = dloss / D * sign(p - t), sign(0) = 0
//   bce   q = clip(p, eps, 1 - eps)
//         loss = sum_d -(t log q + (1 - t) log(1 - q)) / D
//         dp = dloss / D * (q - t) / (q (1 - q)) where eps <= p <= 1 - eps, else 0
//   bce_logits  loss = sum_d (max(x, 0) - x t + log1p(exp(-|x|))) / D
//               dx = dloss / D * (sigmoid(x) - t)
//   cce   t' = t (1 - ls) + ls / C; S = sum_c p; q = clip(p / S, eps, 1 - eps)
//         loss = -sum_c t' log q
//         dp_j = dloss * (g_j - sum_c g_c p_c / S) / S, g_c = -t'_c / q_c where
//         eps <= p_c / S <= 1 - eps, else 0   (the gradient of Keras's normalise-then-clip)
//   cce_logits  lse = m + log sum_c exp(x - m); loss = sum_c t' (lse - x_c)
//               dx_c = dloss * (exp(x_c - lse) sum_c t' - t'_c)
//   sparse_*    the same with t = one_hot(label).
//   mape  loss = sum_d 100 |t - p| / max(|t|, eps) / D
//   msle  loss = sum_d (log1p(max(p, eps)) - log1p(max(t, eps)))^2 / D (no gradient below eps)
//   huber e = p - t; loss = sum_d (|e| <= delta ? e^2 / 2 : delta |e| - delta^2 / 2) / D
//   log_cosh  loss = sum_d (|e| + log1p(exp(-2 |e|)) - log 2) / D   dp = dloss / D * tanh(e)
//   poisson   loss = sum_d (p - t log(p + eps)) / D
//   kld   t' = clip(t, eps, 1), p' = clip(p, eps, 1); loss = sum_d t' log(t' / p') (a sum)
//   hinge, squared_hinge  m = max(1 - t p, 0); loss = sum_d m / D or m^2 / D
//   focal b = 1 - p_t, p_t = t p + (1 - t)(1 - p); w = alpha_t (balance) or 1
//         loss = sum_d w b^gamma bce(t, clip(p)) / D; on logits p = sigmoid(x) and the
//         log-sum-exp bce
//   categorical_hinge  loss = max(max_c (1 - t) p - sum_c t p + 1, 0)
//   cosine  a = min(rsqrt(sum p^2), 1 / eps), b likewise for t; loss = -a b sum_d t p
// The clip's gradient passes on the closed interval, as torch.clamp's does.
#include "kernels/loss.h"

#include "cuda/common.cuh"

namespace fastnn::cuda {

// ---- how a sample is processed: by one block (long rows) or by one thread (short rows)

constexpr int64_t kBlockRow = 32;  // rows at least this long get a block each

__device__ __forceinline__ int64_t sample_first(bool per_block) {
  return per_block ? (int64_t)blockIdx.x : (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
}
__device__ __forceinline__ int64_t sample_step(bool per_block) {
  return per_block ? (int64_t)gridDim.x : (int64_t)gridDim.x * blockDim.x;
}
__device__ __forceinline__ float group_sum(bool per_block, float v) {
  return per_block ? block_sum(v) : v;
}
__device__ __forceinline__ float group_max(bool per_block, float v) {
  return per_block ? block_max(v) : v;
}

struct SampleLaunch {
  bool per_block;
  unsigned blocks;
  int threads;
};
static SampleLaunch sample_launch(int64_t N, int64_t D) {
  if (D >= kBlockRow) return {true, grid_for(N, 1), threads_for_row(D)};
  return {false, grid_for(N), kThreads};
}

// ---- elementwise losses: mse, mae, bce, bce_logits

// clip to [eps, 1 - eps]; NaN stays NaN
__device__ __forceinline__ float clip_prob(float q, float eps) {
  return q < eps ? eps : (q > 1.f - eps ? 1.f - eps : q);
}

enum class Pointwise : int {
  Mse = 0, Mae, Bce, BceLogits, Mape, Msle, Huber, LogCosh, Poisson, Kld, Hinge, SqHinge, Focal, FocalLogits
};

// The scalars of the pointwise losses; each kind reads the ones it needs.
struct PointParams {
  float eps = 0.f, delta = 1.f, gamma = 0.f, alpha = 0.f;
  int gamma_int = -1;  // gamma when it is a whole number in [0, 64], else -1
  bool balance = false;
};

// kld sums over D (Keras); the other pointwise losses average
__host__ __device__ __forceinline__ bool point_mean(Pointwise m) { return m != Pointwise::Kld; }

__device__ __forceinline__ float at_least(float x, float lo) { return x < lo ? lo : x; }  // NaN stays
__device__ __forceinline__ float clip_to(float x, float lo, float hi) {
  return x < lo ? lo : (x > hi ? hi : x);
}
__device__ __forceinline__ float sign_of(float e) { return e > 0.f ? 1.f : (e < 0.f ? -1.f : e * 0.f); }

// b^g: repeated products for a whole g (as the CPU kernels), else exp(g log b); 0^0 = 1
__device__ __forceinline__ float focal_pow(float b, float g, int gi) {
  if (gi >= 0) {
    float r = 1.f;
    for (int k = 0; k < gi; ++k) r *= b;
    return r;
  }
  return expf(g * logf(b));
}
__device__ __forceinline__ float focal_dpow(float b, const PointParams& q) {
  if (q.gamma == 0.f) return 0.f;
  return q.gamma * focal_pow(b, q.gamma - 1.f, q.gamma_int >= 1 ? q.gamma_int - 1 : -1);
}
__device__ __forceinline__ float focal_weight(float t, const PointParams& q) {
  return q.balance ? t * q.alpha + (1.f - t) * (1.f - q.alpha) : 1.f;
}
// sigmoid(x) and 1 - sigmoid(x), each without cancellation
__device__ __forceinline__ void sigmoid_pair(float x, float& s, float& sn) {
  const float e = expf(-fabsf(x)), r = 1.f / (1.f + e);
  s = x >= 0.f ? r : e * r;
  sn = x >= 0.f ? e * r : r;
}
__device__ __forceinline__ float bce_clipped(float p, float t, float eps) {
  const float q = clip_prob(p, eps);
  return -(t * logf(q) + (1.f - t) * logf(1.f - q));
}
__device__ __forceinline__ float bce_logits(float x, float t) {
  return fmaxf(x, 0.f) - x * t + log1pf(expf(-fabsf(x)));
}

__device__ __forceinline__ float point_loss(Pointwise m, float p, float t, const PointParams& q) {
  const float eps = q.eps;
  switch (m) {
    case Pointwise::Mse: return (p - t) * (p - t);
    case Pointwise::Mae: return fabsf(p - t);
    case Pointwise::Bce: {
      const float q = clip_prob(p, eps);
      return -(t * logf(q) + (1.f - t) * logf(1.f - q));
    }
    case Pointwise::BceLogits: return bce_logits(p, t);
    case Pointwise::Mape: return 100.f * fabsf((t - p) / at_least(fabsf(t), eps));
    case Pointwise::Msle: {
      const float d = log1pf(at_least(p, eps)) - log1pf(at_least(t, eps));
      return d * d;
    }
    case Pointwise::Huber: {
      const float e = p - t, a = fabsf(e);
      return a <= q.delta ? 0.5f * e * e : q.delta * a - 0.5f * q.delta * q.delta;
    }
    case Pointwise::LogCosh: {
      const float a = fabsf(p - t);
      return a + log1pf(expf(-2.f * a)) - 0.693147180559945309f;
    }
    case Pointwise::Poisson: return p - t * logf(p + eps);
    case Pointwise::Kld: {
      const float tc = clip_to(t, eps, 1.f), pc = clip_to(p, eps, 1.f);
      return tc * logf(tc / pc);
    }
    case Pointwise::Hinge: {
      const float h = 1.f - t * p;
      return h < 0.f ? 0.f : h;
    }
    case Pointwise::SqHinge: {
      float h = 1.f - t * p;
      h = h < 0.f ? 0.f : h;
      return h * h;
    }
    case Pointwise::Focal: {
      const float b = 1.f - (t * p + (1.f - t) * (1.f - p));
      return focal_weight(t, q) * focal_pow(b, q.gamma, q.gamma_int) * bce_clipped(p, t, eps);
    }
    case Pointwise::FocalLogits: {
      float s, sn;
      sigmoid_pair(p, s, sn);
      const float b = t * sn + (1.f - t) * s;
      return focal_weight(t, q) * focal_pow(b, q.gamma, q.gamma_int) * bce_logits(p, t);
    }
  }
  return 0.f;
}
// d point_loss / dp
__device__ __forceinline__ float point_grad(Pointwise m, float p, float t, const PointParams& q) {
  const float eps = q.eps;
  switch (m) {
    case Pointwise::Mse: return 2.f * (p - t);
    case Pointwise::Mae: return p > t ? 1.f : (p < t ? -1.f : 0.f);
    case Pointwise::Bce:
      return (p >= eps && p <= 1.f - eps) ? (p - t) / (p * (1.f - p)) : 0.f;
    case Pointwise::BceLogits: {
      float s = p >= 0.f ? 1.f / (1.f + expf(-p)) : expf(p) / (1.f + expf(p));
      return s - t;
    }
    case Pointwise::Mape: return 100.f * sign_of(p - t) / at_least(fabsf(t), eps);
    case Pointwise::Msle: {
      const float pp = at_least(p, eps);
      const float d = log1pf(pp) - log1pf(at_least(t, eps));
      return p < eps ? 0.f : 2.f * d / (1.f + pp);
    }
    case Pointwise::Huber: {
      const float e = p - t;
      return (fabsf(e) <= q.delta || e != e) ? e : copysignf(q.delta, e);
    }
    case Pointwise::LogCosh: return tanhf(p - t);
    case Pointwise::Poisson: return 1.f - t / (p + eps);
    case Pointwise::Kld: {
      const float tc = clip_to(t, eps, 1.f), pc = clip_to(p, eps, 1.f);
      return (p < eps || p > 1.f) ? 0.f : -tc / pc;
    }
    case Pointwise::Hinge: {
      const float h = 1.f - t * p;
      return h > 0.f ? -t : (h != h ? h : 0.f);
    }
    case Pointwise::SqHinge: {
      float h = 1.f - t * p;
      h = h < 0.f ? 0.f : h;
      return -2.f * t * h;
    }
    case Pointwise::Focal: {
      const float c = clip_prob(p, eps);
      const float dbce = (p >= eps && p <= 1.f - eps) || p != p ? (1.f - t) / (1.f - c) - t / c : 0.f;
      const float b = 1.f - (t * p + (1.f - t) * (1.f - p));
      return focal_weight(t, q) * (focal_dpow(b, q) * (1.f - 2.f * t) * bce_clipped(p, t, eps) +
                                   focal_pow(b, q.gamma, q.gamma_int) * dbce);
    }
    case Pointwise::FocalLogits: {
      float s, sn;
      sigmoid_pair(p, s, sn);
      const float b = t * sn + (1.f - t) * s;
      return focal_weight(t, q) * (focal_dpow(b, q) * (1.f - 2.f * t) * s * sn * bce_logits(p, t) +
                                   focal_pow(b, q.gamma, q.gamma_int) * (s - t));
    }
  }
  return 0.f;
}

__global__ void pointwise_forward_kernel(Pointwise m, bool per_block, float* loss,
                                         const float* pred, const float* target, int64_t N,
                                         int64_t D, PointParams q) {
  const int lane = per_block ? threadIdx.x : 0, lanes = per_block ? blockDim.x : 1;
  for (int64_t n = sample_first(per_block); n < N; n += sample_step(per_block)) {
    const float* p = pred + n * D;
    const float* t = target + n * D;
    float s = 0.f;
    for (int64_t d = lane; d < D; d += lanes) s += point_loss(m, p[d], t[d], q);
    s = group_sum(per_block, s);
    if (lane == 0) loss[n] = point_mean(m) ? s / (float)D : s;
  }
}

__global__ void pointwise_backward_kernel(Pointwise m, float* dpred, const float* dloss,
                                          const float* pred, const float* target, int64_t N,
                                          int64_t D, PointParams q) {
  FASTNN_KERNEL_LOOP(k, N * D) {
    const float g = point_mean(m) ? dloss[k / D] / (float)D : dloss[k / D];
    dpred[k] = g * point_grad(m, pred[k], target[k], q);
  }
}

static PointParams with_eps(float eps) {
  PointParams q;
  q.eps = eps;
  return q;
}
static PointParams with_delta(float delta) {
  PointParams q;
  q.delta = delta;
  return q;
}
static PointParams focal_params(float gamma, float alpha, bool balance, float eps) {
  PointParams q;
  q.eps = eps, q.gamma = gamma, q.alpha = alpha, q.balance = balance;
  q.gamma_int = (gamma >= 0.f && gamma <= 64.f && gamma == std::floor(gamma)) ? (int)gamma : -1;
  return q;
}

static void pointwise_forward(Pointwise m, float* loss, const float* pred, const float* target,
                              int64_t N, int64_t D, PointParams q) {
  FASTNN_CHECK(N >= 0 && D >= 0, ValueError, "loss: negative size (N, D) = (" << N << ", " << D << ")");
  if (N == 0) return;
  SampleLaunch l = sample_launch(N, D);
  pointwise_forward_kernel<<<l.blocks, l.threads>>>(m, l.per_block, loss, pred, target, N, D, q);
  FASTNN_CUDA_CHECK_LAUNCH();
}

static void pointwise_backward(Pointwise m, float* dpred, const float* dloss, const float* pred,
                               const float* target, int64_t N, int64_t D, PointParams q) {
  FASTNN_CHECK(N >= 0 && D >= 0, ValueError, "loss: negative size (N, D) = (" << N << ", " << D << ")");
  if (N * D == 0) return;
  pointwise_backward_kernel<<<grid_for(N * D), kThreads>>>(m, dpred, dloss, pred, target, N, D, q);
  FASTNN_CUDA_CHECK_LAUNCH();
}

void mse_forward(float* loss, const float* pred, const float* target, int64_t N, int64_t D) {
  pointwise_forward(Pointwise::Mse, loss, pred, target, N, D, PointParams{});
}
void mse_backward(float* dpred, const float* dloss, const float* pred, const float* target,
                  int64_t N, int64_t D) {
  pointwise_backward(Pointwise::Mse, dpred, dloss, pred, target, N, D, PointParams{});
}
void mae_forward(float* loss, const float* pred, const float* target, int64_t N, int64_t D) {
  pointwise_forward(Pointwise::Mae, loss, pred, target, N, D, PointParams{});
}
void mae_backward(float* dpred, const float* dloss, const float* pred, const float* target,
                  int64_t N, int64_t D) {
  pointwise_backward(Pointwise::Mae, dpred, dloss, pred, target, N, D, PointParams{});
}
void bce_forward(float* loss, const float* pred, const float* target, int64_t N, int64_t D,
                 float eps) {
  pointwise_forward(Pointwise::Bce, loss, pred, target, N, D, with_eps(eps));
}
void bce_backward(float* dpred, const float* dloss, const float* pred, const float* target,
                  int64_t N, int64_t D, float eps) {
  pointwise_backward(Pointwise::Bce, dpred, dloss, pred, target, N, D, with_eps(eps));
}
void bce_logits_forward(float* loss, const float* logits, const float* target, int64_t N,
                        int64_t D) {
  pointwise_forward(Pointwise::BceLogits, loss, logits, target, N, D, PointParams{});
}
void bce_logits_backward(float* dlogits, const float* dloss, const float* logits,
                         const float* target, int64_t N, int64_t D) {
  pointwise_backward(Pointwise::BceLogits, dlogits, dloss, logits, target, N, D, PointParams{});
}

void mape_forward(float* loss, const float* pred, const float* target, int64_t N, int64_t D,
                  float eps) {
  pointwise_forward(Pointwise::Mape, loss, pred, target, N, D, with_eps(eps));
}
void mape_backward(float* dpred, const float* dloss, const float* pred, const float* target,
                   int64_t N, int64_t D, float eps) {
  pointwise_backward(Pointwise::Mape, dpred, dloss, pred, target, N, D, with_eps(eps));
}
void msle_forward(float* loss, const float* pred, const float* target, int64_t N, int64_t D,
                  float eps) {
  pointwise_forward(Pointwise::Msle, loss, pred, target, N, D, with_eps(eps));
}
void msle_backward(float* dpred, const float* dloss, const float* pred, const float* target,
                   int64_t N, int64_t D, float eps) {
  pointwise_backward(Pointwise::Msle, dpred, dloss, pred, target, N, D, with_eps(eps));
}
void huber_forward(float* loss, const float* pred, const float* target, int64_t N, int64_t D,
                   float delta) {
  pointwise_forward(Pointwise::Huber, loss, pred, target, N, D, with_delta(delta));
}
void huber_backward(float* dpred, const float* dloss, const float* pred, const float* target,
                    int64_t N, int64_t D, float delta) {
  pointwise_backward(Pointwise::Huber, dpred, dloss, pred, target, N, D, with_delta(delta));
}
void log_cosh_forward(float* loss, const float* pred, const float* target, int64_t N, int64_t D) {
  pointwise_forward(Pointwise::LogCosh, loss, pred, target, N, D, PointParams{});
}
void log_cosh_backward(float* dpred, const float* dloss, const float* pred, const float* target,
                       int64_t N, int64_t D) {
  pointwise_backward(Pointwise::LogCosh, dpred, dloss, pred, target, N, D, PointParams{});
}
void poisson_forward(float* loss, const float* pred, const float* target, int64_t N, int64_t D,
                     float eps) {
  pointwise_forward(Pointwise::Poisson, loss, pred, target, N, D, with_eps(eps));
}
void poisson_backward(float* dpred, const float* dloss, const float* pred, const float* target,
                      int64_t N, int64_t D, float eps) {
  pointwise_backward(Pointwise::Poisson, dpred, dloss, pred, target, N, D, with_eps(eps));
}
void kld_forward(float* loss, const float* pred, const float* target, int64_t N, int64_t D,
                 float eps) {
  pointwise_forward(Pointwise::Kld, loss, pred, target, N, D, with_eps(eps));
}
void kld_backward(float* dpred, const float* dloss, const float* pred, const float* target,
                  int64_t N, int64_t D, float eps) {
  pointwise_backward(Pointwise::Kld, dpred, dloss, pred, target, N, D, with_eps(eps));
}
void hinge_forward(float* loss, const float* pred, const float* target, int64_t N, int64_t D) {
  pointwise_forward(Pointwise::Hinge, loss, pred, target, N, D, PointParams{});
}
void hinge_backward(float* dpred, const float* dloss, const float* pred, const float* target,
                    int64_t N, int64_t D) {
  pointwise_backward(Pointwise::Hinge, dpred, dloss, pred, target, N, D, PointParams{});
}
void squared_hinge_forward(float* loss, const float* pred, const float* target, int64_t N,
                           int64_t D) {
  pointwise_forward(Pointwise::SqHinge, loss, pred, target, N, D, PointParams{});
}
void squared_hinge_backward(float* dpred, const float* dloss, const float* pred,
                            const float* target, int64_t N, int64_t D) {
  pointwise_backward(Pointwise::SqHinge, dpred, dloss, pred, target, N, D, PointParams{});
}
void focal_forward(float* loss, const float* pred, const float* target, int64_t N, int64_t D,
                   float gamma, float alpha, bool balance, float eps) {
  pointwise_forward(Pointwise::Focal, loss, pred, target, N, D,
                    focal_params(gamma, alpha, balance, eps));
}
void focal_backward(float* dpred, const float* dloss, const float* pred, const float* target,
                    int64_t N, int64_t D, float gamma, float alpha, bool balance, float eps) {
  pointwise_backward(Pointwise::Focal, dpred, dloss, pred, target, N, D,
                     focal_params(gamma, alpha, balance, eps));
}
void focal_logits_forward(float* loss, const float* logits, const float* target, int64_t N,
                          int64_t D, float gamma, float alpha, bool balance) {
  pointwise_forward(Pointwise::FocalLogits, loss, logits, target, N, D,
                    focal_params(gamma, alpha, balance, 0.f));
}
void focal_logits_backward(float* dlogits, const float* dloss, const float* logits,
                           const float* target, int64_t N, int64_t D, float gamma, float alpha,
                           bool balance) {
  pointwise_backward(Pointwise::FocalLogits, dlogits, dloss, logits, target, N, D,
                     focal_params(gamma, alpha, balance, 0.f));
}

// ---- categorical cross-entropy: probabilities or logits, dense or sparse targets

// Smoothed target t'_c of sample n: from the dense target row, or one_hot(labels[n]).
__device__ __forceinline__ float smoothed(const float* t, const int64_t* labels, int64_t n,
                                          int64_t C, int64_t c, float keep, float spread) {
  const float v = labels ? (labels[n] == c ? 1.f : 0.f) : t[n * C + c];
  return v * keep + spread;
}

// loss[n]; keep = 1 - ls, spread = ls / C.
__global__ void cce_forward_kernel(bool logits, bool per_block, float* loss, const float* x,
                                   const float* t, const int64_t* labels, int64_t N, int64_t C,
                                   float keep, float spread, float eps) {
  const int lane = per_block ? threadIdx.x : 0, lanes = per_block ? blockDim.x : 1;
  for (int64_t n = sample_first(per_block); n < N; n += sample_step(per_block)) {
    const float* xr = x + n * C;
    float acc = 0.f;
    if (logits) {
      float m = -INFINITY;
      for (int64_t c = lane; c < C; c += lanes) m = nan_max(m, xr[c]);
      m = group_max(per_block, m);
      float s = 0.f;
      for (int64_t c = lane; c < C; c += lanes) s += expf(xr[c] - m);
      const float lse = m + logf(group_sum(per_block, s));
      for (int64_t c = lane; c < C; c += lanes)
        acc += smoothed(t, labels, n, C, c, keep, spread) * (lse - xr[c]);
    } else {
      float S = 0.f;
      for (int64_t c = lane; c < C; c += lanes) S += xr[c];
      S = group_sum(per_block, S);
      for (int64_t c = lane; c < C; c += lanes)
        acc -= smoothed(t, labels, n, C, c, keep, spread) * logf(clip_prob(xr[c] / S, eps));
    }
    acc = group_sum(per_block, acc);
    if (lane == 0) loss[n] = acc;
  }
}

__global__ void cce_backward_kernel(bool logits, bool per_block, float* dx, const float* dloss,
                                    const float* x, const float* t, const int64_t* labels,
                                    int64_t N, int64_t C, float keep, float spread, float eps) {
  const int lane = per_block ? threadIdx.x : 0, lanes = per_block ? blockDim.x : 1;
  for (int64_t n = sample_first(per_block); n < N; n += sample_step(per_block)) {
    const float* xr = x + n * C;
    float* dr = dx + n * C;
    const float g = dloss[n];
    if (logits) {
      float m = -INFINITY;
      for (int64_t c = lane; c < C; c += lanes) m = nan_max(m, xr[c]);
      m = group_max(per_block, m);
      float s = 0.f, tsum = 0.f;
      for (int64_t c = lane; c < C; c += lanes) {
        s += expf(xr[c] - m);
        tsum += smoothed(t, labels, n, C, c, keep, spread);
      }
      const float lse = m + logf(group_sum(per_block, s));
      tsum = group_sum(per_block, tsum);
      for (int64_t c = lane; c < C; c += lanes)
        dr[c] = g * (expf(xr[c] - lse) * tsum - smoothed(t, labels, n, C, c, keep, spread));
    } else {
      float S = 0.f;
      for (int64_t c = lane; c < C; c += lanes) S += xr[c];
      S = group_sum(per_block, S);
      // dot = sum_c g_c q_c with g_c = dL/dq_c
      float dot = 0.f;
      for (int64_t c = lane; c < C; c += lanes) {
        const float q = xr[c] / S;
        if (q >= eps && q <= 1.f - eps) dot -= smoothed(t, labels, n, C, c, keep, spread);
      }
      dot = group_sum(per_block, dot);
      for (int64_t c = lane; c < C; c += lanes) {
        const float q = xr[c] / S;
        const float gq =
            (q >= eps && q <= 1.f - eps) ? -smoothed(t, labels, n, C, c, keep, spread) / q : 0.f;
        dr[c] = g * (gq - dot) / S;
      }
    }
  }
}

static void cce_launch(bool backward, bool logits, float* out, const float* dloss, const float* x,
                       const float* t, const int64_t* labels, int64_t N, int64_t C, float ls,
                       float eps) {
  FASTNN_CHECK(N >= 0 && C >= 0, ValueError,
               "cross-entropy: negative size (N, C) = (" << N << ", " << C << ")");
  if (N == 0) return;
  SampleLaunch l = sample_launch(N, C);
  const float keep = 1.f - ls, spread = C > 0 ? ls / (float)C : 0.f;
  if (backward)
    cce_backward_kernel<<<l.blocks, l.threads>>>(logits, l.per_block, out, dloss, x, t, labels, N,
                                                 C, keep, spread, eps);
  else
    cce_forward_kernel<<<l.blocks, l.threads>>>(logits, l.per_block, out, x, t, labels, N, C,
                                                keep, spread, eps);
  FASTNN_CUDA_CHECK_LAUNCH();
}

void cce_forward(float* loss, const float* pred, const float* target, int64_t N, int64_t C,
                 float label_smoothing, float eps) {
  cce_launch(false, false, loss, nullptr, pred, target, nullptr, N, C, label_smoothing, eps);
}
void cce_backward(float* dpred, const float* dloss, const float* pred, const float* target,
                  int64_t N, int64_t C, float label_smoothing, float eps) {
  cce_launch(true, false, dpred, dloss, pred, target, nullptr, N, C, label_smoothing, eps);
}
void cce_logits_forward(float* loss, const float* logits, const float* target, int64_t N,
                        int64_t C, float label_smoothing) {
  cce_launch(false, true, loss, nullptr, logits, target, nullptr, N, C, label_smoothing, 0.f);
}
void cce_logits_backward(float* dlogits, const float* dloss, const float* logits,
                         const float* target, int64_t N, int64_t C, float label_smoothing) {
  cce_launch(true, true, dlogits, dloss, logits, target, nullptr, N, C, label_smoothing, 0.f);
}
void sparse_cce_forward(float* loss, const float* pred, const int64_t* labels, int64_t N,
                        int64_t C, float label_smoothing, float eps) {
  cce_launch(false, false, loss, nullptr, pred, nullptr, labels, N, C, label_smoothing, eps);
}
void sparse_cce_backward(float* dpred, const float* dloss, const float* pred,
                         const int64_t* labels, int64_t N, int64_t C, float label_smoothing,
                         float eps) {
  cce_launch(true, false, dpred, dloss, pred, nullptr, labels, N, C, label_smoothing, eps);
}
void sparse_cce_logits_forward(float* loss, const float* logits, const int64_t* labels,
                               int64_t N, int64_t C, float label_smoothing) {
  cce_launch(false, true, loss, nullptr, logits, nullptr, labels, N, C, label_smoothing, 0.f);
}
void sparse_cce_logits_backward(float* dlogits, const float* dloss, const float* logits,
                                const int64_t* labels, int64_t N, int64_t C,
                                float label_smoothing) {
  cce_launch(true, true, dlogits, dloss, logits, nullptr, labels, N, C, label_smoothing, 0.f);
}

// ---- row losses: categorical hinge and cosine similarity

// neg = max_c (1 - t_c) p_c; pos = sum_c t_c p_c; loss = max(neg - pos + 1, 0).
// Backward: dp_c = dloss (-t_c + (1 - t_c) [v_c == neg] / ties) where the loss is positive
// (the max's gradient shared among ties, as torch.amax), 0 elsewhere.
__global__ void cat_hinge_kernel(bool backward, bool per_block, float* out, const float* dloss,
                                 const float* p, const float* t, int64_t N, int64_t C) {
  const int lane = per_block ? threadIdx.x : 0, lanes = per_block ? blockDim.x : 1;
  for (int64_t n = sample_first(per_block); n < N; n += sample_step(per_block)) {
    const float* pr = p + n * C;
    const float* tr = t + n * C;
    float pos = 0.f, neg = -INFINITY;
    for (int64_t c = lane; c < C; c += lanes) {
      pos += tr[c] * pr[c];
      neg = nan_max(neg, (1.f - tr[c]) * pr[c]);
    }
    pos = group_sum(per_block, pos);
    neg = group_max(per_block, neg);
    const float l = neg - pos + 1.f;
    if (!backward) {
      if (lane == 0) out[n] = l < 0.f ? 0.f : l;
      continue;
    }
    float ties = 0.f;
    for (int64_t c = lane; c < C; c += lanes) ties += (1.f - tr[c]) * pr[c] == neg ? 1.f : 0.f;
    ties = group_sum(per_block, ties);
    const float g = dloss[n];
    float* dr = out + n * C;
    for (int64_t c = lane; c < C; c += lanes) {
      const float v = (1.f - tr[c]) * pr[c];
      dr[c] = l != l ? l : (l > 0.f ? g * (-tr[c] + (v == neg ? (1.f - tr[c]) / ties : 0.f)) : 0.f);
    }
  }
}

// min(rsqrt(sq), 1 / eps): Keras's normalize (a zero vector normalises to 0)
__device__ __forceinline__ float inv_norm(float sq, float eps, bool& capped) {
  const float r = 1.f / sqrtf(sq), cap = 1.f / eps;
  capped = r > cap;
  return capped ? cap : r;
}

// loss = -a b dot; dp = -dloss b (a t - dot a^3 p), the second term absent where a is capped
__global__ void cosine_kernel(bool backward, bool per_block, float* out, const float* dloss,
                              const float* p, const float* t, int64_t N, int64_t D, float eps) {
  const int lane = per_block ? threadIdx.x : 0, lanes = per_block ? blockDim.x : 1;
  for (int64_t n = sample_first(per_block); n < N; n += sample_step(per_block)) {
    const float* pr = p + n * D;
    const float* tr = t + n * D;
    float sp = 0.f, st = 0.f, dot = 0.f;
    for (int64_t d = lane; d < D; d += lanes) {
      sp += pr[d] * pr[d];
      st += tr[d] * tr[d];
      dot += tr[d] * pr[d];
    }
    sp = group_sum(per_block, sp);
    st = group_sum(per_block, st);
    dot = group_sum(per_block, dot);
    bool cp, ct;
    const float a = inv_norm(sp, eps, cp), b = inv_norm(st, eps, ct);
    if (!backward) {
      if (lane == 0) out[n] = -(dot * (a * b));
      continue;
    }
    const float g = dloss[n];
    const float kt = -g * b * a, kp = cp ? 0.f : g * b * dot * (a * a * a);
    float* dr = out + n * D;
    for (int64_t d = lane; d < D; d += lanes) dr[d] = kt * tr[d] + kp * pr[d];
  }
}

static void row_loss_launch(bool cosine, bool backward, float* out, const float* dloss,
                            const float* p, const float* t, int64_t N, int64_t D, float eps) {
  FASTNN_CHECK(N >= 0 && D >= 0, ValueError, "loss: negative size (N, D) = (" << N << ", " << D << ")");
  if (N == 0 || (backward && D == 0)) return;
  SampleLaunch l = sample_launch(N, D);
  if (cosine)
    cosine_kernel<<<l.blocks, l.threads>>>(backward, l.per_block, out, dloss, p, t, N, D, eps);
  else
    cat_hinge_kernel<<<l.blocks, l.threads>>>(backward, l.per_block, out, dloss, p, t, N, D);
  FASTNN_CUDA_CHECK_LAUNCH();
}

void categorical_hinge_forward(float* loss, const float* pred, const float* target, int64_t N,
                               int64_t C) {
  row_loss_launch(false, false, loss, nullptr, pred, target, N, C, 0.f);
}
void categorical_hinge_backward(float* dpred, const float* dloss, const float* pred,
                                const float* target, int64_t N, int64_t C) {
  row_loss_launch(false, true, dpred, dloss, pred, target, N, C, 0.f);
}
void cosine_forward(float* loss, const float* pred, const float* target, int64_t N, int64_t D,
                    float eps) {
  row_loss_launch(true, false, loss, nullptr, pred, target, N, D, eps);
}
void cosine_backward(float* dpred, const float* dloss, const float* pred, const float* target,
                     int64_t N, int64_t D, float eps) {
  row_loss_launch(true, true, dpred, dloss, pred, target, N, D, eps);
}

}  // namespace fastnn::cuda
