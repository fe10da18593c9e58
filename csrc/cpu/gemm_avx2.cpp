// The AVX2 + FMA GEMM micro-kernel (6 x 16 tile in ymm registers) and the packing routines
// compiled for AVX2; the contract is in cpu/gemm_kernels.h. Called only when active_isa() is
// AVX2 or better.
#include <immintrin.h>

#include "cpu/gemm_kernels.h"

namespace fastnn::cpu::gemm {
namespace {

using B = Avx2Blocks;
constexpr int MR = B::MR, NR = B::NR;
static_assert(NR == 16, "two ymm per tile row");

// Accumulates the MR x NR tile over kc steps, the k loop unrolled by 4 (see gemm_avx512.cpp).
template <bool AROW, int R>
__attribute__((always_inline)) inline void accumulate(int64_t kc, const float* __restrict a,
                                                      int64_t rsa, int64_t csa,
                                                      const float* __restrict b, int64_t rsb,
                                                      __m256 (&c)[MR][2]) {
#pragma GCC unroll 4
  for (int64_t k = 0; k < kc; ++k) {
    const __m256 b0 = _mm256_loadu_ps(b), b1 = _mm256_loadu_ps(b + 8);
#pragma GCC unroll 6
    for (int i = 0; i < R; ++i) {
      const __m256 ai = _mm256_broadcast_ss(AROW ? a + i * rsa : a + i);
      c[i][0] = _mm256_fmadd_ps(ai, b0, c[i][0]);
      c[i][1] = _mm256_fmadd_ps(ai, b1, c[i][1]);
    }
    a += AROW ? 1 : csa;
    b += rsb;
  }
}

// -1 (all bits) in the first n of 8 lanes: mask for maskload / maskstore.
inline __m256i lane_mask(int n) {
  alignas(32) static const int32_t table[16] = {-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0};
  n = n < 0 ? 0 : n > 8 ? 8 : n;
  return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(table + 8 - n));
}

void kernel(int64_t kc, const float* a, int64_t rsa, int64_t csa, const float* b, int64_t rsb,
            float* C, int64_t ldc, int mr, int nr, float alpha, float beta, const float* bias,
            Activation act) {
  // C is needed at the end: start fetching its rows now (for write: they are stored), so the
  // store does not wait on L3 or memory (C rows ldc apart rarely stay in L1 / L2).
  for (int i = 0; i < mr; ++i) {
    __builtin_prefetch(C + i * ldc, 1, 3);
    __builtin_prefetch(C + i * ldc + 15, 1, 3);
  }
  __m256 c[MR][2];
#pragma GCC unroll 6
  for (int i = 0; i < MR; ++i) c[i][0] = c[i][1] = _mm256_setzero_ps();
  // Edge tiles of few rows accumulate only the rows they store (R of the MR).
  const bool arow = csa == 1 && rsa != 1;
  if (mr <= 3)
    arow ? accumulate<true, 3>(kc, a, rsa, csa, b, rsb, c)
         : accumulate<false, 3>(kc, a, rsa, csa, b, rsb, c);
  else
    arow ? accumulate<true, 6>(kc, a, rsa, csa, b, rsb, c)
         : accumulate<false, 6>(kc, a, rsa, csa, b, rsb, c);

  const bool full = nr == NR;
  const __m256i m0 = lane_mask(nr), m1 = lane_mask(nr - 8);
  const __m256 va = _mm256_set1_ps(alpha), vb = _mm256_set1_ps(beta), zero = _mm256_setzero_ps();
  __m256 bias0 = zero, bias1 = zero;
  if (bias) {
    bias0 = full ? _mm256_loadu_ps(bias) : _mm256_maskload_ps(bias, m0);
    bias1 = full ? _mm256_loadu_ps(bias + 8) : _mm256_maskload_ps(bias + 8, m1);
  }
  const bool relu = act == Activation::Relu;
#pragma GCC unroll 6
  for (int i = 0; i < MR; ++i) {
    if (i >= mr) break;
    float* ci = C + i * ldc;
    __m256 v0 = _mm256_mul_ps(c[i][0], va), v1 = _mm256_mul_ps(c[i][1], va);
    if (beta != 0.0f) {
      v0 = _mm256_fmadd_ps(vb, full ? _mm256_loadu_ps(ci) : _mm256_maskload_ps(ci, m0), v0);
      v1 = _mm256_fmadd_ps(vb, full ? _mm256_loadu_ps(ci + 8) : _mm256_maskload_ps(ci + 8, m1), v1);
    }
    if (bias) {
      v0 = _mm256_add_ps(v0, bias0);
      v1 = _mm256_add_ps(v1, bias1);
    }
    if (relu) {  // max(0, v) returns v when v is NaN: NaN propagates
      v0 = _mm256_max_ps(zero, v0);
      v1 = _mm256_max_ps(zero, v1);
    }
    if (full) {
      _mm256_storeu_ps(ci, v0);
      _mm256_storeu_ps(ci + 8, v1);
    } else {
      _mm256_maskstore_ps(ci, m0, v0);
      _mm256_maskstore_ps(ci + 8, m1, v1);
    }
  }
  if (act == Activation::Sigmoid || act == Activation::Tanh) activate_tile(C, ldc, mr, nr, act);
}

void pack_a(float* Ap, bool trans, const float* A, int64_t lda, int64_t i0, int64_t mc, int64_t p0,
            int64_t kc) {
  pack_a_tpl<MR>(Ap, trans, A, lda, i0, mc, p0, kc);
}
void pack_b(float* Bp, bool trans, const float* Bm, int64_t ldb, int64_t p0, int64_t kc, int64_t j0,
            int64_t nc, int64_t jp0, int64_t jp1) {
  pack_b_tpl<NR>(Bp, trans, Bm, ldb, p0, kc, j0, nc, jp0, jp1);
}

}  // namespace

Arch avx2_arch() { return {MR, NR, B::MC, B::KC, B::NC, kernel, pack_a, pack_b}; }

}  // namespace fastnn::cpu::gemm
