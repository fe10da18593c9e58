// Batch and layer normalization on CUDA (formulas in kernels/norm.h). Batch statistics and the
// batch-norm backward sums run one block per channel, layer norm one block per row, with
// double accumulators reduced in a fixed order (deterministic); dgamma / dbeta of layer norm
// take one thread per column walking the rows in order.
#include "cuda/common.cuh"
#include "kernels/norm.h"

namespace fastnn::cuda {
namespace {

constexpr int kNormThreads = 256;

__device__ __forceinline__ double warp_sum_d(double v) {
  for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
  return v;
}
// Block-wide double sum returned to every thread (all threads must call it).
__device__ __forceinline__ double block_sum_d(double v) {
  __shared__ double part[32];
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, nwarps = blockDim.x >> 5;
  v = warp_sum_d(v);
  __syncthreads();
  if (lane == 0) part[warp] = v;
  __syncthreads();
  return warp_sum_d(lane < nwarps ? part[lane] : 0.0);
}

// Element j of channel c's O * I values.
__device__ __forceinline__ int64_t chan_index(int64_t j, int64_t c, int64_t C, int64_t I) {
  return ((j / I) * C + c) * I + (j % I);
}

__global__ void bn_stats_kernel(float* mean, float* var, const float* x, int64_t O, int64_t C, int64_t I) {
  const int64_t c = blockIdx.x, n = O * I;
  double s = 0.0;
  for (int64_t j = threadIdx.x; j < n; j += blockDim.x) s += x[chan_index(j, c, C, I)];
  const double m = block_sum_d(s) / (double)n;
  double q = 0.0;
  for (int64_t j = threadIdx.x; j < n; j += blockDim.x) {
    const double d = (double)x[chan_index(j, c, C, I)] - m;
    q += d * d;
  }
  q = block_sum_d(q);
  if (threadIdx.x == 0) {
    mean[c] = (float)m;
    var[c] = (float)(q / (double)n);
  }
}

__global__ void bn_forward_kernel(float* y, const float* x, const float* mean, const float* var, const float* gamma,
                                  const float* beta, int64_t C, int64_t I, float eps, int64_t n) {
  FASTNN_KERNEL_LOOP(j, n) {
    const int64_t c = (j / I) % C;
    const float inv = (1.0f / sqrtf(var[c] + eps)) * (gamma ? gamma[c] : 1.0f);
    y[j] = x[j] * inv + ((beta ? beta[c] : 0.0f) - mean[c] * inv);
  }
}

__global__ void bn_backward_kernel(float* dx, float* dgamma, float* dbeta, const float* dy, const float* x,
                                   const float* mean, const float* var, const float* gamma, int64_t O, int64_t C,
                                   int64_t I, float eps, bool training) {
  const int64_t c = blockIdx.x, n = O * I;
  const float mc = mean[c];
  double s1 = 0.0, s2 = 0.0;
  if (training || dgamma || dbeta) {
    for (int64_t j = threadIdx.x; j < n; j += blockDim.x) {
      const int64_t k = chan_index(j, c, C, I);
      s1 += dy[k];
      s2 += (double)dy[k] * ((double)x[k] - (double)mc);
    }
    s1 = block_sum_d(s1);
    s2 = block_sum_d(s2);
  }
  const double inv = 1.0 / sqrt((double)var[c] + (double)eps), gm = gamma ? gamma[c] : 1.0;
  if (threadIdx.x == 0) {
    if (dgamma) dgamma[c] = (float)(s2 * inv);
    if (dbeta) dbeta[c] = (float)s1;
  }
  const float k1 = (float)(gm * inv);
  const float k2 = training ? (float)(-gm * inv * inv * inv * s2 / (double)n) : 0.0f;
  const float k3 = training ? (float)(-gm * inv * s1 / (double)n) : 0.0f;
  for (int64_t j = threadIdx.x; j < n; j += blockDim.x) {
    const int64_t k = chan_index(j, c, C, I);
    dx[k] = dy[k] * k1 + ((x[k] - mc) * k2 + k3);
  }
}

__global__ void ln_forward_kernel(float* y, float* mean, float* rstd, const float* x, const float* gamma,
                                  const float* beta, int64_t D, float eps) {
  const int64_t r = blockIdx.x;
  const float* xr = x + r * D;
  double s = 0.0;
  for (int64_t d = threadIdx.x; d < D; d += blockDim.x) s += xr[d];
  const double m = block_sum_d(s) / (double)D;
  double q = 0.0;
  for (int64_t d = threadIdx.x; d < D; d += blockDim.x) {
    const double t = (double)xr[d] - m;
    q += t * t;
  }
  q = block_sum_d(q);
  const float mf = (float)m, rs = (float)(1.0 / sqrt(q / (double)D + (double)eps));
  if (threadIdx.x == 0) {
    mean[r] = mf;
    rstd[r] = rs;
  }
  float* yr = y + r * D;
  for (int64_t d = threadIdx.x; d < D; d += blockDim.x)
    yr[d] = (xr[d] - mf) * rs * (gamma ? gamma[d] : 1.0f) + (beta ? beta[d] : 0.0f);
}

__global__ void ln_backward_kernel(float* dx, const float* dy, const float* x, const float* mean, const float* rstd,
                                   const float* gamma, int64_t D) {
  const int64_t r = blockIdx.x;
  const float *xr = x + r * D, *gr = dy + r * D;
  const float m = mean[r], rs = rstd[r];
  double s1 = 0.0, s2 = 0.0;
  for (int64_t d = threadIdx.x; d < D; d += blockDim.x) {
    const double gd = (double)gr[d] * (gamma ? gamma[d] : 1.0f);
    s1 += gd;
    s2 += gd * ((double)(xr[d] - m) * rs);
  }
  s1 = block_sum_d(s1);
  s2 = block_sum_d(s2);
  const float a = (float)(s1 / (double)D), c = (float)(s2 / (double)D);
  float* dr = dx + r * D;
  for (int64_t d = threadIdx.x; d < D; d += blockDim.x) {
    const float gd = gr[d] * (gamma ? gamma[d] : 1.0f), xh = (xr[d] - m) * rs;
    dr[d] = rs * (gd - a - xh * c);
  }
}

__global__ void ln_affine_grad_kernel(float* dgamma, float* dbeta, const float* dy, const float* x, const float* mean,
                                      const float* rstd, int64_t R, int64_t D) {
  FASTNN_KERNEL_LOOP(d, D) {
    double sg = 0.0, sb = 0.0;
    for (int64_t r = 0; r < R; ++r) {
      const float g = dy[r * D + d];
      sg += (double)g * (double)((x[r * D + d] - mean[r]) * rstd[r]);
      sb += g;
    }
    if (dgamma) dgamma[d] = (float)sg;
    if (dbeta) dbeta[d] = (float)sb;
  }
}

}  // namespace

void batch_norm_stats(float* mean, float* var, const float* x, int64_t O, int64_t C, int64_t I) {
  if (C <= 0) return;
  FASTNN_CHECK(O * I > 0, ValueError, "batch_norm: empty batch");
  bn_stats_kernel<<<(unsigned)C, kNormThreads>>>(mean, var, x, O, C, I);
  FASTNN_CUDA_CHECK_LAUNCH();
}

void batch_norm_forward(float* y, const float* x, const float* mean, const float* var, const float* gamma,
                        const float* beta, int64_t O, int64_t C, int64_t I, float eps) {
  const int64_t n = O * C * I;
  if (n <= 0) return;
  bn_forward_kernel<<<grid_for(n), kThreads>>>(y, x, mean, var, gamma, beta, C, I, eps, n);
  FASTNN_CUDA_CHECK_LAUNCH();
}

void batch_norm_backward(float* dx, float* dgamma, float* dbeta, const float* dy, const float* x,
                         const float* mean, const float* var, const float* gamma, int64_t O, int64_t C,
                         int64_t I, float eps, bool training) {
  if (C <= 0) return;
  bn_backward_kernel<<<(unsigned)C, kNormThreads>>>(dx, dgamma, dbeta, dy, x, mean, var, gamma, O, C, I, eps, training);
  FASTNN_CUDA_CHECK_LAUNCH();
}

void layer_norm_forward(float* y, float* mean, float* rstd, const float* x, const float* gamma, const float* beta,
                        int64_t R, int64_t D, float eps) {
  if (R <= 0) return;
  FASTNN_CHECK(R < (int64_t)1 << 31, ValueError, "layer_norm: too many rows (" << R << ")");
  ln_forward_kernel<<<(unsigned)R, threads_for_row(D)>>>(y, mean, rstd, x, gamma, beta, D, eps);
  FASTNN_CUDA_CHECK_LAUNCH();
}

void layer_norm_backward(float* dx, float* dgamma, float* dbeta, const float* dy, const float* x,
                         const float* mean, const float* rstd, const float* gamma, int64_t R, int64_t D) {
  if (R > 0) {
    FASTNN_CHECK(R < (int64_t)1 << 31, ValueError, "layer_norm_backward: too many rows (" << R << ")");
    ln_backward_kernel<<<(unsigned)R, threads_for_row(D)>>>(dx, dy, x, mean, rstd, gamma, D);
    FASTNN_CUDA_CHECK_LAUNCH();
  }
  if ((dgamma || dbeta) && D > 0) {
    ln_affine_grad_kernel<<<grid_for(D), kThreads>>>(dgamma, dbeta, dy, x, mean, rstd, R, D);
    FASTNN_CUDA_CHECK_LAUNCH();
  }
}

}  // namespace fastnn::cuda
