#include "ops/reduce.h"

#include "core/device_array.h"

namespace fastnn::ops {

void check_ori(const char* op, const View& x, int64_t O, int64_t R, int64_t I) {
  FASTNN_CHECK(x.dtype == DType::F32, TypeError, op << ": expected float32, got " << dtype_name(x.dtype));
  FASTNN_CHECK(O >= 0 && R >= 0 && I >= 0, ValueError,
               op << ": (O, R, I) = (" << O << ", " << R << ", " << I << ") must be non-negative");
  checked_mul(O, I, op);  // the result's size, formed by the callers: O * I must not wrap even when R = 0
  FASTNN_CHECK(checked_product({O, R, I}, op) == x.numel(), ValueError,
               op << ": (O, R, I) = (" << O << ", " << R << ", " << I << ") does not match shape "
                  << x.shape_str());
}

static void check_reduce_op(const char* what, ReduceOp op) {
  FASTNN_CHECK((int)op >= (int)ReduceOp::Sum && (int)op <= (int)ReduceOp::Min, ValueError,
               what << ": unknown reduction code " << (int)op << " (0 sum, 1 mean, 2 max, 3 min)");
}

static void check_out(const char* op, const View& out, const char* name, int64_t n, DType dt) {
  FASTNN_CHECK(out.dtype == dt, TypeError, op << ": " << name << " must be " << dtype_name(dt));
  FASTNN_CHECK(out.numel() == n, ValueError,
               op << ": " << name << " has " << out.numel() << " elements, expected " << n);
}

void reduce_forward(ReduceOp op, const View& y, const View& x, int64_t O, int64_t R, int64_t I) {
  check_reduce_op("reduce", op);
  check_ori("reduce", x, O, R, I);
  check_out("reduce", y, "output", O * I, DType::F32);
  FASTNN_CHECK(R > 0 || op == ReduceOp::Sum, ValueError,
               "reduce: cannot take the " << (op == ReduceOp::Mean ? "mean" : op == ReduceOp::Max ? "max" : "min")
                                          << " of an empty axis (shape " << x.shape_str() << ")");
  if (y.numel() == 0) return;  // nothing to write: O or I may be any size, the kernels never see them
  FASTNN_DISPATCH(x.device, reduce_forward, op, y.f32(), x.f32(), O, R, I);
}

void reduce_backward(ReduceOp op, const View& dx, const View& dy, const View& x, const View& y,
                     int64_t O, int64_t R, int64_t I) {
  check_reduce_op("reduce_backward", op);
  check_ori("reduce_backward", dx, O, R, I);
  check_out("reduce_backward", dy, "dy", O * I, DType::F32);
  if (op == ReduceOp::Max || op == ReduceOp::Min) {  // only the extrema's gradient reads x and y
    check_ori("reduce_backward", x, O, R, I);
    check_out("reduce_backward", y, "y", O * I, DType::F32);
  }
  if (dx.numel() == 0) return;
  FASTNN_DISPATCH(dx.device, reduce_backward, op, dx.f32(), dy.f32(), x.f32(), y.f32(), O, R, I);
}

static void check_same(const char* op, const View& a, const char* an, const View& b, const char* bn) {
  FASTNN_CHECK(a.device == b.device, ValueError,
               op << ": " << an << " is on " << device_name(a.device) << " but " << bn << " is on "
                  << device_name(b.device));
  FASTNN_CHECK(a.numel() == b.numel(), ValueError,
               op << ": " << an << " has shape " << a.shape_str() << " but " << bn << " has shape "
                  << b.shape_str());
}

void argmax_forward(const View& idx, const View& x, int64_t O, int64_t R, int64_t I, bool is_min) {
  const char* op = is_min ? "argmin" : "argmax";
  check_ori(op, x, O, R, I);
  check_out(op, idx, "output", O * I, DType::I64);
  FASTNN_CHECK(R > 0, ValueError, op << ": attempt to get " << op << " of an empty axis (shape " << x.shape_str() << ")");
  if (idx.numel() == 0) return;
  FASTNN_DISPATCH(x.device, argmax_forward, idx.i64(), x.f32(), O, R, I, is_min);
}

void var_forward(const View& var, const View& mean, const View& x, int64_t O, int64_t R, int64_t I,
                 int64_t correction) {
  check_ori("var", x, O, R, I);
  check_out("var", var, "var", O * I, DType::F32);
  check_out("var", mean, "mean", O * I, DType::F32);
  FASTNN_CHECK(R > 0, ValueError, "var: cannot take the variance of an empty axis (shape " << x.shape_str() << ")");
  FASTNN_CHECK(correction >= 0, ValueError, "var: correction must be >= 0, got " << correction);
  if (var.numel() == 0) return;
  FASTNN_DISPATCH(x.device, var_forward, var.f32(), mean.f32(), x.f32(), O, R, I, correction);
}

void var_backward(const View& dx, const View& dvar, const View& x, const View& mean, int64_t O,
                  int64_t R, int64_t I, int64_t correction) {
  check_ori("var_backward", x, O, R, I);
  FASTNN_CHECK(correction >= 0, ValueError, "var_backward: correction must be >= 0, got " << correction);
  check_same("var_backward", dx, "dx", x, "x");
  check_out("var_backward", dvar, "dvar", O * I, DType::F32);
  check_out("var_backward", mean, "mean", O * I, DType::F32);
  FASTNN_CHECK(dx.device == dvar.device && dx.device == mean.device, ValueError,
               "var_backward: all arguments must be on the same device");
  if (dx.numel() == 0) return;
  FASTNN_DISPATCH(x.device, var_backward, dx.f32(), dvar.f32(), x.f32(), mean.f32(), O, R, I, correction);
}

void softmax_forward(bool log, const View& y, const View& x, int64_t O, int64_t R, int64_t I) {
  const char* op = log ? "log_softmax" : "softmax";
  check_ori(op, x, O, R, I);
  check_same(op, y, "y", x, "x");
  if (x.numel() == 0) return;
  if (log) FASTNN_DISPATCH(x.device, log_softmax_forward, y.f32(), x.f32(), O, R, I);
  else FASTNN_DISPATCH(x.device, softmax_forward, y.f32(), x.f32(), O, R, I);
}

void softmax_backward(bool log, const View& dx, const View& dy, const View& y, int64_t O, int64_t R,
                      int64_t I) {
  const char* op = log ? "log_softmax_backward" : "softmax_backward";
  check_ori(op, y, O, R, I);
  check_same(op, dy, "dy", y, "y");
  check_same(op, dx, "dx", y, "y");
  FASTNN_CHECK(dy.dtype == DType::F32, TypeError, op << ": dy must be float32");
  if (y.numel() == 0) return;
  if (log) FASTNN_DISPATCH(y.device, log_softmax_backward, dx.f32(), dy.f32(), y.f32(), O, R, I);
  else FASTNN_DISPATCH(y.device, softmax_backward, dx.f32(), dy.f32(), y.f32(), O, R, I);
}

void masked_softmax_forward(const View& y, const View& x, const View* mask, int64_t rows, int64_t n,
                            int64_t rep, int64_t inner, float scale, bool zero_masked) {
  const char* op = "masked_softmax";
  check_ori(op, x, rows, n, 1);
  check_same(op, y, "y", x, "x");
  FASTNN_CHECK(rep >= 1 && inner >= 1 && rows % checked_mul(rep, inner, op) == 0, ValueError,
               op << ": rows = " << rows << " is not a multiple of rep * inner = " << rep << " * " << inner);
  const float* mp = nullptr;
  if (mask) {
    FASTNN_CHECK(mask->dtype == DType::F32, TypeError, op << ": mask must be float32");
    FASTNN_CHECK(mask->device == x.device, ValueError,
                 op << ": mask is on " << device_name(mask->device) << " but x is on " << device_name(x.device));
    FASTNN_CHECK(mask->numel() == rows / rep * n, ValueError,
                 op << ": mask has shape " << mask->shape_str() << ", expected " << rows / rep * n
                    << " elements for scores of shape " << x.shape_str() << " shared by " << rep << " heads");
    mp = mask->f32();
  }
  if (x.numel() == 0) return;
  FASTNN_DISPATCH(x.device, masked_softmax_forward, y.f32(), x.f32(), mp, rows, n, rep, inner, scale, zero_masked);
}

void masked_softmax_backward(const View& dx, const View& dy, const View& y, int64_t rows, int64_t n, float scale) {
  const char* op = "masked_softmax_backward";
  check_ori(op, y, rows, n, 1);
  check_same(op, dy, "dy", y, "y");
  check_same(op, dx, "dx", y, "y");
  FASTNN_CHECK(dy.dtype == DType::F32, TypeError, op << ": dy must be float32");
  if (y.numel() == 0) return;
  FASTNN_DISPATCH(y.device, masked_softmax_backward, dx.f32(), dy.f32(), y.f32(), rows, n, scale);
}

}  // namespace fastnn::ops
