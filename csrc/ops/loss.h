// Device-neutral entries for the loss kernels (see kernels/loss.h). pred is seen as (N, D):
// D = its last dimension, N = the product of the others. target has pred's shape, or for the
// sparse kinds holds N int64 labels in [0, C) (checked here on the CPU: ValueError otherwise).
#pragma once
#include <string>

#include "core/common.h"

namespace fastnn::ops {

enum class LossKind : int {
  MSE = 0, MAE, BCE, BCELogits, CCE, CCELogits, SparseCCE, SparseCCELogits, MAPE, MSLE, Huber, LogCosh, Poisson,
  KLD, Hinge, SquaredHinge, Focal, FocalLogits, CategoricalHinge, Cosine
};

// The scalars of the losses; each kind reads the ones it uses.
struct LossParams {
  float eps = 1e-7f;              // probability clip / division guard
  float label_smoothing = 0.0f;   // cce, cce_logits, sparse_*
  float delta = 1.0f;             // huber
  float gamma = 2.0f;             // focal
  float alpha = 0.25f;            // focal, with class_balancing
  bool class_balancing = false;   // focal
};

// "mse", "mae", "bce", "bce_logits", "cce", "cce_logits", "sparse_cce", "sparse_cce_logits",
// "mape", "msle", "huber", "log_cosh", "poisson", "kld", "hinge", "squared_hinge", "focal",
// "focal_logits", "categorical_hinge", "cosine"
LossKind loss_kind(const std::string& name);
inline bool is_sparse(LossKind k) { return k == LossKind::SparseCCE || k == LossKind::SparseCCELogits; }

// Checks pred / target and returns (N, D).
void loss_sizes(LossKind kind, const View& pred, const View& target, int64_t& N, int64_t& D);
// loss: (N,) per-sample losses
void loss_forward(LossKind kind, const View& loss, const View& pred, const View& target, const LossParams& prm);
// dpred: pred's shape; dloss: (N,)
void loss_backward(LossKind kind, const View& dpred, const View& dloss, const View& pred, const View& target,
                   const LossParams& prm);

}  // namespace fastnn::ops
