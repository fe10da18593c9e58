// Lane-parallel reductions on GCC vector types, for use inside FASTNN_SIMD functions: a
// vf16 is one zmm register in the AVX-512 clone, two ymm in the AVX2 clone and four xmm in the
// portable one, so the code vectorises in every clone. (GCC does not vectorise 16-lane array
// accumulators whose update is a select, e.g. a NaN-propagating max.) Every reduction adds
// element i into lane i % 16 and combines the lanes in a fixed tree, so results do not depend
// on the SIMD level or the thread count.
#pragma once
#include <algorithm>
#include <cstdint>
#include <cstring>

#include "cpu/vec_math.h"

namespace fastnn::cpu::simd {

typedef float vf16 __attribute__((vector_size(64)));
typedef int32_t vi16 __attribute__((vector_size(64)));

FASTNN_INLINE vf16 load(const float* p) {
  vf16 v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

FASTNN_INLINE float tree_sum(float* a) {
  for (int w = 8; w >= 1; w /= 2)
    for (int j = 0; j < w; ++j) a[j] += a[j + w];
  return a[0];
}

// sum of f(i) for i in [0, n): f is evaluated by a plain loop into a buffer (which the loop
// vectoriser handles, whatever f does), then added lane-wise.
template <class F>
FASTNN_INLINE float lane_sum(int64_t n, F&& f) {
  constexpr int64_t kChunk = 256;
  float buf[kChunk];
  float tail[16] = {0};
  vf16 acc = {};
  for (int64_t i0 = 0; i0 < n; i0 += kChunk) {
    const int64_t m = std::min<int64_t>(kChunk, n - i0);
    for (int64_t k = 0; k < m; ++k) buf[k] = f(i0 + k);
    int64_t k = 0;
    for (; k + 16 <= m; k += 16) acc += load(buf + k);
    for (int j = 0; k < m; ++k, ++j) tail[j] += buf[k];  // the last chunk's remainder
  }
  float a[16];
  std::memcpy(a, &acc, sizeof a);
  for (int j = 0; j < 16; ++j) a[j] += tail[j];
  return tree_sum(a);
}

FASTNN_INLINE float sum(const float* x, int64_t n) {
  return lane_sum(n, [&](int64_t i) { return x[i]; });
}

// NaN-propagating max (IsMax) or min of x[0, n); -inf / +inf for n == 0.
template <bool IsMax>
FASTNN_INLINE float extremum(const float* x, int64_t n) {
  const float init = IsMax ? -vm::kInf : vm::kInf;
  vf16 acc = vf16{} + init;
  vi16 nan = {};
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const vf16 v = load(x + i);
    acc = (IsMax ? v > acc : v < acc) ? v : acc;
    nan |= (v != v);
  }
  float m = init;
  int32_t any_nan = 0;
  for (int j = 0; j < 16; ++j) {
    m = (IsMax ? acc[j] > m : acc[j] < m) ? acc[j] : m;
    any_nan |= nan[j];
  }
  for (; i < n; ++i) {
    m = (IsMax ? x[i] > m : x[i] < m) ? x[i] : m;
    any_nan |= x[i] != x[i];
  }
  return any_nan ? vm::kNaN : m;
}

}  // namespace fastnn::cpu::simd
