// Reference single-precision GEMM (see gemm_ref.h): i, j, k loops, element (i, k) of op(A) is
// A[i*lda + k] (or A[k*lda + i] when transA), element (k, j) of op(B) is B[k*ldb + j] (or
// B[j*ldb + k] when transB).
#include "cpu/gemm_ref.h"

namespace fastnn::cpu {

void sgemm_ref(bool transA, bool transB, int64_t M, int64_t N, int64_t K, float alpha,
               const float* A, int64_t lda, const float* B, int64_t ldb, float beta, float* C,
               int64_t ldc) {
  for (int64_t i = 0; i < M; ++i)
    for (int64_t j = 0; j < N; ++j) {
      double acc = 0.0;
      for (int64_t k = 0; k < K; ++k) {
        float a = transA ? A[k * lda + i] : A[i * lda + k];
        float b = transB ? B[j * ldb + k] : B[k * ldb + j];
        acc += (double)a * (double)b;
      }
      float& c = C[i * ldc + j];
      float r = alpha * (float)acc;
      c = beta == 0.0f ? r : r + beta * c;
    }
}

}  // namespace fastnn::cpu
