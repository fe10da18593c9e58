// Counter-based random numbers (Philox-4x32-10, core/philox.h): element i of a draw with
// (seed, offset) depends only on (seed, offset + i), so a seed gives the same numbers on every
// run, device and thread count. Dropout regenerates its mask in backward from the same key.
#pragma once
#include <cstdint>

#include "core/common.h"

namespace fastnn {

#define FASTNN_DECLARE_RANDOM_KERNELS                                                              \
  void uniform_fill(float* out, int64_t n, uint64_t seed, uint64_t offset, float low, float high); \
  void normal_fill(float* out, int64_t n, uint64_t seed, uint64_t offset, float mean, float std);  \
  /* inverted dropout: y = keep ? x / (1 - rate) : 0, keep = uniform(seed, offset + i) >= rate */  \
  void dropout_forward(float* y, const float* x, int64_t n, float rate, uint64_t seed,             \
                       uint64_t offset);                                                          \
  void dropout_backward(float* dx, const float* dy, int64_t n, float rate, uint64_t seed,          \
                        uint64_t offset);

namespace cpu { FASTNN_DECLARE_RANDOM_KERNELS }
namespace cuda { FASTNN_DECLARE_RANDOM_KERNELS }

}  // namespace fastnn
