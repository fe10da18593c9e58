// Internals of the CPU GEMM shared by the driver (cpu/gemm.cpp) and the per-ISA micro-kernels
// (cpu/gemm_avx512.cpp, cpu/gemm_avx2.cpp): the block sizes of every ISA in one place, the
// micro-kernel contract, and the packing routines (templates, instantiated in each ISA's file so
// that they are compiled for it).
#pragma once
#include <algorithm>
#include <cstdint>

#include "cpu/vec_math.h"
#include "kernels/gemm.h"

namespace fastnn::cpu::gemm {

// Block sizes, for AMD Zen 4 (32 KiB L1d and 1 MiB L2 per core, 32 MiB L3 shared). The loops:
// jc over N by NC (packed B block KC x NC in L3, shared by the threads), pc over K by KC, ic
// over M by MC (packed A block MC x KC in L2, one per thread), jr over NR (one B micro-panel
// KC x NR, kept in L1 while ir walks over the A micro-panels MR x KC streamed from L2).
//
// AVX-512, 12 x 32: 24 zmm accumulators (12 rows of two zmm), A broadcast from memory, so 2
//   loads of B per 24 FMAs; 24 independent chains cover Zen 4's 4-cycle FMA latency with its one
//   512-bit FMA per cycle (two 256-bit pipes). NR = 32 fits the N = 32 of many DL layers.
//   KC = 320: each K block re-reads and re-writes C, whose rows (ldc apart) live in L3 for
//   large products, so a long K block matters more than keeping the B micro-panel (40 KiB) in
//   L1: L2 feeds the 2 x 64 bytes per 24 FMAs easily (measured at 1024 / 2048: KC = 128 gave
//   96 / 92 GFLOP/s, 192 gave 100, 256 gave 104, 320 gave 105). MC = 240 (multiple of 12):
//   packed A block 300 KiB in L2 beside the streaming B panels. NC = 4096: packed B block
//   5 MiB in L3, shared by both cores.
struct Avx512Blocks {
  static constexpr int MR = 12, NR = 32;
  static constexpr int64_t KC = 320, MC = 240, NC = 4096;
};
// AVX2, 6 x 16: 12 ymm accumulators, 2 B loads and 6 broadcasts per 12 FMAs (two 256-bit FMA
//   pipes, latency 4: at least 8 chains needed). KC = 256: B micro-panel 16 KiB + A 6 KiB in
//   L1. MC = 288: A block 288 KiB in L2. NC = 4096: B block 4 MiB in L3.
struct Avx2Blocks {
  static constexpr int MR = 6, NR = 16;
  static constexpr int64_t KC = 256, MC = 288, NC = 4096;
};
// Portable (GCC vector types, baseline x86-64 or any target): the AVX2 tile and blocks.
struct GenericBlocks {
  static constexpr int MR = 6, NR = 16;
  static constexpr int64_t KC = 256, MC = 288, NC = 4096;
};
static_assert(Avx512Blocks::MC % Avx512Blocks::MR == 0 && Avx512Blocks::NC % Avx512Blocks::NR == 0);
static_assert(Avx2Blocks::MC % Avx2Blocks::MR == 0 && Avx2Blocks::NC % Avx2Blocks::NR == 0);
static_assert(GenericBlocks::MC % GenericBlocks::MR == 0 && GenericBlocks::NC % GenericBlocks::NR == 0);
constexpr int kMaxMR = 12, kMaxNR = 32;

// The micro-kernel contract (every ISA):
//   computes the MR x NR tile T = sum over k < kc of a(:, k) b(k, :), k loop unrolled by 4
//   (rows are accumulated in groups, so an edge tile of mr rows only computes those groups);
//   a(i, k) is at a[i * rsa + k * csa]: a packed panel has rsa = 1, csa = MR; A read in place
//   has (lda, 1) or (1, lda). b(k, j) is at b[k * rsb + j], NR contiguous values per k: a
//   packed panel (rsb = NR) or B read in place (rsb = ldb). Up to MR rows and all NR columns
//   are read, so edge panels are zero-padded copies (the driver packs them).
//   Then writes only the top-left mr x nr part: C = alpha T + beta C (beta == 0: C is not read)
//   + bias[j] if bias, then act; bias = null and act = None for every K block but the last.
using MicroKernel = void (*)(int64_t kc, const float* a, int64_t rsa, int64_t csa, const float* b,
                             int64_t rsb, float* C, int64_t ldc, int mr, int nr, float alpha,
                             float beta, const float* bias, Activation act);

// Packs op(A)[i0:i0+mc, p0:p0+kc] into ceil(mc/MR) panels of kc x MR (k-major); rows past mc
// are zero.
using PackA = void (*)(float* Ap, bool trans, const float* A, int64_t lda, int64_t i0, int64_t mc,
                       int64_t p0, int64_t kc);
// Packs op(B)[p0:p0+kc, j0+jp] for the NR-column panels jp in [jp0, jp1) of a block nc wide
// into kc x NR panels at Bp + jp * kc; columns past nc are zero.
using PackB = void (*)(float* Bp, bool trans, const float* B, int64_t ldb, int64_t p0, int64_t kc,
                       int64_t j0, int64_t nc, int64_t jp0, int64_t jp1);

struct Arch {
  int mr, nr;
  int64_t mc, kc, nc;
  MicroKernel kernel;
  PackA pack_a;
  PackB pack_b;
};
Arch avx512_arch();  // defined in gemm_avx512.cpp
Arch avx2_arch();    // defined in gemm_avx2.cpp

template <int MR>
inline void pack_a_tpl(float* Ap, bool trans, const float* A, int64_t lda, int64_t i0, int64_t mc,
                       int64_t p0, int64_t kc) {
  for (int64_t ip = 0; ip < mc; ip += MR) {
    const int64_t mr = std::min<int64_t>(MR, mc - ip);
    float* dst = Ap + ip * kc;
    if (trans) {  // element (i, k) at A[k*lda + i]: panel rows are contiguous
      const float* src = A + p0 * lda + i0 + ip;
      if (mr == MR) {
        for (int64_t k = 0; k < kc; ++k)
          for (int r = 0; r < MR; ++r) dst[k * MR + r] = src[k * lda + r];
      } else {
        for (int64_t k = 0; k < kc; ++k) {
          int64_t r = 0;
          for (; r < mr; ++r) dst[k * MR + r] = src[k * lda + r];
          for (; r < MR; ++r) dst[k * MR + r] = 0.0f;
        }
      }
    } else {  // element (i, k) at A[i*lda + k]: a transpose, MR rows read side by side
      const float* src = A + (i0 + ip) * lda + p0;
      if (mr == MR) {
        for (int64_t k = 0; k < kc; ++k)
          for (int r = 0; r < MR; ++r) dst[k * MR + r] = src[r * lda + k];
      } else {
        for (int64_t k = 0; k < kc; ++k) {
          int64_t r = 0;
          for (; r < mr; ++r) dst[k * MR + r] = src[r * lda + k];
          for (; r < MR; ++r) dst[k * MR + r] = 0.0f;
        }
      }
    }
  }
}

template <int NR>
inline void pack_b_tpl(float* Bp, bool trans, const float* B, int64_t ldb, int64_t p0, int64_t kc,
                       int64_t j0, int64_t nc, int64_t jp0, int64_t jp1) {
  for (int64_t jp = jp0; jp < jp1; jp += NR) {
    const int64_t nr = std::min<int64_t>(NR, nc - jp);
    float* dst = Bp + jp * kc;
    if (!trans) {  // element (k, j) at B[k*ldb + j]: panel rows are contiguous
      const float* src = B + p0 * ldb + j0 + jp;
      if (nr == NR) {
        for (int64_t k = 0; k < kc; ++k)
          for (int c = 0; c < NR; ++c) dst[k * NR + c] = src[k * ldb + c];
      } else {
        for (int64_t k = 0; k < kc; ++k) {
          int64_t c = 0;
          for (; c < nr; ++c) dst[k * NR + c] = src[k * ldb + c];
          for (; c < NR; ++c) dst[k * NR + c] = 0.0f;
        }
      }
    } else {  // element (k, j) at B[j*ldb + k]
      const float* src = B + (j0 + jp) * ldb + p0;
      if (nr == NR) {
        for (int64_t k = 0; k < kc; ++k)
          for (int c = 0; c < NR; ++c) dst[k * NR + c] = src[c * ldb + k];
      } else {
        for (int64_t k = 0; k < kc; ++k) {
          int64_t c = 0;
          for (; c < nr; ++c) dst[k * NR + c] = src[c * ldb + k];
          for (; c < NR; ++c) dst[k * NR + c] = 0.0f;
        }
      }
    }
  }
}

// Sigmoid / tanh over an mr x nr tile of C that was just stored (still in L1); vectorised by the
// compiler for the ISA of the including file.
inline void activate_tile(float* C, int64_t ldc, int mr, int nr, Activation act) {
  for (int i = 0; i < mr; ++i) {
    float* c = C + i * ldc;
    if (act == Activation::Sigmoid) {
      for (int j = 0; j < nr; ++j) c[j] = vm::sigmoid(c[j]);
    } else if (act == Activation::Tanh) {
      for (int j = 0; j < nr; ++j) c[j] = vm::tanh(c[j]);
    }
  }
}

}  // namespace fastnn::cpu::gemm
