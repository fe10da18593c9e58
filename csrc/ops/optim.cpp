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
