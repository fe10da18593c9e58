// Pooling and resizing bindings (arrays 4-D, (N, H, W, C) when channels_last else (N, C, H, W)):
//   max_pool2d_forward(x, kh, kw, sh, sw, padding, channels_last) -> (y, argmax int64)
//   max_pool2d_backward(dy, argmax, x_shape, kh, kw, sh, sw, padding, channels_last) -> dx
//   avg_pool2d_forward(x, kh, kw, sh, sw, padding, channels_last) -> y
//   avg_pool2d_backward(dy, x_shape, kh, kw, sh, sw, padding, channels_last) -> dx
//   pool_output_shape(x_shape, kh, kw, sh, sw, padding, channels_last) -> tuple
//   resize_bilinear_forward(x, out_h, out_w, channels_last) -> y
//   resize_bilinear_backward(dy, x_shape, channels_last) -> dx
// padding is 'valid' or 'same' (TensorFlow's convention, see ops/pool.h).
#include "ops/pool.h"

#include "bindings/common.h"

namespace fastnn::bind {

static py::tuple as_tuple(const Shape& s) {
  py::tuple t(s.size());
  for (size_t i = 0; i < s.size(); ++i) t[i] = s[i];
  return t;
}

void bind_pool(py::module_& m) {
  m.def(
      "max_pool2d_forward",
      [](py::handle x, int64_t kh, int64_t kw, int64_t sh, int64_t sw, const std::string& padding, bool cl) {
        View xv = to_view(x, "x", DType::F32);
        PoolGeom g = ops::pool_geometry("max_pool2d", xv.shape, kh, kw, sh, sw, padding, cl);
        Shape os = ops::pool_output_shape(g);
        py::object y = empty(xv.device, DType::F32, os), am = empty(xv.device, DType::I64, os);
        View yv = to_view(y, "y"), av = to_view(am, "argmax");
        {
          py::gil_scoped_release nogil;
          ops::max_pool2d_forward(yv, av, xv, g);
        }
        return py::make_tuple(y, am);
      },
      py::arg("x"), py::arg("kh"), py::arg("kw"), py::arg("sh"), py::arg("sw"), py::arg("padding"),
      py::arg("channels_last"));
  m.def(
      "max_pool2d_backward",
      [](py::handle dy, py::handle argmax, py::handle x_shape, int64_t kh, int64_t kw, int64_t sh, int64_t sw,
         const std::string& padding, bool cl) {
        View gv = to_view(dy, "dy", DType::F32), av = to_view(argmax, "argmax", DType::I64);
        check_same_device("max_pool2d_backward", {&gv, &av});
        PoolGeom g = ops::pool_geometry("max_pool2d_backward", to_shape(x_shape), kh, kw, sh, sw, padding, cl);
        py::object dx = empty(gv.device, DType::F32, to_shape(x_shape));
        View dxv = to_view(dx, "dx");
        py::gil_scoped_release nogil;
        ops::max_pool2d_backward(dxv, gv, av, g);
        return dx;
      },
      py::arg("dy"), py::arg("argmax"), py::arg("x_shape"), py::arg("kh"), py::arg("kw"), py::arg("sh"),
      py::arg("sw"), py::arg("padding"), py::arg("channels_last"));
  m.def(
      "avg_pool2d_forward",
      [](py::handle x, int64_t kh, int64_t kw, int64_t sh, int64_t sw, const std::string& padding, bool cl) {
        View xv = to_view(x, "x", DType::F32);
        PoolGeom g = ops::pool_geometry("avg_pool2d", xv.shape, kh, kw, sh, sw, padding, cl);
        py::object y = empty(xv.device, DType::F32, ops::pool_output_shape(g));
        View yv = to_view(y, "y");
        py::gil_scoped_release nogil;
        ops::avg_pool2d_forward(yv, xv, g);
        return y;
      },
      py::arg("x"), py::arg("kh"), py::arg("kw"), py::arg("sh"), py::arg("sw"), py::arg("padding"),
      py::arg("channels_last"));
  m.def(
      "avg_pool2d_backward",
      [](py::handle dy, py::handle x_shape, int64_t kh, int64_t kw, int64_t sh, int64_t sw,
         const std::string& padding, bool cl) {
        View gv = to_view(dy, "dy", DType::F32);
        PoolGeom g = ops::pool_geometry("avg_pool2d_backward", to_shape(x_shape), kh, kw, sh, sw, padding, cl);
        py::object dx = empty(gv.device, DType::F32, to_shape(x_shape));
        View dxv = to_view(dx, "dx");
        py::gil_scoped_release nogil;
        ops::avg_pool2d_backward(dxv, gv, g);
        return dx;
      },
      py::arg("dy"), py::arg("x_shape"), py::arg("kh"), py::arg("kw"), py::arg("sh"), py::arg("sw"),
      py::arg("padding"), py::arg("channels_last"));
  m.def(
      "pool_output_shape",
      [](py::handle x_shape, int64_t kh, int64_t kw, int64_t sh, int64_t sw, const std::string& padding, bool cl) {
        return as_tuple(ops::pool_output_shape(
            ops::pool_geometry("pooling", to_shape(x_shape), kh, kw, sh, sw, padding, cl)));
      },
      py::arg("x_shape"), py::arg("kh"), py::arg("kw"), py::arg("sh"), py::arg("sw"), py::arg("padding"),
      py::arg("channels_last"));
  m.def(
      "resize_bilinear_forward",
      [](py::handle x, int64_t oh, int64_t ow, bool cl) {
        View xv = to_view(x, "x", DType::F32);
        PoolGeom g = ops::resize_geometry("resize_bilinear", xv.shape, oh, ow, cl);
        py::object y = empty(xv.device, DType::F32, ops::pool_output_shape(g));
        View yv = to_view(y, "y");
        py::gil_scoped_release nogil;
        ops::resize_bilinear_forward(yv, xv, g);
        return y;
      },
      py::arg("x"), py::arg("out_h"), py::arg("out_w"), py::arg("channels_last"));
  m.def(
      "resize_bilinear_backward",
      [](py::handle dy, py::handle x_shape, bool cl) {
        View gv = to_view(dy, "dy", DType::F32);
        FASTNN_CHECK(gv.ndim() == 4, ValueError,
                     "resize_bilinear_backward: dy must be 4-D, got shape " << gv.shape_str());
        PoolGeom g = ops::resize_geometry("resize_bilinear_backward", to_shape(x_shape), cl ? gv.shape[1] : gv.shape[2],
                                          cl ? gv.shape[2] : gv.shape[3], cl);
        py::object dx = empty(gv.device, DType::F32, to_shape(x_shape));
        View dxv = to_view(dx, "dx");
        py::gil_scoped_release nogil;
        ops::resize_bilinear_backward(dxv, gv, g);
        return dx;
      },
      py::arg("dy"), py::arg("x_shape"), py::arg("channels_last"));
}

}  // namespace fastnn::bind
