// Convolution entries: the geometry (output size from the explicit padding), shape checks, and
// dispatch to cpu:: or cuda::.
#include "ops/conv.h"

#include "core/device_array.h"

namespace fastnn::ops {

namespace {
std::string args_str(const ConvArgs& a) {
  std::ostringstream os;
  os << "strides=(" << a.sh << ", " << a.sw << "), padding=(" << a.pt << ", " << a.pb << ", "
     << a.pl << ", " << a.pr << "), dilation=(" << a.dh << ", " << a.dw << "), groups=" << a.groups
     << ", " << (a.channels_last ? "channels_last" : "channels_first");
  return os.str();
}

void check_f32(const View& v, const char* op, const char* name) {
  FASTNN_CHECK(v.dtype == DType::F32, TypeError,
               op << ": " << name << " must be float32, got " << dtype_name(v.dtype));
}
}  // namespace

ConvGeom conv_geom(const Shape& xs, const Shape& ks, const ConvArgs& a) {
  FASTNN_CHECK(xs.size() == 4, ValueError,
               "conv2d: input must be 4-D " << (a.channels_last ? "(N, H, W, C)" : "(N, C, H, W)")
                                            << ", got shape " << shape_str(xs));
  FASTNN_CHECK(ks.size() == 4, ValueError,
               "conv2d: kernel must be 4-D (KH, KW, C / groups, OC), got shape " << shape_str(ks));
  FASTNN_CHECK(a.sh >= 1 && a.sw >= 1 && a.dh >= 1 && a.dw >= 1 && a.groups >= 1, ValueError,
               "conv2d: strides, dilation and groups must be positive, got " << args_str(a));
  FASTNN_CHECK(a.pt >= 0 && a.pl >= 0, ValueError,
               "conv2d: top and left padding must be non-negative, got " << args_str(a));
  ConvGeom g;
  g.N = xs[0];
  g.C = a.channels_last ? xs[3] : xs[1];
  g.H = a.channels_last ? xs[1] : xs[2];
  g.W = a.channels_last ? xs[2] : xs[3];
  g.KH = ks[0], g.KW = ks[1], g.OC = ks[3];
  g.sh = a.sh, g.sw = a.sw, g.pt = a.pt, g.pb = a.pb, g.pl = a.pl, g.pr = a.pr;
  g.dh = a.dh, g.dw = a.dw, g.groups = a.groups, g.channels_last = a.channels_last;
  FASTNN_CHECK(g.KH >= 1 && g.KW >= 1, ValueError,
               "conv2d: kernel of shape " << shape_str(ks) << " has an empty window");
  FASTNN_CHECK(g.C % a.groups == 0 && g.OC % a.groups == 0, ValueError,
               "conv2d: input channels " << g.C << " and filters " << g.OC
                                         << " must both be divisible by groups=" << a.groups
                                         << " (input shape " << shape_str(xs) << ", kernel shape "
                                         << shape_str(ks) << ")");
  FASTNN_CHECK(ks[2] == g.C / a.groups, ValueError,
               "conv2d: kernel of shape " << shape_str(ks) << " expects " << ks[2]
                                          << " input channels per group, but the input of shape "
                                          << shape_str(xs) << " has " << g.C << " channels in "
                                          << a.groups << " group(s)");
  // checked: huge dilations or paddings are errors, not wrapped window sizes
  const char* what = "conv2d: the dilated kernel window or the padded input";
  const int64_t kh = checked_add(checked_mul(g.KH - 1, g.dh, what), 1, what);
  const int64_t kw = checked_add(checked_mul(g.KW - 1, g.dw, what), 1, what);
  const int64_t hp = checked_add(checked_add(g.H, g.pt, what), g.pb, what);
  const int64_t wp = checked_add(checked_add(g.W, g.pl, what), g.pr, what);
  FASTNN_CHECK(hp >= kh && wp >= kw, ValueError,
               "conv2d: the dilated kernel window (" << kh << ", " << kw
                                                     << ") is larger than the padded input ("
                                                     << hp << ", " << wp << ") of input shape "
                                                     << shape_str(xs) << " (" << args_str(a)
                                                     << ")");
  g.OH = (hp - kh) / g.sh + 1;
  g.OW = (wp - kw) / g.sw + 1;
  return g;
}

Shape conv_output_shape(const ConvGeom& g) {
  return g.channels_last ? Shape{g.N, g.OH, g.OW, g.OC} : Shape{g.N, g.OC, g.OH, g.OW};
}

static void check_devices(const char* op, std::initializer_list<const View*> vs) {
  const View* first = *vs.begin();
  for (const View* v : vs)
    FASTNN_CHECK(v->device == first->device, ValueError,
                 op << ": all arrays must be on one device, got " << device_name(first->device)
                    << " and " << device_name(v->device));
}

static void check_bias(const char* op, const View* bias, int64_t n, Device dev) {
  if (!bias) return;
  check_f32(*bias, op, "bias");
  FASTNN_CHECK(bias->ndim() == 1 && bias->dim(0) == n, ValueError,
               op << ": bias must have shape (" << n << ",), got " << bias->shape_str());
  FASTNN_CHECK(bias->device == dev, ValueError, op << ": bias is on another device");
}

void conv2d_forward(const View& y, const View& x, const View& w, const View* bias, Activation act,
                    const ConvArgs& a) {
  check_f32(x, "conv2d", "input"), check_f32(w, "conv2d", "kernel"), check_f32(y, "conv2d", "output");
  check_devices("conv2d", {&y, &x, &w});
  FASTNN_CHECK((int)act >= 0 && (int)act <= (int)Activation::Tanh, ValueError,
               "conv2d: unknown activation code " << (int)act);
  ConvGeom g = conv_geom(x.shape, w.shape, a);
  check_bias("conv2d", bias, g.OC, x.device);
  Shape ys = conv_output_shape(g);
  FASTNN_CHECK(y.shape == ys, ValueError,
               "conv2d: output has shape " << y.shape_str() << ", expected " << shape_str(ys));
  FASTNN_DISPATCH(x.device, conv2d_forward, y.f32(), x.f32(), w.f32(), bias ? bias->f32() : nullptr,
                  act, g);
}

void conv2d_backward_data(const View& dx, const View& dy, const View& w, const View* bias,
                          const ConvArgs& a) {
  check_f32(dx, "conv2d_backward_data", "dx"), check_f32(dy, "conv2d_backward_data", "dy");
  check_f32(w, "conv2d_backward_data", "kernel");
  check_devices("conv2d_backward_data", {&dx, &dy, &w});
  ConvGeom g = conv_geom(dx.shape, w.shape, a);
  check_bias("conv2d_backward_data", bias, g.C, dx.device);
  Shape ys = conv_output_shape(g);
  FASTNN_CHECK(dy.shape == ys, ValueError,
               "conv2d_backward_data: dy has shape " << dy.shape_str() << ", but an input of shape "
                                                     << dx.shape_str() << " and a kernel of shape "
                                                     << w.shape_str() << " give outputs of shape "
                                                     << shape_str(ys) << " (" << args_str(a)
                                                     << ")");
  FASTNN_DISPATCH(dx.device, conv2d_backward_data, dx.f32(), dy.f32(), w.f32(),
                  bias ? bias->f32() : nullptr, g);
}

void conv2d_backward_weight(const View& dw, const View* db, const View& dy, const View& x,
                            const ConvArgs& a) {
  check_f32(dw, "conv2d_backward_weight", "dw"), check_f32(dy, "conv2d_backward_weight", "dy");
  check_f32(x, "conv2d_backward_weight", "input");
  check_devices("conv2d_backward_weight", {&dw, &dy, &x});
  ConvGeom g = conv_geom(x.shape, dw.shape, a);
  if (db) {
    check_f32(*db, "conv2d_backward_weight", "db");
    FASTNN_CHECK(db->ndim() == 1 && db->dim(0) == g.OC && db->device == dw.device, ValueError,
                 "conv2d_backward_weight: db must have shape (" << g.OC << ",), got "
                                                                << db->shape_str());
  }
  Shape ys = conv_output_shape(g);
  FASTNN_CHECK(dy.shape == ys, ValueError,
               "conv2d_backward_weight: dy has shape " << dy.shape_str() << ", but an input of shape "
                                                       << x.shape_str() << " and a kernel of shape "
                                                       << dw.shape_str() << " give outputs of shape "
                                                       << shape_str(ys) << " (" << args_str(a) << ")");
  FASTNN_DISPATCH(x.device, conv2d_backward_weight, dw.f32(), db ? db->f32() : nullptr, dy.f32(),
                  x.f32(), g);
}

void conv_bias_grad(const View& db, const View& dy, bool channels_last) {
  check_f32(db, "conv_bias_grad", "db"), check_f32(dy, "conv_bias_grad", "dy");
  check_devices("conv_bias_grad", {&db, &dy});
  FASTNN_CHECK(dy.ndim() == 4, ValueError, "conv_bias_grad: dy must be 4-D, got shape " << dy.shape_str());
  const int64_t C = channels_last ? dy.dim(3) : dy.dim(1);
  FASTNN_CHECK(db.ndim() == 1 && db.dim(0) == C, ValueError,
               "conv_bias_grad: db must have shape (" << C << ",), got " << db.shape_str());
  FASTNN_DISPATCH(dy.device, conv_bias_grad, db.f32(), dy.f32(), dy.dim(0), dy.dim(2) * (channels_last ? dy.dim(1) : dy.dim(3)), C,
                  channels_last);
}

}  // namespace fastnn::ops
