#include "ops/rnn.h"

#include "core/device_array.h"
#include "kernels/gemm.h"

namespace fastnn::ops {

namespace {

const char* cell_name(RnnCell c) {
  switch (c) {
    case RnnCell::Simple: return "simple_rnn";
    case RnnCell::Lstm: return "lstm";
    case RnnCell::Gru: return "gru";
    case RnnCell::GruV1: return "gru(reset_after=False)";
  }
  return "rnn";
}

// The device's kernels, picked once per call.
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

// The time index processed at step s.
int64_t time_of(const RnnOptions& o, int64_t s, int64_t T) { return o.go_backwards ? T - 1 - s : s; }

}  // namespace

int rnn_gates(RnnCell cell) {
  switch (cell) {
    case RnnCell::Simple: return 1;
    case RnnCell::Lstm: return 4;
    default: return 3;
  }
}

int64_t rnn_workspace_size(RnnCell cell, int64_t B, int64_t T, int64_t U) {
  const int64_t n = B * T * U;
  switch (cell) {
    case RnnCell::Simple: return 2 * n;            // G, Hp
    case RnnCell::Lstm: return 4 * n + 3 * n;      // G (4U), Hp, Cp, TC
    case RnnCell::Gru: return 3 * n + n + 3 * n;   // G (3U), Hp, R (3U)
    case RnnCell::GruV1: return 3 * n + n + n;     // G (3U), Hp, RH
  }
  return 0;
}

int64_t rnn_scratch_size(RnnCell cell, int64_t B, int64_t T, int64_t U) {
  const int64_t n = B * T * U;
  const int64_t carries = 3 * B * U;  // dc (when no dc0 is kept), dcarry, drh
  return rnn_gates(cell) * n + (cell == RnnCell::Gru ? 3 * n : 0) + carries;
}

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

  const Dev k{dev};
  float* G = ws.f32();
  float* Hp = G + B * T * kU;
  float* Cp = Hp + B * T * U;       // Lstm
  float* TC = Cp + B * T * U;       // Lstm
  float* R = Hp + B * T * U;        // Gru
  float* RH = Hp + B * T * U;       // GruV1
  const float* b_in = bias ? bias->f32() : nullptr;
  const float* b_rec = (bias && o.cell == RnnCell::Gru) ? bias->f32() + kU : nullptr;

  // The input projection of every time step: one GEMM over the B*T rows.
  k.gemm_bias(B * T, kU, I, x.f32(), I, W.f32(), kU, G, kU, b_in);
  const int64_t t0 = time_of(o, 0, T);
  k.copy_rows(Hp + t0 * U, T * U, h0 ? h0->f32() : nullptr, U, B, U);
  if (lstm) k.copy_rows(Cp + t0 * U, T * U, c0 ? c0->f32() : nullptr, U, B, U);

  for (int64_t s = 0; s < T; ++s) {
    const int64_t t = time_of(o, s, T);
    const bool last = s == T - 1;
    const int64_t tn = o.go_backwards ? t - 1 : t + 1;
    RnnStep st;
    st.B = B;
    st.U = U;
    st.act = o.act;
    st.ract = o.ract;
    st.g = G + t * kU;
    st.ldg = T * kU;
    st.h_prev = Hp + t * U;
    st.ldp = T * U;
    st.h_next = last ? hT.f32() : Hp + tn * U;
    st.ldn = last ? U : T * U;
    if (lstm) {
      st.c_prev = Cp + t * U;
      st.c_next = last ? cT->f32() : Cp + tn * U;
      st.tc = TC + t * U;
      st.ldt = T * U;
    }
    if (o.return_sequences) {
      st.y = y.f32() + s * U;
      st.y_prev = s > 0 ? st.y - U : nullptr;
      st.ldy = T * U;
    } else {
      st.y = y.f32();
      st.y_prev = s > 0 ? st.y : nullptr;
      st.ldy = U;
    }
    if (mask) {
      st.mask = mask->f32() + t;
      st.ldm = T;
    }
    st.zero_output = o.zero_output;
    switch (o.cell) {
      case RnnCell::Simple:
        k.gemm(false, false, B, U, U, st.h_prev, T * U, Ur.f32(), U, 1.0f, st.g, T * kU);
        k.simple_rnn_step_forward(st);
        break;
      case RnnCell::Lstm:
        k.gemm(false, false, B, kU, U, st.h_prev, T * U, Ur.f32(), kU, 1.0f, st.g, T * kU);
        k.lstm_step_forward(st);
        break;
      case RnnCell::Gru:
        st.r = R + t * kU;
        st.ldr = T * kU;
        if (b_rec)
          k.gemm_bias(B, kU, U, st.h_prev, T * U, Ur.f32(), kU, R + t * kU, T * kU, b_rec);
        else
          k.gemm(false, false, B, kU, U, st.h_prev, T * U, Ur.f32(), kU, 0.0f, R + t * kU, T * kU);
        k.gru_step_forward(st);
        break;
      case RnnCell::GruV1:
        st.tc = RH + t * U;
        st.ldt = T * U;
        k.gemm(false, false, B, 2 * U, U, st.h_prev, T * U, Ur.f32(), kU, 1.0f, st.g, T * kU);
        k.gru_v1_step_forward_a(st);
        k.gemm(false, false, B, U, U, st.tc, T * U, Ur.f32() + 2 * U, kU, 1.0f, st.g + 2 * U, T * kU);
        k.gru_v1_step_forward_b(st);
        break;
    }
  }
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

  const Dev k{dev};
  const float* G = ws.f32();
  const float* Hp = G + B * T * kU;
  const float* Cp = Hp + B * T * U;
  const float* TC = Cp + B * T * U;
  const float* R = Hp + B * T * U;
  const float* RH = Hp + B * T * U;
  float* dG = scratch.f32();
  float* dGr = dG + B * T * kU;  // Gru only
  float* rest = dG + B * T * kU + (o.cell == RnnCell::Gru ? B * T * kU : 0);
  float* dc = dc0 ? dc0->f32() : rest;  // the carries: dh and dc run in the outputs' buffers
  float* dcarry = rest + B * U;
  float* drh = rest + 2 * B * U;
  float* dh = dh0.f32();

  if (B == 0) {
    k.copy_rows(dW.f32(), 0, nullptr, 0, 1, W.numel());
    k.copy_rows(dU.f32(), 0, nullptr, 0, 1, Ur.numel());
    if (db) k.copy_rows(db->f32(), 0, nullptr, 0, 1, db->numel());
    return;
  }
  k.copy_rows(dh, U, dhT ? dhT->f32() : nullptr, U, B, U);
  if (lstm) k.copy_rows(dc, U, dcT ? dcT->f32() : nullptr, U, B, U);
  k.copy_rows(dcarry, U, nullptr, U, B, U);

  for (int64_t s = T - 1; s >= 0; --s) {
    const int64_t t = time_of(o, s, T);
    RnnStepGrad st;
    st.B = B;
    st.U = U;
    st.act = o.act;
    st.ract = o.ract;
    st.g = G + t * kU;
    st.ldg = T * kU;
    st.h_prev = Hp + t * U;
    st.ldp = T * U;
    if (dy) {
      if (o.return_sequences) {
        st.dy = dy->f32() + s * U;
        st.ldy = T * U;
      } else if (s == T - 1) {
        st.dy = dy->f32();
        st.ldy = U;
      }
    }
    st.dcarry = dcarry;
    st.dh = dh;
    st.dg = dG + t * kU;
    st.lddg = T * kU;
    if (mask) {
      st.mask = mask->f32() + t;
      st.ldm = T;
    }
    st.zero_output = o.zero_output;
    switch (o.cell) {
      case RnnCell::Simple:
        k.simple_rnn_step_backward(st);
        k.gemm(false, true, B, U, U, st.dg, T * kU, Ur.f32(), kU, 1.0f, dh, U);
        break;
      case RnnCell::Lstm:
        st.c_prev = Cp + t * U;
        st.tc = TC + t * U;
        st.ldt = T * U;
        st.dc = dc;
        k.lstm_step_backward(st);
        k.gemm(false, true, B, U, kU, st.dg, T * kU, Ur.f32(), kU, 1.0f, dh, U);
        break;
      case RnnCell::Gru:
        st.r = R + t * kU;
        st.ldr = T * kU;
        st.dgr = dGr + t * kU;
        st.lddgr = T * kU;
        k.gru_step_backward(st);
        k.gemm(false, true, B, U, kU, st.dgr, T * kU, Ur.f32(), kU, 1.0f, dh, U);
        break;
      case RnnCell::GruV1:
        k.gru_v1_step_backward_b(st);
        k.gemm(false, true, B, U, U, st.dg + 2 * U, T * kU, Ur.f32() + 2 * U, kU, 0.0f, drh, U);
        st.tc = drh;
        st.ldt = U;
        k.gru_v1_step_backward_a(st);
        k.gemm(false, true, B, U, 2 * U, st.dg, T * kU, Ur.f32(), kU, 1.0f, dh, U);
        break;
    }
  }

  // Weight gradients: one GEMM each over all B*T rows.
  const int64_t N = B * T;
  k.gemm(true, false, I, kU, N, x.f32(), I, dG, kU, 0.0f, dW.f32(), kU);
  switch (o.cell) {
    case RnnCell::Simple:
    case RnnCell::Lstm:
      k.gemm(true, false, U, kU, N, Hp, U, dG, kU, 0.0f, dU.f32(), kU);
      break;
    case RnnCell::Gru:
      k.gemm(true, false, U, kU, N, Hp, U, dGr, kU, 0.0f, dU.f32(), kU);
      break;
    case RnnCell::GruV1:
      k.gemm(true, false, U, 2 * U, N, Hp, U, dG, kU, 0.0f, dU.f32(), kU);
      k.gemm(true, false, U, U, N, RH, U, dG + 2 * U, kU, 0.0f, dU.f32() + 2 * U, kU);
      break;
  }
  if (db) {
    k.bias_grad(db->f32(), dG, kU, N, kU);
    if (o.cell == RnnCell::Gru) k.bias_grad(db->f32() + kU, dGr, kU, N, kU);
  }
  if (dx) k.gemm(false, true, N, I, kU, dG, kU, W.f32(), kU, 0.0f, dx->f32(), I);
}

}  // namespace fastnn::ops
