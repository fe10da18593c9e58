// Bindings of the elementwise kernels: unary ops (math, activations), broadcasting binary ops,
// where. Op codes are the enum values of kernels/elementwise.h (python/fastnn/_raw.py UNARY and
// BINARY). Outputs are allocated here on the inputs' device; the GIL is released around kernels.
#include "ops/elementwise.h"

#include "bindings/common.h"
#include "cpu/vec_math.h"

namespace fastnn::bind {

static UnaryOp unary_op(int op) {
  FASTNN_CHECK(op >= 0 && op <= (int)UnaryOp::Clip, ValueError, "unknown unary op code " << op);
  return (UnaryOp)op;
}

static BinaryOp binary_op(int op) {
  FASTNN_CHECK(op >= 0 && op <= (int)BinaryOp::Minimum, ValueError, "unknown binary op code " << op);
  return (BinaryOp)op;
}

void bind_elementwise(py::module_& m) {
  m.def("unary_forward", [](int op, py::handle x, float alpha, float beta) {
    UnaryOp u = unary_op(op);
    View xv = to_view(x, "x");
    FASTNN_CHECK(xv.dtype == DType::F32, TypeError,
                 ops::unary_name(u) << ": expected a float32 tensor, got " << dtype_name(xv.dtype));
    py::object y = empty_like(xv);
    View yv = to_view(y, "y");
    py::gil_scoped_release nogil;
    ops::unary_forward(u, yv, xv, alpha, beta);
    return y;
  }, py::arg("op"), py::arg("x"), py::arg("alpha") = 0.0f, py::arg("beta") = 0.0f);

  // dx = dy * op'(.); x / y (forward input / output) may be None where the op does not read them
  // (see unary_backward_reads).
  m.def("unary_backward", [](int op, py::handle dy, py::handle x, py::handle y, float alpha, float beta) {
    UnaryOp u = unary_op(op);
    View gv = to_view(dy, "dy", DType::F32), xv, yv;
    bool has_x = !x.is_none(), has_y = !y.is_none();
    if (has_x) xv = to_view(x, "x", DType::F32);
    if (has_y) yv = to_view(y, "y", DType::F32);
    py::object dx = empty_like(gv);
    View dxv = to_view(dx, "dx");
    py::gil_scoped_release nogil;
    ops::unary_backward(u, dxv, gv, has_x ? &xv : nullptr, has_y ? &yv : nullptr, alpha, beta);
    return dx;
  }, py::arg("op"), py::arg("dy"), py::arg("x"), py::arg("y"), py::arg("alpha") = 0.0f, py::arg("beta") = 0.0f);

  // (reads_x, reads_y): which forward arrays unary_backward needs, so Python saves only those.
  m.def("unary_backward_reads", [](int op) {
    UnaryOp u = unary_op(op);
    return py::make_tuple(ops::unary_backward_reads_x(u), ops::unary_backward_reads_y(u));
  });
  m.def("binary_backward_reads_out", [](int op) { return ops::binary_backward_reads_out(binary_op(op)); });

  m.def("broadcast_shape", [](py::handle a, py::handle b) {
    Shape s = ops::broadcast_shape("broadcast", to_shape(a), to_shape(b));
    return py::tuple(py::cast(s));
  });

  m.def("binary_forward", [](int op, py::handle a, py::handle b) {
    BinaryOp bo = binary_op(op);
    const char* name = ops::binary_name(bo);
    View av = to_view(a, "a"), bv = to_view(b, "b");
    FASTNN_CHECK(av.dtype == DType::F32 && bv.dtype == DType::F32, TypeError,
                 name << ": expected float32 tensors, got " << dtype_name(av.dtype) << " and "
                      << dtype_name(bv.dtype));
    check_same_device(name, {&av, &bv});
    Shape os = ops::broadcast_shape(name, av.shape, bv.shape);
    py::object out = empty(av.device, DType::F32, os);
    View ov = to_view(out, "out");
    py::gil_scoped_release nogil;
    ops::binary_forward(bo, ov, av, bv);
    return out;
  });

  // (da or None, db or None) at the broadcast shape (the caller reduces them with sum_to).
  m.def("binary_backward", [](int op, py::handle dout, py::handle a, py::handle b, py::handle out,
                              bool need_a, bool need_b) {
    BinaryOp bo = binary_op(op);
    View gv = to_view(dout, "dout", DType::F32), av = to_view(a, "a", DType::F32),
         bv = to_view(b, "b", DType::F32), ov;
    check_same_device(ops::binary_name(bo), {&gv, &av, &bv});
    bool has_out = !out.is_none();
    if (has_out) ov = to_view(out, "out", DType::F32);
    py::object da = py::none(), db = py::none();
    View dav, dbv;
    if (need_a) {
      da = empty_like(gv);
      dav = to_view(da, "da");
    }
    if (need_b) {
      db = empty_like(gv);
      dbv = to_view(db, "db");
    }
    {
      py::gil_scoped_release nogil;
      ops::binary_backward(bo, need_a ? &dav : nullptr, need_b ? &dbv : nullptr, gv, av, bv,
                           has_out ? &ov : nullptr);
    }
    return py::make_tuple(da, db);
  });

  m.def("where_forward", [](py::handle cond, py::handle a, py::handle b) {
    View cv = to_view(cond, "condition", DType::F32), av = to_view(a, "x", DType::F32),
         bv = to_view(b, "y", DType::F32);
    check_same_device("where", {&cv, &av, &bv});
    py::object out = empty_like(av);
    View ov = to_view(out, "out");
    py::gil_scoped_release nogil;
    ops::where_forward(ov, cv, av, bv);
    return out;
  });

  m.def("where_backward", [](py::handle dout, py::handle cond, bool need_a, bool need_b) {
    View gv = to_view(dout, "dout", DType::F32), cv = to_view(cond, "condition", DType::F32);
    check_same_device("where", {&gv, &cv});
    py::object da = py::none(), db = py::none();
    View dav, dbv;
    if (need_a) {
      da = empty_like(gv);
      dav = to_view(da, "da");
    }
    if (need_b) {
      db = empty_like(gv);
      dbv = to_view(db, "db");
    }
    {
      py::gil_scoped_release nogil;
      ops::where_backward(need_a ? &dav : nullptr, need_b ? &dbv : nullptr, gv, cv);
    }
    return py::make_tuple(da, db);
  });

  // Test hook for csrc/cpu/vec_math.h: name in exp, expm1, log, log1p, tanh, sigmoid, erf.
  m.def("_vec_math", [](const std::string& name, py::handle x) {
    static const char* names[] = {"exp", "expm1", "log", "log1p", "tanh", "sigmoid", "erf"};
    int fn = -1;
    for (int i = 0; i < 7; ++i)
      if (name == names[i]) fn = i;
    FASTNN_CHECK(fn >= 0, ValueError, "_vec_math: unknown function '" << name << "'");
    View xv = to_view(x, "x", DType::F32);
    FASTNN_CHECK(xv.device == Device::CPU, ValueError, "_vec_math: CPU arrays only");
    py::object y = empty_like(xv);
    View yv = to_view(y, "y");
    py::gil_scoped_release nogil;
    cpu::vec_math_eval(fn, yv.f32(), xv.f32(), xv.numel());
    return y;
  });
}

}  // namespace fastnn::bind
