// Machine probes for the benchmark harness (python/fastnn/bench/): the FMA-throughput peak.
#include "bindings/common.h"
#include "core/cpu_features.h"
#include "cpu/peak.h"

namespace fastnn::bind {

void bind_bench(py::module_& m) {
  m.def(
      "fma_peak",
      [](const std::string& isa, double seconds, int threads) {
        Isa want = isa_from_name(isa);
        py::gil_scoped_release nogil;
        return cpu::fma_peak(want, seconds, threads);
      },
      py::arg("isa"), py::arg("seconds") = 0.2, py::arg("threads") = 1,
      "Single-precision FMA throughput in GFLOP/s: `threads` OpenMP threads each run 12 "
      "independent FMA accumulator chains ('avx512': zmm, 'avx2': ymm) for about `seconds`; "
      "the per-thread rates are summed. ValueError when the CPU lacks the ISA.");
}

}  // namespace fastnn::bind
