#include "ops/rnn.h"

#include <memory>

#include "core/device_array.h"
#include "core/parallel.h"
#include "cpu/gemm_packed.h"
#include "kernels/gemm.h"
#include "ops/rnn_loop.h"

namespace fastnn::ops {

namespace {

// The kernels of a device (the loops of ops/rnn_loop.h call these).
struct Dev {
  Device d;
  void gemm(bool ta, bool tb, int64_t M, int64_t N, int64_t K, const float* A, int64_t lda, const float* B,
            int64_t ldb, float beta, float* C, int64_t ldc) const {
    if (M == 0 || N == 0) return;
    FASTNN_DISPATCH(d, sgemm, ta, tb, M, N, K, 1.0f, A, lda, B, ldb, beta, C, ldc);
  }
  void gemm_bias(int64_t M, int64_t N, int64_t K, const float* A, int64_t lda, const float* B, int64_t ldb,
                 float* C, int64_t ldc, const float* bias) const {
    if (M == 0 || N == 0) return;
    Epilogue ep;
    ep.bias = bias;
    FASTNN_DISPATCH(d, sgemm_ex, false, false, M, N, K, 1.0f, A, lda, B, ldb, 0.0f, C, ldc, ep);
  }
  // f(b0, b1) over disjoint row ranges covering [0, B): on the CPU one range per thread (at
  // least kRowsPerThread rows each) for the whole sequence; other devices take all rows at once.
  static constexpr int64_t kRowsPerThread = 8;
  template <class F>
  void batch_rows(int64_t B, F&& f) const {
    if (d == Device::CPU)
      parallel_for(B, kRowsPerThread, f);
    else
      f(int64_t(0), B);
  }
  // A block of the recurrent kernel, op(B) (K x N), multiplied at every step: packed once per
  // sequence on the CPU (cpu/gemm_packed.h); other devices read it in place.
  struct RecB {
    bool trans;
    int64_t K, N;
    const float* B;
    int64_t ldb;
    std::unique_ptr<cpu::PackedB> packed;
  };
  RecB pack_b(bool tb, int64_t K, int64_t N, const float* B, int64_t ldb) const {
    RecB r{tb, K, N, B, ldb, nullptr};
    if (d == Device::CPU && K > 0 && N > 0) r.packed = std::make_unique<cpu::PackedB>(tb, K, N, B, ldb);
    return r;
  }
  // C (M x N) = A op(B) + beta C (+ bias, then beta must be 0).
  void gemm_packed(const RecB& r, int64_t M, const float* A, int64_t lda, float beta, float* C, int64_t ldc,
                   const float* bias = nullptr) const {
    if (M == 0 || r.N == 0) return;
    if (r.packed) {
      cpu::sgemm_packed(M, *r.packed, 1.0f, A, lda, beta, C, ldc, bias);
    } else if (bias) {
      Epilogue ep;
      ep.bias = bias;
      FASTNN_DISPATCH(d, sgemm_ex, false, r.trans, M, r.N, r.K, 1.0f, A, lda, r.B, r.ldb, beta, C, ldc, ep);
    } else {
      gemm(false, r.trans, M, r.N, r.K, A, lda, r.B, r.ldb, beta, C, ldc);
    }
  }
#define FASTNN_RNN_FWD(name) \
  void name(const RnnStep& s) const { FASTNN_DISPATCH(d, name, s); }
#define FASTNN_RNN_BWD(name) \
  void name(const RnnStepGrad& s) const { FASTNN_DISPATCH(d, name, s); }
  FASTNN_RNN_FWD(simple_rnn_step_forward)
  FASTNN_RNN_FWD(lstm_step_forward)
  FASTNN_RNN_FWD(gru_step_forward)
  FASTNN_RNN_FWD(gru_v1_step_forward_a)
  FASTNN_RNN_FWD(gru_v1_step_forward_b)
  FASTNN_RNN_BWD(simple_rnn_step_backward)
  FASTNN_RNN_BWD(lstm_step_backward)
  FASTNN_RNN_BWD(gru_step_backward)
  FASTNN_RNN_BWD(gru_v1_step_backward_a)
  FASTNN_RNN_BWD(gru_v1_step_backward_b)
#undef FASTNN_RNN_FWD
#undef FASTNN_RNN_BWD
  void copy_rows(float* dst, int64_t ldd, const float* src, int64_t lds, int64_t rows, int64_t cols) const {
    if (rows == 0 || cols == 0) return;
    FASTNN_DISPATCH(d, rnn_copy_rows, dst, ldd, src, lds, rows, cols);
  }
  void bias_grad(float* db, const float* dg, int64_t ld, int64_t rows, int64_t cols) const {
    if (cols == 0) return;
    FASTNN_DISPATCH(d, rnn_bias_grad, db, dg, ld, rows, cols, false);
  }
};

const char* cell_name(RnnCell c) {
  switch (c) {
    case RnnCell::Simple: return "simple_rnn";
    case RnnCell::Lstm: return "lstm";
    case RnnCell::Gru: return "gru";
    case RnnCell::GruV1: return "gru(reset_after=False)";
  }
  return "rnn";
}

void check_f32(const char* op, const View& v, const char* name, Device dev) {
  FASTNN_CHECK(v.dtype == DType::F32, TypeError, op << ": " << name << " must be float32, got " << dtype_name(v.dtype));
  FASTNN_CHECK(v.device == dev, ValueError,
               op << ": " << name << " is on " << device_name(v.device) << " but the inputs are on "
                  << device_name(dev));
}

void check_shape(const char* op, const View& v, const char* name, const Shape& want, Device dev) {
  check_f32(op, v, name, dev);
  FASTNN_CHECK(v.shape == want, ValueError,
               op << ": " << name << " must have shape " << shape_str(want) << ", got " << v.shape_str());
}

struct Dims {
  int64_t B, T, I, U, k;
};

Dims check_common(const RnnOptions& o, const View& x, const View& W, const View& Ur) {
  const char* op = cell_name(o.cell);
  const Device dev = x.device;
  check_f32(op, x, "inputs", dev);
  FASTNN_CHECK(x.ndim() == 3, ValueError,
               op << ": inputs must be 3-D (batch, timesteps, features), got shape " << x.shape_str());
  check_f32(op, W, "kernel", dev);
  check_f32(op, Ur, "recurrent_kernel", dev);
  Dims d{x.dim(0), x.dim(1), x.dim(2), 0, rnn_gates(o.cell)};
  FASTNN_CHECK(Ur.ndim() == 2 && Ur.dim(1) == d.k * Ur.dim(0) && Ur.dim(0) > 0, ValueError,
               op << ": recurrent_kernel must have shape (units, " << d.k << " * units), got " << Ur.shape_str());
  d.U = Ur.dim(0);
  FASTNN_CHECK(W.ndim() == 2 && W.dim(0) == d.I && W.dim(1) == d.k * d.U, ValueError,
               op << ": kernel of shape " << W.shape_str() << " does not fit inputs of shape " << x.shape_str()
                  << " and " << d.U << " units (expected (" << d.I << ", " << d.k * d.U << "))");
  FASTNN_CHECK(d.I > 0, ValueError, op << ": inputs must have at least one feature, got shape " << x.shape_str());
  FASTNN_CHECK(d.T > 0, ValueError, op << ": inputs must have at least one time step, got shape " << x.shape_str());
  return d;
}


}  // namespace

void rnn_forward(const RnnOptions& o, const View& x, const View& W, const View& Ur, const View* bias,
                 const View* h0, const View* c0, const View* mask, const View& y, const View& hT,
                 const View* cT, const View& ws) {
  const char* op = cell_name(o.cell);
  const Dims d = check_common(o, x, W, Ur);
  const int64_t B = d.B, T = d.T, I = d.I, U = d.U, kU = d.k * d.U;
  const Device dev = x.device;
  const bool lstm = o.cell == RnnCell::Lstm;
  if (bias) {
    Shape want = o.cell == RnnCell::Gru ? Shape{2, kU} : Shape{kU};
    check_shape(op, *bias, "bias", want, dev);
  }
  if (h0) check_shape(op, *h0, "initial state h", {B, U}, dev);
  if (c0) {
    FASTNN_CHECK(lstm, ValueError, op << ": only an LSTM has a carry state c");
    check_shape(op, *c0, "initial state c", {B, U}, dev);
  }
  if (mask) check_shape(op, *mask, "mask", {B, T}, dev);
  check_shape(op, y, "output", o.return_sequences ? Shape{B, T, U} : Shape{B, U}, dev);
  check_shape(op, hT, "final state h", {B, U}, dev);
  FASTNN_CHECK(lstm == (cT != nullptr), ValueError, op << ": the final carry state is for an LSTM only");
  if (cT) check_shape(op, *cT, "final state c", {B, U}, dev);
  check_shape(op, ws, "workspace", {rnn_workspace_size(o.cell, B, T, U)}, dev);
  if (B == 0) return;

  rnn_forward_loop(Dev{dev}, o, B, T, I, U, x.f32(), W.f32(), Ur.f32(), bias ? bias->f32() : nullptr,
                   h0 ? h0->f32() : nullptr, c0 ? c0->f32() : nullptr, mask ? mask->f32() : nullptr, y.f32(),
                   hT.f32(), cT ? cT->f32() : nullptr, ws.f32());
}

void rnn_backward(const RnnOptions& o, const View& x, const View& W, const View& Ur, bool has_bias,
                  const View* mask, const View& ws, const View* dy, const View* dhT, const View* dcT,
                  const View* dx, const View& dW, const View& dU, const View* db, const View& dh0,
                  const View* dc0, const View& scratch) {
  const char* op = cell_name(o.cell);
  const Dims d = check_common(o, x, W, Ur);
  const int64_t B = d.B, T = d.T, I = d.I, U = d.U, kU = d.k * d.U;
  const Device dev = x.device;
  const bool lstm = o.cell == RnnCell::Lstm;
  if (mask) check_shape(op, *mask, "mask", {B, T}, dev);
  check_shape(op, ws, "workspace", {rnn_workspace_size(o.cell, B, T, U)}, dev);
  check_shape(op, scratch, "scratch", {rnn_scratch_size(o.cell, B, T, U)}, dev);
  if (dy) check_shape(op, *dy, "output gradient", o.return_sequences ? Shape{B, T, U} : Shape{B, U}, dev);
  if (dhT) check_shape(op, *dhT, "final state h gradient", {B, U}, dev);
  if (dcT) {
    FASTNN_CHECK(lstm, ValueError, op << ": only an LSTM has a carry state c");
    check_shape(op, *dcT, "final state c gradient", {B, U}, dev);
  }
  if (dx) check_shape(op, *dx, "input gradient", {B, T, I}, dev);
  check_shape(op, dW, "kernel gradient", W.shape, dev);
  check_shape(op, dU, "recurrent_kernel gradient", Ur.shape, dev);
  FASTNN_CHECK(has_bias == (db != nullptr), ValueError, op << ": a bias gradient is needed exactly with a bias");
  if (db) check_shape(op, *db, "bias gradient", o.cell == RnnCell::Gru ? Shape{2, kU} : Shape{kU}, dev);
  check_shape(op, dh0, "initial state h gradient", {B, U}, dev);
  FASTNN_CHECK(!dc0 || lstm, ValueError, op << ": only an LSTM has a carry state c");
  if (dc0) check_shape(op, *dc0, "initial state c gradient", {B, U}, dev);

  rnn_backward_loop(Dev{dev}, o, B, T, I, U, x.f32(), W.f32(), Ur.f32(), mask ? mask->f32() : nullptr, ws.f32(),
                    dy ? dy->f32() : nullptr, dhT ? dhT->f32() : nullptr, dcT ? dcT->f32() : nullptr,
                    dx ? dx->f32() : nullptr, dW.f32(), dU.f32(), db ? db->f32() : nullptr, dh0.f32(),
                    dc0 ? dc0->f32() : nullptr, scratch.f32());
}

}  // namespace fastnn::ops
