#include "ops/pool.h"

#include <climits>

#include "core/device_array.h"

namespace fastnn::ops {

static void split_shape(const char* op, const Shape& s, bool cl, PoolGeom& g) {
  FASTNN_CHECK(s.size() == 4, ValueError,
               op << ": expected a 4-D input (batch, " << (cl ? "height, width, channels" : "channels, height, width")
                  << "), got shape " << shape_str(s));
  g.channels_last = cl;
  g.N = s[0];
  g.C = cl ? s[3] : s[1];
  g.H = cl ? s[1] : s[2];
  g.W = cl ? s[2] : s[3];
  FASTNN_CHECK(checked_mul(g.H, g.W, op) < (int64_t)INT_MAX, ValueError,
               op << ": images of " << g.H << " x " << g.W << " pixels are too large");
}

PoolGeom pool_geometry(const char* op, const Shape& shape, int64_t KH, int64_t KW, int64_t SH, int64_t SW,
                       const std::string& padding, bool channels_last) {
  PoolGeom g;
  split_shape(op, shape, channels_last, g);
  FASTNN_CHECK(KH >= 1 && KW >= 1, ValueError,
               op << ": pool_size must be positive, got (" << KH << ", " << KW << ")");
  FASTNN_CHECK(SH >= 1 && SW >= 1, ValueError,
               op << ": strides must be positive, got (" << SH << ", " << SW << ")");
  g.KH = KH;
  g.KW = KW;
  g.SH = SH;
  g.SW = SW;
  if (padding == "valid") {
    FASTNN_CHECK(g.H >= KH && g.W >= KW, ValueError,
                 op << ": with padding='valid' the pool window (" << KH << ", " << KW
                    << ") must fit in the input image (" << g.H << ", " << g.W << ") of input shape "
                    << shape_str(shape));
    g.OH = (g.H - KH) / SH + 1;
    g.OW = (g.W - KW) / SW + 1;
    g.PT = g.PL = 0;
  } else if (padding == "same") {
    // ceil(H / SH) without forming H + SH - 1, which overflows for huge strides
    g.OH = g.H / SH + (g.H % SH != 0);
    g.OW = g.W / SW + (g.W % SW != 0);
    // A window wider than the padded image sees the same pixels as one that just covers it (the
    // kernels clip every window to the image), so the padding is computed with checked sums.
    const int64_t ph = checked_add(checked_mul(std::max<int64_t>(g.OH - 1, 0), SH, op), KH, op) - g.H;
    const int64_t pw = checked_add(checked_mul(std::max<int64_t>(g.OW - 1, 0), SW, op), KW, op) - g.W;
    g.PT = std::max<int64_t>(ph, 0) / 2;
    g.PL = std::max<int64_t>(pw, 0) / 2;
  } else {
    FASTNN_CHECK(false, ValueError, op << ": padding must be 'valid' or 'same', got '" << padding << "'");
  }
  return g;
}

PoolGeom resize_geometry(const char* op, const Shape& shape, int64_t OH, int64_t OW, bool channels_last) {
  PoolGeom g;
  split_shape(op, shape, channels_last, g);
  FASTNN_CHECK(OH >= 1 && OW >= 1, ValueError,
               op << ": the output size must be positive, got (" << OH << ", " << OW << ")");
  FASTNN_CHECK((g.H >= 1 && g.W >= 1) || g.N == 0 || g.C == 0, ValueError,
               op << ": cannot resize an empty image, input shape " << shape_str(shape));
  g.OH = OH;
  g.OW = OW;
  return g;
}

Shape pool_output_shape(const PoolGeom& g) {
  if (g.channels_last) return {g.N, g.OH, g.OW, g.C};
  return {g.N, g.C, g.OH, g.OW};
}

static Shape input_shape(const PoolGeom& g) {
  if (g.channels_last) return {g.N, g.H, g.W, g.C};
  return {g.N, g.C, g.H, g.W};
}

static void check(const char* op, const View& v, const char* name, const Shape& want, DType dt) {
  FASTNN_CHECK(v.dtype == dt, TypeError, op << ": " << name << " must be " << dtype_name(dt) << ", got "
                                            << dtype_name(v.dtype));
  FASTNN_CHECK(v.shape == want, ValueError,
               op << ": " << name << " has shape " << v.shape_str() << ", expected " << shape_str(want));
}

static void check_devices(const char* op, std::initializer_list<const View*> vs) {
  const View* f = *vs.begin();
  for (const View* v : vs)
    FASTNN_CHECK(v->device == f->device, ValueError, op << ": all arguments must be on the same device");
}

static bool empty(const PoolGeom& g) { return g.N * g.C * g.OH * g.OW == 0 || g.H * g.W == 0; }

void max_pool2d_forward(const View& y, const View& argmax, const View& x, const PoolGeom& g) {
  check("max_pool2d", x, "x", input_shape(g), DType::F32);
  check("max_pool2d", y, "y", pool_output_shape(g), DType::F32);
  check("max_pool2d", argmax, "argmax", pool_output_shape(g), DType::I64);
  check_devices("max_pool2d", {&x, &y, &argmax});
  if (empty(g)) return;
  FASTNN_DISPATCH(x.device, max_pool2d_forward, y.f32(), argmax.i64(), x.f32(), g);
}

void max_pool2d_backward(const View& dx, const View& dy, const View& argmax, const PoolGeom& g) {
  check("max_pool2d_backward", dx, "dx", input_shape(g), DType::F32);
  check("max_pool2d_backward", dy, "dy", pool_output_shape(g), DType::F32);
  check("max_pool2d_backward", argmax, "argmax", pool_output_shape(g), DType::I64);
  check_devices("max_pool2d_backward", {&dx, &dy, &argmax});
  if (dx.numel() == 0) return;
  // The CPU kernel scatters dy to the pixels argmax names, so every entry must be a pixel of its
  // image (h * W + w). The CUDA kernel gathers (each pixel compares the entries of its windows),
  // so a stray entry there only loses its gradient.
  if (argmax.device == Device::CPU) {
    const int64_t HW = g.H * g.W, n = argmax.numel();
    const int64_t* a = argmax.i64();
    for (int64_t i = 0; i < n; ++i)
      FASTNN_CHECK(a[i] >= 0 && a[i] < HW, ValueError,
                   "max_pool2d_backward: argmax[" << i << "] = " << a[i] << " is not a pixel of a " << g.H << " x "
                                                  << g.W << " image (argmax of shape " << argmax.shape_str() << ")");
  }
  FASTNN_DISPATCH(dx.device, max_pool2d_backward, dx.f32(), dy.f32(), argmax.i64(), g);
}

void avg_pool2d_forward(const View& y, const View& x, const PoolGeom& g) {
  check("avg_pool2d", x, "x", input_shape(g), DType::F32);
  check("avg_pool2d", y, "y", pool_output_shape(g), DType::F32);
  check_devices("avg_pool2d", {&x, &y});
  if (empty(g)) return;
  FASTNN_DISPATCH(x.device, avg_pool2d_forward, y.f32(), x.f32(), g);
}

void avg_pool2d_backward(const View& dx, const View& dy, const PoolGeom& g) {
  check("avg_pool2d_backward", dx, "dx", input_shape(g), DType::F32);
  check("avg_pool2d_backward", dy, "dy", pool_output_shape(g), DType::F32);
  check_devices("avg_pool2d_backward", {&dx, &dy});
  if (dx.numel() == 0) return;
  FASTNN_DISPATCH(dx.device, avg_pool2d_backward, dx.f32(), dy.f32(), g);
}

void resize_bilinear_forward(const View& y, const View& x, const PoolGeom& g) {
  check("resize_bilinear", x, "x", input_shape(g), DType::F32);
  check("resize_bilinear", y, "y", pool_output_shape(g), DType::F32);
  check_devices("resize_bilinear", {&x, &y});
  if (empty(g)) return;
  FASTNN_DISPATCH(x.device, resize_bilinear_forward, y.f32(), x.f32(), g);
}

void resize_bilinear_backward(const View& dx, const View& dy, const PoolGeom& g) {
  check("resize_bilinear_backward", dx, "dx", input_shape(g), DType::F32);
  check("resize_bilinear_backward", dy, "dy", pool_output_shape(g), DType::F32);
  check_devices("resize_bilinear_backward", {&dx, &dy});
  if (dx.numel() == 0) return;
  FASTNN_DISPATCH(dx.device, resize_bilinear_backward, dx.f32(), dy.f32(), g);
}

}  // namespace fastnn::ops
