#include "core/parallel.h"

#include <algorithm>
#include <thread>

namespace fastnn {
namespace {
int initial_threads() {
#ifdef _OPENMP
  // honours OMP_NUM_THREADS, within the same limit as set_num_threads
  return std::clamp(omp_get_max_threads(), 1, max_num_threads());
#else
  return 1;
#endif
}
int g_num_threads = initial_threads();
}  // namespace

int max_num_threads() {
  // The machine's hardware threads, not this process's affinity mask: oversubscribing a
  // container limited to a few cores is legitimate (benchmarks do it), asking for 100,000
  // threads is not (libgomp then fails to create them and aborts or crashes the process).
  static const int limit = [] {
    unsigned hw = std::thread::hardware_concurrency();
    return std::max(kMinThreadLimit, kThreadsPerCore * static_cast<int>(std::min(hw, 1u << 20)));
  }();
  return limit;
}

int get_num_threads() { return g_num_threads; }
void set_num_threads(int n) { g_num_threads = std::clamp(n, 1, max_num_threads()); }

}  // namespace fastnn
