// The AVX-512 GEMM micro-kernel (12 x 32 tile in zmm registers) and the packing routines
// compiled for AVX-512; the contract is in cpu/gemm_kernels.h. Called only when
// active_isa() is AVX512.
#include <immintrin.h>

#include "cpu/gemm_kernels.h"

namespace fastnn::cpu::gemm {
namespace {

using B = Avx512Blocks;
constexpr int MR = B::MR, NR = B::NR;
static_assert(NR == 32, "two zmm per tile row");

// Accumulates the MR x NR tile over kc steps, the k loop unrolled by 4. AROW: a(i, k) at
// a[i * rsa + k] (A read in place); otherwise a[i + k * csa] (packed, or A^T read in place).
template <bool AROW, int R>
__attribute__((always_inline)) inline void accumulate(int64_t kc, const float* __restrict a,
                                                      int64_t rsa, int64_t csa,
                                                      const float* __restrict b, int64_t rsb,
                                                      __m512 (&c)[MR][2]) {
#pragma GCC unroll 4
  for (int64_t k = 0; k < kc; ++k) {
    const __m512 b0 = _mm512_loadu_ps(b), b1 = _mm512_loadu_ps(b + 16);
#pragma GCC unroll 12
    for (int i = 0; i < R; ++i) {
      const __m512 ai = _mm512_set1_ps(AROW ? a[i * rsa] : a[i]);
      c[i][0] = _mm512_fmadd_ps(ai, b0, c[i][0]);
      c[i][1] = _mm512_fmadd_ps(ai, b1, c[i][1]);
    }
    a += AROW ? 1 : csa;
    b += rsb;
  }
}

void kernel(int64_t kc, const float* a, int64_t rsa, int64_t csa, const float* b, int64_t rsb,
            float* C, int64_t ldc, int mr, int nr, float alpha, float beta, const float* bias,
            Activation act) {
  // C is needed at the end: start fetching its rows now (for write: they are stored), so the
  // store does not wait on L3 or memory (C rows ldc apart rarely stay in L1 / L2).
  for (int i = 0; i < mr; ++i) {
    __builtin_prefetch(C + i * ldc, 1, 3);
    __builtin_prefetch(C + i * ldc + 31, 1, 3);
  }
  __m512 c[MR][2];
#pragma GCC unroll 12
  for (int i = 0; i < MR; ++i) c[i][0] = c[i][1] = _mm512_setzero_ps();
  // Edge tiles of few rows accumulate only the rows they store (R of the MR).
  const bool arow = csa == 1 && rsa != 1;
  if (mr <= 4)
    arow ? accumulate<true, 4>(kc, a, rsa, csa, b, rsb, c)
         : accumulate<false, 4>(kc, a, rsa, csa, b, rsb, c);
  else if (mr <= 8)
    arow ? accumulate<true, 8>(kc, a, rsa, csa, b, rsb, c)
         : accumulate<false, 8>(kc, a, rsa, csa, b, rsb, c);
  else
    arow ? accumulate<true, 12>(kc, a, rsa, csa, b, rsb, c)
         : accumulate<false, 12>(kc, a, rsa, csa, b, rsb, c);

  // Epilogue on the registers: columns past nr are masked, rows past mr skipped.
  const __mmask16 m0 = nr >= 16 ? 0xFFFF : (__mmask16)((1u << nr) - 1);
  const __mmask16 m1 = nr >= 32 ? 0xFFFF : nr > 16 ? (__mmask16)((1u << (nr - 16)) - 1) : 0;
  const __m512 va = _mm512_set1_ps(alpha), vb = _mm512_set1_ps(beta), zero = _mm512_setzero_ps();
  __m512 bias0 = zero, bias1 = zero;
  if (bias) {
    bias0 = _mm512_maskz_loadu_ps(m0, bias);
    bias1 = _mm512_maskz_loadu_ps(m1, bias + 16);
  }
  const bool relu = act == Activation::Relu;
#pragma GCC unroll 12
  for (int i = 0; i < MR; ++i) {
    if (i >= mr) break;
    float* ci = C + i * ldc;
    __m512 v0 = _mm512_mul_ps(c[i][0], va), v1 = _mm512_mul_ps(c[i][1], va);
    if (beta != 0.0f) {
      v0 = _mm512_fmadd_ps(vb, _mm512_maskz_loadu_ps(m0, ci), v0);
      v1 = _mm512_fmadd_ps(vb, _mm512_maskz_loadu_ps(m1, ci + 16), v1);
    }
    if (bias) {
      v0 = _mm512_add_ps(v0, bias0);
      v1 = _mm512_add_ps(v1, bias1);
    }
    if (relu) {  // max(0, v) returns v when v is NaN: NaN propagates
      v0 = _mm512_max_ps(zero, v0);
      v1 = _mm512_max_ps(zero, v1);
    }
    _mm512_mask_storeu_ps(ci, m0, v0);
    _mm512_mask_storeu_ps(ci + 16, m1, v1);
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

Arch avx512_arch() { return {MR, NR, B::MC, B::KC, B::NC, kernel, pack_a, pack_b}; }

}  // namespace fastnn::cpu::gemm
