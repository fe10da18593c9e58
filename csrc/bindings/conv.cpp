// Convolution bindings: conv2d_forward, conv2d_backward_data (also the transposed
// convolution's forward), conv2d_backward_weight and conv_bias_grad. Hyper-parameters come as
// strides (sh, sw), padding (top, bottom, left, right), dilation (dh, dw), groups and the layout.
#include "ops/conv.h"

#include "bindings/common.h"

namespace fastnn::bind {

namespace {
std::vector<int64_t> ints(py::handle seq, size_t n, const char* what) {
  std::vector<int64_t> v = to_ints(seq, what);
  FASTNN_CHECK(v.size() == n, ValueError,
               "conv2d: " << what << " must have " << n << " integers, got " << v.size());
  return v;
}

ops::ConvArgs conv_args(py::handle strides, py::handle padding, py::handle dilation,
                        int64_t groups, bool channels_last) {
  auto s = ints(strides, 2, "strides"), p = ints(padding, 4, "padding (top, bottom, left, right)"),
       d = ints(dilation, 2, "dilation");
  ops::ConvArgs a;
  a.sh = s[0], a.sw = s[1], a.pt = p[0], a.pb = p[1], a.pl = p[2], a.pr = p[3];
  a.dh = d[0], a.dw = d[1], a.groups = groups, a.channels_last = channels_last;
  return a;
}
}  // namespace

void bind_conv(py::module_& m) {
  m.def(
      "conv2d_forward",
      [](py::handle x, py::handle kernel, py::handle bias, py::handle strides, py::handle padding,
         py::handle dilation, int64_t groups, bool channels_last, int act) {
        View xv = to_view(x, "x", DType::F32), kv = to_view(kernel, "kernel", DType::F32), bv;
        const bool has_bias = !bias.is_none();
        if (has_bias) bv = to_view(bias, "bias", DType::F32);
        ops::ConvArgs a = conv_args(strides, padding, dilation, groups, channels_last);
        check_same_device("conv2d_forward", {&xv, &kv});
        Shape ys = ops::conv_output_shape(ops::conv_geom(xv.shape, kv.shape, a));
        py::object y = empty(xv.device, DType::F32, ys);
        View yv = to_view(y, "y");
        py::gil_scoped_release nogil;
        ops::conv2d_forward(yv, xv, kv, has_bias ? &bv : nullptr, (Activation)act, a);
        return y;
      },
      py::arg("x"), py::arg("kernel"), py::arg("bias"), py::arg("strides"), py::arg("padding"),
      py::arg("dilation"), py::arg("groups"), py::arg("channels_last"), py::arg("act") = 0,
      "act(conv2d(x, kernel) + bias): kernel (KH, KW, C / groups, OC), padding (top, bottom, "
      "left, right), act 0 none, 1 relu, 2 sigmoid, 3 tanh.");
  m.def(
      "conv2d_backward_data",
      [](py::handle dy, py::handle kernel, py::handle input_shape, py::handle strides,
         py::handle padding, py::handle dilation, int64_t groups, bool channels_last,
         py::handle bias) {
        View dyv = to_view(dy, "dy", DType::F32), kv = to_view(kernel, "kernel", DType::F32), bv;
        const bool has_bias = !bias.is_none();
        if (has_bias) bv = to_view(bias, "bias", DType::F32);
        ops::ConvArgs a = conv_args(strides, padding, dilation, groups, channels_last);
        check_same_device("conv2d_backward_data", {&dyv, &kv});
        Shape xs = to_shape(input_shape);
        ops::conv_geom(xs, kv.shape, a);  // a bad shape raises before anything is allocated
        py::object dx = empty(dyv.device, DType::F32, xs);
        View dxv = to_view(dx, "dx");
        py::gil_scoped_release nogil;
        ops::conv2d_backward_data(dxv, dyv, kv, has_bias ? &bv : nullptr, a);
        return dx;
      },
      py::arg("dy"), py::arg("kernel"), py::arg("input_shape"), py::arg("strides"),
      py::arg("padding"), py::arg("dilation"), py::arg("groups"), py::arg("channels_last"),
      py::arg("bias") = py::none(),
      "The gradient of conv2d's input of shape input_shape from dy, plus bias (C,) per channel "
      "when given: the transposed convolution.");
  m.def(
      "conv2d_backward_weight",
      [](py::handle dy, py::handle x, py::handle kernel_shape, py::handle strides,
         py::handle padding, py::handle dilation, int64_t groups, bool channels_last,
         bool with_bias) {
        View dyv = to_view(dy, "dy", DType::F32), xv = to_view(x, "x", DType::F32);
        ops::ConvArgs a = conv_args(strides, padding, dilation, groups, channels_last);
        check_same_device("conv2d_backward_weight", {&dyv, &xv});
        Shape ks = to_shape(kernel_shape);
        ConvGeom g = ops::conv_geom(xv.shape, ks, a);
        py::object dw = empty(xv.device, DType::F32, ks);
        py::object db = with_bias ? empty(xv.device, DType::F32, {g.OC}) : py::none();
        View dwv = to_view(dw, "dw"), dbv;
        if (with_bias) dbv = to_view(db, "db");
        {
          py::gil_scoped_release nogil;
          ops::conv2d_backward_weight(dwv, with_bias ? &dbv : nullptr, dyv, xv, a);
        }
        return py::make_tuple(dw, db);
      },
      py::arg("dy"), py::arg("x"), py::arg("kernel_shape"), py::arg("strides"), py::arg("padding"),
      py::arg("dilation"), py::arg("groups"), py::arg("channels_last"), py::arg("with_bias"),
      "(dkernel, dbias or None) of conv2d from dy and the input x.");
  m.def(
      "conv_bias_grad",
      [](py::handle dy, bool channels_last) {
        View dyv = to_view(dy, "dy", DType::F32);
        FASTNN_CHECK(dyv.ndim() == 4, ValueError,
                     "conv_bias_grad: dy must be 4-D, got shape " << dyv.shape_str());
        py::object db = empty(dyv.device, DType::F32, {channels_last ? dyv.dim(3) : dyv.dim(1)});
        View dbv = to_view(db, "db");
        py::gil_scoped_release nogil;
        ops::conv_bias_grad(dbv, dyv, channels_last);
        return db;
      },
      py::arg("dy"), py::arg("channels_last"),
      "Per-channel sums of a 4-D array over the batch and the pixels.");
}

}  // namespace fastnn::bind
