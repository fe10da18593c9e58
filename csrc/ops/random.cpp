// Random-number entries: dtype, shape and rate checks, then dispatch to the device's kernel.
#include "ops/random.h"

#include <cmath>

#include "core/device_array.h"
#include "kernels/random.h"

namespace fastnn::ops {

static void check_f32(const char* op, const View& v) {
  FASTNN_CHECK(v.dtype == DType::F32, TypeError,
               op << ": expected float32, got " << dtype_name(v.dtype));
}

static void check_rate(const char* op, float rate) {
  FASTNN_CHECK(rate >= 0.0f && rate < 1.0f, ValueError,
               op << ": rate must be in [0, 1), got rate=" << rate);
}

void uniform_fill(const View& out, uint64_t seed, uint64_t offset, float low, float high) {
  check_f32("uniform", out);
  FASTNN_DISPATCH(out.device, uniform_fill, out.f32(), out.numel(), seed, offset, low, high);
}

void normal_fill(const View& out, uint64_t seed, uint64_t offset, float mean, float std) {
  check_f32("normal", out);
  FASTNN_DISPATCH(out.device, normal_fill, out.f32(), out.numel(), seed, offset, mean, std);
}

void dropout_forward(const View& y, const View& x, float rate, uint64_t seed, uint64_t offset) {
  check_f32("dropout", x);
  check_rate("dropout", rate);
  FASTNN_CHECK(y.numel() == x.numel() && y.device == x.device, ValueError,
               "dropout: output shape " << y.shape_str() << " does not match input "
                                        << x.shape_str());
  FASTNN_DISPATCH(x.device, dropout_forward, y.f32(), x.f32(), x.numel(), rate, seed, offset);
}

void dropout_backward(const View& dx, const View& dy, float rate, uint64_t seed, uint64_t offset) {
  check_f32("dropout_backward", dy);
  check_rate("dropout_backward", rate);
  FASTNN_CHECK(dx.numel() == dy.numel() && dx.device == dy.device, ValueError,
               "dropout_backward: output shape " << dx.shape_str() << " does not match gradient "
                                                 << dy.shape_str());
  FASTNN_DISPATCH(dy.device, dropout_backward, dx.f32(), dy.f32(), dy.numel(), rate, seed, offset);
}

}  // namespace fastnn::ops
