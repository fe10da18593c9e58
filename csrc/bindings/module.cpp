// fastnn._C: the extension module. Each op family registers its bindings from its own file.
#include "bindings/common.h"
#include "core/cpu_features.h"
#include "core/malloc_tuning.h"
#include "core/parallel.h"
#include "kernels/elementwise.h"
#include "kernels/gemm.h"
#include "kernels/reduce.h"
#include "kernels/rnn.h"

#ifndef FASTNN_VERSION
#define FASTNN_VERSION "0.0.0"
#endif
#ifndef FASTNN_BUILD_TYPE
#define FASTNN_BUILD_TYPE "unknown"
#endif

namespace py = pybind11;
using namespace fastnn;

// {name: code} of an enum, from its name table in kernels/*.h: Python reads the codes from here,
// so the two sides cannot disagree on an order.
template <size_t N>
static pybind11::dict op_codes(const char* const (&names)[N]) {
  pybind11::dict d;
  for (size_t i = 0; i < N; ++i) d[names[i]] = (int)i;
  return d;
}

PYBIND11_MODULE(_C, m) {
  m.doc() = "fastnn kernels (C++ and CUDA)";
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const fastnn::TypeError& e) {
      PyErr_SetString(PyExc_TypeError, e.what());
    }
  });
  m.attr("__version__") = FASTNN_VERSION;
  m.attr("build_type") = FASTNN_BUILD_TYPE;

  m.def("get_num_threads", &get_num_threads);
  m.attr("MAX_NUM_THREADS") = max_num_threads();
  m.attr("PHYSICAL_MEMORY_BYTES") = bind::physical_memory_bytes();
  m.def("set_num_threads", [](int64_t n) {
    FASTNN_CHECK(n >= 1 && n <= max_num_threads(), ValueError,
                 "set_num_threads: n must be between 1 and " << max_num_threads()
                     << " (4 per hardware thread, at least 64), got " << n);
    set_num_threads(static_cast<int>(n));
  });
  m.def("tune_malloc", &tune_malloc, py::arg("mmap_threshold"), py::arg("trim_threshold"),
        "Fix glibc's mmap and trim thresholds (bytes); False where the C library has no mallopt.");
  m.def("detected_isa", [] { return std::string(isa_name(detected_isa())); });
  m.def("active_isa", [] { return std::string(isa_name(active_isa())); });
  m.def("set_isa", [](const std::string& name) { set_isa(isa_from_name(name)); });

  m.attr("UNARY_OPS") = op_codes(kUnaryOpNames);
  m.attr("BINARY_OPS") = op_codes(kBinaryOpNames);
  m.attr("REDUCE_OPS") = op_codes(kReduceOpNames);
  m.attr("EPILOGUE_ACTIVATIONS") = op_codes(kActivationNames);  // sgemm_ex, dense, conv2d_forward
  m.attr("RNN_ACTIVATIONS") = op_codes(kRnnActNames);           // rnn_forward / rnn_backward
  bind::bind_core(m);
  bind::bind_elementwise(m);
  bind::bind_reduce(m);
  bind::bind_loss(m);
  bind::bind_gemm(m);
  bind::bind_random(m);
  bind::bind_index(m);
  bind::bind_bench(m);
  bind::bind_optim(m);
  bind::bind_conv(m);
  bind::bind_rnn(m);
  bind::bind_pool(m);
  bind::bind_norm(m);
  bind::bind_image(m);
}
