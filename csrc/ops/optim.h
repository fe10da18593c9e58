// Device-neutral entries for the fused optimizer updates (see kernels/optim.h): the variable,
// the gradient and every slot must be float32 arrays of one shape on one device, and the arrays
// written in place must be distinct; ValueError / TypeError naming the optimizer, the argument
// and the shapes otherwise. Optional slots are null when the option is off.
#pragma once
#include "core/common.h"
#include "kernels/optim.h"

namespace fastnn::ops {

void sgd_update(const View& w, const View* v, const View& g, float lr, float momentum, bool nesterov,
                UpdatePrep p);
void adagrad_update(const View& w, const View& a, const View& g, float lr, float eps, UpdatePrep p);
void rmsprop_update(const View& w, const View& v, const View* mom, const View* ga, const View& g, float lr,
                    float rho, float momentum, float eps, UpdatePrep p);
void adam_update(const View& w, const View& m, const View& v, const View* vh, const View& g, float alpha,
                 float beta1, float beta2, float eps, UpdatePrep p);
// sum(x^2) of a float32 array, in double.
double sum_squares(const View& x);

}  // namespace fastnn::ops
