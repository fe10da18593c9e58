// Blocked single-precision GEMM on the CPU, in the shape of Goto/BLIS ("Anatomy of
// High-Performance Matrix Multiplication"): C (M x N) = act(alpha * op(A) op(B) + beta * C + bias).
// M, N, K are the sizes of the product; lda/ldb/ldc row strides; the loops, outside in:
//   jc over N in NC columns      (B block KC x NC lives in L3)
//   pc over K in KC steps        pack op(B)[pc:pc+kc, jc:jc+nc] into NR-column micro-panels
//   ic over M in MC rows         pack op(A)[ic:ic+mc, pc:pc+kc] into MR-row micro-panels (L2)
//   jr, ir over NR x MR tiles    the micro-kernel: an MR x NR block of accumulators in registers
// Transposes are absorbed by the packing routines, so the micro-kernel sees one layout. The
// micro-kernel and block sizes come from active_isa() (cpu/gemm_kernels.h: AVX-512, AVX2, or
// the portable kernel below). Threads share one packed B block (packed cooperatively, then a
// barrier) and split the rows (or, for short products, the columns) of C; K is never split, so
// every element of C is the same sequence of operations for any thread count.
// Small products skip packing: an operand whose packed copy would be used by at most a couple
// of tiles is read in place by the micro-kernel (only its zero-padded edge panel is copied).
#include <algorithm>
#include <cstdlib>
#include <cstring>

#include "core/cpu_features.h"
#include "core/parallel.h"
#include "cpu/gemm_kernels.h"
#include "cpu/gemm_packed.h"
#include "cpu/gemm_ref.h"
#include "kernels/gemm.h"

namespace fastnn::cpu {
namespace {
using namespace gemm;

// Products with fewer multiply-adds than this run on one thread.
constexpr int64_t kParallelFlops = 1 << 18;
// A GEMV is memory bound: a second thread pays off once B is larger than about 256 KB.
constexpr int64_t kGemvParallel = 1 << 16;

inline int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

// A packing buffer: 64-byte aligned, grown when needed, reused across calls (one per thread).
struct AlignedBuffer {
  float* ptr = nullptr;
  size_t cap = 0;
  float* get(size_t n) {
    if (n > cap) {
      std::free(ptr);
      size_t bytes = (n * sizeof(float) + 63) / 64 * 64;
      ptr = static_cast<float*>(std::aligned_alloc(64, bytes));
      if (!ptr) throw std::bad_alloc();
      cap = bytes / sizeof(float);
    }
    return ptr;
  }
  ~AlignedBuffer() { std::free(ptr); }
};
thread_local AlignedBuffer tl_apack, tl_bpack, tl_aedge, tl_bedge;

// ---------------------------------------------------------------- the portable micro-kernel
// 6 x 16 on GCC vector types (one row of NR accumulators: four xmm on baseline x86-64, wider
// where the compiler targets more); same contract as the intrinsic kernels (gemm_kernels.h).
#pragma GCC diagnostic ignored "-Wpsabi"
constexpr int GMR = GenericBlocks::MR, GNR = GenericBlocks::NR;
typedef float vrow __attribute__((vector_size(GNR * sizeof(float))));
__attribute__((always_inline)) inline vrow load_row(const float* p) {
  vrow v;
  std::memcpy(&v, p, sizeof v);  // unaligned load
  return v;
}

void generic_kernel(int64_t kc, const float* a, int64_t rsa, int64_t csa, const float* b,
                    int64_t rsb, float* C, int64_t ldc, int mr, int nr, float alpha, float beta,
                    const float* bias, Activation act) {
  vrow acc[GMR];
  for (int i = 0; i < GMR; ++i) acc[i] = vrow{};
  for (int64_t k = 0; k < kc; ++k) {
    vrow bk = load_row(b + k * rsb);
    for (int i = 0; i < GMR; ++i) acc[i] += a[i * rsa + k * csa] * bk;
  }
  float tile[GMR][GNR];
  for (int i = 0; i < GMR; ++i) std::memcpy(tile[i], &acc[i], sizeof(vrow));
  for (int i = 0; i < mr; ++i) {
    float* c = C + i * ldc;
    for (int j = 0; j < nr; ++j) {
      float v = beta == 0.0f ? alpha * tile[i][j] : alpha * tile[i][j] + beta * c[j];
      if (bias) v += bias[j];
      if (act == Activation::Relu) v = v < 0.0f ? 0.0f : v;  // NaN passes
      c[j] = v;
    }
  }
  if (act == Activation::Sigmoid || act == Activation::Tanh) activate_tile(C, ldc, mr, nr, act);
}
void generic_pack_a(float* Ap, bool trans, const float* A, int64_t lda, int64_t i0, int64_t mc,
                    int64_t p0, int64_t kc) {
  pack_a_tpl<GMR>(Ap, trans, A, lda, i0, mc, p0, kc);
}
void generic_pack_b(float* Bp, bool trans, const float* B, int64_t ldb, int64_t p0, int64_t kc,
                    int64_t j0, int64_t nc, int64_t jp0, int64_t jp1) {
  pack_b_tpl<GNR>(Bp, trans, B, ldb, p0, kc, j0, nc, jp0, jp1);
}

const Arch& arch_for(Isa isa) {
  static const Arch generic{GMR, GNR, GenericBlocks::MC, GenericBlocks::KC, GenericBlocks::NC,
                            generic_kernel, generic_pack_a, generic_pack_b};
  static const Arch avx2 = avx2_arch();
  static const Arch avx512 = avx512_arch();
  return isa == Isa::AVX512 ? avx512 : isa == Isa::AVX2 ? avx2 : generic;
}

// ---------------------------------------------------------------- epilogue without a product
float activate(float v, Activation act) {
  switch (act) {
    case Activation::Relu: return v < 0.0f ? 0.0f : v;
    case Activation::Sigmoid: return vm::sigmoid(v);
    case Activation::Tanh: return vm::tanh(v);
    default: return v;
  }
}

// C = act(beta * C + bias) (beta == 0: C is not read), for alpha == 0 or K == 0.
void scale_c(int64_t M, int64_t N, float beta, float* C, int64_t ldc, const Epilogue& ep) {
  for (int64_t i = 0; i < M; ++i) {
    float* c = C + i * ldc;
    if (beta == 0.0f)
      std::fill(c, c + N, 0.0f);
    else if (beta != 1.0f)
      for (int64_t j = 0; j < N; ++j) c[j] *= beta;
    if (ep.bias)
      for (int64_t j = 0; j < N; ++j) c[j] += ep.bias[j];
    if (ep.act != Activation::None)
      for (int64_t j = 0; j < N; ++j) c[j] = activate(c[j], ep.act);
  }
}

// ---------------------------------------------------------------- one row of A (GEMV)
// acc[0, n) = sum_k a[k * as] * B[k, j0 + j]: B (K rows of ldb floats) streamed once, four rows
// per pass so acc is loaded and stored K / 4 times. The order over k is fixed, so the result does
// not depend on the thread count.
FASTNN_SIMD void gemv_columns(float* acc, const float* a, int64_t as, const float* B, int64_t ldb,
                              int64_t K, int64_t n) {
  for (int64_t j = 0; j < n; ++j) acc[j] = 0.0f;
  int64_t k = 0;
  for (; k + 4 <= K; k += 4) {
    const float a0 = a[k * as], a1 = a[(k + 1) * as], a2 = a[(k + 2) * as], a3 = a[(k + 3) * as];
    const float *b0 = B + k * ldb, *b1 = b0 + ldb, *b2 = b1 + ldb, *b3 = b2 + ldb;
    for (int64_t j = 0; j < n; ++j) acc[j] += a0 * b0[j] + a1 * b1[j] + a2 * b2[j] + a3 * b3[j];
  }
  for (; k < K; ++k) {
    const float ak = a[k * as];
    const float* b = B + k * ldb;
    for (int64_t j = 0; j < n; ++j) acc[j] += ak * b[j];
  }
}

// ---------------------------------------------------------------- the five loops
struct Problem {
  bool transA, transB;
  int64_t M, N, K;
  float alpha;
  const float* A;
  int64_t lda;
  const float* B;
  int64_t ldb;
  float beta;
  float* C;
  int64_t ldc;
  Epilogue ep;
  const float* Bpre = nullptr;  // op(B) packed by PackedB (then B and transB are unused)
  Isa pre_isa = Isa::Generic;   // the micro-kernel the packing was laid out for
};

#ifdef _OPENMP
inline void team_barrier(int nt) {
  if (nt > 1) {
#pragma omp barrier
  }
}
#else
inline void team_barrier(int) {}
#endif

// The share of thread `tid` (of nt) of the product. Rows split: [r0, r1) of M with all columns;
// columns split: NR panels [q0, q1) of each NC block with all rows. Bp: the shared packed B
// block (null when B is read in place).
void run_share(const Arch& ar, const Problem& p, int tid, int nt, bool split_rows, bool direct_a,
               bool direct_b, float* Bp) {
  const int MR = ar.mr, NR = ar.nr;
  int64_t r0 = 0, r1 = p.M;
  if (split_rows) {
    // whole MC blocks' worth of MR tiles for tall products; short ones split at 4 rows, the
    // edge granularity of the kernels, so that both halves get about the same work
    const int64_t g = p.M >= 8 * MR * nt ? MR : 4;
    int64_t per = ceil_div(ceil_div(p.M, nt), g) * g;
    r0 = std::min(p.M, tid * per);
    r1 = std::min(p.M, r0 + per);
  }
  for (int64_t jc = 0; jc < p.N; jc += ar.nc) {
    const int64_t nc = std::min(ar.nc, p.N - jc);
    const int64_t npanels = ceil_div(nc, NR);
    int64_t q0 = 0, q1 = npanels;
    if (!split_rows) {
      int64_t per = ceil_div(npanels, nt);
      q0 = std::min(npanels, tid * per);
      q1 = std::min(npanels, q0 + per);
    }
    for (int64_t pc = 0; pc < p.K; pc += ar.kc) {
      const int64_t kc = std::min(ar.kc, p.K - pc);
      const bool last = pc + kc >= p.K;
      const float beta_k = pc == 0 ? p.beta : 1.0f;  // later K blocks accumulate onto the first
      const float* bias = last && p.ep.bias ? p.ep.bias + jc : nullptr;
      const Activation act = last ? p.ep.act : Activation::None;
      // B: the shared block, packed cooperatively (each thread a slice of the panels), or read
      // in place with its last, partial panel copied (zero-padded) per thread.
      float* bedge = nullptr;
      if (p.Bpre) {
        // the whole op(B) was packed beforehand, block after block (PackedB): no copy and
        // no barrier, every thread reads its panels in place
        Bp = const_cast<float*>(p.Bpre) + jc * p.K + pc * npanels * NR;
      } else if (!direct_b) {
        int64_t per = ceil_div(npanels, nt);
        int64_t s0 = std::min(npanels, tid * per), s1 = std::min(npanels, s0 + per);
        if (s0 < s1) ar.pack_b(Bp, p.transB, p.B, p.ldb, pc, kc, jc, nc, s0 * NR, std::min(s1 * NR, nc));
        team_barrier(nt);
      } else if (nc % NR) {
        bedge = tl_bedge.get(kc * NR);
        int64_t jl = (npanels - 1) * NR;
        ar.pack_b(bedge - jl * kc, p.transB, p.B, p.ldb, pc, kc, jc, nc, jl, nc);
      }
      if (r0 < r1 && q0 < q1) {
        for (int64_t ic = r0; ic < r1; ic += ar.mc) {
          const int64_t mc = std::min(ar.mc, r1 - ic);
          float* Ap = nullptr;
          float* aedge = nullptr;
          const int64_t mfull = mc / MR * MR;
          if (!direct_a) {
            Ap = tl_apack.get(ceil_div(mc, MR) * MR * kc);
            ar.pack_a(Ap, p.transA, p.A, p.lda, ic, mc, pc, kc);
          } else if (mfull < mc) {
            aedge = tl_aedge.get(MR * kc);
            ar.pack_a(aedge, p.transA, p.A, p.lda, ic + mfull, mc - mfull, pc, kc);
          }
          float* Cb = p.C + ic * p.ldc + jc;
          for (int64_t q = q0; q < q1; ++q) {
            const int64_t jr = q * NR;
            const int nr = (int)std::min<int64_t>(NR, nc - jr);
            const float* b;
            int64_t rsb;
            if (!direct_b) {
              b = Bp + jr * kc, rsb = NR;
            } else if (nr < NR) {
              b = bedge, rsb = NR;
            } else {
              b = p.B + pc * p.ldb + jc + jr, rsb = p.ldb;
            }
            const float* bj = bias ? bias + jr : nullptr;
            for (int64_t ir = 0; ir < mc; ir += MR) {
              const int mr = (int)std::min<int64_t>(MR, mc - ir);
              const float* a;
              int64_t rsa, csa;
              if (!direct_a) {
                a = Ap + ir * kc, rsa = 1, csa = MR;
              } else if (mr < MR) {
                a = aedge, rsa = 1, csa = MR;
              } else if (p.transA) {
                a = p.A + pc * p.lda + ic + ir, rsa = 1, csa = p.lda;
              } else {
                a = p.A + (ic + ir) * p.lda + pc, rsa = p.lda, csa = 1;
              }
              ar.kernel(kc, a, rsa, csa, b, rsb, Cb + ir * p.ldc + jr, p.ldc, mr, nr, p.alpha,
                        beta_k, bj, act);
            }
          }
        }
      }
      if (!direct_b && !p.Bpre) team_barrier(nt);  // the next block overwrites the shared B
    }
  }
}

// `threaded` false keeps the product on the calling thread (inside a batch that is already
// parallel).
// M == 1 with B not transposed (Dense at batch 1): a GEMV that reads B once, in place, with
// no packing. B is cut into column chunks (at most kGemvCols wide, so the accumulators stay in
// L1), one or more per thread: each thread then streams its own columns of B, which stay in its
// core's L2 from one call to the next (a 784 x 256 kernel is 800 KB: one L2 cannot hold it with
// everything else, two halves fit).
void gemv_run(const Problem& p, bool threaded) {
  constexpr int64_t kGemvCols = 512, kMinCols = 64;
  const int64_t as = p.transA ? p.lda : 1;  // A is 1 x K, or K x 1 with row stride lda
  const int nt = threaded && p.N * p.K >= kGemvParallel ? get_num_threads() : 1;
  int64_t width = std::min(kGemvCols, ceil_div(p.N, (int64_t)nt));
  width = std::max(kMinCols, ceil_div(width, (int64_t)16) * 16);  // whole vectors per chunk
  const int64_t chunks = ceil_div(p.N, width);
  auto run = [&](int64_t c0, int64_t c1) {
    float acc[kGemvCols];
    for (int64_t c = c0; c < c1; ++c) {
      const int64_t j0 = c * width, w = std::min(width, p.N - j0);
      gemv_columns(acc, p.A, as, p.B + j0, p.ldb, p.K, w);
      float* y = p.C + j0;
      for (int64_t j = 0; j < w; ++j) {
        float v = p.alpha * acc[j];
        if (p.beta != 0.0f) v += p.beta * y[j];  // beta == 0: C is not read
        if (p.ep.bias) v += p.ep.bias[j0 + j];
        y[j] = activate(v, p.ep.act);
      }
    }
  };
  if (nt > 1 && chunks > 1)
    parallel_for(chunks, 1, run);
  else
    run(0, chunks);
}

void sgemm_run(const Problem& p, bool threaded) {
  if (p.M <= 0 || p.N <= 0) return;
  if (p.K <= 0 || p.alpha == 0.0f) {
    scale_c(p.M, p.N, p.beta, p.C, p.ldc, p.ep);
    return;
  }
  if (p.M == 1 && !p.transB && !p.Bpre) {
    gemv_run(p, threaded);
    return;
  }
  const Arch& ar = arch_for(p.Bpre ? p.pre_isa : active_isa());
  // A packed block serves ceil(N / NR) tiles per row panel, a packed B block ceil(M / MR):
  // read in place what would be reused by at most two tiles (B only when not transposed, as
  // the kernel needs NR contiguous values per k). B of one panel (N <= NR) is also read in
  // place: its rows are what a packed panel holds, and threads then need no barrier per block.
  const bool direct_a = p.N <= 2 * ar.nr;
  const bool direct_b = !p.Bpre && !p.transB && (p.M <= 2 * ar.mr || p.N <= ar.nr);
  int nt = threaded && p.M * p.N * p.K >= kParallelFlops ? get_num_threads() : 1;
#ifdef _OPENMP
  if (omp_in_parallel()) nt = 1;
#endif
  const bool split_rows = p.M >= (int64_t)nt * ar.mr * 4 || ceil_div(p.N, ar.nr) < nt;
  float* Bp = nullptr;
  if (!direct_b && !p.Bpre) {
    int64_t nc = std::min(ar.nc, ceil_div(p.N, ar.nr) * ar.nr);
    Bp = tl_bpack.get(nc * std::min(ar.kc, p.K));
  }
  if (nt <= 1) {
    run_share(ar, p, 0, 1, true, direct_a, direct_b, Bp);
    return;
  }
#ifdef _OPENMP
#pragma omp parallel num_threads(nt)
  run_share(ar, p, omp_get_thread_num(), omp_get_num_threads(), split_rows, direct_a, direct_b, Bp);
#endif
}

}  // namespace

void sgemm(bool transA, bool transB, int64_t M, int64_t N, int64_t K, float alpha, const float* A,
           int64_t lda, const float* B, int64_t ldb, float beta, float* C, int64_t ldc) {
  sgemm_run({transA, transB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc, Epilogue{}}, true);
}

void sgemm_ex(bool transA, bool transB, int64_t M, int64_t N, int64_t K, float alpha,
              const float* A, int64_t lda, const float* B, int64_t ldb, float beta, float* C,
              int64_t ldc, const Epilogue& ep) {
  sgemm_run({transA, transB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc, ep}, true);
}

void sgemm_batched(bool transA, bool transB, int64_t batch, int64_t M, int64_t N, int64_t K,
                   float alpha, const float* A, int64_t lda, int64_t strideA, const float* B,
                   int64_t ldb, int64_t strideB, float beta, float* C, int64_t ldc,
                   int64_t strideC) {
  if (batch <= 0) return;
  auto one = [&](int64_t b, bool threaded) {
    sgemm_run({transA, transB, M, N, K, alpha, A + b * strideA, lda, B + b * strideB, ldb, beta,
               C + b * strideC, ldc, Epilogue{}},
              threaded);
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

// ---------------------------------------------------------------- op(B) packed once
PackedB::PackedB(bool transB, int64_t K, int64_t N, const float* B, int64_t ldb) : isa_(active_isa()), K_(K), N_(N) {
  const Arch& ar = arch_for(isa_);
  // Blocks in the order the driver walks them: jc over N by NC, then pc over K by KC; block
  // (jc, pc) starts at jc * K + pc * (its panels * NR) (every block before jc is NC wide).
  int64_t size = 0;
  for (int64_t jc = 0; jc < N; jc += ar.nc) size += ceil_div(std::min(ar.nc, N - jc), ar.nr) * ar.nr * K;
  if (size == 0) return;
  data_ = static_cast<float*>(std::aligned_alloc(64, (size * sizeof(float) + 63) / 64 * 64));
  if (!data_) throw std::bad_alloc();
  for (int64_t jc = 0; jc < N; jc += ar.nc) {
    const int64_t nc = std::min(ar.nc, N - jc), width = ceil_div(nc, ar.nr) * ar.nr;
    for (int64_t pc = 0; pc < K; pc += ar.kc)
      ar.pack_b(data_ + jc * K + pc * width, transB, B, ldb, pc, std::min(ar.kc, K - pc), jc, nc, 0, nc);
  }
}

PackedB::~PackedB() { std::free(data_); }

void sgemm_packed(int64_t M, const PackedB& B, float alpha, const float* A, int64_t lda, float beta, float* C,
                  int64_t ldc, const float* bias) {
  Epilogue ep;
  ep.bias = bias;
  Problem p{false, false, M, B.N(), B.K(), alpha, A, lda, nullptr, 0, beta, C, ldc, ep};
  p.Bpre = B.data();
  p.pre_isa = B.isa();
  sgemm_run(p, true);
}

}  // namespace fastnn::cpu
