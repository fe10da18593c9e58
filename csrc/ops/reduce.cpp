#include "ops/reduce.h"

#include "core/device_array.h"

namespace fastnn::ops {

void check_ori(const char* op, const View& x, int64_t O, int64_t R, int64_t I) {
  FASTNN_CHECK(x.dtype == DType::F32, TypeError, op << ": expected float32, got " << dtype_name(x.dtype));
  FASTNN_CHECK(O >= 0 && R >= 0 && I >= 0 && O * R * I == x.numel(), ValueError,
               op << ": (O, R, I) = (" << O << ", " << R << ", " << I << ") does not match shape "
                  << x.shape_str());
}

void reduce_forward(ReduceOp op, const View& y, const View& x, int64_t O, int64_t R, int64_t I) {
  check_ori("reduce", x, O, R, I);
  FASTNN_CHECK(y.numel() == O * I, ValueError, "reduce: output has " << y.numel() << " elements, expected " << O * I);
  FASTNN_CHECK(R > 0 || op == ReduceOp::Sum, ValueError,
               "reduce: cannot take the " << (op == ReduceOp::Mean ? "mean" : op == ReduceOp::Max ? "max" : "min")
                                          << " of an empty axis (shape " << x.shape_str() << ")");
  FASTNN_DISPATCH(x.device, reduce_forward, op, y.f32(), x.f32(), O, R, I);
}

void reduce_backward(ReduceOp op, const View& dx, const View& dy, const View& x, const View& y,
                     int64_t O, int64_t R, int64_t I) {
  check_ori("reduce_backward", dx, O, R, I);
  FASTNN_CHECK(dy.numel() == O * I, ValueError, "reduce_backward: gradient has " << dy.numel() << " elements");
  FASTNN_DISPATCH(dx.device, reduce_backward, op, dx.f32(), dy.f32(), x.f32(), y.f32(), O, R, I);
}

}  // namespace fastnn::ops
