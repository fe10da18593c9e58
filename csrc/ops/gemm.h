// Device-neutral GEMM entries (see kernels/gemm.h): bounds and shape checks, then dispatch.
#pragma once
#include "core/common.h"
#include "kernels/gemm.h"

namespace fastnn::ops {

// In place: C = alpha * op(A) op(B) + beta * C on flat buffers with leading dimensions.
// ValueError when a leading dimension is smaller than a row or a row would fall outside its
// buffer.
void check_sgemm(bool transA, bool transB, int64_t M, int64_t N, int64_t K, const View& A,
                 int64_t lda, const View& B, int64_t ldb, const View& C, int64_t ldc);
void sgemm(bool transA, bool transB, int64_t M, int64_t N, int64_t K, float alpha, const View& A,
           int64_t lda, const View& B, int64_t ldb, float beta, const View& C, int64_t ldc);
// The same with the fused epilogue: C = act(alpha * op(A) op(B) + beta * C + bias); bias (if not
// null) is a float32 view of N values on C's device.
void sgemm_ex(bool transA, bool transB, int64_t M, int64_t N, int64_t K, float alpha,
              const View& A, int64_t lda, const View& B, int64_t ldb, float beta, const View& C,
              int64_t ldc, const View* bias, Activation act);
// y (M, N) = act(x (M, K) @ kernel (K, N) + bias (N,)): the Dense forward, one sgemm_ex.
// ValueError naming the shapes when they do not fit together.
void dense(const View& y, const View& x, const View& kernel, const View* bias, Activation act);

// The shape of op(A) op(B) for 2-D or 3-D operands; a 3-D operand has a batch (1 is shared by
// every entry of the other), a 2-D one is shared. ValueError naming both shapes otherwise.
Shape matmul_shape(const View& A, const View& B, bool transA, bool transB);
// C = op(A) op(B), C already of matmul_shape(A, B, ...).
void matmul(const View& C, const View& A, const View& B, bool transA, bool transB);

}  // namespace fastnn::ops
