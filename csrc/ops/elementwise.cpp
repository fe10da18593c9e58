#include "ops/elementwise.h"

#include "core/device_array.h"

namespace fastnn::ops {

const char* unary_name(UnaryOp op) {
  const int i = (int)op;
  return i >= 0 && i <= (int)UnaryOp::Clip ? kUnaryOpNames[i] : "unary op";
}

const char* binary_name(BinaryOp op) {
  const int i = (int)op;
  return i >= 0 && i <= (int)BinaryOp::Minimum ? kBinaryOpNames[i] : "binary op";
}

bool unary_backward_reads_x(UnaryOp op) {
  switch (op) {
    case UnaryOp::Neg: case UnaryOp::Step:
    case UnaryOp::Exp: case UnaryOp::Sqrt: case UnaryOp::Sigmoid: case UnaryOp::Tanh:
      return false;
    default:
      return true;
  }
}

bool unary_backward_reads_y(UnaryOp op) {
  return op == UnaryOp::Exp || op == UnaryOp::Sqrt || op == UnaryOp::Sigmoid || op == UnaryOp::Tanh;
}

bool binary_backward_reads_out(BinaryOp op) { return op == BinaryOp::Pow; }

Shape broadcast_shape(const char* op, const Shape& a, const Shape& b) {
  size_t nd = std::max(a.size(), b.size());
  Shape out(nd);
  for (size_t i = 0; i < nd; ++i) {
    int64_t da = i < nd - a.size() ? 1 : a[i - (nd - a.size())];
    int64_t db = i < nd - b.size() ? 1 : b[i - (nd - b.size())];
    FASTNN_CHECK(da == db || da == 1 || db == 1, ValueError,
                 op << ": shapes " << shape_str(a) << " and " << shape_str(b) << " cannot be broadcast together");
    out[i] = da == 1 ? db : da;
  }
  FASTNN_CHECK(nd <= (size_t)kMaxDims, ValueError,
               op << ": at most " << kMaxDims << " dimensions are supported, got " << nd);
  return out;
}

Broadcast make_broadcast(const Shape& a, const Shape& b) {
  Shape out = broadcast_shape("broadcast", a, b);
  int nd = (int)out.size();
  // Element strides of a and b over the output dims (0 where broadcast or missing).
  int64_t as[kMaxDims], bs[kMaxDims];
  int64_t sa = 1, sb = 1;
  for (int d = nd - 1; d >= 0; --d) {
    int ka = d - (nd - (int)a.size()), kb = d - (nd - (int)b.size());
    int64_t na = ka >= 0 ? a[ka] : 1, nb = kb >= 0 ? b[kb] : 1;
    as[d] = na == 1 ? 0 : sa;
    bs[d] = nb == 1 ? 0 : sb;
    sa *= na;
    sb *= nb;
  }
  // Coalesce from the last dim: drop size-1 dims, merge d into the current group when both
  // strides continue it (stride[d] == stride[group] * size[group]).
  Broadcast bc;
  int64_t gs[kMaxDims], ga[kMaxDims], gb[kMaxDims];
  int ng = 0;
  for (int d = nd - 1; d >= 0; --d) {
    if (out[d] == 1) continue;
    if (ng > 0 && as[d] == ga[ng - 1] * gs[ng - 1] && bs[d] == gb[ng - 1] * gs[ng - 1]) {
      gs[ng - 1] *= out[d];
      continue;
    }
    gs[ng] = out[d];
    ga[ng] = as[d];
    gb[ng] = bs[d];
    ++ng;
  }
  bc.ndim = ng;
  for (int i = 0; i < ng; ++i) {  // groups were collected last dim first
    bc.shape[i] = gs[ng - 1 - i];
    bc.a_stride[i] = ga[ng - 1 - i];
    bc.b_stride[i] = gb[ng - 1 - i];
  }
  return bc;
}

static void check_f32(const char* op, const View& v, const char* what) {
  FASTNN_CHECK(v.dtype == DType::F32, TypeError,
               op << ": expected a float32 tensor for " << what << ", got " << dtype_name(v.dtype));
}

static void check_like(const char* op, const View& v, const char* what, const View& ref, const char* rn) {
  check_f32(op, v, what);
  FASTNN_CHECK(v.device == ref.device, ValueError,
               op << ": " << what << " is on " << device_name(v.device) << " but " << rn << " is on "
                  << device_name(ref.device));
  FASTNN_CHECK(v.shape == ref.shape, ValueError,
               op << ": " << what << " has shape " << v.shape_str() << " but " << rn << " has shape "
                  << ref.shape_str());
}

void unary_forward(UnaryOp op, const View& y, const View& x, float alpha, float beta) {
  const char* name = unary_name(op);
  check_f32(name, x, "x");
  check_like(name, y, "y", x, "x");
  if (x.numel() == 0) return;
  FASTNN_DISPATCH(x.device, unary_forward, op, y.f32(), x.f32(), x.numel(), alpha, beta);
}

void unary_backward(UnaryOp op, const View& dx, const View& dy, const View* x, const View* y,
                    float alpha, float beta) {
  const char* name = unary_name(op);
  check_f32(name, dy, "the gradient");
  check_like(name, dx, "dx", dy, "the gradient");
  const float* xp = nullptr;
  const float* yp = nullptr;
  if (unary_backward_reads_x(op)) {
    FASTNN_CHECK(x != nullptr, ValueError, name << " backward needs the forward input x");
    check_like(name, *x, "x", dy, "the gradient");
    xp = x->f32();
  }
  if (unary_backward_reads_y(op)) {
    FASTNN_CHECK(y != nullptr, ValueError, name << " backward needs the forward output y");
    check_like(name, *y, "y", dy, "the gradient");
    yp = y->f32();
  }
  if (dy.numel() == 0) return;
  FASTNN_DISPATCH(dy.device, unary_backward, op, dx.f32(), dy.f32(), xp, yp, dy.numel(), alpha, beta);
}

void binary_forward(BinaryOp op, const View& out, const View& a, const View& b) {
  const char* name = binary_name(op);
  check_f32(name, a, "the first operand");
  check_f32(name, b, "the second operand");
  FASTNN_CHECK(a.device == b.device, ValueError,
               name << ": operands are on different devices (" << device_name(a.device) << " and "
                    << device_name(b.device) << ")");
  Shape os = broadcast_shape(name, a.shape, b.shape);
  check_f32(name, out, "the output");
  FASTNN_CHECK(out.shape == os && out.device == a.device, ValueError,
               name << ": output has shape " << out.shape_str() << ", expected " << shape_str(os));
  if (out.numel() == 0) return;
  Broadcast bc = make_broadcast(a.shape, b.shape);
  FASTNN_DISPATCH(a.device, binary_forward, op, out.f32(), a.f32(), b.f32(), bc);
}

void binary_backward(BinaryOp op, const View* da, const View* db, const View& dout, const View& a,
                     const View& b, const View* out) {
  const char* name = binary_name(op);
  check_f32(name, a, "the first operand");
  check_f32(name, b, "the second operand");
  check_f32(name, dout, "the gradient");
  FASTNN_CHECK(a.device == b.device && a.device == dout.device, ValueError,
               name << " backward: arguments are on different devices");
  Shape os = broadcast_shape(name, a.shape, b.shape);
  FASTNN_CHECK(dout.shape == os, ValueError,
               name << " backward: the gradient has shape " << dout.shape_str() << " but the operands "
                    << a.shape_str() << " and " << b.shape_str() << " broadcast to " << shape_str(os));
  if (da) check_like(name, *da, "da", dout, "the gradient");
  if (db) check_like(name, *db, "db", dout, "the gradient");
  const float* op_out = nullptr;
  if (binary_backward_reads_out(op) && db) {
    FASTNN_CHECK(out != nullptr, ValueError, name << " backward needs the forward output");
    check_like(name, *out, "out", dout, "the gradient");
    op_out = out->f32();
  }
  if ((!da && !db) || dout.numel() == 0) return;
  Broadcast bc = make_broadcast(a.shape, b.shape);
  FASTNN_DISPATCH(dout.device, binary_backward, op, da ? da->f32() : nullptr, db ? db->f32() : nullptr,
                  dout.f32(), a.f32(), b.f32(), op_out, bc);
}

void where_forward(const View& out, const View& cond, const View& a, const View& b) {
  check_f32("where", cond, "the condition");
  check_like("where", a, "x", cond, "the condition");
  check_like("where", b, "y", cond, "the condition");
  check_like("where", out, "the output", cond, "the condition");
  if (cond.numel() == 0) return;
  FASTNN_DISPATCH(cond.device, where_forward, out.f32(), cond.f32(), a.f32(), b.f32(), cond.numel());
}

void where_backward(const View* da, const View* db, const View& dout, const View& cond) {
  check_f32("where", cond, "the condition");
  check_like("where", dout, "the gradient", cond, "the condition");
  if (da) check_like("where", *da, "da", cond, "the condition");
  if (db) check_like("where", *db, "db", cond, "the condition");
  if ((!da && !db) || cond.numel() == 0) return;
  FASTNN_DISPATCH(cond.device, where_backward, da ? da->f32() : nullptr, db ? db->f32() : nullptr,
                  dout.f32(), cond.f32(), cond.numel());
}

}  // namespace fastnn::ops
