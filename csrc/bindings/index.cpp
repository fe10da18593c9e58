#include "ops/index.h"

#include "bindings/common.h"

#include <algorithm>

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
    View dxv = to_out_view(dx, "dx", DType::F32), gv = to_view(dout, "dout", DType::F32),
         iv = to_view(idx, "indices", DType::I64);
    check_same_device("index_select_backward", {&dxv, &gv, &iv});
    check_disjoint("index_select_backward", {{&dxv, "dx"}}, {{&gv, "dout"}, {&iv, "indices"}});
    FASTNN_CHECK(axis >= 0 && axis < dxv.ndim(), ValueError, "index_select_backward: bad axis " << axis);
    py::gil_scoped_release nogil;
    ops::index_select_backward(dxv, gv, iv, axis);
  });
  // (unique sorted indices (U,), summed rows (U,) + R) of a scattered gradient: indices of any
  // shape into num_rows rows, rows of shape indices.shape + R.
  m.def("row_coalesce", [](py::handle idx, py::handle rows, int64_t num_rows) -> py::tuple {
    View iv = to_view(idx, "indices", DType::I64), rv = to_view(rows, "rows", DType::F32);
    check_same_device("row_coalesce", {&iv, &rv});
    FASTNN_CHECK(rv.ndim() >= iv.ndim() && std::equal(iv.shape.begin(), iv.shape.end(), rv.shape.begin()), ValueError,
                 "row_coalesce: rows of shape " << rv.shape_str() << " do not start with the indices' shape "
                                                << iv.shape_str());
    const int64_t N = iv.numel();
    Shape tail(rv.shape.begin() + iv.ndim(), rv.shape.end());
    Shape cap{N};
    cap.insert(cap.end(), tail.begin(), tail.end());
    py::object oi = empty(iv.device, DType::I64, Shape{N}), ov = empty(iv.device, DType::F32, cap);
    View oiv = to_view(oi, "out_idx"), ovv = to_view(ov, "out");
    int64_t U;
    {
      py::gil_scoped_release nogil;
      U = ops::row_coalesce(oiv, ovv, iv, rv, num_rows);
    }
    if (U == N) return py::make_tuple(oi, ov);
    if (iv.device == Device::CPU) {  // a leading slice of a C-contiguous array is C-contiguous
      py::slice first(0, U, 1);
      return py::make_tuple(oi.attr("__getitem__")(first), ov.attr("__getitem__")(first));
    }
    Shape vs{U};
    vs.insert(vs.end(), tail.begin(), tail.end());
    py::object ri = empty(iv.device, DType::I64, Shape{U}), rvals = empty(iv.device, DType::F32, vs);
    View riv = to_view(ri, "out_idx"), rvv = to_view(rvals, "out");
    {
      py::gil_scoped_release nogil;
      if (U > 0) ops::strided_copy(riv, 0, Shape{1}, oiv, 0, Shape{1}, Shape{U});
      if (rvv.numel() > 0) ops::strided_copy(rvv, 0, Shape{1}, ovv, 0, Shape{1}, Shape{rvv.numel()});
    }
    return py::make_tuple(ri, rvals);
  }, py::arg("indices"), py::arg("rows"), py::arg("num_rows"));
  m.def("strided_copy",
        [](py::handle dst, int64_t dst_offset, py::handle dst_strides, py::handle src, int64_t src_offset,
           py::handle src_strides, py::handle shape) {
          View dv = to_out_view(dst, "dst"), sv = to_view(src, "src");
          Shape ds = to_ints(dst_strides, "dst_strides"), ss = to_ints(src_strides, "src_strides"),
                sh = to_shape(shape);
          // A source that overlaps the destination (x[1:] = x[:-1]) is copied first, as NumPy does,
          // so that no element is read after it was overwritten.
          py::object src_copy;
          if (overlaps(dv, sv)) {
            src_copy = py::isinstance<py::array>(src) ? py::object(py::reinterpret_borrow<py::array>(src).attr("copy")())
                                                      : py::cast(device_clone(src.cast<const DeviceArray&>()));
            sv = to_view(src_copy, "src");
          }
          py::gil_scoped_release nogil;
          ops::strided_copy(dv, dst_offset, ds, sv, src_offset, ss, sh);
        });
}

}  // namespace fastnn::bind
