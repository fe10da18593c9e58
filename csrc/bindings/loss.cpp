// Bindings of the fused losses. pred is seen as (N, D) (D = its last dimension); results are
// per sample, flat (N,); the Python layer reshapes to y_pred.shape[:-1] and reduces.
//   loss_forward(kind: str, pred, target, eps=1e-7, label_smoothing=0.0, delta=1.0, gamma=2.0,
//                alpha=0.25, class_balancing=False) -> loss (N,)
//   loss_backward(kind: str, dloss, pred, target, <the same keywords>) -> dpred
// kind: "mse", "mae", "bce", "bce_logits", "cce", "cce_logits", "sparse_cce",
// "sparse_cce_logits", "mape", "msle", "huber", "log_cosh", "poisson", "kld", "hinge",
// "squared_hinge", "focal", "focal_logits", "categorical_hinge", "cosine". target has pred's
// shape (float32), or for the sparse kinds holds N int64 labels in [0, D). eps is the
// probability clip / division guard; label_smoothing is used by the categorical kinds only
// (binary smoothing and the hinge label conversion are target transforms done in Python);
// delta by huber; gamma, alpha, class_balancing by the focal kinds.
#include "ops/loss.h"

#include "bindings/common.h"

namespace fastnn::bind {

static ops::LossParams params(float eps, float label_smoothing, float delta, float gamma, float alpha,
                              bool class_balancing) {
  ops::LossParams p;
  p.eps = eps, p.label_smoothing = label_smoothing, p.delta = delta, p.gamma = gamma, p.alpha = alpha;
  p.class_balancing = class_balancing;
  return p;
}

void bind_loss(py::module_& m) {
  m.def(
      "loss_forward",
      [](const std::string& kind, py::handle pred, py::handle target, float eps, float label_smoothing, float delta,
         float gamma, float alpha, bool class_balancing) {
        const ops::LossParams prm = params(eps, label_smoothing, delta, gamma, alpha, class_balancing);
        ops::LossKind k = ops::loss_kind(kind);
        View pv = to_view(pred, "y_pred"), tv = to_view(target, "y_true");
        int64_t N, D;
        ops::loss_sizes(k, pv, tv, N, D);
        py::object loss = empty(pv.device, DType::F32, {N});
        View lv = to_view(loss, "loss");
        py::gil_scoped_release nogil;
        ops::loss_forward(k, lv, pv, tv, prm);
        return loss;
      },
      py::arg("kind"), py::arg("pred"), py::arg("target"), py::arg("eps") = 1e-7f, py::arg("label_smoothing") = 0.0f,
      py::arg("delta") = 1.0f, py::arg("gamma") = 2.0f, py::arg("alpha") = 0.25f, py::arg("class_balancing") = false);
  m.def(
      "loss_backward",
      [](const std::string& kind, py::handle dloss, py::handle pred, py::handle target, float eps,
         float label_smoothing, float delta, float gamma, float alpha, bool class_balancing) {
        const ops::LossParams prm = params(eps, label_smoothing, delta, gamma, alpha, class_balancing);
        ops::LossKind k = ops::loss_kind(kind);
        View gv = to_view(dloss, "dloss", DType::F32), pv = to_view(pred, "y_pred"), tv = to_view(target, "y_true");
        py::object dpred = empty_like(pv);
        View dv = to_view(dpred, "dpred");
        py::gil_scoped_release nogil;
        ops::loss_backward(k, dv, gv, pv, tv, prm);
        return dpred;
      },
      py::arg("kind"), py::arg("dloss"), py::arg("pred"), py::arg("target"), py::arg("eps") = 1e-7f,
      py::arg("label_smoothing") = 0.0f, py::arg("delta") = 1.0f, py::arg("gamma") = 2.0f, py::arg("alpha") = 0.25f,
      py::arg("class_balancing") = false);
}

}  // namespace fastnn::bind
