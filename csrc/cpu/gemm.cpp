// Blocked single-precision GEMM on the CPU, in the shape of Goto/BLIS ("Anatomy of
// High-Performance Matrix Multiplication"): C (M x N) = alpha * op(A) op(B) + beta * C.
// M, N, K are the sizes of the product; lda/ldb/ldc row strides; the loops, outside in:
//   jc over N in NC columns      (B block KC x NC lives in L3)
//   pc over K in KC steps        pack op(B)[pc:pc+kc, jc:jc+nc] into NR-column micro-panels
//   ic over M in MC rows         pack op(A)[ic:ic+mc, pc:pc+kc] into MR-row micro-panels (L2)
//   jr, ir over NR x MR tiles    the micro-kernel: an MR x NR block of accumulators in registers
// Transposes are absorbed by the packing routines, so the micro-kernel sees one layout. Threads
// split the (ic, jr) tiles of each (jc, pc) step; K is never split, so every element of C is the
// same sequence of operations for any thread count (bit-identical results). The hand-tuned
// intrinsic micro-kernels come later; this one is C++ on GCC vector types, compiled for each
// FASTNN_SIMD clone.
#include <algorithm>
#include <cstring>
#include <vector>

#include "core/parallel.h"
#include "cpu/gemm_ref.h"
#include "kernels/gemm.h"

namespace fastnn::cpu {
namespace {

// Block sizes, for AMD Zen 4 (32 KiB L1d, 1 MiB L2 per core, 32 MiB L3):
//   MR x NR = 6 x 16 accumulators: 12 ymm (AVX2) or 6 zmm (AVX-512), leaving registers for B
//   and the broadcast A value; enough independent FMA chains to hide the 4-cycle latency.
//   KC = 256: an A micro-panel (6 KiB) plus a B micro-panel (16 KiB) stay in L1.
//   MC = 144: the packed A block (144 KiB) stays in L2 next to streaming B panels.
//   NC = 4080: the packed B block (4 MiB) stays in L3.
constexpr int MR = 6;
constexpr int NR = 16;
constexpr int64_t KC = 256;
constexpr int64_t MC = 144;
constexpr int64_t NC = 4080;
static_assert(MC % MR == 0 && NC % NR == 0, "cache blocks must hold whole micro-tiles");

// Products with fewer multiply-adds than this run on one thread.
constexpr int64_t kParallelFlops = 1 << 18;

inline int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

// Packing buffers, one per thread, grown as needed and reused across calls.
float* scratch(std::vector<float>& buf, int64_t n) {
  if ((int64_t)buf.size() < n) buf.resize(n);
  return buf.data();
}
thread_local std::vector<float> tl_apack, tl_bpack;

// Ap = op(A)[i0:i0+mc, p0:p0+kc] as ceil(mc/MR) panels, each kc rows of MR values; rows past mc
// are zero so that edge tiles run the full micro-kernel.
FASTNN_SIMD void pack_a(float* Ap, bool trans, const float* A, int64_t lda, int64_t i0, int64_t mc,
                        int64_t p0, int64_t kc) {
  for (int64_t ip = 0; ip < mc; ip += MR) {
    int64_t mr = std::min<int64_t>(MR, mc - ip);
    float* dst = Ap + ip * kc;
    if (trans) {  // element (i, k) at A[k*lda + i]: rows of the panel are contiguous
      const float* src = A + p0 * lda + i0 + ip;
      for (int64_t k = 0; k < kc; ++k) {
        int64_t r = 0;
        for (; r < mr; ++r) dst[k * MR + r] = src[k * lda + r];
        for (; r < MR; ++r) dst[k * MR + r] = 0.0f;
      }
    } else {  // element (i, k) at A[i*lda + k]
      const float* src = A + (i0 + ip) * lda + p0;
      for (int64_t r = 0; r < mr; ++r)
        for (int64_t k = 0; k < kc; ++k) dst[k * MR + r] = src[r * lda + k];
      for (int64_t r = mr; r < MR; ++r)
        for (int64_t k = 0; k < kc; ++k) dst[k * MR + r] = 0.0f;
    }
  }
}

// Bp = op(B)[p0:p0+kc, j0 + jp ...] for the NR-column panels jp in [jp0, jp1) (in columns, NR
// aligned) of a block nc wide; columns past nc are zero.
FASTNN_SIMD void pack_b(float* Bp, bool trans, const float* B, int64_t ldb, int64_t p0, int64_t kc,
                        int64_t j0, int64_t nc, int64_t jp0, int64_t jp1) {
  for (int64_t jp = jp0; jp < jp1; jp += NR) {
    int64_t nr = std::min<int64_t>(NR, nc - jp);
    float* dst = Bp + jp * kc;
    if (!trans) {  // element (k, j) at B[k*ldb + j]: panel rows are contiguous
      const float* src = B + p0 * ldb + j0 + jp;
      for (int64_t k = 0; k < kc; ++k) {
        if (nr == NR) {
          for (int c = 0; c < NR; ++c) dst[k * NR + c] = src[k * ldb + c];
        } else {
          int64_t c = 0;
          for (; c < nr; ++c) dst[k * NR + c] = src[k * ldb + c];
          for (; c < NR; ++c) dst[k * NR + c] = 0.0f;
        }
      }
    } else {  // element (k, j) at B[j*ldb + k]
      const float* src = B + (j0 + jp) * ldb + p0;
      for (int64_t c = 0; c < nr; ++c)
        for (int64_t k = 0; k < kc; ++k) dst[k * NR + c] = src[c * ldb + k];
      for (int64_t c = nr; c < NR; ++c)
        for (int64_t k = 0; k < kc; ++k) dst[k * NR + c] = 0.0f;
    }
  }
}

// One row of NR accumulators as a GCC vector: one zmm in the AVX-512 clone, two ymm in the
// AVX2 clone, four xmm in the portable one. (Plain arrays left GCC shuffling through xmm
// registers; the vector type keeps the MR x NR accumulators in registers.)
// Only ever inlined, so the -Wpsabi note about passing 64-byte vectors does not apply.
#pragma GCC diagnostic ignored "-Wpsabi"
typedef float vrow __attribute__((vector_size(NR * sizeof(float))));
__attribute__((always_inline)) inline vrow load_row(const float* p) {
  vrow v;
  std::memcpy(&v, p, sizeof v);  // unaligned load
  return v;
}
__attribute__((always_inline)) inline void store_row(float* p, vrow v) { std::memcpy(p, &v, sizeof v); }

// The micro-kernel. Contract: a is kc x MR (packed A panel), b is kc x NR (packed B panel);
// the mr x nr top-left part of the tile is written to C: C = alpha * a^T b + beta * C, and
// beta == 0 overwrites C without reading it. Inlined into the SIMD clones of macro_kernel.
__attribute__((always_inline)) inline void micro_kernel(int64_t kc, const float* __restrict a,
                                                        const float* __restrict b,
                                                        float* __restrict C, int64_t ldc, int mr,
                                                        int nr, float alpha, float beta) {
  vrow acc[MR];
  for (int i = 0; i < MR; ++i) acc[i] = vrow{};
  for (int64_t k = 0; k < kc; ++k) {
    vrow bk = load_row(b + k * NR);
    for (int i = 0; i < MR; ++i) acc[i] += a[k * MR + i] * bk;
  }
  if (mr == MR && nr == NR) {
    for (int i = 0; i < MR; ++i) {
      float* c = C + i * ldc;
      store_row(c, beta == 0.0f ? alpha * acc[i] : alpha * acc[i] + beta * load_row(c));
    }
    return;
  }
  float tile[MR][NR];
  for (int i = 0; i < MR; ++i) store_row(tile[i], acc[i]);
  for (int i = 0; i < mr; ++i) {
    float* c = C + i * ldc;
    for (int j = 0; j < nr; ++j)
      c[j] = beta == 0.0f ? alpha * tile[i][j] : alpha * tile[i][j] + beta * c[j];
  }
}

// All tiles of one packed A block (mc x kc) times the packed B panels [jb0, jb1) (columns,
// NR aligned) of a block nc wide; C points at the block's top-left element.
FASTNN_SIMD void macro_kernel(int64_t mc, int64_t nc, int64_t kc, int64_t jb0, int64_t jb1,
                              const float* Ap, const float* Bp, float* C, int64_t ldc, float alpha,
                              float beta) {
  for (int64_t jr = jb0; jr < jb1; jr += NR) {
    int nr = (int)std::min<int64_t>(NR, nc - jr);
    for (int64_t ir = 0; ir < mc; ir += MR) {
      int mr = (int)std::min<int64_t>(MR, mc - ir);
      micro_kernel(kc, Ap + ir * kc, Bp + jr * kc, C + ir * ldc + jr, ldc, mr, nr, alpha, beta);
    }
  }
}

// C = beta * C (beta == 0: zero without reading), for alpha == 0 or K == 0.
void scale_c(int64_t M, int64_t N, float beta, float* C, int64_t ldc) {
  for (int64_t i = 0; i < M; ++i) {
    float* c = C + i * ldc;
    if (beta == 0.0f)
      std::fill(c, c + N, 0.0f);
    else if (beta != 1.0f)
      for (int64_t j = 0; j < N; ++j) c[j] *= beta;
  }
}

// The blocked product; `threaded` false keeps it on the calling thread (inside a batch that is
// already parallel: nested parallel_for would not split).
void sgemm_blocked(bool transA, bool transB, int64_t M, int64_t N, int64_t K, float alpha,
                   const float* A, int64_t lda, const float* B, int64_t ldb, float beta, float* C,
                   int64_t ldc, bool threaded) {
  if (M <= 0 || N <= 0) return;
  if (K <= 0 || alpha == 0.0f) {
    scale_c(M, N, beta, C, ldc);
    return;
  }
  int nthreads = threaded && M * N * K >= kParallelFlops ? get_num_threads() : 1;
  for (int64_t jc = 0; jc < N; jc += NC) {
    int64_t nc = std::min(NC, N - jc);
    int64_t npanels = ceil_div(nc, NR);
    for (int64_t pc = 0; pc < K; pc += KC) {
      int64_t kc = std::min(KC, K - pc);
      float beta_k = pc == 0 ? beta : 1.0f;  // later K blocks accumulate onto the first
      float* Bp = scratch(tl_bpack, npanels * NR * kc);
      parallel_for(npanels, nthreads > 1 ? ceil_div(npanels, nthreads) : npanels,
                   [&](int64_t p0, int64_t p1) {
                     pack_b(Bp, transB, B, ldb, pc, kc, jc, nc, p0 * NR, std::min(p1 * NR, nc));
                   });
      // Tasks: every MC block of rows times `groups` column ranges of the B block; the column
      // split only exists so that short, wide products also use every thread.
      int64_t mblocks = ceil_div(M, MC);
      int64_t groups = std::min<int64_t>(npanels, nthreads > mblocks ? ceil_div(nthreads, mblocks) : 1);
      int64_t per_group = ceil_div(npanels, groups);
      groups = ceil_div(npanels, per_group);
      int64_t ntasks = mblocks * groups;
      parallel_for(ntasks, nthreads > 1 ? 1 : ntasks, [&](int64_t t0, int64_t t1) {
        for (int64_t t = t0; t < t1; ++t) {
          int64_t ic = (t / groups) * MC, g = t % groups;
          int64_t mc = std::min(MC, M - ic);
          int64_t jb0 = g * per_group * NR, jb1 = std::min((g + 1) * per_group * NR, nc);
          float* Ap = scratch(tl_apack, ceil_div(mc, MR) * MR * kc);
          pack_a(Ap, transA, A, lda, ic, mc, pc, kc);
          macro_kernel(mc, nc, kc, jb0, jb1, Ap, Bp, C + ic * ldc + jc, ldc, alpha, beta_k);
        }
      });
    }
  }
}

}  // namespace

void sgemm(bool transA, bool transB, int64_t M, int64_t N, int64_t K, float alpha, const float* A,
           int64_t lda, const float* B, int64_t ldb, float beta, float* C, int64_t ldc) {
  sgemm_blocked(transA, transB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc, true);
}

void sgemm_batched(bool transA, bool transB, int64_t batch, int64_t M, int64_t N, int64_t K,
                   float alpha, const float* A, int64_t lda, int64_t strideA, const float* B,
                   int64_t ldb, int64_t strideB, float beta, float* C, int64_t ldc,
                   int64_t strideC) {
  if (batch <= 0) return;
  auto one = [&](int64_t b, bool threaded) {
    sgemm_blocked(transA, transB, M, N, K, alpha, A + b * strideA, lda, B + b * strideB, ldb, beta,
                  C + b * strideC, ldc, threaded);
  };
  // Small products: one thread per batch entry; large ones: threads inside each product. Either
  // way each product runs the same operations, so the result does not depend on the threads.
  if (M * N * K < 8 * kParallelFlops && batch > 1) {
    int64_t grain = std::max<int64_t>(1, kParallelFlops / std::max<int64_t>(M * N * K, 1));
    parallel_for(batch, grain, [&](int64_t b0, int64_t b1) {
      for (int64_t b = b0; b < b1; ++b) one(b, false);
    });
  } else {
    for (int64_t b = 0; b < batch; ++b) one(b, true);
  }
}

}  // namespace fastnn::cpu
