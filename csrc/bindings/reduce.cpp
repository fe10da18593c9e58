#include "ops/reduce.h"

#include "bindings/common.h"

namespace fastnn::bind {

void bind_reduce(py::module_& m) {
  // y (O*I,) = reduce x over R, x seen as (O, R, I)
  m.def("reduce_forward", [](int op, py::handle x, int64_t O, int64_t R, int64_t I) {
    View xv = to_view(x, "x", DType::F32);
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
}

}  // namespace fastnn::bind
