#include "ops/loss.h"

#include <cmath>

#include "core/device_array.h"
#include "kernels/loss.h"

namespace fastnn::ops {

static const char* kNames[] = {"mse",     "mae",  "bce",   "bce_logits",    "cce",   "cce_logits",
                               "sparse_cce", "sparse_cce_logits", "mape", "msle", "huber", "log_cosh",
                               "poisson", "kld",  "hinge", "squared_hinge", "focal", "focal_logits",
                               "categorical_hinge", "cosine"};
constexpr int kNumKinds = sizeof(kNames) / sizeof(kNames[0]);

LossKind loss_kind(const std::string& name) {
  for (int i = 0; i < kNumKinds; ++i)
    if (name == kNames[i]) return (LossKind)i;
  std::string known;
  for (int i = 0; i < kNumKinds; ++i) known += (i ? ", " : "") + std::string(kNames[i]);
  throw ValueError("unknown loss kind '" + name + "': expected one of " + known);
}

void loss_sizes(LossKind kind, const View& pred, const View& target, int64_t& N, int64_t& D) {
  const char* op = kNames[(int)kind];
  FASTNN_CHECK(pred.dtype == DType::F32, TypeError, op << ": y_pred must be float32, got " << dtype_name(pred.dtype));
  FASTNN_CHECK(pred.ndim() >= 1, ValueError, op << ": y_pred must have at least one dimension, got shape "
                                                << pred.shape_str());
  FASTNN_CHECK(pred.device == target.device, ValueError,
               op << ": y_true is on " << device_name(target.device) << " but y_pred is on "
                  << device_name(pred.device));
  D = pred.dim(-1);
  N = D ? pred.numel() / D : numel_of(Shape(pred.shape.begin(), pred.shape.end() - 1));
  if (is_sparse(kind)) {
    FASTNN_CHECK(target.dtype == DType::I64, TypeError, op << ": labels must be int64, got " << dtype_name(target.dtype));
    Shape want(pred.shape.begin(), pred.shape.end() - 1);
    FASTNN_CHECK(target.numel() == N, ValueError,
                 op << ": labels of shape " << target.shape_str() << " do not match y_pred of shape "
                    << pred.shape_str() << " (expected " << shape_str(want) << ")");
    FASTNN_CHECK(N == 0 || D > 0, ValueError, op << ": y_pred of shape " << pred.shape_str() << " has no classes");
  } else {
    FASTNN_CHECK(target.dtype == DType::F32, TypeError, op << ": y_true must be float32, got " << dtype_name(target.dtype));
    FASTNN_CHECK(target.shape == pred.shape, ValueError,
                 op << ": y_true has shape " << target.shape_str() << " but y_pred has shape " << pred.shape_str());
  }
}

// Labels must lie in [0, C); checked on the host, on every device, before any kernel reads them.
static void check_labels(LossKind kind, const View& labels, int64_t C) {
  const HostI64 p(labels);
  for (int64_t i = 0, n = p.size(); i < n; ++i)
    FASTNN_CHECK(p[i] >= 0 && p[i] < C, ValueError,
                 kNames[(int)kind] << ": label " << p[i] << " (sample " << i << ") is out of range for "
                                   << C << " classes: labels must be in [0, " << C << ")");
}

static void check_params(LossKind kind, const LossParams& prm) {
  const char* op = kNames[(int)kind];
  FASTNN_CHECK(prm.eps >= 0.f && prm.eps < 0.5f, ValueError, op << ": epsilon must be in [0, 0.5), got " << prm.eps);
  FASTNN_CHECK(prm.label_smoothing >= 0.f && prm.label_smoothing <= 1.f, ValueError,
               op << ": label_smoothing must be in [0, 1], got " << prm.label_smoothing);
  if (kind == LossKind::MAPE || kind == LossKind::KLD || kind == LossKind::Cosine)  // they divide by eps
    FASTNN_CHECK(prm.eps > 0.f, ValueError, op << ": epsilon must be positive, got " << prm.eps);
  if (kind == LossKind::Huber)
    FASTNN_CHECK(prm.delta > 0.f && std::isfinite(prm.delta), ValueError,
                 "huber: delta must be a positive finite number, got " << prm.delta);
  if (kind == LossKind::Focal || kind == LossKind::FocalLogits) {
    FASTNN_CHECK(prm.gamma >= 0.f && std::isfinite(prm.gamma), ValueError,
                 op << ": gamma must be a finite number >= 0, got " << prm.gamma);
    FASTNN_CHECK(std::isfinite(prm.alpha), ValueError, op << ": alpha must be finite, got " << prm.alpha);
  }
}

void loss_forward(LossKind kind, const View& loss, const View& pred, const View& target, const LossParams& prm) {
  int64_t N, D;
  loss_sizes(kind, pred, target, N, D);
  check_params(kind, prm);
  const float eps = prm.eps, label_smoothing = prm.label_smoothing;
  FASTNN_CHECK(loss.numel() == N && loss.dtype == DType::F32, ValueError, "loss: output must hold " << N << " floats");
  if (N == 0) return;
  if (is_sparse(kind)) check_labels(kind, target, D);
  float *l = loss.f32(), *p = pred.f32();
  float* t = target.dtype == DType::F32 ? target.f32() : nullptr;
  const int64_t* lab = target.dtype == DType::I64 ? target.i64() : nullptr;
  Device dev = pred.device;
  switch (kind) {
    case LossKind::MSE: FASTNN_DISPATCH(dev, mse_forward, l, p, t, N, D); break;
    case LossKind::MAE: FASTNN_DISPATCH(dev, mae_forward, l, p, t, N, D); break;
    case LossKind::BCE: FASTNN_DISPATCH(dev, bce_forward, l, p, t, N, D, eps); break;
    case LossKind::BCELogits: FASTNN_DISPATCH(dev, bce_logits_forward, l, p, t, N, D); break;
    case LossKind::CCE: FASTNN_DISPATCH(dev, cce_forward, l, p, t, N, D, label_smoothing, eps); break;
    case LossKind::CCELogits: FASTNN_DISPATCH(dev, cce_logits_forward, l, p, t, N, D, label_smoothing); break;
    case LossKind::SparseCCE: FASTNN_DISPATCH(dev, sparse_cce_forward, l, p, lab, N, D, label_smoothing, eps); break;
    case LossKind::SparseCCELogits:
      FASTNN_DISPATCH(dev, sparse_cce_logits_forward, l, p, lab, N, D, label_smoothing);
      break;
    case LossKind::MAPE: FASTNN_DISPATCH(dev, mape_forward, l, p, t, N, D, eps); break;
    case LossKind::MSLE: FASTNN_DISPATCH(dev, msle_forward, l, p, t, N, D, eps); break;
    case LossKind::Huber: FASTNN_DISPATCH(dev, huber_forward, l, p, t, N, D, prm.delta); break;
    case LossKind::LogCosh: FASTNN_DISPATCH(dev, log_cosh_forward, l, p, t, N, D); break;
    case LossKind::Poisson: FASTNN_DISPATCH(dev, poisson_forward, l, p, t, N, D, eps); break;
    case LossKind::KLD: FASTNN_DISPATCH(dev, kld_forward, l, p, t, N, D, eps); break;
    case LossKind::Hinge: FASTNN_DISPATCH(dev, hinge_forward, l, p, t, N, D); break;
    case LossKind::SquaredHinge: FASTNN_DISPATCH(dev, squared_hinge_forward, l, p, t, N, D); break;
    case LossKind::Focal:
      FASTNN_DISPATCH(dev, focal_forward, l, p, t, N, D, prm.gamma, prm.alpha, prm.class_balancing, eps);
      break;
    case LossKind::FocalLogits:
      FASTNN_DISPATCH(dev, focal_logits_forward, l, p, t, N, D, prm.gamma, prm.alpha, prm.class_balancing);
      break;
    case LossKind::CategoricalHinge: FASTNN_DISPATCH(dev, categorical_hinge_forward, l, p, t, N, D); break;
    case LossKind::Cosine: FASTNN_DISPATCH(dev, cosine_forward, l, p, t, N, D, eps); break;
  }
}

void loss_backward(LossKind kind, const View& dpred, const View& dloss, const View& pred, const View& target,
                   const LossParams& prm) {
  int64_t N, D;
  loss_sizes(kind, pred, target, N, D);
  check_params(kind, prm);
  const float eps = prm.eps, label_smoothing = prm.label_smoothing;
  FASTNN_CHECK(dloss.dtype == DType::F32 && dloss.numel() == N, ValueError,
               kNames[(int)kind] << ": upstream gradient of shape " << dloss.shape_str() << " does not match "
                                 << N << " samples");
  FASTNN_CHECK(dpred.numel() == pred.numel() && dpred.dtype == DType::F32, ValueError,
               "loss_backward: dpred must have y_pred's shape");
  FASTNN_CHECK(dloss.device == pred.device && dpred.device == pred.device, ValueError,
               "loss_backward: all arguments must be on the same device");
  if (N == 0 || D == 0) return;
  if (is_sparse(kind)) check_labels(kind, target, D);
  float *dp = dpred.f32(), *g = dloss.f32(), *p = pred.f32();
  float* t = target.dtype == DType::F32 ? target.f32() : nullptr;
  const int64_t* lab = target.dtype == DType::I64 ? target.i64() : nullptr;
  Device dev = pred.device;
  switch (kind) {
    case LossKind::MSE: FASTNN_DISPATCH(dev, mse_backward, dp, g, p, t, N, D); break;
    case LossKind::MAE: FASTNN_DISPATCH(dev, mae_backward, dp, g, p, t, N, D); break;
    case LossKind::BCE: FASTNN_DISPATCH(dev, bce_backward, dp, g, p, t, N, D, eps); break;
    case LossKind::BCELogits: FASTNN_DISPATCH(dev, bce_logits_backward, dp, g, p, t, N, D); break;
    case LossKind::CCE: FASTNN_DISPATCH(dev, cce_backward, dp, g, p, t, N, D, label_smoothing, eps); break;
    case LossKind::CCELogits: FASTNN_DISPATCH(dev, cce_logits_backward, dp, g, p, t, N, D, label_smoothing); break;
    case LossKind::SparseCCE:
      FASTNN_DISPATCH(dev, sparse_cce_backward, dp, g, p, lab, N, D, label_smoothing, eps);
      break;
    case LossKind::SparseCCELogits:
      FASTNN_DISPATCH(dev, sparse_cce_logits_backward, dp, g, p, lab, N, D, label_smoothing);
      break;
    case LossKind::MAPE: FASTNN_DISPATCH(dev, mape_backward, dp, g, p, t, N, D, eps); break;
    case LossKind::MSLE: FASTNN_DISPATCH(dev, msle_backward, dp, g, p, t, N, D, eps); break;
    case LossKind::Huber: FASTNN_DISPATCH(dev, huber_backward, dp, g, p, t, N, D, prm.delta); break;
    case LossKind::LogCosh: FASTNN_DISPATCH(dev, log_cosh_backward, dp, g, p, t, N, D); break;
    case LossKind::Poisson: FASTNN_DISPATCH(dev, poisson_backward, dp, g, p, t, N, D, eps); break;
    case LossKind::KLD: FASTNN_DISPATCH(dev, kld_backward, dp, g, p, t, N, D, eps); break;
    case LossKind::Hinge: FASTNN_DISPATCH(dev, hinge_backward, dp, g, p, t, N, D); break;
    case LossKind::SquaredHinge: FASTNN_DISPATCH(dev, squared_hinge_backward, dp, g, p, t, N, D); break;
    case LossKind::Focal:
      FASTNN_DISPATCH(dev, focal_backward, dp, g, p, t, N, D, prm.gamma, prm.alpha, prm.class_balancing, eps);
      break;
    case LossKind::FocalLogits:
      FASTNN_DISPATCH(dev, focal_logits_backward, dp, g, p, t, N, D, prm.gamma, prm.alpha, prm.class_balancing);
      break;
    case LossKind::CategoricalHinge: FASTNN_DISPATCH(dev, categorical_hinge_backward, dp, g, p, t, N, D); break;
    case LossKind::Cosine: FASTNN_DISPATCH(dev, cosine_backward, dp, g, p, t, N, D, eps); break;
  }
}

}  // namespace fastnn::ops
