// The FMA-throughput probe's driver (cpu/peak.h): each OpenMP thread runs blocks of the ISA's
// accumulator loop until its time is up and reports its own rate; the rates are summed.
#include "cpu/peak.h"

#include <chrono>

#include "core/common.h"
#ifdef _OPENMP
#include <omp.h>
#endif

namespace fastnn::cpu {
namespace {

using Clock = std::chrono::steady_clock;
constexpr int64_t kBlockIters = 1 << 16;  // ~0.2 ms per block at one zmm FMA per cycle, 4 GHz
volatile float g_sink;                    // keeps the accumulators' results observable

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

// GFLOP/s of this thread: an unmeasured warm-up of a tenth of the time, then whole blocks until
// `seconds` have passed.
double run_one(float (*block)(int64_t, float), double flop_per_iter, double seconds, float seed) {
  float sink = 0.f;
  auto w0 = Clock::now();
  do sink += block(kBlockIters, seed);
  while (seconds_since(w0) < 0.1 * seconds);
  int64_t iters = 0;
  auto t0 = Clock::now();
  double dt;
  do {
    sink += block(kBlockIters, seed);
    iters += kBlockIters;
  } while ((dt = seconds_since(t0)) < seconds);
  g_sink = sink;
  return (double)iters * flop_per_iter / dt * 1e-9;
}

}  // namespace

double fma_peak(Isa isa, double seconds, int threads) {
  FASTNN_CHECK(isa != Isa::Generic, ValueError,
               "fma_peak: there is no FMA probe for 'generic'; expected 'avx512' or 'avx2'");
  FASTNN_CHECK((int)isa <= (int)detected_isa(), ValueError,
               "fma_peak: this CPU does not support " << isa_name(isa) << " (best: "
                                                      << isa_name(detected_isa()) << ")");
  FASTNN_CHECK(seconds > 0 && seconds <= 60, ValueError,
               "fma_peak: seconds must be in (0, 60], got " << seconds);
  FASTNN_CHECK(threads >= 1 && threads <= 4096, ValueError,
               "fma_peak: threads must be in [1, 4096], got " << threads);
  float (*block)(int64_t, float) = nullptr;
  double flop = 0;
  if (isa == Isa::AVX512) {
    block = fma_block_avx512;
    flop = kFmaFlopPerIterAvx512;
  } else {
    block = fma_block_avx2;
    flop = kFmaFlopPerIterAvx2;
  }
  double total = 0;
#ifdef _OPENMP
#pragma omp parallel num_threads(threads) reduction(+ : total)
  total += run_one(block, flop, seconds, 1.0f + 0.001f * (float)omp_get_thread_num());
#else
  for (int t = 0; t < threads; ++t) total += run_one(block, flop, seconds, 1.0f);
#endif
  return total;
}

}  // namespace fastnn::cpu
