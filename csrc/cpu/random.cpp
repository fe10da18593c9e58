// Counter-based random numbers on the CPU (mapping in kernels/random.h, generator in
// core/philox.h). n = element count, (seed, offset) = key and first word of the draw. Element i
// uses word offset + i only, so any split of [0, n) across threads gives the same numbers.
#include "kernels/random.h"

#include <algorithm>
#include <cmath>

#include "core/parallel.h"
#include "core/philox.h"

namespace fastnn::cpu {
namespace {

constexpr int64_t kGrain = 1 << 15;  // elements per thread at least
constexpr int64_t kChunk = 256;      // words generated per batch (64 Philox blocks)

// w[j] = philox_word(seed, first + j) for j < n (n <= kChunk). Each Philox call yields four
// consecutive words; the loop over blocks is independent, so the clones vectorise it.
FASTNN_SIMD void philox_words(uint32_t* w, uint64_t seed, uint64_t first, int64_t n) {
  uint64_t c0 = first >> 2, c1 = (first + n - 1) >> 2;
  uint32_t buf[kChunk + 8];
  for (uint64_t c = c0; c <= c1; ++c) {
    Philox4 r = philox4(seed, c);
    uint32_t* d = buf + 4 * (c - c0);
    d[0] = r.v[0];
    d[1] = r.v[1];
    d[2] = r.v[2];
    d[3] = r.v[3];
  }
  const uint32_t* src = buf + (first & 3);
  for (int64_t j = 0; j < n; ++j) w[j] = src[j];
}

// Calls f(i, words, m): words[j] is word offset + i + j, for chunks covering [b, e).
template <class F>
void for_words(int64_t b, int64_t e, uint64_t seed, uint64_t offset, F&& f) {
  uint32_t w[kChunk];
  for (int64_t i = b; i < e; i += kChunk) {
    int64_t m = std::min<int64_t>(kChunk, e - i);
    philox_words(w, seed, offset + (uint64_t)i, m);
    f(i, w, m);
  }
}

FASTNN_SIMD void uniform_chunk(float* out, const uint32_t* w, int64_t m, float low, float high) {
  // One rounding (fma), as on CUDA, so every SIMD clone and both devices agree bit for bit.
  const float range = high - low;
  for (int64_t j = 0; j < m; ++j) out[j] = std::fma(range, uint_to_unit(w[j]), low);
}

// Inverted dropout on one chunk: keep where unit(word) >= rate.
FASTNN_SIMD void dropout_chunk(float* y, const float* x, const uint32_t* w, int64_t m, float rate) {
  const float scale = 1.0f / (1.0f - rate);
  for (int64_t j = 0; j < m; ++j) y[j] = uint_to_unit(w[j]) >= rate ? x[j] * scale : 0.0f;
}

}  // namespace

void uniform_fill(float* out, int64_t n, uint64_t seed, uint64_t offset, float low, float high) {
  parallel_for(n, kGrain, [&](int64_t b, int64_t e) {
    for_words(b, e, seed, offset, [&](int64_t i, const uint32_t* w, int64_t m) {
      uniform_chunk(out + i, w, m, low, high);
    });
  });
}

// Box-Muller on pairs: pair p uses words offset + 2p (radius) and offset + 2p + 1 (angle).
void normal_fill(float* out, int64_t n, uint64_t seed, uint64_t offset, float mean, float std) {
  int64_t pairs = (n + 1) / 2;
  parallel_for(pairs, kGrain / 2, [&](int64_t b, int64_t e) {
    for_words(2 * b, 2 * e, seed, offset, [&](int64_t i, const uint32_t* w, int64_t m) {
      // i is even and m is even (kChunk is even, and 2e - 2b is even).
      for (int64_t j = 0; j < m; j += 2) {
        float u1 = (float)((w[j] >> 8) + 1) * (1.0f / 16777216.0f);
        float u2 = uint_to_unit(w[j + 1]);
        float r = std::sqrt(-2.0f * std::log(u1));
        float t = 2.0f * 3.14159265358979323846f * u2;
        out[i + j] = mean + std * r * std::cos(t);
        if (i + j + 1 < n) out[i + j + 1] = mean + std * r * std::sin(t);
      }
    });
  });
}

void dropout_forward(float* y, const float* x, int64_t n, float rate, uint64_t seed,
                     uint64_t offset) {
  parallel_for(n, kGrain, [&](int64_t b, int64_t e) {
    for_words(b, e, seed, offset, [&](int64_t i, const uint32_t* w, int64_t m) {
      dropout_chunk(y + i, x + i, w, m, rate);
    });
  });
}

// The same mask as forward, regenerated from (seed, offset): dx = keep ? dy * scale : 0.
void dropout_backward(float* dx, const float* dy, int64_t n, float rate, uint64_t seed,
                      uint64_t offset) {
  dropout_forward(dx, dy, n, rate, seed, offset);
}

}  // namespace fastnn::cpu
