// Single-precision matrix multiplication, BLAS conventions on row-major storage:
// C (M x N) = alpha * op(A) op(B) + beta * C, op(A) is M x K (A stored K x M when transA),
// op(B) is K x N (B stored N x K when transB); lda/ldb/ldc are row strides in elements.
// beta == 0 means C is overwritten and never read (it may hold NaN).
#pragma once
#include <cstdint>

#include "core/common.h"

namespace fastnn {

#define FASTNN_DECLARE_GEMM_KERNELS                                                                \
  void sgemm(bool transA, bool transB, int64_t M, int64_t N, int64_t K, float alpha,              \
             const float* A, int64_t lda, const float* B, int64_t ldb, float beta, float* C,      \
             int64_t ldc);                                                                        \
  /* batch independent products; matrix b starts at A + b*strideA (and so on); a stride of 0 */    \
  /* reuses one operand for every batch entry */                                                   \
  void sgemm_batched(bool transA, bool transB, int64_t batch, int64_t M, int64_t N, int64_t K,     \
                     float alpha, const float* A, int64_t lda, int64_t strideA, const float* B,    \
                     int64_t ldb, int64_t strideB, float beta, float* C, int64_t ldc,              \
                     int64_t strideC);

namespace cpu { FASTNN_DECLARE_GEMM_KERNELS }
namespace cuda { FASTNN_DECLARE_GEMM_KERNELS }

}  // namespace fastnn
