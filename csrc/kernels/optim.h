// Fused optimizer updates: each call updates one variable w and its slots in place, reading the
// gradient g once, in one pass over memory. The formulas are Keras 3's (keras/src/optimizers),
// per element, with n = number of elements:
//
//   every kernel first prepares the gradient and decays the variable (Keras's _clip_gradients
//   and _apply_weight_decay, fused here):
//     g  = clip(g * p.grad_scale, -p.clip_value, p.clip_value)  clipnorm / global_clipnorm fold into
//                                                               grad_scale; clip_value = inf when unset
//     w -= w * p.decay                                          decay = weight_decay * lr; skipped when 0
//   g itself is never written.
//
//   SGD      momentum == 0:  w -= lr * g
//            else:           v = momentum * v - lr * g
//                            w += v                              (nesterov: w += momentum * v - lr * g)
//   Adagrad  a += g^2;  w -= lr * g / sqrt(a + eps)                  epsilon inside the square root
//   RMSprop  v = rho * v + (1 - rho) * g^2
//            centered:  ga = rho * ga + (1 - rho) * g;  den = v - ga^2 + eps;  else den = v + eps
//            inc = lr * g / sqrt(den)
//            momentum > 0:  mom = momentum * mom + inc;  w -= mom;  else w -= inc
//   Adam     m += (g - m) * (1 - beta1);  v += (g^2 - v) * (1 - beta2)
//            amsgrad:  vh = max(vh, v), and vh replaces v below
//            w -= alpha * m / (sqrt(v) + eps),  alpha = lr * sqrt(1 - beta2^t) / (1 - beta1^t),
//            t = iterations + 1; the caller computes alpha (bias correction folded into the step)
//   AdamW    Adam with p.decay = weight_decay * lr (decoupled: the decay never enters m or v)
//   Adamax   m += (g - m) * (1 - beta1);  u = max(beta2 * u, |g|)
//            w -= lr_t * m / (u + eps),  lr_t = lr / (1 - beta1^t)   (the caller computes lr_t)
//   Nadam    m += (g - m) * (1 - beta1);  v += (g^2 - v) * (1 - beta2)
//            w -= lr * (cm * m + cg * g) / (sqrt(v * cv) + eps), with the caller's scalars
//            u_k = beta1 * (1 - 0.5 * 0.96^k),  P_t = u_1 ... u_t,
//            cm = u_{t+1} / (1 - P_t u_{t+1}),  cg = (1 - u_t) / (1 - P_t),  cv = 1 / (1 - beta2^t)
//   Adadelta ag = rho * ag + (1 - rho) * g^2
//            d = -sqrt(ad + eps) * g / sqrt(ag + eps)
//            ad = rho * ad + (1 - rho) * d^2;  w += lr * d
//
// Optional slots are null exactly when the option is off (SGD v when momentum == 0, RMSprop mom
// when momentum == 0 and ga when not centered, Adam vh when not amsgrad). Every element is
// computed alone, so results do not depend on the thread count.
//
// Row-sparse gradients (the `_sparse` kernels): the variable is seen as (rows, cols), rows =
// its first dimension; g.idx holds g.nnz sorted, unique row numbers and g.vals the (nnz, cols)
// gradient rows; every other row has g = 0. Each kernel gives exactly the dense kernel's result
// for the dense gradient (Keras semantics: slots decay on every row): one pass over w and the
// slots that walks the sorted indices alongside (a merge walk), taking g from vals on the listed
// rows and the prepared zero (prep of g = 0) elsewhere. Where the update at g = 0 is the identity
// (SGD without momentum and decay, Adagrad without decay and with eps > 0, and the prepared zero
// is 0) only the listed rows are touched.
//
// sum_squares returns sum(x^2) (for clipnorm / global_clipnorm) in double, over fixed blocks
// combined in a fixed order: the result is the same for any thread count. On CUDA it waits for
// the device.
#pragma once
#include <cstdint>
#include <limits>

#include "core/common.h"

namespace fastnn {

// Gradient preparation and weight decay shared by every update kernel (see above).
struct UpdatePrep {
  float grad_scale = 1.0f;
  float clip_value = std::numeric_limits<float>::infinity();
  float decay = 0.0f;
};

// A row-sparse gradient (see above); idx and vals are on the variable's device.
struct RowSparse {
  const int64_t* idx = nullptr;
  const float* vals = nullptr;
  int64_t nnz = 0;
  int64_t rows = 0;
  int64_t cols = 0;
};

#define FASTNN_DECLARE_OPTIM_KERNELS                                                               \
  void sgd_update(float* w, float* v, const float* g, int64_t n, float lr, float momentum,         \
                  bool nesterov, UpdatePrep p);                                                    \
  void adagrad_update(float* w, float* a, const float* g, int64_t n, float lr, float eps,          \
                      UpdatePrep p);                                                               \
  void rmsprop_update(float* w, float* v, float* mom, float* ga, const float* g, int64_t n,        \
                      float lr, float rho, float momentum, float eps, UpdatePrep p);               \
  void adam_update(float* w, float* m, float* v, float* vh, const float* g, int64_t n,             \
                   float alpha, float beta1, float beta2, float eps, UpdatePrep p);                \
  void adamax_update(float* w, float* m, float* u, const float* g, int64_t n, float lr_t,          \
                     float beta1, float beta2, float eps, UpdatePrep p);                            \
  void nadam_update(float* w, float* m, float* v, const float* g, int64_t n, float lr, float beta1, \
                    float beta2, float eps, float cm, float cg, float cv, UpdatePrep p);            \
  void adadelta_update(float* w, float* ag, float* ad, const float* g, int64_t n, float lr,         \
                       float rho, float eps, UpdatePrep p);                                         \
  void sgd_update_sparse(float* w, float* v, const RowSparse& g, float lr, float momentum,        \
                         bool nesterov, UpdatePrep p);                                             \
  void adagrad_update_sparse(float* w, float* a, const RowSparse& g, float lr, float eps,         \
                             UpdatePrep p);                                                        \
  void rmsprop_update_sparse(float* w, float* v, float* mom, float* ga, const RowSparse& g,       \
                             float lr, float rho, float momentum, float eps, UpdatePrep p);        \
  void adam_update_sparse(float* w, float* m, float* v, float* vh, const RowSparse& g,            \
                          float alpha, float beta1, float beta2, float eps, UpdatePrep p);         \
  void adamax_update_sparse(float* w, float* m, float* u, const RowSparse& g, float lr_t,         \
                            float beta1, float beta2, float eps, UpdatePrep p);                    \
  void nadam_update_sparse(float* w, float* m, float* v, const RowSparse& g, float lr,            \
                           float beta1, float beta2, float eps, float cm, float cg, float cv,      \
                           UpdatePrep p);                                                          \
  void adadelta_update_sparse(float* w, float* ag, float* ad, const RowSparse& g, float lr,       \
                              float rho, float eps, UpdatePrep p);                                 \
  double sum_squares(const float* x, int64_t n);

namespace cpu { FASTNN_DECLARE_OPTIM_KERNELS }
namespace cuda { FASTNN_DECLARE_OPTIM_KERNELS }

}  // namespace fastnn
