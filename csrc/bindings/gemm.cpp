// GEMM bindings: the BLAS-style in-place _C.sgemm on flat buffers and _C.matmul on 2-D / 3-D
// arrays (a batch of 1 or a 2-D operand is shared by every batch entry).
#include "ops/gemm.h"

#include "bindings/common.h"
#include "cpu/gemm_ref.h"

namespace fastnn::bind {

void bind_gemm(py::module_& m) {
  m.def(
      "sgemm",
      [](bool transA, bool transB, int64_t M, int64_t N, int64_t K, float alpha, py::handle A,
         int64_t lda, py::handle B, int64_t ldb, float beta, py::handle C, int64_t ldc) {
        View av = to_view(A, "A", DType::F32), bv = to_view(B, "B", DType::F32),
             cv = to_out_view(C, "C", DType::F32);
        check_same_device("sgemm", {&av, &bv, &cv});
        check_disjoint("sgemm", {{&cv, "C"}}, {{&av, "A"}, {&bv, "B"}});
        py::gil_scoped_release nogil;
        ops::sgemm(transA, transB, M, N, K, alpha, av, lda, bv, ldb, beta, cv, ldc);
      },
      py::arg("transA"), py::arg("transB"), py::arg("M"), py::arg("N"), py::arg("K"),
      py::arg("alpha"), py::arg("A"), py::arg("lda"), py::arg("B"), py::arg("ldb"),
      py::arg("beta"), py::arg("C"), py::arg("ldc"),
      "In place: C = alpha * op(A) op(B) + beta * C, row-major with leading dimensions "
      "(beta == 0 never reads C).");
  m.def(
      "sgemm_ex",
      [](bool transA, bool transB, int64_t M, int64_t N, int64_t K, float alpha, py::handle A,
         int64_t lda, py::handle B, int64_t ldb, float beta, py::handle C, int64_t ldc,
         py::handle bias, int act) {
        View av = to_view(A, "A", DType::F32), bv = to_view(B, "B", DType::F32),
             cv = to_out_view(C, "C", DType::F32), biasv;
        bool has_bias = !bias.is_none();
        if (has_bias) biasv = to_view(bias, "bias", DType::F32);
        check_same_device("sgemm_ex", {&av, &bv, &cv});
        check_disjoint("sgemm_ex", {{&cv, "C"}}, {{&av, "A"}, {&bv, "B"}, {has_bias ? &biasv : nullptr, "bias"}});
        py::gil_scoped_release nogil;
        ops::sgemm_ex(transA, transB, M, N, K, alpha, av, lda, bv, ldb, beta, cv, ldc,
                      has_bias ? &biasv : nullptr, (Activation)act);
      },
      py::arg("transA"), py::arg("transB"), py::arg("M"), py::arg("N"), py::arg("K"),
      py::arg("alpha"), py::arg("A"), py::arg("lda"), py::arg("B"), py::arg("ldb"),
      py::arg("beta"), py::arg("C"), py::arg("ldc"), py::arg("bias") = py::none(),
      py::arg("act") = 0,
      "In place: C = act(alpha * op(A) op(B) + beta * C + bias), bias (N,) or None, act 0 none, "
      "1 relu, 2 sigmoid, 3 tanh; the epilogue runs on each tile of C right after its product.");
  m.def(
      "dense",
      [](py::handle x, py::handle kernel, py::handle bias, int act) {
        View xv = to_view(x, "x", DType::F32), kv = to_view(kernel, "kernel", DType::F32), bv;
        bool has_bias = !bias.is_none();
        if (has_bias) bv = to_view(bias, "bias", DType::F32);
        check_same_device("dense", {&xv, &kv});
        if (has_bias) check_same_device("dense", {&xv, &bv});
        FASTNN_CHECK(xv.ndim() == 2 && kv.ndim() == 2 && xv.dim(1) == kv.dim(0), ValueError,
                     "dense: input shape " << xv.shape_str() << " does not match kernel shape "
                                           << kv.shape_str());
        py::object y = empty(xv.device, DType::F32, {xv.dim(0), kv.dim(1)});
        View yv = to_view(y, "y");
        py::gil_scoped_release nogil;
        ops::dense(yv, xv, kv, has_bias ? &bv : nullptr, (Activation)act);
        return y;
      },
      py::arg("x"), py::arg("kernel"), py::arg("bias") = py::none(), py::arg("act") = 0,
      "act(x @ kernel + bias) for x (M, K), kernel (K, N), bias (N,) or None: one sgemm_ex.");
  m.def(
      "matmul",
      [](py::handle a, py::handle b, bool transpose_a, bool transpose_b) {
        View av = to_view(a, "a", DType::F32), bv = to_view(b, "b", DType::F32);
        check_same_device("matmul", {&av, &bv});
        Shape cs = ops::matmul_shape(av, bv, transpose_a, transpose_b);
        py::object c = empty(av.device, DType::F32, cs);
        View cv = to_view(c, "c");
        py::gil_scoped_release nogil;
        ops::matmul(cv, av, bv, transpose_a, transpose_b);
        return c;
      },
      py::arg("a"), py::arg("b"), py::arg("transpose_a") = false, py::arg("transpose_b") = false,
      "op(a) op(b) for 2-D or 3-D float32 arrays (batch sizes equal, or 1 for a shared operand).");
  // The reference triple loop (tests only): same arguments and checks as sgemm, CPU arrays.
  m.def("sgemm_ref", [](bool transA, bool transB, int64_t M, int64_t N, int64_t K, float alpha,
                        py::handle A, int64_t lda, py::handle B, int64_t ldb, float beta,
                        py::handle C, int64_t ldc) {
    View av = to_view(A, "A", DType::F32), bv = to_view(B, "B", DType::F32),
         cv = to_out_view(C, "C", DType::F32);
    check_disjoint("sgemm_ref", {{&cv, "C"}}, {{&av, "A"}, {&bv, "B"}});
    FASTNN_CHECK(av.device == Device::CPU && bv.device == Device::CPU && cv.device == Device::CPU,
                 ValueError, "sgemm_ref: CPU arrays only");
    ops::check_sgemm(transA, transB, M, N, K, av, lda, bv, ldb, cv, ldc);
    py::gil_scoped_release nogil;
    cpu::sgemm_ref(transA, transB, M, N, K, alpha, av.f32(), lda, bv.f32(), ldb, beta, cv.f32(), ldc);
  });
}

}  // namespace fastnn::bind
