// Bindings of the recurrent layers (ops/rnn.h): one call runs a layer's whole sequence forward,
// one call its whole backpropagation through time. Integer codes: cell 0 SimpleRNN, 1 LSTM,
// 2 GRU (reset_after=True), 3 GRU (reset_after=False); activations 0 linear, 1 tanh, 2 sigmoid,
// 3 relu, 4 hard_sigmoid. The workspace returned by rnn_forward is what rnn_backward reads.
#include "ops/rnn.h"

#include "bindings/common.h"

namespace fastnn::bind {

namespace {

struct Opt {  // a View that may be absent (None)
  View v;
  bool has = false;
  const View* get() const { return has ? &v : nullptr; }
};

Opt optional_f32_view(py::handle obj, const char* arg) {
  Opt o;
  if (!obj.is_none()) {
    o.v = to_view(obj, arg, DType::F32);
    o.has = true;
  }
  return o;
}

ops::RnnOptions make_options(int cell, int act, int ract, bool go_backwards, bool zero_output,
                             bool return_sequences) {
  FASTNN_CHECK(cell >= 0 && cell <= 3, ValueError, "rnn: unknown cell code " << cell);
  FASTNN_CHECK(act >= 0 && act <= 4, ValueError, "rnn: unknown activation code " << act);
  FASTNN_CHECK(ract >= 0 && ract <= 4, ValueError, "rnn: unknown recurrent activation code " << ract);
  ops::RnnOptions o;
  o.cell = (ops::RnnCell)cell;
  o.act = (RnnAct)act;
  o.ract = (RnnAct)ract;
  o.go_backwards = go_backwards;
  o.zero_output = zero_output;
  o.return_sequences = return_sequences;
  return o;
}

// The (B, T, U) of a layer call, from the inputs and the recurrent kernel (checked again in ops).
void dims(const View& x, const View& Ur, const char* op, int64_t& B, int64_t& T, int64_t& U) {
  FASTNN_CHECK(x.ndim() == 3, ValueError,
               op << ": inputs must be 3-D (batch, timesteps, features), got shape " << x.shape_str());
  FASTNN_CHECK(Ur.ndim() == 2, ValueError, op << ": recurrent_kernel must be 2-D, got shape " << Ur.shape_str());
  B = x.dim(0);
  T = x.dim(1);
  U = Ur.dim(0);
}

}  // namespace

void bind_rnn(py::module_& m) {
  m.def(
      "rnn_forward",
      [](int cell, int act, int ract, bool go_backwards, bool zero_output, bool return_sequences, py::handle x,
         py::handle W, py::handle Ur, py::handle bias, py::handle h0, py::handle c0, py::handle mask) {
        ops::RnnOptions o = make_options(cell, act, ract, go_backwards, zero_output, return_sequences);
        View xv = to_view(x, "inputs", DType::F32), wv = to_view(W, "kernel", DType::F32),
             uv = to_view(Ur, "recurrent_kernel", DType::F32);
        Opt bv = optional_f32_view(bias, "bias"), hv = optional_f32_view(h0, "initial state h"), cv = optional_f32_view(c0, "initial state c"),
            mv = optional_f32_view(mask, "mask");
        int64_t B, T, U;
        dims(xv, uv, "rnn_forward", B, T, U);
        const bool lstm = o.cell == ops::RnnCell::Lstm;
        py::object y = empty(xv.device, DType::F32, o.return_sequences ? Shape{B, T, U} : Shape{B, U});
        py::object hT = empty(xv.device, DType::F32, {B, U});
        py::object cT = lstm ? empty(xv.device, DType::F32, {B, U}) : py::none();
        py::object ws = empty(xv.device, DType::F32, {ops::rnn_workspace_size(o.cell, B, T, U)});
        View yv = to_view(y, "y"), hTv = to_view(hT, "hT"), wsv = to_view(ws, "ws"), cTv;
        if (lstm) cTv = to_view(cT, "cT");
        {
          py::gil_scoped_release nogil;
          ops::rnn_forward(o, xv, wv, uv, bv.get(), hv.get(), cv.get(), mv.get(), yv, hTv, lstm ? &cTv : nullptr,
                           wsv);
        }
        return py::make_tuple(y, hT, cT, ws);
      },
      py::arg("cell"), py::arg("act"), py::arg("ract"), py::arg("go_backwards"), py::arg("zero_output"),
      py::arg("return_sequences"), py::arg("x"), py::arg("kernel"), py::arg("recurrent_kernel"), py::arg("bias"),
      py::arg("h0"), py::arg("c0"), py::arg("mask"),
      "One recurrent layer over a whole sequence: returns (y, h_T, c_T or None, workspace).");

  m.def(
      "rnn_backward",
      [](int cell, int act, int ract, bool go_backwards, bool zero_output, bool return_sequences, py::handle x,
         py::handle W, py::handle Ur, bool has_bias, py::handle mask, py::handle ws, py::handle dy, py::handle dhT,
         py::handle dcT, bool need_dx) {
        ops::RnnOptions o = make_options(cell, act, ract, go_backwards, zero_output, return_sequences);
        View xv = to_view(x, "inputs", DType::F32), wv = to_view(W, "kernel", DType::F32),
             uv = to_view(Ur, "recurrent_kernel", DType::F32), wsv = to_view(ws, "workspace", DType::F32);
        Opt mv = optional_f32_view(mask, "mask"), dyv = optional_f32_view(dy, "output gradient"),
            dhv = optional_f32_view(dhT, "final state h gradient"), dcv = optional_f32_view(dcT, "final state c gradient");
        int64_t B, T, U;
        dims(xv, uv, "rnn_backward", B, T, U);
        const bool lstm = o.cell == ops::RnnCell::Lstm;
        const Device dev = xv.device;
        py::object dx = need_dx ? empty_like(xv) : py::none();
        py::object dW = empty_like(wv), dU = empty_like(uv);
        py::object db = has_bias ? empty(dev, DType::F32,
                                         o.cell == ops::RnnCell::Gru ? Shape{2, uv.dim(1)} : Shape{uv.dim(1)})
                                 : py::none();
        py::object dh0 = empty(dev, DType::F32, {B, U});
        py::object dc0 = lstm ? empty(dev, DType::F32, {B, U}) : py::none();
        py::object scratch = empty(dev, DType::F32, {ops::rnn_scratch_size(o.cell, B, T, U)});
        View dWv = to_view(dW, "dW"), dUv = to_view(dU, "dU"), dh0v = to_view(dh0, "dh0"),
             sv = to_view(scratch, "scratch"), dxv, dbv, dc0v;
        if (need_dx) dxv = to_view(dx, "dx");
        if (has_bias) dbv = to_view(db, "db");
        if (lstm) dc0v = to_view(dc0, "dc0");
        {
          py::gil_scoped_release nogil;
          ops::rnn_backward(o, xv, wv, uv, has_bias, mv.get(), wsv, dyv.get(), dhv.get(), dcv.get(),
                            need_dx ? &dxv : nullptr, dWv, dUv, has_bias ? &dbv : nullptr, dh0v,
                            lstm ? &dc0v : nullptr, sv);
        }
        return py::make_tuple(dx, dW, dU, db, dh0, dc0);
      },
      py::arg("cell"), py::arg("act"), py::arg("ract"), py::arg("go_backwards"), py::arg("zero_output"),
      py::arg("return_sequences"), py::arg("x"), py::arg("kernel"), py::arg("recurrent_kernel"),
      py::arg("has_bias"), py::arg("mask"), py::arg("workspace"), py::arg("dy"), py::arg("dhT"), py::arg("dcT"),
      py::arg("need_dx"),
      "Backpropagation through time of one rnn_forward call: (dx or None, dW, dU, db or None, dh0, dc0 or None).");
}

}  // namespace fastnn::bind
