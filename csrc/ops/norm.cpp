#include "ops/norm.h"

#include "core/device_array.h"

namespace fastnn::ops {

void bn_split(const char* op, const View& x, int axis, int64_t& O, int64_t& C, int64_t& I) {
  FASTNN_CHECK(axis >= 0 && axis < x.ndim(), ValueError,
               op << ": axis " << axis << " is out of range for an input of shape " << x.shape_str());
  O = 1;
  I = 1;
  for (int d = 0; d < axis; ++d) O *= x.shape[d];
  C = x.shape[axis];
  for (int d = axis + 1; d < x.ndim(); ++d) I *= x.shape[d];
}

void ln_split(const char* op, const View& x, int norm_dims, int64_t& R, int64_t& D) {
  FASTNN_CHECK(norm_dims >= 1 && norm_dims <= x.ndim(), ValueError,
               op << ": cannot normalise the last " << norm_dims << " axes of an input of shape "
                  << x.shape_str());
  R = 1;
  D = 1;
  for (int d = 0; d < x.ndim() - norm_dims; ++d) R *= x.shape[d];
  for (int d = x.ndim() - norm_dims; d < x.ndim(); ++d) D *= x.shape[d];
}

static void check_vec(const char* op, const View* v, const char* name, int64_t n, Device dev) {
  if (!v) return;
  FASTNN_CHECK(v->dtype == DType::F32, TypeError, op << ": " << name << " must be float32");
  FASTNN_CHECK(v->numel() == n, ValueError,
               op << ": " << name << " has shape " << v->shape_str() << ", expected " << n << " elements");
  FASTNN_CHECK(v->device == dev, ValueError, op << ": " << name << " is on another device than x");
}

static void check_like(const char* op, const View& v, const char* name, const View& x) {
  FASTNN_CHECK(v.dtype == DType::F32, TypeError, op << ": " << name << " must be float32");
  FASTNN_CHECK(v.shape == x.shape, ValueError,
               op << ": " << name << " has shape " << v.shape_str() << " but x has shape " << x.shape_str());
  FASTNN_CHECK(v.device == x.device, ValueError, op << ": " << name << " is on another device than x");
}

static float* ptr(const View* v) { return v ? v->f32() : nullptr; }

void batch_norm_stats(const View& mean, const View& var, const View& x, int axis) {
  int64_t O, C, I;
  bn_split("batch_norm", x, axis, O, C, I);
  FASTNN_CHECK(x.dtype == DType::F32, TypeError, "batch_norm: x must be float32");
  FASTNN_CHECK(O * I > 0, ValueError,
               "batch_norm: cannot take batch statistics of an empty input of shape " << x.shape_str());
  check_vec("batch_norm", &mean, "mean", C, x.device);
  check_vec("batch_norm", &var, "var", C, x.device);
  FASTNN_DISPATCH(x.device, batch_norm_stats, mean.f32(), var.f32(), x.f32(), O, C, I);
}

void batch_norm_forward(const View& y, const View& x, const View& mean, const View& var, const View* gamma,
                        const View* beta, int axis, float eps) {
  int64_t O, C, I;
  bn_split("batch_norm", x, axis, O, C, I);
  check_like("batch_norm", y, "y", x);
  check_vec("batch_norm", &mean, "mean", C, x.device);
  check_vec("batch_norm", &var, "variance", C, x.device);
  check_vec("batch_norm", gamma, "gamma", C, x.device);
  check_vec("batch_norm", beta, "beta", C, x.device);
  if (x.numel() == 0) return;
  FASTNN_DISPATCH(x.device, batch_norm_forward, y.f32(), x.f32(), mean.f32(), var.f32(), ptr(gamma), ptr(beta), O,
                  C, I, eps);
}

void batch_norm_backward(const View& dx, const View* dgamma, const View* dbeta, const View& dy, const View& x,
                         const View& mean, const View& var, const View* gamma, int axis, float eps,
                         bool training) {
  int64_t O, C, I;
  bn_split("batch_norm_backward", x, axis, O, C, I);
  check_like("batch_norm_backward", dx, "dx", x);
  check_like("batch_norm_backward", dy, "dy", x);
  check_vec("batch_norm_backward", &mean, "mean", C, x.device);
  check_vec("batch_norm_backward", &var, "variance", C, x.device);
  check_vec("batch_norm_backward", gamma, "gamma", C, x.device);
  check_vec("batch_norm_backward", dgamma, "dgamma", C, x.device);
  check_vec("batch_norm_backward", dbeta, "dbeta", C, x.device);
  FASTNN_CHECK(!training || O * I > 0, ValueError,
               "batch_norm_backward: empty input of shape " << x.shape_str());
  FASTNN_DISPATCH(x.device, batch_norm_backward, dx.f32(), ptr(dgamma), ptr(dbeta), dy.f32(), x.f32(), mean.f32(),
                  var.f32(), ptr(gamma), O, C, I, eps, training);
}

void layer_norm_forward(const View& y, const View& mean, const View& rstd, const View& x, const View* gamma,
                        const View* beta, int norm_dims, float eps) {
  int64_t R, D;
  ln_split("layer_norm", x, norm_dims, R, D);
  FASTNN_CHECK(x.dtype == DType::F32, TypeError, "layer_norm: x must be float32");
  check_like("layer_norm", y, "y", x);
  check_vec("layer_norm", &mean, "mean", R, x.device);
  check_vec("layer_norm", &rstd, "rstd", R, x.device);
  check_vec("layer_norm", gamma, "gamma", D, x.device);
  check_vec("layer_norm", beta, "beta", D, x.device);
  FASTNN_CHECK(D > 0 || R == 0, ValueError, "layer_norm: cannot normalise over 0 elements, input shape "
                                                 << x.shape_str());
  if (R == 0) return;
  FASTNN_DISPATCH(x.device, layer_norm_forward, y.f32(), mean.f32(), rstd.f32(), x.f32(), ptr(gamma), ptr(beta), R,
                  D, eps);
}

void layer_norm_backward(const View& dx, const View* dgamma, const View* dbeta, const View& dy, const View& x,
                         const View& mean, const View& rstd, const View* gamma, int norm_dims) {
  int64_t R, D;
  ln_split("layer_norm_backward", x, norm_dims, R, D);
  check_like("layer_norm_backward", dx, "dx", x);
  check_like("layer_norm_backward", dy, "dy", x);
  check_vec("layer_norm_backward", &mean, "mean", R, x.device);
  check_vec("layer_norm_backward", &rstd, "rstd", R, x.device);
  check_vec("layer_norm_backward", gamma, "gamma", D, x.device);
  check_vec("layer_norm_backward", dgamma, "dgamma", D, x.device);
  check_vec("layer_norm_backward", dbeta, "dbeta", D, x.device);
  FASTNN_DISPATCH(x.device, layer_norm_backward, dx.f32(), ptr(dgamma), ptr(dbeta), dy.f32(), x.f32(), mean.f32(),
                  rstd.f32(), ptr(gamma), R, D);
}

}  // namespace fastnn::ops
