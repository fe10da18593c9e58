// Counter-based random numbers on CUDA (Philox-4x32-10, core/philox.h).
//
// The mapping, shared with csrc/cpu/random.cpp (also in RANDOM_MAPPING.md); "word j" is
// philox_word(seed, j) = philox4(seed, j >> 2).v[j & 3]:
//   uniform_fill  element i uses word offset + i:
//                   u = uint_to_unit(w) = (w >> 8) * 2^-24          in [0, 1)
//                   out[i] = fmaf(high - low, u, low)                (high - low rounded to float first)
//   normal_fill   element i uses words w0 = offset + 2i and w1 = offset + 2i + 1 (a draw of
//                 n numbers consumes 2n words, so advance the offset by 2n), in double:
//                   u1 = ((w0 >> 8) + 1) * 2^-24                     in (0, 1]
//                   u2 = (w1 >> 8) * 2^-24                           in [0, 1)
//                   z  = sqrt(-2 log(u1)) * cos(2 pi u2)             (2 pi = 6.283185307179586)
//                   out[i] = fmaf(std, (float)z, mean)
//   dropout       element i uses word offset + i: keep = uint_to_unit(w) >= rate;
//                   scale = 1.0f / (1.0f - rate) (float), y = keep ? x * scale : 0,
//                   dx = keep ? dy * scale : 0.
// uniform and dropout are bit-identical on both devices; normal agrees to the last bit
// except where double log / cos of the two libm's round differently to float (rare, <= 1 ulp).
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
  FASTNN_KERNEL_LOOP(t, ceil_div(n, 2)) {
    uint32_t w[4];
    words4(w, seed, offset + 4 * (uint64_t)t);
#pragma unroll
    for (int h = 0; h < 2; ++h) {
      const int64_t i = 2 * t + h;
      if (i >= n) break;
      const double u1 = (double)((w[2 * h] >> 8) + 1) * (1.0 / 16777216.0);
      const double u2 = (double)(w[2 * h + 1] >> 8) * (1.0 / 16777216.0);
      const double z = sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
      out[i] = fmaf(std, (float)z, mean);
    }
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
