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
//
// Optional slots are null exactly when the option is off (SGD v when momentum == 0, RMSprop mom
// when momentum == 0 and ga when not centered, Adam vh when not amsgrad). Every element is
// computed alone, so results do not depend on the thread count.
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

#define FASTNN_DECLARE_OPTIM_KERNELS                                                               \
  void sgd_update(float* w, float* v, const float* g, int64_t n, float lr, float momentum,         \
                  bool nesterov, UpdatePrep p);                                                    \
  void adagrad_update(float* w, float* a, const float* g, int64_t n, float lr, float eps,          \
                      UpdatePrep p);                                                               \
  void rmsprop_update(float* w, float* v, float* mom, float* ga, const float* g, int64_t n,        \
                      float lr, float rho, float momentum, float eps, UpdatePrep p);               \
  void adam_update(float* w, float* m, float* v, float* vh, const float* g, int64_t n,             \
                   float alpha, float beta1, float beta2, float eps, UpdatePrep p);                \
  double sum_squares(const float* x, int64_t n);

namespace cpu { FASTNN_DECLARE_OPTIM_KERNELS }
namespace cuda { FASTNN_DECLARE_OPTIM_KERNELS }

}  // namespace fastnn
