#include "core/parallel.h"

#include <cstdlib>

namespace fastnn {
namespace {
int initial_threads() {
#ifdef _OPENMP
  return omp_get_max_threads();  // honours OMP_NUM_THREADS
#else
  return 1;
#endif
}
int g_num_threads = initial_threads();
}  // namespace

int get_num_threads() { return g_num_threads; }
void set_num_threads(int n) { g_num_threads = n < 1 ? 1 : n; }

}  // namespace fastnn
