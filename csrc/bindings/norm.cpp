// Normalization bindings. Optional arrays (gamma, beta) are None when absent.
//   batch_norm_stats(x, axis) -> (mean, var)              per channel of axis; var biased
//   batch_norm_forward(x, mean, var, gamma, beta, axis, eps) -> y
//   batch_norm_backward(dy, x, mean, var, gamma, axis, eps, training, affine_grads)
//       -> (dx, dgamma, dbeta)   (dgamma, dbeta None unless affine_grads)
//   layer_norm_forward(x, gamma, beta, norm_dims, eps) -> (y, mean, rstd)
//   layer_norm_backward(dy, x, mean, rstd, gamma, norm_dims, affine_grads) -> (dx, dgamma, dbeta)
#include "ops/norm.h"

#include <optional>

#include "bindings/common.h"

namespace fastnn::bind {

static std::optional<View> opt_view(py::handle h, const char* name) {
  if (h.is_none()) return std::nullopt;
  return to_view(h, name, DType::F32);
}
static const View* vp(const std::optional<View>& v) { return v ? &*v : nullptr; }

static int norm_axis(int axis, int ndim) {
  int a = axis < 0 ? axis + ndim : axis;
  FASTNN_CHECK(a >= 0 && a < ndim, ValueError,
               "batch_norm: axis " << axis << " is out of range for an input with " << ndim << " dimensions");
  return a;
}

void bind_norm(py::module_& m) {
  m.def(
      "batch_norm_stats",
      [](py::handle x, int axis) {
        View xv = to_view(x, "x", DType::F32);
        int a = norm_axis(axis, xv.ndim());
        Shape cs{xv.shape[a]};
        py::object mean = empty(xv.device, DType::F32, cs), var = empty(xv.device, DType::F32, cs);
        View mv = to_view(mean, "mean"), vv = to_view(var, "var");
        {
          py::gil_scoped_release nogil;
          ops::batch_norm_stats(mv, vv, xv, a);
        }
        return py::make_tuple(mean, var);
      },
      py::arg("x"), py::arg("axis"));
  m.def(
      "batch_norm_forward",
      [](py::handle x, py::handle mean, py::handle var, py::handle gamma, py::handle beta, int axis, float eps) {
        View xv = to_view(x, "x", DType::F32), mv = to_view(mean, "mean", DType::F32),
             vv = to_view(var, "variance", DType::F32);
        auto gv = opt_view(gamma, "gamma"), bv = opt_view(beta, "beta");
        int a = norm_axis(axis, xv.ndim());
        py::object y = empty_like(xv);
        View yv = to_view(y, "y");
        py::gil_scoped_release nogil;
        ops::batch_norm_forward(yv, xv, mv, vv, vp(gv), vp(bv), a, eps);
        return y;
      },
      py::arg("x"), py::arg("mean"), py::arg("var"), py::arg("gamma"), py::arg("beta"), py::arg("axis"),
      py::arg("eps"));
  m.def(
      "batch_norm_backward",
      [](py::handle dy, py::handle x, py::handle mean, py::handle var, py::handle gamma, int axis, float eps,
         bool training, bool affine_grads) {
        View gv = to_view(dy, "dy", DType::F32), xv = to_view(x, "x", DType::F32),
             mv = to_view(mean, "mean", DType::F32), vv = to_view(var, "variance", DType::F32);
        auto gm = opt_view(gamma, "gamma");
        int a = norm_axis(axis, xv.ndim());
        Shape cs{xv.shape[a]};
        py::object dx = empty_like(xv), dg = py::none(), db = py::none();
        std::optional<View> dgv, dbv;
        if (affine_grads) {
          dg = empty(xv.device, DType::F32, cs);
          db = empty(xv.device, DType::F32, cs);
          dgv = to_view(dg, "dgamma");
          dbv = to_view(db, "dbeta");
        }
        View dxv = to_view(dx, "dx");
        {
          py::gil_scoped_release nogil;
          ops::batch_norm_backward(dxv, vp(dgv), vp(dbv), gv, xv, mv, vv, vp(gm), a, eps, training);
        }
        return py::make_tuple(dx, dg, db);
      },
      py::arg("dy"), py::arg("x"), py::arg("mean"), py::arg("var"), py::arg("gamma"), py::arg("axis"),
      py::arg("eps"), py::arg("training"), py::arg("affine_grads"));
  m.def(
      "layer_norm_forward",
      [](py::handle x, py::handle gamma, py::handle beta, int norm_dims, float eps) {
        View xv = to_view(x, "x", DType::F32);
        auto gv = opt_view(gamma, "gamma"), bv = opt_view(beta, "beta");
        int64_t R, D;
        ops::ln_split("layer_norm", xv, norm_dims, R, D);
        py::object y = empty_like(xv), mean = empty(xv.device, DType::F32, {R}),
                   rstd = empty(xv.device, DType::F32, {R});
        View yv = to_view(y, "y"), mv = to_view(mean, "mean"), rv = to_view(rstd, "rstd");
        {
          py::gil_scoped_release nogil;
          ops::layer_norm_forward(yv, mv, rv, xv, vp(gv), vp(bv), norm_dims, eps);
        }
        return py::make_tuple(y, mean, rstd);
      },
      py::arg("x"), py::arg("gamma"), py::arg("beta"), py::arg("norm_dims"), py::arg("eps"));
  m.def(
      "layer_norm_backward",
      [](py::handle dy, py::handle x, py::handle mean, py::handle rstd, py::handle gamma, int norm_dims,
         bool affine_grads) {
        View gv = to_view(dy, "dy", DType::F32), xv = to_view(x, "x", DType::F32),
             mv = to_view(mean, "mean", DType::F32), rv = to_view(rstd, "rstd", DType::F32);
        auto gm = opt_view(gamma, "gamma");
        int64_t R, D;
        ops::ln_split("layer_norm_backward", xv, norm_dims, R, D);
        Shape ds(xv.shape.end() - norm_dims, xv.shape.end());
        py::object dx = empty_like(xv), dg = py::none(), db = py::none();
        std::optional<View> dgv, dbv;
        if (affine_grads) {
          dg = empty(xv.device, DType::F32, ds);
          db = empty(xv.device, DType::F32, ds);
          dgv = to_view(dg, "dgamma");
          dbv = to_view(db, "dbeta");
        }
        View dxv = to_view(dx, "dx");
        {
          py::gil_scoped_release nogil;
          ops::layer_norm_backward(dxv, vp(dgv), vp(dbv), gv, xv, mv, rv, vp(gm), norm_dims);
        }
        return py::make_tuple(dx, dg, db);
      },
      py::arg("dy"), py::arg("x"), py::arg("mean"), py::arg("rstd"), py::arg("gamma"), py::arg("norm_dims"),
      py::arg("affine_grads"));
}

}  // namespace fastnn::bind
