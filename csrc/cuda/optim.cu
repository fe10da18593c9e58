// Fused optimizer updates on CUDA (formulas in kernels/optim.h; the CPU kernels of
// csrc/cpu/optim.cpp compute the same per-element expressions). Each update is one grid-stride
// kernel that reads g once and reads and writes w and its slots once. Options are uniform
// branches (the same for every thread), null slots are never touched.
// sum_squares: a fixed grid (a function of n only) of per-block partial sums, then one thread
// adds them in order in double, so a run repeats bit for bit.
#include "kernels/optim.h"

#include "cuda/common.cuh"

namespace fastnn::cuda {

namespace {

constexpr int kSumBlocks = 1024;  // most partial sums of sum_squares

__device__ __forceinline__ float prep_grad(float g, const UpdatePrep& p) {
  float x = g * p.grad_scale;
  x = x < -p.clip_value ? -p.clip_value : x;
  return x > p.clip_value ? p.clip_value : x;
}

// ---- SGD
__global__ void sgd_kernel(float* w, float* v, const float* g, int64_t n, float lr, float mu, bool nesterov,
                           UpdatePrep p) {
  FASTNN_KERNEL_LOOP(i, n) {
    const float gi = prep_grad(g[i], p);
    float wi = w[i];
    if (p.decay != 0.f) wi -= wi * p.decay;
    if (v) {
      const float vi = v[i] * mu - gi * lr;
      v[i] = vi;
      wi += nesterov ? vi * mu - gi * lr : vi;
    } else {
      wi -= gi * lr;
    }
    w[i] = wi;
  }
}

// ---- Adagrad
__global__ void adagrad_kernel(float* w, float* a, const float* g, int64_t n, float lr, float eps, UpdatePrep p) {
  FASTNN_KERNEL_LOOP(i, n) {
    const float gi = prep_grad(g[i], p);
    float wi = w[i];
    if (p.decay != 0.f) wi -= wi * p.decay;
    const float ai = a[i] + gi * gi;
    a[i] = ai;
    w[i] = wi - (lr * gi) / sqrtf(ai + eps);
  }
}

// ---- RMSprop
__global__ void rmsprop_kernel(float* w, float* v, float* mom, float* ga, const float* g, int64_t n, float lr,
                               float rho, float mu, float eps, UpdatePrep p) {
  const float one_rho = 1.f - rho;
  FASTNN_KERNEL_LOOP(i, n) {
    const float gi = prep_grad(g[i], p);
    float wi = w[i];
    if (p.decay != 0.f) wi -= wi * p.decay;
    const float vi = rho * v[i] + one_rho * (gi * gi);
    v[i] = vi;
    float den;
    if (ga) {
      const float gai = rho * ga[i] + one_rho * gi;
      ga[i] = gai;
      den = vi - gai * gai + eps;
    } else {
      den = vi + eps;
    }
    const float inc = (lr * gi) / sqrtf(den);
    if (mom) {
      const float mi = mu * mom[i] + inc;
      mom[i] = mi;
      wi -= mi;
    } else {
      wi -= inc;
    }
    w[i] = wi;
  }
}

// ---- Adam / AdamW (alpha carries the bias correction)
__global__ void adam_kernel(float* w, float* m, float* v, float* vh, const float* g, int64_t n, float alpha,
                            float one_b1, float one_b2, float eps, UpdatePrep p) {
  FASTNN_KERNEL_LOOP(i, n) {
    const float gi = prep_grad(g[i], p);
    float wi = w[i];
    if (p.decay != 0.f) wi -= wi * p.decay;
    const float mi = m[i] + (gi - m[i]) * one_b1;
    float vi = v[i] + (gi * gi - v[i]) * one_b2;
    m[i] = mi;
    v[i] = vi;
    if (vh) {
      const float h = vh[i];
      vi = (vi > h || vi != vi) ? vi : h;
      vh[i] = vi;
    }
    w[i] = wi - (mi * alpha) / (sqrtf(vi) + eps);
  }
}

// ---- sum of squares
__global__ void sum_squares_part_kernel(float* part, const float* x, int64_t n) {
  float acc = 0.f;
  FASTNN_KERNEL_LOOP(i, n) acc += x[i] * x[i];
  acc = block_sum(acc);
  if (threadIdx.x == 0) part[blockIdx.x] = acc;
}

__global__ void sum_parts_kernel(double* out, const float* part, int nparts) {
  double acc = 0.0;
  for (int b = 0; b < nparts; ++b) acc += (double)part[b];
  *out = acc;
}

}  // namespace

void sgd_update(float* w, float* v, const float* g, int64_t n, float lr, float momentum, bool nesterov,
                UpdatePrep p) {
  if (n <= 0) return;
  sgd_kernel<<<grid_for(n), kThreads>>>(w, momentum != 0.f ? v : nullptr, g, n, lr, momentum, nesterov, p);
  FASTNN_CUDA_CHECK_LAUNCH();
}

void adagrad_update(float* w, float* a, const float* g, int64_t n, float lr, float eps, UpdatePrep p) {
  if (n <= 0) return;
  adagrad_kernel<<<grid_for(n), kThreads>>>(w, a, g, n, lr, eps, p);
  FASTNN_CUDA_CHECK_LAUNCH();
}

void rmsprop_update(float* w, float* v, float* mom, float* ga, const float* g, int64_t n, float lr, float rho,
                    float momentum, float eps, UpdatePrep p) {
  if (n <= 0) return;
  rmsprop_kernel<<<grid_for(n), kThreads>>>(w, v, momentum > 0.f ? mom : nullptr, ga, g, n, lr, rho, momentum,
                                            eps, p);
  FASTNN_CUDA_CHECK_LAUNCH();
}

void adam_update(float* w, float* m, float* v, float* vh, const float* g, int64_t n, float alpha, float beta1,
                 float beta2, float eps, UpdatePrep p) {
  if (n <= 0) return;
  adam_kernel<<<grid_for(n), kThreads>>>(w, m, v, vh, g, n, alpha, 1.f - beta1, 1.f - beta2, eps, p);
  FASTNN_CUDA_CHECK_LAUNCH();
}

double sum_squares(const float* x, int64_t n) {
  if (n <= 0) return 0.0;
  const int nparts = (int)std::min<int64_t>(ceil_div(n, kThreads), kSumBlocks);
  Scratch part(nparts * (int64_t)sizeof(float));
  Scratch out(sizeof(double));
  sum_squares_part_kernel<<<nparts, kThreads>>>(part.f32(), x, n);
  FASTNN_CUDA_CHECK_LAUNCH();
  sum_parts_kernel<<<1, 1>>>(static_cast<double*>(out.ptr), part.f32(), nparts);
  FASTNN_CUDA_CHECK_LAUNCH();
  double result = 0.0;
  copy_d2h(&result, out.ptr, sizeof(double));
  return result;
}

}  // namespace fastnn::cuda
