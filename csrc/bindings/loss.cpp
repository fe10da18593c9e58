// Bindings of the fused losses. pred is seen as (N, D) (D = its last dimension); results are
// per sample, flat (N,); the Python layer reshapes to y_pred.shape[:-1] and reduces.
//   loss_forward(kind: str, pred, target, eps=1e-7, label_smoothing=0.0) -> loss (N,)
//   loss_backward(kind: str, dloss, pred, target, eps=1e-7, label_smoothing=0.0) -> dpred
// kind: "mse", "mae", "bce", "bce_logits", "cce", "cce_logits", "sparse_cce",
// "sparse_cce_logits". target has pred's shape (float32), or for the sparse kinds holds N int64
// labels in [0, D). eps is the probability clip (bce, cce, sparse_cce); label_smoothing is used
// by the categorical kinds only (binary smoothing is a target transform done in Python).
#include "ops/loss.h"

#include "bindings/common.h"

namespace fastnn::bind {

void bind_loss(py::module_& m) {
  m.def(
      "loss_forward",
      [](const std::string& kind, py::handle pred, py::handle target, float eps, float label_smoothing) {
        ops::LossKind k = ops::loss_kind(kind);
        View pv = to_view(pred, "y_pred"), tv = to_view(target, "y_true");
        int64_t N, D;
        ops::loss_sizes(k, pv, tv, N, D);
        py::object loss = empty(pv.device, DType::F32, {N});
        View lv = to_view(loss, "loss");
        py::gil_scoped_release nogil;
        ops::loss_forward(k, lv, pv, tv, eps, label_smoothing);
        return loss;
      },
      py::arg("kind"), py::arg("pred"), py::arg("target"), py::arg("eps") = 1e-7f,
      py::arg("label_smoothing") = 0.0f);
  m.def(
      "loss_backward",
      [](const std::string& kind, py::handle dloss, py::handle pred, py::handle target, float eps,
         float label_smoothing) {
        ops::LossKind k = ops::loss_kind(kind);
        View gv = to_view(dloss, "dloss", DType::F32), pv = to_view(pred, "y_pred"), tv = to_view(target, "y_true");
        py::object dpred = empty_like(pv);
        View dv = to_view(dpred, "dpred");
        py::gil_scoped_release nogil;
        ops::loss_backward(k, dv, gv, pv, tv, eps, label_smoothing);
        return dpred;
      },
      py::arg("kind"), py::arg("dloss"), py::arg("pred"), py::arg("target"), py::arg("eps") = 1e-7f,
      py::arg("label_smoothing") = 0.0f);
}

}  // namespace fastnn::bind
