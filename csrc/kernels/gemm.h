// Single-precision matrix multiplication, BLAS conventions on row-major storage:
// C (M x N) = alpha * op(A) op(B) + beta * C, op(A) is M x K (A stored K x M when transA),
// op(B) is K x N (B stored N x K when transB); lda/ldb/ldc are row strides in elements.
// beta == 0 means C is overwritten and never read (it may hold NaN).
#pragma once
#include <cstdint>

#include "core/common.h"

namespace fastnn {

// The fused epilogue of sgemm_ex: C = act(alpha * op(A) op(B) + beta * C + bias), applied while
// each tile of C is still in registers (or in L1, for sigmoid/tanh) after its last K block.
enum class Activation : int { None = 0, Relu = 1, Sigmoid = 2, Tanh = 3 };
// Keras names of the codes, in enum order (_C.EPILOGUE_ACTIVATIONS; also conv2d_forward's act).
inline constexpr const char* kActivationNames[] = {"linear", "relu", "sigmoid", "tanh"};
static_assert(sizeof(kActivationNames) / sizeof(kActivationNames[0]) == (int)Activation::Tanh + 1);
struct Epilogue {
  const float* bias = nullptr;  // N values, one per output column; null: no bias
  Activation act = Activation::None;
};

#define FASTNN_DECLARE_GEMM_KERNELS                                                                \
  void sgemm(bool transA, bool transB, int64_t M, int64_t N, int64_t K, float alpha,              \
             const float* A, int64_t lda, const float* B, int64_t ldb, float beta, float* C,      \
             int64_t ldc);                                                                        \
  void sgemm_ex(bool transA, bool transB, int64_t M, int64_t N, int64_t K, float alpha,           \
                const float* A, int64_t lda, const float* B, int64_t ldb, float beta, float* C,   \
                int64_t ldc, const Epilogue& ep);                                                 \
  /* batch independent products; matrix b starts at A + b*strideA (and so on); a stride of 0 */    \
  /* reuses one operand for every batch entry */                                                   \
  void sgemm_batched(bool transA, bool transB, int64_t batch, int64_t M, int64_t N, int64_t K,     \
                     float alpha, const float* A, int64_t lda, int64_t strideA, const float* B,    \
                     int64_t ldb, int64_t strideB, float beta, float* C, int64_t ldc,              \
                     int64_t strideC);

namespace cpu { FASTNN_DECLARE_GEMM_KERNELS }
namespace cuda { FASTNN_DECLARE_GEMM_KERNELS }

}  // namespace fastnn
