// The reference GEMM: a plain triple loop with the same contract as cpu::sgemm (kernels/gemm.h).
// Kept as the oracle for the blocked kernel in tests and as a fallback; never fast.
#pragma once
#include <cstdint>

namespace fastnn::cpu {

// C (M x N) = alpha * op(A) op(B) + beta * C, row-major, op(X) = X or X^T; beta == 0 never
// reads C. Accumulates each dot product in double so it is a tighter oracle than any fp32 order.
void sgemm_ref(bool transA, bool transB, int64_t M, int64_t N, int64_t K, float alpha,
               const float* A, int64_t lda, const float* B, int64_t ldb, float beta, float* C,
               int64_t ldc);

}  // namespace fastnn::cpu
