// Device-neutral entries for reductions and softmax (see kernels/reduce.h). Arrays are seen as
// (O, R, I) with the reduced block in the middle; the Python layer computes O, R, I from axes.
#pragma once
#include "core/common.h"
#include "kernels/reduce.h"

namespace fastnn::ops {

void check_ori(const char* op, const View& x, int64_t O, int64_t R, int64_t I);
void reduce_forward(ReduceOp op, const View& y, const View& x, int64_t O, int64_t R, int64_t I);
void reduce_backward(ReduceOp op, const View& dx, const View& dy, const View& x, const View& y,
                     int64_t O, int64_t R, int64_t I);
// idx is int64 (O*I elements); R must be > 0.
void argmax_forward(const View& idx, const View& x, int64_t O, int64_t R, int64_t I, bool is_min);
void var_forward(const View& var, const View& mean, const View& x, int64_t O, int64_t R, int64_t I,
                 int64_t correction);
void var_backward(const View& dx, const View& dvar, const View& x, const View& mean, int64_t O,
                  int64_t R, int64_t I, int64_t correction);
// log = false: softmax, true: log_softmax
void softmax_forward(bool log, const View& y, const View& x, int64_t O, int64_t R, int64_t I);
void softmax_backward(bool log, const View& dx, const View& dy, const View& y, int64_t O, int64_t R,
                      int64_t I);

// x, y (rows, n); mask null or (rows / rep, n) in the layout of kernels/reduce.h
void masked_softmax_forward(const View& y, const View& x, const View* mask, int64_t rows, int64_t n,
                            int64_t rep, int64_t inner, float scale, bool zero_masked);
void masked_softmax_backward(const View& dx, const View& dy, const View& y, int64_t rows, int64_t n,
                             float scale);

}  // namespace fastnn::ops
