// Single-precision GEMM on CUDA, row-major BLAS semantics (kernels/gemm.h):
// C (M x N) = alpha * op(A) op(B) + beta * C, with op(A) M x K and op(B) K x N.
// A shared-memory tiled kernel (no cuBLAS, so the build needs no extra library):
//   each block computes a BM x BN tile of C, stepping through K in slices of BK: the block
//   loads op(A)[BM x BK] and op(B)[BK x BN] into shared memory (transposes are handled while
//   loading, zero padding at the edges), then each of its 16 x 16 threads accumulates a
//   TM x TN micro-tile. Thread (ty, tx) owns rows ty + 16 i and columns tx + 16 j, so a warp
//   reads shared memory without bank conflicts and writes C rows contiguously.
// beta == 0 means C is only written, never read (it may hold NaN). sgemm_ex applies the fused
// epilogue (bias per column, then relu / sigmoid / tanh) at the store.
#include "kernels/gemm.h"

#include "cuda/common.cuh"

namespace fastnn::cuda {

constexpr int BM = 64, BN = 64, BK = 16;  // block tile and K slice
constexpr int TM = 4, TN = 4;             // micro-tile per thread
constexpr int kGemmThreads = (BM / TM) * (BN / TN);  // 256
static_assert(BM / TM == 16 && BN / TN == 16, "the thread layout below assumes 16 x 16 threads");
static_assert((BM * BK) % kGemmThreads == 0 && (BK * BN) % kGemmThreads == 0, "tile loads");

// blockIdx.x = tile index (tm * tiles_n + tn), blockIdx.y strides over the batch.
__global__ void __launch_bounds__(kGemmThreads)
sgemm_kernel(bool transA, bool transB, int64_t batch, int64_t M, int64_t N, int64_t K,
             float alpha, const float* A, int64_t lda, int64_t strideA, const float* B,
             int64_t ldb, int64_t strideB, float beta, float* C, int64_t ldc, int64_t strideC,
             int64_t tiles_n, const float* bias, Activation act) {
  __shared__ float As[BK][BM + 1];  // op(A) slice, k-major; +1 breaks store bank conflicts
  __shared__ float Bs[BK][BN + 1];  // op(B) slice
  const int t = threadIdx.x, tx = t % 16, ty = t / 16;
  const int64_t row0 = (blockIdx.x / tiles_n) * BM, col0 = (blockIdx.x % tiles_n) * BN;

  for (int64_t b = blockIdx.y; b < batch; b += gridDim.y) {
    const float* Ab = A + b * strideA;
    const float* Bb = B + b * strideB;
    float* Cb = C + b * strideC;
    float acc[TM][TN] = {};

    for (int64_t k0 = 0; k0 < K; k0 += BK) {
      // Consecutive threads read consecutive addresses of the stored matrix.
#pragma unroll
      for (int l = 0; l < BM * BK / kGemmThreads; ++l) {
        const int e = t + l * kGemmThreads;
        const int m = transA ? e % BM : e / BK, k = transA ? e / BM : e % BK;
        const int64_t gm = row0 + m, gk = k0 + k;
        As[k][m] = (gm < M && gk < K) ? (transA ? Ab[gk * lda + gm] : Ab[gm * lda + gk]) : 0.f;
      }
#pragma unroll
      for (int l = 0; l < BK * BN / kGemmThreads; ++l) {
        const int e = t + l * kGemmThreads;
        const int n = transB ? e / BK : e % BN, k = transB ? e % BK : e / BN;
        const int64_t gk = k0 + k, gn = col0 + n;
        Bs[k][n] = (gk < K && gn < N) ? (transB ? Bb[gn * ldb + gk] : Bb[gk * ldb + gn]) : 0.f;
      }
      __syncthreads();
#pragma unroll
      for (int k = 0; k < BK; ++k) {
        float a[TM], bv[TN];
#pragma unroll
        for (int i = 0; i < TM; ++i) a[i] = As[k][ty + 16 * i];
#pragma unroll
        for (int j = 0; j < TN; ++j) bv[j] = Bs[k][tx + 16 * j];
#pragma unroll
        for (int i = 0; i < TM; ++i)
#pragma unroll
          for (int j = 0; j < TN; ++j) acc[i][j] = fmaf(a[i], bv[j], acc[i][j]);
      }
      __syncthreads();  // the next slice overwrites As / Bs
    }

#pragma unroll
    for (int i = 0; i < TM; ++i) {
      const int64_t gm = row0 + ty + 16 * i;
      if (gm >= M) continue;
#pragma unroll
      for (int j = 0; j < TN; ++j) {
        const int64_t gn = col0 + tx + 16 * j;
        if (gn >= N) continue;
        float* c = Cb + gm * ldc + gn;
        float v = alpha * acc[i][j];
        if (beta != 0.f) v += beta * *c;
        if (bias) v += bias[gn];
        if (act == Activation::Relu) v = v < 0.f ? 0.f : v;  // NaN passes
        else if (act == Activation::Sigmoid) v = 1.f / (1.f + expf(-v));
        else if (act == Activation::Tanh) v = tanhf(v);
        *c = v;
      }
    }
  }
}

namespace {
void launch(bool transA, bool transB, int64_t batch, int64_t M, int64_t N, int64_t K, float alpha,
            const float* A, int64_t lda, int64_t strideA, const float* B, int64_t ldb,
            int64_t strideB, float beta, float* C, int64_t ldc, int64_t strideC,
            const Epilogue& ep) {
  FASTNN_CHECK(batch >= 0 && M >= 0 && N >= 0 && K >= 0, ValueError,
               "sgemm: negative size (batch, M, N, K) = (" << batch << ", " << M << ", " << N
                                                         << ", " << K << ")");
  FASTNN_CHECK(lda >= std::max<int64_t>(1, transA ? M : K) &&
                   ldb >= std::max<int64_t>(1, transB ? K : N) && ldc >= std::max<int64_t>(1, N),
               ValueError,
               "sgemm: leading dimensions too small (lda " << lda << ", ldb " << ldb << ", ldc "
                                                           << ldc << ") for M " << M << ", N "
                                                           << N << ", K " << K);
  if (batch == 0 || M == 0 || N == 0) return;
  const int64_t tiles_n = ceil_div(N, BN), tiles = ceil_div(M, BM) * tiles_n;
  FASTNN_CHECK(tiles <= INT32_MAX, ValueError,
               "sgemm: output of " << M << " x " << N << " is too large for one launch");
  dim3 grid((unsigned)tiles, (unsigned)std::min<int64_t>(batch, 65535));
  sgemm_kernel<<<grid, kGemmThreads>>>(transA, transB, batch, M, N, K, alpha, A, lda, strideA, B,
                                       ldb, strideB, beta, C, ldc, strideC, tiles_n, ep.bias,
                                       ep.act);
  FASTNN_CUDA_CHECK_LAUNCH();
}
}  // namespace

void sgemm_batched(bool transA, bool transB, int64_t batch, int64_t M, int64_t N, int64_t K,
                   float alpha, const float* A, int64_t lda, int64_t strideA, const float* B,
                   int64_t ldb, int64_t strideB, float beta, float* C, int64_t ldc,
                   int64_t strideC) {
  launch(transA, transB, batch, M, N, K, alpha, A, lda, strideA, B, ldb, strideB, beta, C, ldc,
         strideC, Epilogue{});
}

void sgemm_ex(bool transA, bool transB, int64_t M, int64_t N, int64_t K, float alpha,
              const float* A, int64_t lda, const float* B, int64_t ldb, float beta, float* C,
              int64_t ldc, const Epilogue& ep) {
  launch(transA, transB, 1, M, N, K, alpha, A, lda, 0, B, ldb, 0, beta, C, ldc, 0, ep);
}

void sgemm(bool transA, bool transB, int64_t M, int64_t N, int64_t K, float alpha, const float* A,
           int64_t lda, const float* B, int64_t ldb, float beta, float* C, int64_t ldc) {
  sgemm_batched(transA, transB, 1, M, N, K, alpha, A, lda, 0, B, ldb, 0, beta, C, ldc, 0);
}

}  // namespace fastnn::cuda
