// Counter-based random numbers on CUDA (Philox-4x32-10, core/philox.h), following the mapping
// written in kernels/random.h, shared with csrc/cpu/random.cpp:
//   uniform  element i uses word offset + i: out[i] = fmaf(high - low, unit(w), low)
//   normal   pair p uses words offset + 2p and offset + 2p + 1 (Box-Muller in float):
//            out[2p] = mean + std * r * cos(t), out[2p + 1] = mean + std * r * sin(t)
//   dropout  element i uses word offset + i: keep = unit(w) >= rate, y = keep ? x * scale : 0
//            with scale = 1.0f / (1.0f - rate).
// uniform and dropout are bit-identical with the CPU; normal agrees to about 1 ulp (libm).
// Each thread draws one Philox block of 4 words (two when offset is not a multiple of 4).
#include "kernels/random.h"

#include "core/philox.h"
#include "cuda/common.cuh"

namespace fastnn::cuda {

// Words j .. j + 3 of the stream.
__device__ __forceinline__ void words4(uint32_t w[4], uint64_t seed, uint64_t j) {
  const Philox4 p = philox4(seed, j >> 2);
  const int s = (int)(j & 3);
  if (s == 0) {
#pragma unroll
    for (int k = 0; k < 4; ++k) w[k] = p.v[k];
    return;
  }
  const Philox4 q = philox4(seed, (j >> 2) + 1);
#pragma unroll
  for (int k = 0; k < 4; ++k) w[k] = s + k < 4 ? p.v[s + k] : q.v[s + k - 4];
}

// Thread item t covers elements 4t .. 4t + 3 (words offset + 4t ..).
__global__ void uniform_kernel(float* out, int64_t n, uint64_t seed, uint64_t offset, float low,
                               float range) {
  FASTNN_KERNEL_LOOP(t, ceil_div(n, 4)) {
    uint32_t w[4];
    words4(w, seed, offset + 4 * (uint64_t)t);
#pragma unroll
    for (int k = 0; k < 4; ++k) {
      const int64_t i = 4 * t + k;
      if (i < n) out[i] = fmaf(range, uint_to_unit(w[k]), low);
    }
  }
}

// Thread item t covers elements 2t and 2t + 1 (words offset + 4t ..).
__global__ void normal_kernel(float* out, int64_t n, uint64_t seed, uint64_t offset, float mean,
                              float std) {
  FASTNN_KERNEL_LOOP(p, ceil_div(n, 2)) {
    const uint64_t j = offset + 2 * (uint64_t)p;
    const uint32_t w0 = philox_word(seed, j), w1 = philox_word(seed, j + 1);
    const float u1 = (float)((w0 >> 8) + 1) * (1.0f / 16777216.0f);  // (0, 1]: log is finite
    const float u2 = uint_to_unit(w1);
    const float r = sqrtf(-2.0f * logf(u1));
    const float t = 2.0f * 3.14159265358979323846f * u2;
    out[2 * p] = mean + std * r * cosf(t);
    if (2 * p + 1 < n) out[2 * p + 1] = mean + std * r * sinf(t);
  }
}

// Forward: y = keep ? x * scale : 0. Backward is the same map on dy.
__global__ void dropout_kernel(float* y, const float* x, int64_t n, float rate, float scale,
                               uint64_t seed, uint64_t offset) {
  FASTNN_KERNEL_LOOP(t, ceil_div(n, 4)) {
    uint32_t w[4];
    words4(w, seed, offset + 4 * (uint64_t)t);
#pragma unroll
    for (int k = 0; k < 4; ++k) {
      const int64_t i = 4 * t + k;
      if (i < n) y[i] = uint_to_unit(w[k]) >= rate ? x[i] * scale : 0.f;
    }
  }
}

void uniform_fill(float* out, int64_t n, uint64_t seed, uint64_t offset, float low, float high) {
  if (n <= 0) return;
  uniform_kernel<<<grid_for(ceil_div(n, 4)), kThreads>>>(out, n, seed, offset, low, high - low);
  FASTNN_CUDA_CHECK_LAUNCH();
}

void normal_fill(float* out, int64_t n, uint64_t seed, uint64_t offset, float mean, float std) {
  if (n <= 0) return;
  normal_kernel<<<grid_for(ceil_div(n, 2)), kThreads>>>(out, n, seed, offset, mean, std);
  FASTNN_CUDA_CHECK_LAUNCH();
}

static void dropout(const char* what, float* y, const float* x, int64_t n, float rate,
                    uint64_t seed, uint64_t offset) {
  FASTNN_CHECK(rate >= 0.f && rate <= 1.f, ValueError,
               what << ": rate must be in [0, 1], got " << rate);
  if (n <= 0) return;
  const float scale = 1.0f / (1.0f - rate);
  dropout_kernel<<<grid_for(ceil_div(n, 4)), kThreads>>>(y, x, n, rate, scale, seed, offset);
  FASTNN_CUDA_CHECK_LAUNCH();
}

void dropout_forward(float* y, const float* x, int64_t n, float rate, uint64_t seed,
                     uint64_t offset) {
  dropout("dropout_forward", y, x, n, rate, seed, offset);
}
void dropout_backward(float* dx, const float* dy, int64_t n, float rate, uint64_t seed,
                      uint64_t offset) {
  dropout("dropout_backward", dx, dy, n, rate, seed, offset);
}

}  // namespace fastnn::cuda
