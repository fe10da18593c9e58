#include "ops/index.h"

#include "bindings/common.h"

namespace fastnn::bind {

void bind_index(py::module_& m) {
  m.def("index_select_forward", [](py::handle x, py::handle idx, int axis) {
    View xv = to_view(x, "x", DType::F32), iv = to_view(idx, "indices", DType::I64);
    check_same_device("index_select", {&xv, &iv});
    FASTNN_CHECK(axis >= 0 && axis < xv.ndim(), ValueError,
                 "index_select: axis " << axis << " out of range for shape " << xv.shape_str());
    Shape os(xv.shape.begin(), xv.shape.begin() + axis);
    os.insert(os.end(), iv.shape.begin(), iv.shape.end());
    os.insert(os.end(), xv.shape.begin() + axis + 1, xv.shape.end());
    py::object out = empty(xv.device, DType::F32, os);
    View ov = to_view(out, "out");
    py::gil_scoped_release nogil;
    ops::index_select_forward(ov, xv, iv, axis);
    return out;
  });
  m.def("index_select_backward", [](py::handle dx, py::handle dout, py::handle idx, int axis) {
    View dxv = to_view(dx, "dx", DType::F32), gv = to_view(dout, "dout", DType::F32),
         iv = to_view(idx, "indices", DType::I64);
    check_same_device("index_select_backward", {&dxv, &gv, &iv});
    FASTNN_CHECK(axis >= 0 && axis < dxv.ndim(), ValueError, "index_select_backward: bad axis " << axis);
    py::gil_scoped_release nogil;
    ops::index_select_backward(dxv, gv, iv, axis);
  });
  m.def("strided_copy",
        [](py::handle dst, int64_t dst_offset, py::handle dst_strides, py::handle src, int64_t src_offset,
           py::handle src_strides, py::handle shape) {
          View dv = to_view(dst, "dst"), sv = to_view(src, "src");
          Shape ds = to_shape(dst_strides), ss = to_shape(src_strides), sh = to_shape(shape);
          py::gil_scoped_release nogil;
          ops::strided_copy(dv, dst_offset, ds, sv, src_offset, ss, sh);
        });
}

}  // namespace fastnn::bind
