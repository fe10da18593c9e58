// Bindings of the fused optimizer updates (kernels/optim.h). Every update works in place on the
// storage arrays it is given (NumPy arrays on the CPU, DeviceArray on CUDA): the variable and
// its slots are written, the gradient only read. Optional slots are None when the option is off.
// The last three arguments are the gradient preparation and weight decay of UpdatePrep:
// grad_scale (clipnorm / global_clipnorm), clip_value (clipvalue; inf when unset) and
// decay (weight_decay * learning_rate; 0 when unset).
#include "ops/optim.h"

#include "bindings/common.h"

namespace fastnn::bind {

namespace {

struct OptView {  // a View that may be absent (None)
  View v;
  bool has = false;
  const View* get() const { return has ? &v : nullptr; }
};

// A float32 array that the update writes: a read-only NumPy array is refused.
View out_view(py::handle obj, const char* arg) { return to_out_view(obj, arg, DType::F32); }

OptView optional_out_view(py::handle obj, const char* arg) {
  OptView o;
  if (!obj.is_none()) {
    o.v = out_view(obj, arg);
    o.has = true;
  }
  return o;
}

UpdatePrep make_prep(float grad_scale, float clip_value, float decay) {
  UpdatePrep p;
  p.grad_scale = grad_scale;
  p.clip_value = clip_value;
  p.decay = decay;
  return p;
}

}  // namespace

void bind_optim(py::module_& m) {
  m.def("sgd_update", [](py::handle w, py::handle v, py::handle g, float lr, float momentum, bool nesterov,
                         float grad_scale, float clip_value, float decay) {
    View wv = out_view(w, "variable"), gv = to_view(g, "gradient", DType::F32);
    OptView vv = optional_out_view(v, "momentum");
    check_disjoint("sgd_update", {{&wv, "variable"}, {vv.get(), "momentum"}}, {{&gv, "gradient"}});
    py::gil_scoped_release nogil;
    ops::sgd_update(wv, vv.get(), gv, lr, momentum, nesterov, make_prep(grad_scale, clip_value, decay));
  }, py::arg("w"), py::arg("v"), py::arg("g"), py::arg("lr"), py::arg("momentum"), py::arg("nesterov"),
     py::arg("grad_scale"), py::arg("clip_value"), py::arg("decay"));

  m.def("adagrad_update", [](py::handle w, py::handle a, py::handle g, float lr, float eps, float grad_scale,
                             float clip_value, float decay) {
    View wv = out_view(w, "variable"), av = out_view(a, "accumulator"),
         gv = to_view(g, "gradient", DType::F32);
    check_disjoint("adagrad_update", {{&wv, "variable"}, {&av, "accumulator"}}, {{&gv, "gradient"}});
    py::gil_scoped_release nogil;
    ops::adagrad_update(wv, av, gv, lr, eps, make_prep(grad_scale, clip_value, decay));
  }, py::arg("w"), py::arg("a"), py::arg("g"), py::arg("lr"), py::arg("epsilon"), py::arg("grad_scale"),
     py::arg("clip_value"), py::arg("decay"));

  m.def("rmsprop_update", [](py::handle w, py::handle v, py::handle mom, py::handle ga, py::handle g, float lr,
                             float rho, float momentum, float eps, float grad_scale, float clip_value, float decay) {
    View wv = out_view(w, "variable"), vv = out_view(v, "velocity"),
         gv = to_view(g, "gradient", DType::F32);
    OptView mv = optional_out_view(mom, "momentum"), gav = optional_out_view(ga, "average_gradient");
    check_disjoint("rmsprop_update",
                   {{&wv, "variable"}, {&vv, "velocity"}, {mv.get(), "momentum"}, {gav.get(), "average_gradient"}},
                   {{&gv, "gradient"}});
    py::gil_scoped_release nogil;
    ops::rmsprop_update(wv, vv, mv.get(), gav.get(), gv, lr, rho, momentum, eps,
                        make_prep(grad_scale, clip_value, decay));
  }, py::arg("w"), py::arg("v"), py::arg("mom"), py::arg("ga"), py::arg("g"), py::arg("lr"), py::arg("rho"),
     py::arg("momentum"), py::arg("epsilon"), py::arg("grad_scale"), py::arg("clip_value"), py::arg("decay"));

  // alpha = lr * sqrt(1 - beta2^t) / (1 - beta1^t), t = iterations + 1 (computed by the caller).
  m.def("adam_update", [](py::handle w, py::handle mo, py::handle v, py::handle vh, py::handle g, float alpha,
                          float beta1, float beta2, float eps, float grad_scale, float clip_value, float decay) {
    View wv = out_view(w, "variable"), mv = out_view(mo, "momentum"),
         vv = out_view(v, "velocity"), gv = to_view(g, "gradient", DType::F32);
    OptView hv = optional_out_view(vh, "velocity_hat");
    check_disjoint("adam_update",
                   {{&wv, "variable"}, {&mv, "momentum"}, {&vv, "velocity"}, {hv.get(), "velocity_hat"}},
                   {{&gv, "gradient"}});
    py::gil_scoped_release nogil;
    ops::adam_update(wv, mv, vv, hv.get(), gv, alpha, beta1, beta2, eps, make_prep(grad_scale, clip_value, decay));
  }, py::arg("w"), py::arg("m"), py::arg("v"), py::arg("vh"), py::arg("g"), py::arg("alpha"), py::arg("beta_1"),
     py::arg("beta_2"), py::arg("epsilon"), py::arg("grad_scale"), py::arg("clip_value"), py::arg("decay"));

  // lr_t = lr / (1 - beta1^t)
  m.def("adamax_update", [](py::handle w, py::handle mo, py::handle u, py::handle g, float lr_t, float beta1,
                            float beta2, float eps, float grad_scale, float clip_value, float decay) {
    View wv = out_view(w, "variable"), mv = out_view(mo, "momentum"), uv = out_view(u, "norm"),
         gv = to_view(g, "gradient", DType::F32);
    check_disjoint("adamax_update", {{&wv, "variable"}, {&mv, "momentum"}, {&uv, "norm"}}, {{&gv, "gradient"}});
    py::gil_scoped_release nogil;
    ops::adamax_update(wv, mv, uv, gv, lr_t, beta1, beta2, eps, make_prep(grad_scale, clip_value, decay));
  }, py::arg("w"), py::arg("m"), py::arg("u"), py::arg("g"), py::arg("lr_t"), py::arg("beta_1"), py::arg("beta_2"),
     py::arg("epsilon"), py::arg("grad_scale"), py::arg("clip_value"), py::arg("decay"));

  // cm, cg, cv: the per-step scalars of kernels/optim.h (computed by the caller)
  m.def("nadam_update", [](py::handle w, py::handle mo, py::handle v, py::handle g, float lr, float beta1,
                           float beta2, float eps, float cm, float cg, float cv, float grad_scale, float clip_value,
                           float decay) {
    View wv = out_view(w, "variable"), mv = out_view(mo, "momentum"), vv = out_view(v, "velocity"),
         gv = to_view(g, "gradient", DType::F32);
    check_disjoint("nadam_update", {{&wv, "variable"}, {&mv, "momentum"}, {&vv, "velocity"}}, {{&gv, "gradient"}});
    py::gil_scoped_release nogil;
    ops::nadam_update(wv, mv, vv, gv, lr, beta1, beta2, eps, cm, cg, cv, make_prep(grad_scale, clip_value, decay));
  }, py::arg("w"), py::arg("m"), py::arg("v"), py::arg("g"), py::arg("lr"), py::arg("beta_1"), py::arg("beta_2"),
     py::arg("epsilon"), py::arg("cm"), py::arg("cg"), py::arg("cv"), py::arg("grad_scale"), py::arg("clip_value"),
     py::arg("decay"));

  m.def("adadelta_update", [](py::handle w, py::handle ag, py::handle ad, py::handle g, float lr, float rho,
                              float eps, float grad_scale, float clip_value, float decay) {
    View wv = out_view(w, "variable"), agv = out_view(ag, "accumulated_grad"),
         adv = out_view(ad, "accumulated_delta_var"), gv = to_view(g, "gradient", DType::F32);
    check_disjoint("adadelta_update",
                   {{&wv, "variable"}, {&agv, "accumulated_grad"}, {&adv, "accumulated_delta_var"}},
                   {{&gv, "gradient"}});
    py::gil_scoped_release nogil;
    ops::adadelta_update(wv, agv, adv, gv, lr, rho, eps, make_prep(grad_scale, clip_value, decay));
  }, py::arg("w"), py::arg("ag"), py::arg("ad"), py::arg("g"), py::arg("lr"), py::arg("rho"), py::arg("epsilon"),
     py::arg("grad_scale"), py::arg("clip_value"), py::arg("decay"));

  // Row-sparse gradients: the same updates with (indices, values) in place of g, indices sorted
  // and unique (row_coalesce's output); rows not listed see g = 0 (kernels/optim.h).
  m.def("sgd_update_sparse", [](py::handle w, py::handle v, py::handle idx, py::handle vals, float lr,
                                float momentum, bool nesterov, float grad_scale, float clip_value, float decay) {
    View wv = out_view(w, "variable"), iv = to_view(idx, "indices", DType::I64),
         gv = to_view(vals, "values", DType::F32);
    OptView vv = optional_out_view(v, "momentum");
    check_disjoint("sgd_update_sparse",
                   {{&wv, "variable"}, {vv.get(), "momentum"}}, {{&iv, "indices"},
                   {&gv, "values"}});
    py::gil_scoped_release nogil;
    ops::sgd_update_sparse(wv, vv.get(), iv, gv, lr, momentum, nesterov, make_prep(grad_scale, clip_value, decay));
  }, py::arg("w"), py::arg("v"), py::arg("indices"), py::arg("values"), py::arg("lr"), py::arg("momentum"),
     py::arg("nesterov"), py::arg("grad_scale"), py::arg("clip_value"), py::arg("decay"));

  m.def("adagrad_update_sparse", [](py::handle w, py::handle a, py::handle idx, py::handle vals, float lr, float eps,
                                    float grad_scale, float clip_value, float decay) {
    View wv = out_view(w, "variable"), av = out_view(a, "accumulator"), iv = to_view(idx, "indices", DType::I64),
         gv = to_view(vals, "values", DType::F32);
    check_disjoint("adagrad_update_sparse",
                   {{&wv, "variable"}, {&av, "accumulator"}}, {{&iv, "indices"},
                   {&gv, "values"}});
    py::gil_scoped_release nogil;
    ops::adagrad_update_sparse(wv, av, iv, gv, lr, eps, make_prep(grad_scale, clip_value, decay));
  }, py::arg("w"), py::arg("a"), py::arg("indices"), py::arg("values"), py::arg("lr"), py::arg("epsilon"),
     py::arg("grad_scale"), py::arg("clip_value"), py::arg("decay"));

  m.def("rmsprop_update_sparse", [](py::handle w, py::handle v, py::handle mom, py::handle ga, py::handle idx,
                                    py::handle vals, float lr, float rho, float momentum, float eps, float grad_scale,
                                    float clip_value, float decay) {
    View wv = out_view(w, "variable"), vv = out_view(v, "velocity"), iv = to_view(idx, "indices", DType::I64),
         gv = to_view(vals, "values", DType::F32);
    OptView mv = optional_out_view(mom, "momentum"), gav = optional_out_view(ga, "average_gradient");
    check_disjoint("rmsprop_update_sparse",
                   {{&wv, "variable"}, {&vv, "velocity"}, {mv.get(), "momentum"}, {gav.get(), "average_gradient"}},
                   {{&iv, "indices"}, {&gv, "values"}});
    py::gil_scoped_release nogil;
    ops::rmsprop_update_sparse(wv, vv, mv.get(), gav.get(), iv, gv, lr, rho, momentum, eps,
                               make_prep(grad_scale, clip_value, decay));
  }, py::arg("w"), py::arg("v"), py::arg("mom"), py::arg("ga"), py::arg("indices"), py::arg("values"), py::arg("lr"),
     py::arg("rho"), py::arg("momentum"), py::arg("epsilon"), py::arg("grad_scale"), py::arg("clip_value"),
     py::arg("decay"));

  m.def("adam_update_sparse", [](py::handle w, py::handle mo, py::handle v, py::handle vh, py::handle idx,
                                 py::handle vals, float alpha, float beta1, float beta2, float eps, float grad_scale,
                                 float clip_value, float decay) {
    View wv = out_view(w, "variable"), mv = out_view(mo, "momentum"), vv = out_view(v, "velocity"),
         iv = to_view(idx, "indices", DType::I64), gv = to_view(vals, "values", DType::F32);
    OptView hv = optional_out_view(vh, "velocity_hat");
    check_disjoint("adam_update_sparse",
                   {{&wv, "variable"}, {&mv, "momentum"}, {&vv, "velocity"}, {hv.get(), "velocity_hat"}},
                   {{&iv, "indices"}, {&gv, "values"}});
    py::gil_scoped_release nogil;
    ops::adam_update_sparse(wv, mv, vv, hv.get(), iv, gv, alpha, beta1, beta2, eps,
                            make_prep(grad_scale, clip_value, decay));
  }, py::arg("w"), py::arg("m"), py::arg("v"), py::arg("vh"), py::arg("indices"), py::arg("values"), py::arg("alpha"),
     py::arg("beta_1"), py::arg("beta_2"), py::arg("epsilon"), py::arg("grad_scale"), py::arg("clip_value"),
     py::arg("decay"));

  m.def("adamax_update_sparse", [](py::handle w, py::handle mo, py::handle u, py::handle idx, py::handle vals,
                                   float lr_t, float beta1, float beta2, float eps, float grad_scale, float clip_value,
                                   float decay) {
    View wv = out_view(w, "variable"), mv = out_view(mo, "momentum"), uv = out_view(u, "norm"),
         iv = to_view(idx, "indices", DType::I64), gv = to_view(vals, "values", DType::F32);
    check_disjoint("adamax_update_sparse",
                   {{&wv, "variable"}, {&mv, "momentum"}, {&uv, "norm"}}, {{&iv, "indices"},
                   {&gv, "values"}});
    py::gil_scoped_release nogil;
    ops::adamax_update_sparse(wv, mv, uv, iv, gv, lr_t, beta1, beta2, eps, make_prep(grad_scale, clip_value, decay));
  }, py::arg("w"), py::arg("m"), py::arg("u"), py::arg("indices"), py::arg("values"), py::arg("lr_t"),
     py::arg("beta_1"), py::arg("beta_2"), py::arg("epsilon"), py::arg("grad_scale"), py::arg("clip_value"),
     py::arg("decay"));

  m.def("nadam_update_sparse", [](py::handle w, py::handle mo, py::handle v, py::handle idx, py::handle vals,
                                  float lr, float beta1, float beta2, float eps, float cm, float cg, float cv,
                                  float grad_scale, float clip_value, float decay) {
    View wv = out_view(w, "variable"), mv = out_view(mo, "momentum"), vv = out_view(v, "velocity"),
         iv = to_view(idx, "indices", DType::I64), gv = to_view(vals, "values", DType::F32);
    check_disjoint("nadam_update_sparse",
                   {{&wv, "variable"}, {&mv, "momentum"}, {&vv, "velocity"}}, {{&iv, "indices"},
                   {&gv, "values"}});
    py::gil_scoped_release nogil;
    ops::nadam_update_sparse(wv, mv, vv, iv, gv, lr, beta1, beta2, eps, cm, cg, cv,
                             make_prep(grad_scale, clip_value, decay));
  }, py::arg("w"), py::arg("m"), py::arg("v"), py::arg("indices"), py::arg("values"), py::arg("lr"),
     py::arg("beta_1"), py::arg("beta_2"), py::arg("epsilon"), py::arg("cm"), py::arg("cg"), py::arg("cv"),
     py::arg("grad_scale"), py::arg("clip_value"), py::arg("decay"));

  m.def("adadelta_update_sparse", [](py::handle w, py::handle ag, py::handle ad, py::handle idx, py::handle vals,
                                     float lr, float rho, float eps, float grad_scale, float clip_value, float decay) {
    View wv = out_view(w, "variable"), agv = out_view(ag, "accumulated_grad"),
         adv = out_view(ad, "accumulated_delta_var"), iv = to_view(idx, "indices", DType::I64),
         gv = to_view(vals, "values", DType::F32);
    check_disjoint("adadelta_update_sparse",
                   {{&wv, "variable"}, {&agv, "accumulated_grad"}, {&adv, "accumulated_delta_var"}}, {{&iv, "indices"},
                   {&gv, "values"}});
    py::gil_scoped_release nogil;
    ops::adadelta_update_sparse(wv, agv, adv, iv, gv, lr, rho, eps, make_prep(grad_scale, clip_value, decay));
  }, py::arg("w"), py::arg("ag"), py::arg("ad"), py::arg("indices"), py::arg("values"), py::arg("lr"),
     py::arg("rho"), py::arg("epsilon"), py::arg("grad_scale"), py::arg("clip_value"), py::arg("decay"));

  // sum(x^2) in double: the squared L2 norm used by clipnorm and global_clipnorm.
  m.def("sum_squares", [](py::handle x) {
    View xv = to_view(x, "x", DType::F32);
    py::gil_scoped_release nogil;
    return ops::sum_squares(xv);
  }, py::arg("x"));
}

}  // namespace fastnn::bind
