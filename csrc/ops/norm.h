// Device-neutral entries for batch and layer normalization (see kernels/norm.h). Optional
// arguments (gamma, beta, dgamma, dbeta) are null pointers when absent.
#pragma once
#include "core/common.h"
#include "kernels/norm.h"

namespace fastnn::ops {

// (O, C, I) of x around the channel axis `axis` (already non-negative); ValueError when out of range.
void bn_split(const char* op, const View& x, int axis, int64_t& O, int64_t& C, int64_t& I);
// (R, D) of x when its last `norm_dims` dims are normalised together.
void ln_split(const char* op, const View& x, int norm_dims, int64_t& R, int64_t& D);

void batch_norm_stats(const View& mean, const View& var, const View& x, int axis);
void batch_norm_forward(const View& y, const View& x, const View& mean, const View& var, const View* gamma,
                        const View* beta, int axis, float eps);
void batch_norm_backward(const View& dx, const View* dgamma, const View* dbeta, const View& dy, const View& x,
                         const View& mean, const View& var, const View* gamma, int axis, float eps, bool training);
void layer_norm_forward(const View& y, const View& mean, const View& rstd, const View& x, const View* gamma,
                        const View* beta, int norm_dims, float eps);
void layer_norm_backward(const View& dx, const View* dgamma, const View* dbeta, const View& dy, const View& x,
                         const View& mean, const View& rstd, const View* gamma, int norm_dims);

}  // namespace fastnn::ops
