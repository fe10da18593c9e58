// GEMM entries: sgemm on raw buffers (checked against their sizes) and matmul on 2-D / 3-D
// arrays, where a batch of 1 (or a 2-D operand) becomes a batch stride of 0.
#include "ops/gemm.h"

#include <algorithm>

#include "core/device_array.h"
#include "kernels/gemm.h"

namespace fastnn::ops {

// A rows x cols matrix with row stride ld must fit in `v`.
static void check_matrix(const char* name, const char* ldname, const View& v, int64_t rows, int64_t cols, int64_t ld) {
  FASTNN_CHECK(v.dtype == DType::F32, TypeError,
               "sgemm: " << name << " must be float32, got " << dtype_name(v.dtype));
  FASTNN_CHECK(ld >= std::max<int64_t>(cols, 1), ValueError,
               "sgemm: " << ldname << " = " << ld << " is smaller than a row of " << cols
                           << " elements");
  if (rows == 0 || cols == 0) return;
  const std::string what = std::string("sgemm: the extent of ") + name + " (rows - 1) * " + ldname + " + cols";
  const int64_t need = checked_add(checked_mul(rows - 1, ld, what.c_str()), cols, what.c_str());
  FASTNN_CHECK(need <= v.numel(), ValueError,
               "sgemm: " << name << " (" << rows << " x " << cols << ", ld " << ld << ") needs "
                         << need << " elements but its buffer of shape " << v.shape_str()
                         << " holds " << v.numel());
}

void check_sgemm(bool transA, bool transB, int64_t M, int64_t N, int64_t K, const View& A,
                 int64_t lda, const View& B, int64_t ldb, const View& C, int64_t ldc) {
  FASTNN_CHECK(M >= 0 && N >= 0 && K >= 0, ValueError,
               "sgemm: sizes must be non-negative, got M=" << M << ", N=" << N << ", K=" << K);
  FASTNN_CHECK(A.device == B.device && B.device == C.device, ValueError,
               "sgemm: A, B and C must be on the same device");
  check_matrix("A", "lda", A, transA ? K : M, transA ? M : K, lda);
  check_matrix("B", "ldb", B, transB ? N : K, transB ? K : N, ldb);
  check_matrix("C", "ldc", C, M, N, ldc);
}

void sgemm(bool transA, bool transB, int64_t M, int64_t N, int64_t K, float alpha, const View& A,
           int64_t lda, const View& B, int64_t ldb, float beta, const View& C, int64_t ldc) {
  check_sgemm(transA, transB, M, N, K, A, lda, B, ldb, C, ldc);
  if (M == 0 || N == 0) return;
  FASTNN_DISPATCH(C.device, sgemm, transA, transB, M, N, K, alpha, A.f32(), lda, B.f32(), ldb,
                  beta, C.f32(), ldc);
}

void sgemm_ex(bool transA, bool transB, int64_t M, int64_t N, int64_t K, float alpha,
              const View& A, int64_t lda, const View& B, int64_t ldb, float beta, const View& C,
              int64_t ldc, const View* bias, Activation act) {
  check_sgemm(transA, transB, M, N, K, A, lda, B, ldb, C, ldc);
  FASTNN_CHECK((int)act >= 0 && (int)act <= (int)Activation::Tanh, ValueError,
               "sgemm_ex: unknown activation code " << (int)act);
  Epilogue ep;
  ep.act = act;
  if (bias) {
    FASTNN_CHECK(bias->dtype == DType::F32, TypeError,
                 "sgemm_ex: bias must be float32, got " << dtype_name(bias->dtype));
    FASTNN_CHECK(bias->device == C.device, ValueError, "sgemm_ex: bias is on another device than C");
    FASTNN_CHECK(bias->numel() == N, ValueError,
                 "sgemm_ex: bias of shape " << bias->shape_str() << " must hold N = " << N
                                            << " values");
    ep.bias = bias->f32();
  }
  if (M == 0 || N == 0) return;
  FASTNN_DISPATCH(C.device, sgemm_ex, transA, transB, M, N, K, alpha, A.f32(), lda, B.f32(), ldb,
                  beta, C.f32(), ldc, ep);
}

void dense(const View& y, const View& x, const View& kernel, const View* bias, Activation act) {
  FASTNN_CHECK(x.ndim() == 2 && kernel.ndim() == 2 && x.dim(1) == kernel.dim(0), ValueError,
               "dense: input shape " << x.shape_str() << " does not match kernel shape "
                                     << kernel.shape_str());
  const int64_t M = x.dim(0), K = x.dim(1), N = kernel.dim(1);
  FASTNN_CHECK(y.ndim() == 2 && y.dim(0) == M && y.dim(1) == N, ValueError,
               "dense: output has shape " << y.shape_str() << ", expected " << shape_str({M, N}));
  FASTNN_CHECK(!bias || (bias->ndim() == 1 && bias->dim(0) == N), ValueError,
               "dense: bias shape " << bias->shape_str() << " does not match kernel shape "
                                    << kernel.shape_str());
  sgemm_ex(false, false, M, N, K, 1.0f, x, std::max<int64_t>(K, 1), kernel,
           std::max<int64_t>(N, 1), 0.0f, y, std::max<int64_t>(N, 1), bias, act);
}

namespace {
struct Operand {
  int64_t batch, rows, cols;  // stored shape (batch, rows, cols)
};
Operand operand(const View& v) {
  if (v.ndim() == 2) return {1, v.shape[0], v.shape[1]};
  return {v.shape[0], v.shape[1], v.shape[2]};
}
}  // namespace

Shape matmul_shape(const View& A, const View& B, bool transA, bool transB) {
  FASTNN_CHECK(A.dtype == DType::F32 && B.dtype == DType::F32, TypeError,
               "matmul: operands must be float32, got " << dtype_name(A.dtype) << " and "
                                                        << dtype_name(B.dtype));
  FASTNN_CHECK((A.ndim() == 2 || A.ndim() == 3) && (B.ndim() == 2 || B.ndim() == 3), ValueError,
               "matmul: operands must be 2-D or 3-D, got shapes " << A.shape_str() << " and "
                                                                  << B.shape_str());
  FASTNN_CHECK(A.device == B.device, ValueError, "matmul: operands are on different devices");
  Operand a = operand(A), b = operand(B);
  int64_t M = transA ? a.cols : a.rows, K = transA ? a.rows : a.cols;
  int64_t Kb = transB ? b.cols : b.rows, N = transB ? b.rows : b.cols;
  FASTNN_CHECK(K == Kb, ValueError,
               "matmul: shapes " << A.shape_str() << " and " << B.shape_str()
                                 << " do not match: inner dimensions " << K << " and " << Kb
                                 << " differ (transpose_a=" << transA << ", transpose_b=" << transB
                                 << ")");
  FASTNN_CHECK(A.ndim() == 2 || B.ndim() == 2 || a.batch == b.batch || a.batch == 1 || b.batch == 1,
               ValueError,
               "matmul: batch sizes of shapes " << A.shape_str() << " and " << B.shape_str()
                                                << " differ (" << a.batch << " and " << b.batch
                                                << ")");
  if (A.ndim() == 2 && B.ndim() == 2) return {M, N};
  int64_t batch = A.ndim() == 2 ? b.batch : B.ndim() == 2 ? a.batch : std::max(a.batch, b.batch);
  if (A.ndim() == 3 && B.ndim() == 3 && (a.batch == 0 || b.batch == 0)) batch = 0;
  return {batch, M, N};
}

void matmul(const View& C, const View& A, const View& B, bool transA, bool transB) {
  Shape cs = matmul_shape(A, B, transA, transB);
  FASTNN_CHECK(C.shape == cs && C.dtype == DType::F32 && C.device == A.device, ValueError,
               "matmul: output has shape " << C.shape_str() << ", expected " << shape_str(cs));
  Operand a = operand(A), b = operand(B);
  int64_t M = cs[cs.size() - 2], N = cs.back(), K = transA ? a.rows : a.cols;
  int64_t batch = cs.size() == 3 ? cs[0] : 1;
  if (batch == 0 || M == 0 || N == 0) return;
  int64_t sa = a.batch == 1 ? 0 : a.rows * a.cols, sb = b.batch == 1 ? 0 : b.rows * b.cols;
  FASTNN_DISPATCH(C.device, sgemm_batched, transA, transB, batch, M, N, K, 1.0f, A.f32(),
                  std::max<int64_t>(a.cols, 1), sa, B.f32(), std::max<int64_t>(b.cols, 1), sb, 0.0f, C.f32(), N, M * N);
}

}  // namespace fastnn::ops
