// A GEMM whose right operand is packed once and reused by many products: the recurrent kernel
// of an RNN multiplies a (batch x units) state at every time step, and packing it at every step
// (the plain sgemm's KC x NC block copy, a transposed gather for the backward's Ur^T) cost as
// much as the product itself. CPU only; the result of sgemm_packed is the plain sgemm's loop
// nest on the same packed panels, so it does not depend on the thread count either.
#pragma once
#include <cstdint>

#include "core/cpu_features.h"

namespace fastnn::cpu {

// op(B) (K x N; B stored N x K when transB, row stride ldb), packed into the micro-kernel panels
// of the ISA active at construction. Owns its buffer; not copyable.
class PackedB {
 public:
  PackedB(bool transB, int64_t K, int64_t N, const float* B, int64_t ldb);
  ~PackedB();
  PackedB(const PackedB&) = delete;
  PackedB& operator=(const PackedB&) = delete;
  const float* data() const { return data_; }
  Isa isa() const { return isa_; }
  int64_t K() const { return K_; }
  int64_t N() const { return N_; }

 private:
  float* data_ = nullptr;
  Isa isa_;
  int64_t K_, N_;
};

// C (M x N) = alpha * A (M x K, row stride lda) op(B) + beta * C + bias (beta == 0: C is not
// read; bias: N values or null).
void sgemm_packed(int64_t M, const PackedB& B, float alpha, const float* A, int64_t lda, float beta, float* C,
                  int64_t ldc, const float* bias = nullptr);

}  // namespace fastnn::cpu
