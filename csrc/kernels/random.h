// Counter-based random numbers (Philox-4x32-10, core/philox.h): element i of a draw with
// (seed, offset) depends only on (seed, offset + i), so a seed gives the same numbers on every
// run, device and thread count. Dropout regenerates its mask in backward from the same key.
//
// The exact mapping (both devices implement it bit for bit, up to libm rounding):
//   unit(i)    = uint_to_unit(philox_word(seed, offset + i))              in [0, 1)
//   uniform[i] = fma(high - low, unit(i), low)            (one rounding)
//   normal: elements come in pairs p = i / 2 drawn from words w0 = offset + 2p, w1 = w0 + 1:
//     u1 = (float)((philox_word(seed, w0) >> 8) + 1) / 2^24  in (0, 1],  u2 = unit(w1 - offset)
//     r = sqrt(-2 log u1);  normal[2p] = mean + std * r * cos(2 pi u2),
//                          normal[2p + 1] = mean + std * r * sin(2 pi u2)
//   (computed in float; a draw of n normals consumes 2 * ceil(n / 2) words)
//   dropout keeps element i when unit(i) >= rate: y = keep ? x * scale : 0 with
//   scale = 1.0f / (1.0f - rate) (a dropped element is 0 even when x is NaN).
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
