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
void adamax_update(const View& w, const View& m, const View& u, const View& g, float lr_t, float beta1,
                   float beta2, float eps, UpdatePrep p);
void nadam_update(const View& w, const View& m, const View& v, const View& g, float lr, float beta1, float beta2,
                  float eps, float cm, float cg, float cv, UpdatePrep p);
void adadelta_update(const View& w, const View& ag, const View& ad, const View& g, float lr, float rho, float eps,
                     UpdatePrep p);

// Row-sparse gradients (kernels/optim.h): `idx` (nnz,) int64 sorted unique rows of w (w seen as
// (w.shape[0], rest)), `vals` (nnz, rest...) float32 on w's device. ValueError names the rule
// broken (shape, order, range); the CUDA path trusts the order (it comes from row_coalesce).
void sgd_update_sparse(const View& w, const View* v, const View& idx, const View& vals, float lr, float momentum,
                       bool nesterov, UpdatePrep p);
void adagrad_update_sparse(const View& w, const View& a, const View& idx, const View& vals, float lr, float eps,
                           UpdatePrep p);
void rmsprop_update_sparse(const View& w, const View& v, const View* mom, const View* ga, const View& idx,
                           const View& vals, float lr, float rho, float momentum, float eps, UpdatePrep p);
void adam_update_sparse(const View& w, const View& m, const View& v, const View* vh, const View& idx,
                        const View& vals, float alpha, float beta1, float beta2, float eps, UpdatePrep p);
void adamax_update_sparse(const View& w, const View& m, const View& u, const View& idx, const View& vals,
                          float lr_t, float beta1, float beta2, float eps, UpdatePrep p);
void nadam_update_sparse(const View& w, const View& m, const View& v, const View& idx, const View& vals, float lr,
                         float beta1, float beta2, float eps, float cm, float cg, float cv, UpdatePrep p);
void adadelta_update_sparse(const View& w, const View& ag, const View& ad, const View& idx, const View& vals,
                            float lr, float rho, float eps, UpdatePrep p);
// sum(x^2) of a float32 array, in double.
double sum_squares(const View& x);

}  // namespace fastnn::ops
