// Philox-4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3", SC'11): a
// counter-based generator. philox4(seed, counter) gives 4 independent 32-bit words; element
// i of a draw with key (seed, offset) uses counter (offset + i) / 4 and word (offset + i) % 4,
// so the numbers never depend on the thread count or the device. Shared by CPU and CUDA code.
#pragma once
#include <cstdint>

#if defined(__CUDACC__)
#define FASTNN_HD __host__ __device__ __forceinline__
#else
#define FASTNN_HD inline
#endif

namespace fastnn {

struct Philox4 {
  uint32_t v[4];
};

FASTNN_HD Philox4 philox4(uint64_t seed, uint64_t counter) {
  uint32_t c0 = (uint32_t)counter, c1 = (uint32_t)(counter >> 32), c2 = 0, c3 = 0;
  uint32_t k0 = (uint32_t)seed, k1 = (uint32_t)(seed >> 32);
  for (int r = 0; r < 10; ++r) {
    uint64_t p0 = (uint64_t)0xD2511F53u * c0, p1 = (uint64_t)0xCD9E8D57u * c2;
    uint32_t n0 = (uint32_t)(p1 >> 32) ^ c1 ^ k0, n2 = (uint32_t)(p0 >> 32) ^ c3 ^ k1;
    c1 = (uint32_t)p1;
    c3 = (uint32_t)p0;
    c0 = n0;
    c2 = n2;
    k0 += 0x9E3779B9u;
    k1 += 0xBB67AE85u;
  }
  return Philox4{{c0, c1, c2, c3}};
}

// Word i of the stream (seed, offset).
FASTNN_HD uint32_t philox_word(uint64_t seed, uint64_t i) { return philox4(seed, i >> 2).v[i & 3]; }

// Uniform float in [0, 1) from the top 24 bits (exactly representable).
FASTNN_HD float uint_to_unit(uint32_t u) { return (float)(u >> 8) * (1.0f / 16777216.0f); }

}  // namespace fastnn
