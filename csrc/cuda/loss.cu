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

enum class Pointwise : int { Mse = 0, Mae, Bce, BceLogits };

__device__ __forceinline__ float point_loss(Pointwise m, float p, float t, float eps) {
  switch (m) {
    case Pointwise::Mse: return (p - t) * (p - t);
    case Pointwise::Mae: return fabsf(p - t);
    case Pointwise::Bce: {
      const float q = clip_prob(p, eps);
      return -(t * logf(q) + (1.f - t) * logf(1.f - q));
    }
    case Pointwise::BceLogits: return fmaxf(p, 0.f) - p * t + log1pf(expf(-fabsf(p)));
  }
  return 0.f;
}
// d point_loss / dp
__device__ __forceinline__ float point_grad(Pointwise m, float p, float t, float eps) {
  switch (m) {
    case Pointwise::Mse: return 2.f * (p - t);
    case Pointwise::Mae: return p > t ? 1.f : (p < t ? -1.f : 0.f);
    case Pointwise::Bce:
      return (p >= eps && p <= 1.f - eps) ? (p - t) / (p * (1.f - p)) : 0.f;
    case Pointwise::BceLogits: {
      float s = p >= 0.f ? 1.f / (1.f + expf(-p)) : expf(p) / (1.f + expf(p));
      return s - t;
    }
  }
  return 0.f;
}

__global__ void pointwise_forward_kernel(Pointwise m, bool per_block, float* loss,
                                         const float* pred, const float* target, int64_t N,
                                         int64_t D, float eps) {
  const int lane = per_block ? threadIdx.x : 0, lanes = per_block ? blockDim.x : 1;
  for (int64_t n = sample_first(per_block); n < N; n += sample_step(per_block)) {
    const float* p = pred + n * D;
    const float* t = target + n * D;
    float s = 0.f;
    for (int64_t d = lane; d < D; d += lanes) s += point_loss(m, p[d], t[d], eps);
    s = group_sum(per_block, s);
    if (lane == 0) loss[n] = s / (float)D;
  }
}

__global__ void pointwise_backward_kernel(Pointwise m, float* dpred, const float* dloss,
                                          const float* pred, const float* target, int64_t N,
                                          int64_t D, float eps) {
  FASTNN_KERNEL_LOOP(k, N * D) {
    const float g = dloss[k / D] / (float)D;
    dpred[k] = g * point_grad(m, pred[k], target[k], eps);
  }
}

static void pointwise_forward(Pointwise m, float* loss, const float* pred, const float* target,
                              int64_t N, int64_t D, float eps) {
  FASTNN_CHECK(N >= 0 && D >= 0, ValueError, "loss: negative size (N, D) = (" << N << ", " << D << ")");
  if (N == 0) return;
  SampleLaunch l = sample_launch(N, D);
  pointwise_forward_kernel<<<l.blocks, l.threads>>>(m, l.per_block, loss, pred, target, N, D, eps);
  FASTNN_CUDA_CHECK_LAUNCH();
}

static void pointwise_backward(Pointwise m, float* dpred, const float* dloss, const float* pred,
                               const float* target, int64_t N, int64_t D, float eps) {
  FASTNN_CHECK(N >= 0 && D >= 0, ValueError, "loss: negative size (N, D) = (" << N << ", " << D << ")");
  if (N * D == 0) return;
  pointwise_backward_kernel<<<grid_for(N * D), kThreads>>>(m, dpred, dloss, pred, target, N, D, eps);
  FASTNN_CUDA_CHECK_LAUNCH();
}

void mse_forward(float* loss, const float* pred, const float* target, int64_t N, int64_t D) {
  pointwise_forward(Pointwise::Mse, loss, pred, target, N, D, 0.f);
}
void mse_backward(float* dpred, const float* dloss, const float* pred, const float* target,
                  int64_t N, int64_t D) {
  pointwise_backward(Pointwise::Mse, dpred, dloss, pred, target, N, D, 0.f);
}
void mae_forward(float* loss, const float* pred, const float* target, int64_t N, int64_t D) {
  pointwise_forward(Pointwise::Mae, loss, pred, target, N, D, 0.f);
}
void mae_backward(float* dpred, const float* dloss, const float* pred, const float* target,
                  int64_t N, int64_t D) {
  pointwise_backward(Pointwise::Mae, dpred, dloss, pred, target, N, D, 0.f);
}
void bce_forward(float* loss, const float* pred, const float* target, int64_t N, int64_t D,
                 float eps) {
  pointwise_forward(Pointwise::Bce, loss, pred, target, N, D, eps);
}
void bce_backward(float* dpred, const float* dloss, const float* pred, const float* target,
                  int64_t N, int64_t D, float eps) {
  pointwise_backward(Pointwise::Bce, dpred, dloss, pred, target, N, D, eps);
}
void bce_logits_forward(float* loss, const float* logits, const float* target, int64_t N,
                        int64_t D) {
  pointwise_forward(Pointwise::BceLogits, loss, logits, target, N, D, 0.f);
}
void bce_logits_backward(float* dlogits, const float* dloss, const float* logits,
                         const float* target, int64_t N, int64_t D) {
  pointwise_backward(Pointwise::BceLogits, dlogits, dloss, logits, target, N, D, 0.f);
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

}  // namespace fastnn::cuda
