// The AVX2 block of the FMA-throughput probe (cpu/peak.h): 12 ymm accumulator chains.
#include <immintrin.h>

#include "cpu/peak.h"

namespace fastnn::cpu {

__attribute__((noinline)) float fma_block_avx2(int64_t iters, float seed) {
  // distinct starting values: no two chains are the same expression
  __m256 a0 = _mm256_set1_ps(seed + 0.01f), a1 = _mm256_set1_ps(seed + 0.02f),
         a2 = _mm256_set1_ps(seed + 0.03f), a3 = _mm256_set1_ps(seed + 0.04f),
         a4 = _mm256_set1_ps(seed + 0.05f), a5 = _mm256_set1_ps(seed + 0.06f),
         a6 = _mm256_set1_ps(seed + 0.07f), a7 = _mm256_set1_ps(seed + 0.08f),
         a8 = _mm256_set1_ps(seed + 0.09f), a9 = _mm256_set1_ps(seed + 0.10f),
         a10 = _mm256_set1_ps(seed + 0.11f), a11 = _mm256_set1_ps(seed + 0.12f);
  // a -> c / (1 - m): values stay normal (no denormal slow path) however long the loop runs
  const __m256 m = _mm256_set1_ps(0.9999999f), c = _mm256_set1_ps(1e-7f * seed);
  for (int64_t i = 0; i < iters; ++i) {
    a0 = _mm256_fmadd_ps(a0, m, c);
    a1 = _mm256_fmadd_ps(a1, m, c);
    a2 = _mm256_fmadd_ps(a2, m, c);
    a3 = _mm256_fmadd_ps(a3, m, c);
    a4 = _mm256_fmadd_ps(a4, m, c);
    a5 = _mm256_fmadd_ps(a5, m, c);
    a6 = _mm256_fmadd_ps(a6, m, c);
    a7 = _mm256_fmadd_ps(a7, m, c);
    a8 = _mm256_fmadd_ps(a8, m, c);
    a9 = _mm256_fmadd_ps(a9, m, c);
    a10 = _mm256_fmadd_ps(a10, m, c);
    a11 = _mm256_fmadd_ps(a11, m, c);
  }
  __m256 t = _mm256_add_ps(_mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)),
                           _mm256_add_ps(_mm256_add_ps(a4, a5), _mm256_add_ps(a6, a7)));
  t = _mm256_add_ps(t, _mm256_add_ps(_mm256_add_ps(a8, a9), _mm256_add_ps(a10, a11)));
  alignas(32) float lanes[8];
  _mm256_store_ps(lanes, t);
  float sum = 0.f;
  for (float v : lanes) sum += v;
  return sum;
}

}  // namespace fastnn::cpu
