// Bindings of the reductions and softmax. Every function sees x as (O, R, I) (the Python layer
// computes the sizes from the axes; see _raw.ori) and returns flat results of O*I elements
// (argmax, var, mean) or arrays of x's shape (softmax, gradients):
//   reduce_forward(op, x, O, R, I) -> y            reduce_backward(op, dy, x, y, O, R, I) -> dx
//   argmax_forward(x, O, R, I, is_min) -> idx int64
//   var_forward(x, O, R, I, correction) -> (var, mean)
//   var_backward(dvar, x, mean, O, R, I, correction) -> dx
//   softmax_forward(x, O, R, I, log) -> y          softmax_backward(dy, y, O, R, I, log) -> dx
//   (log = True: log_softmax and its backward)
//   masked_softmax_forward(x, mask | None, rows, n, rep, inner, scale, zero_masked) -> y
//   masked_softmax_backward(dy, y, rows, n, scale) -> dx   (attention scores; kernels/reduce.h)
#include "ops/reduce.h"

#include "bindings/common.h"

namespace fastnn::bind {

void bind_reduce(py::module_& m) {
  // y (O*I,) = reduce x over R, x seen as (O, R, I)
  m.def("reduce_forward", [](int op, py::handle x, int64_t O, int64_t R, int64_t I) {
    View xv = to_view(x, "x", DType::F32);
    ops::check_ori("reduce", xv, O, R, I);  // before O * I sizes an allocation
    py::object y = empty(xv.device, DType::F32, {O * I});
    View yv = to_view(y, "y");
    py::gil_scoped_release nogil;
    ops::reduce_forward((ReduceOp)op, yv, xv, O, R, I);
    return y;
  });
  // dx (shape of x) from dy (O*I elements)
  m.def("reduce_backward", [](int op, py::handle dy, py::handle x, py::handle y, int64_t O, int64_t R, int64_t I) {
    View dyv = to_view(dy, "dy", DType::F32), xv = to_view(x, "x", DType::F32), yv = to_view(y, "y", DType::F32);
    check_same_device("reduce_backward", {&dyv, &xv, &yv});
    py::object dx = empty_like(xv);
    View dxv = to_view(dx, "dx");
    py::gil_scoped_release nogil;
    ops::reduce_backward((ReduceOp)op, dxv, dyv, xv, yv, O, R, I);
    return dx;
  });
  m.def("argmax_forward", [](py::handle x, int64_t O, int64_t R, int64_t I, bool is_min) {
    View xv = to_view(x, "x", DType::F32);
    ops::check_ori(is_min ? "argmin" : "argmax", xv, O, R, I);
    py::object idx = empty(xv.device, DType::I64, {O * I});
    View iv = to_view(idx, "idx");
    py::gil_scoped_release nogil;
    ops::argmax_forward(iv, xv, O, R, I, is_min);
    return idx;
  });
  m.def("var_forward", [](py::handle x, int64_t O, int64_t R, int64_t I, int64_t correction) {
    View xv = to_view(x, "x", DType::F32);
    ops::check_ori("var", xv, O, R, I);
    py::object var = empty(xv.device, DType::F32, {O * I}), mean = empty(xv.device, DType::F32, {O * I});
    View vv = to_view(var, "var"), mv = to_view(mean, "mean");
    {
      py::gil_scoped_release nogil;
      ops::var_forward(vv, mv, xv, O, R, I, correction);
    }
    return py::make_tuple(var, mean);
  });
  m.def("var_backward", [](py::handle dvar, py::handle x, py::handle mean, int64_t O, int64_t R, int64_t I,
                           int64_t correction) {
    View gv = to_view(dvar, "dvar", DType::F32), xv = to_view(x, "x", DType::F32),
         mv = to_view(mean, "mean", DType::F32);
    check_same_device("var_backward", {&gv, &xv, &mv});
    py::object dx = empty_like(xv);
    View dxv = to_view(dx, "dx");
    py::gil_scoped_release nogil;
    ops::var_backward(dxv, gv, xv, mv, O, R, I, correction);
    return dx;
  });
  m.def("softmax_forward", [](py::handle x, int64_t O, int64_t R, int64_t I, bool log) {
    View xv = to_view(x, "x", DType::F32);
    py::object y = empty_like(xv);
    View yv = to_view(y, "y");
    py::gil_scoped_release nogil;
    ops::softmax_forward(log, yv, xv, O, R, I);
    return y;
  });
  m.def("softmax_backward", [](py::handle dy, py::handle y, int64_t O, int64_t R, int64_t I, bool log) {
    View gv = to_view(dy, "dy", DType::F32), yv = to_view(y, "y", DType::F32);
    check_same_device("softmax_backward", {&gv, &yv});
    check_same_shape("softmax_backward", gv, "dy", yv, "y");
    py::object dx = empty_like(yv);
    View dxv = to_view(dx, "dx");
    py::gil_scoped_release nogil;
    ops::softmax_backward(log, dxv, gv, yv, O, R, I);
    return dx;
  });
  m.def("masked_softmax_forward", [](py::handle x, py::handle mask, int64_t rows, int64_t n, int64_t rep,
                                     int64_t inner, float scale, bool zero_masked) {
    View xv = to_view(x, "x", DType::F32);
    View mv;
    const bool has_mask = !mask.is_none();
    if (has_mask) {
      mv = to_view(mask, "mask", DType::F32);
      check_same_device("masked_softmax_forward", {&xv, &mv});
    }
    py::object y = empty_like(xv);
    View yv = to_view(y, "y");
    py::gil_scoped_release nogil;
    ops::masked_softmax_forward(yv, xv, has_mask ? &mv : nullptr, rows, n, rep, inner, scale, zero_masked);
    return y;
  });
  m.def("masked_softmax_backward", [](py::handle dy, py::handle y, int64_t rows, int64_t n, float scale) {
    View gv = to_view(dy, "dy", DType::F32), yv = to_view(y, "y", DType::F32);
    check_same_device("masked_softmax_backward", {&gv, &yv});
    check_same_shape("masked_softmax_backward", gv, "dy", yv, "y");
    py::object dx = empty_like(yv);
    View dxv = to_view(dx, "dx");
    py::gil_scoped_release nogil;
    ops::masked_softmax_backward(dxv, gv, yv, rows, n, scale);
    return dx;
  });
}

}  // namespace fastnn::bind
