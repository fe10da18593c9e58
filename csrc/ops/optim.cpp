#include "ops/optim.h"

#include <initializer_list>
#include <utility>

#include "core/device_array.h"

namespace fastnn::ops {

namespace {

// Checks the variable, the gradient and the slots (null ones are skipped); returns the device.
Device check_update(const char* op, const View& w, const View& g, std::initializer_list<std::pair<const View*, const char*>> slots) {
  FASTNN_CHECK(w.dtype == DType::F32, TypeError, op << ": the variable must be float32, got " << dtype_name(w.dtype));
  FASTNN_CHECK(g.dtype == DType::F32, TypeError, op << ": the gradient must be float32, got " << dtype_name(g.dtype));
  FASTNN_CHECK(g.device == w.device, ValueError,
               op << ": the gradient is on " << device_name(g.device) << " but the variable is on "
                  << device_name(w.device));
  FASTNN_CHECK(g.shape == w.shape, ValueError,
               op << ": the gradient has shape " << g.shape_str() << " but the variable has shape " << w.shape_str());
  for (const auto& [s, name] : slots) {
    if (!s) continue;
    FASTNN_CHECK(s->dtype == DType::F32, TypeError,
                 op << ": slot '" << name << "' must be float32, got " << dtype_name(s->dtype));
    FASTNN_CHECK(s->device == w.device, ValueError,
                 op << ": slot '" << name << "' is on " << device_name(s->device) << " but the variable is on "
                    << device_name(w.device));
    FASTNN_CHECK(s->shape == w.shape, ValueError,
                 op << ": slot '" << name << "' has shape " << s->shape_str() << " but the variable has shape "
                    << w.shape_str());
    FASTNN_CHECK(s->numel() == 0 || (s->data != w.data && s->data != g.data), ValueError,
                 op << ": slot '" << name << "' shares memory with the variable or the gradient");
    for (const auto& [t, tname] : slots)
      FASTNN_CHECK(!t || t == s || s->numel() == 0 || t->data != s->data, ValueError,
                   op << ": slots '" << name << "' and '" << tname << "' share memory");
  }
  return w.device;
}

float* ptr(const View* v) { return v ? v->f32() : nullptr; }

// Checks a row-sparse gradient of w and the slots (w doubles as the gradient's stand-in for the
// slot checks: same shape, device and dtype); returns the kernels' descriptor.
RowSparse check_sparse(const char* op, const View& w, const View& idx, const View& vals,
                       std::initializer_list<std::pair<const View*, const char*>> slots) {
  check_update(op, w, w, slots);
  FASTNN_CHECK(w.ndim() >= 1, ValueError, op << ": a row-sparse gradient needs a variable with rows, got shape "
                                             << w.shape_str());
  FASTNN_CHECK(idx.dtype == DType::I64, TypeError, op << ": the gradient's indices must be int64, got "
                                                      << dtype_name(idx.dtype));
  FASTNN_CHECK(vals.dtype == DType::F32, TypeError, op << ": the gradient's values must be float32, got "
                                                       << dtype_name(vals.dtype));
  FASTNN_CHECK(idx.device == w.device && vals.device == w.device, ValueError,
               op << ": the gradient is on " << device_name(vals.device) << " but the variable is on "
                  << device_name(w.device));
  FASTNN_CHECK(idx.ndim() == 1, ValueError, op << ": the gradient's indices must be 1-D, got shape " << idx.shape_str());
  Shape want{idx.shape[0]};
  want.insert(want.end(), w.shape.begin() + 1, w.shape.end());
  FASTNN_CHECK(vals.shape == want, ValueError,
               op << ": the gradient's values have shape " << vals.shape_str() << " but " << idx.shape[0]
                  << " rows of a variable of shape " << w.shape_str() << " need " << shape_str(want));
  for (const auto& [s, name] : slots)
    FASTNN_CHECK(!s || s->numel() == 0 || s->data != vals.data, ValueError,
                 op << ": slot '" << name << "' shares memory with the gradient");
  RowSparse g;
  g.idx = idx.i64();
  g.vals = vals.f32();
  g.nnz = idx.shape[0];
  g.rows = w.shape[0];
  g.cols = g.rows ? w.numel() / g.rows : 0;
  // The rows are addresses the kernels write (and, unsorted or repeated, a data race on a GPU):
  // checked on the host on every device.
  const HostI64 rows(idx);
  for (int64_t k = 0; k < g.nnz; ++k) {
    FASTNN_CHECK(rows[k] >= 0 && rows[k] < g.rows, ValueError,
                 op << ": gradient row " << rows[k] << " is out of range for a variable of shape " << w.shape_str());
    FASTNN_CHECK(k == 0 || rows[k] > rows[k - 1], ValueError,
                 op << ": the gradient's row indices must be sorted and unique, got " << rows[k - 1] << " then "
                    << rows[k] << " (merge them with row_coalesce)");
  }
  return g;
}

}  // namespace

void sgd_update(const View& w, const View* v, const View& g, float lr, float momentum, bool nesterov,
                UpdatePrep p) {
  Device dev = check_update("sgd", w, g, {{v, "momentum"}});
  FASTNN_CHECK(momentum == 0.0f || v != nullptr, ValueError, "sgd: momentum " << momentum << " needs a momentum slot");
  if (w.numel() == 0) return;
  FASTNN_DISPATCH(dev, sgd_update, w.f32(), momentum != 0.0f ? ptr(v) : nullptr, g.f32(), w.numel(), lr, momentum,
                  nesterov, p);
}

void adagrad_update(const View& w, const View& a, const View& g, float lr, float eps, UpdatePrep p) {
  Device dev = check_update("adagrad", w, g, {{&a, "accumulator"}});
  if (w.numel() == 0) return;
  FASTNN_DISPATCH(dev, adagrad_update, w.f32(), a.f32(), g.f32(), w.numel(), lr, eps, p);
}

void rmsprop_update(const View& w, const View& v, const View* mom, const View* ga, const View& g, float lr,
                    float rho, float momentum, float eps, UpdatePrep p) {
  Device dev = check_update("rmsprop", w, g, {{&v, "velocity"}, {mom, "momentum"}, {ga, "average_gradient"}});
  FASTNN_CHECK(momentum <= 0.0f || mom != nullptr, ValueError,
               "rmsprop: momentum " << momentum << " needs a momentum slot");
  if (w.numel() == 0) return;
  FASTNN_DISPATCH(dev, rmsprop_update, w.f32(), v.f32(), momentum > 0.0f ? ptr(mom) : nullptr, ptr(ga), g.f32(),
                  w.numel(), lr, rho, momentum, eps, p);
}

void adam_update(const View& w, const View& m, const View& v, const View* vh, const View& g, float alpha,
                 float beta1, float beta2, float eps, UpdatePrep p) {
  Device dev = check_update("adam", w, g, {{&m, "momentum"}, {&v, "velocity"}, {vh, "velocity_hat"}});
  if (w.numel() == 0) return;
  FASTNN_DISPATCH(dev, adam_update, w.f32(), m.f32(), v.f32(), ptr(vh), g.f32(), w.numel(), alpha, beta1, beta2,
                  eps, p);
}

void adamax_update(const View& w, const View& m, const View& u, const View& g, float lr_t, float beta1,
                   float beta2, float eps, UpdatePrep p) {
  Device dev = check_update("adamax", w, g, {{&m, "momentum"}, {&u, "norm"}});
  if (w.numel() == 0) return;
  FASTNN_DISPATCH(dev, adamax_update, w.f32(), m.f32(), u.f32(), g.f32(), w.numel(), lr_t, beta1, beta2, eps, p);
}

void nadam_update(const View& w, const View& m, const View& v, const View& g, float lr, float beta1, float beta2,
                  float eps, float cm, float cg, float cv, UpdatePrep p) {
  Device dev = check_update("nadam", w, g, {{&m, "momentum"}, {&v, "velocity"}});
  if (w.numel() == 0) return;
  FASTNN_DISPATCH(dev, nadam_update, w.f32(), m.f32(), v.f32(), g.f32(), w.numel(), lr, beta1, beta2, eps, cm, cg,
                  cv, p);
}

void adadelta_update(const View& w, const View& ag, const View& ad, const View& g, float lr, float rho, float eps,
                     UpdatePrep p) {
  Device dev = check_update("adadelta", w, g, {{&ag, "accumulated_grad"}, {&ad, "accumulated_delta_var"}});
  if (w.numel() == 0) return;
  FASTNN_DISPATCH(dev, adadelta_update, w.f32(), ag.f32(), ad.f32(), g.f32(), w.numel(), lr, rho, eps, p);
}

void sgd_update_sparse(const View& w, const View* v, const View& idx, const View& vals, float lr, float momentum,
                       bool nesterov, UpdatePrep p) {
  RowSparse g = check_sparse("sgd", w, idx, vals, {{v, "momentum"}});
  FASTNN_CHECK(momentum == 0.0f || v != nullptr, ValueError, "sgd: momentum " << momentum << " needs a momentum slot");
  if (w.numel() == 0) return;
  FASTNN_DISPATCH(w.device, sgd_update_sparse, w.f32(), momentum != 0.0f ? ptr(v) : nullptr, g, lr, momentum,
                  nesterov, p);
}

void adagrad_update_sparse(const View& w, const View& a, const View& idx, const View& vals, float lr, float eps,
                           UpdatePrep p) {
  RowSparse g = check_sparse("adagrad", w, idx, vals, {{&a, "accumulator"}});
  if (w.numel() == 0) return;
  FASTNN_DISPATCH(w.device, adagrad_update_sparse, w.f32(), a.f32(), g, lr, eps, p);
}

void rmsprop_update_sparse(const View& w, const View& v, const View* mom, const View* ga, const View& idx,
                           const View& vals, float lr, float rho, float momentum, float eps, UpdatePrep p) {
  RowSparse g = check_sparse("rmsprop", w, idx, vals, {{&v, "velocity"}, {mom, "momentum"}, {ga, "average_gradient"}});
  FASTNN_CHECK(momentum <= 0.0f || mom != nullptr, ValueError,
               "rmsprop: momentum " << momentum << " needs a momentum slot");
  if (w.numel() == 0) return;
  FASTNN_DISPATCH(w.device, rmsprop_update_sparse, w.f32(), v.f32(), momentum > 0.0f ? ptr(mom) : nullptr, ptr(ga),
                  g, lr, rho, momentum, eps, p);
}

void adam_update_sparse(const View& w, const View& m, const View& v, const View* vh, const View& idx,
                        const View& vals, float alpha, float beta1, float beta2, float eps, UpdatePrep p) {
  RowSparse g = check_sparse("adam", w, idx, vals, {{&m, "momentum"}, {&v, "velocity"}, {vh, "velocity_hat"}});
  if (w.numel() == 0) return;
  FASTNN_DISPATCH(w.device, adam_update_sparse, w.f32(), m.f32(), v.f32(), ptr(vh), g, alpha, beta1, beta2, eps, p);
}

void adamax_update_sparse(const View& w, const View& m, const View& u, const View& idx, const View& vals,
                          float lr_t, float beta1, float beta2, float eps, UpdatePrep p) {
  RowSparse g = check_sparse("adamax", w, idx, vals, {{&m, "momentum"}, {&u, "norm"}});
  if (w.numel() == 0) return;
  FASTNN_DISPATCH(w.device, adamax_update_sparse, w.f32(), m.f32(), u.f32(), g, lr_t, beta1, beta2, eps, p);
}

void nadam_update_sparse(const View& w, const View& m, const View& v, const View& idx, const View& vals, float lr,
                         float beta1, float beta2, float eps, float cm, float cg, float cv, UpdatePrep p) {
  RowSparse g = check_sparse("nadam", w, idx, vals, {{&m, "momentum"}, {&v, "velocity"}});
  if (w.numel() == 0) return;
  FASTNN_DISPATCH(w.device, nadam_update_sparse, w.f32(), m.f32(), v.f32(), g, lr, beta1, beta2, eps, cm, cg, cv, p);
}

void adadelta_update_sparse(const View& w, const View& ag, const View& ad, const View& idx, const View& vals,
                            float lr, float rho, float eps, UpdatePrep p) {
  RowSparse g = check_sparse("adadelta", w, idx, vals, {{&ag, "accumulated_grad"}, {&ad, "accumulated_delta_var"}});
  if (w.numel() == 0) return;
  FASTNN_DISPATCH(w.device, adadelta_update_sparse, w.f32(), ag.f32(), ad.f32(), g, lr, rho, eps, p);
}

double sum_squares(const View& x) {
  FASTNN_CHECK(x.dtype == DType::F32, TypeError, "sum_squares: expected float32, got " << dtype_name(x.dtype));
  if (x.numel() == 0) return 0.0;
  if (x.device == Device::CPU) return cpu::sum_squares(x.f32(), x.numel());
#ifdef FASTNN_WITH_CUDA
  return cuda::sum_squares(x.f32(), x.numel());
#else
  throw_no_cuda();
#endif
}

}  // namespace fastnn::ops
