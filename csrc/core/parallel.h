// Thread pool control and parallel_for on OpenMP. Work is split into contiguous ranges;
// kernels that reduce must combine partial results in a fixed order that does not depend on
// the thread count (see reduce_blocks), so results are identical for any number of threads.
#pragma once
#include <algorithm>
#include <cstdint>
#ifdef _OPENMP
#include <omp.h>
#endif

namespace fastnn {

// The most threads set_num_threads accepts: 4 per hardware thread of the machine, and at least 64.
constexpr int kThreadsPerCore = 4;
constexpr int kMinThreadLimit = 64;
int max_num_threads();

int get_num_threads();
// Clamps n to [1, max_num_threads()]; the Python binding rejects values outside instead.
void set_num_threads(int n);

// Calls f(begin, end) on disjoint ranges covering [0, n); ranges hold at least `grain` items.
template <class F>
void parallel_for(int64_t n, int64_t grain, F&& f) {
  if (n <= 0) return;
  int64_t max_chunks = (n + grain - 1) / std::max<int64_t>(grain, 1);
  int nt = (int)std::min<int64_t>(get_num_threads(), max_chunks);
#ifdef _OPENMP
  // Inside another parallel region a nested team would have one thread: run serially instead
  // of handing out chunks that nobody else would take.
  if (omp_in_parallel()) nt = 1;
#endif
  if (nt <= 1) {
    f(int64_t(0), n);
    return;
  }
#ifdef _OPENMP
#pragma omp parallel num_threads(nt)
  {
    // OpenMP may give a smaller team than asked (OMP_THREAD_LIMIT, OMP_DYNAMIC, nesting):
    // split among the threads that exist so that no range is left out.
    int t = omp_get_thread_num(), team = omp_get_num_threads();
    int64_t chunk = (n + team - 1) / team;
    int64_t b = std::min<int64_t>(n, t * chunk), e = std::min<int64_t>(n, b + chunk);
    if (b < e) f(b, e);
  }
#else
  f(int64_t(0), n);
#endif
}

}  // namespace fastnn
