#include "core/malloc_tuning.h"

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace fastnn {

bool tune_malloc(std::size_t mmap_threshold, std::size_t trim_threshold) {
#if defined(__GLIBC__)
  // Setting either value turns off glibc's dynamic threshold, so both are set together.
  return mallopt(M_MMAP_THRESHOLD, (int)mmap_threshold) == 1 && mallopt(M_TRIM_THRESHOLD, (int)trim_threshold) == 1;
#else
  (void)mmap_threshold;
  (void)trim_threshold;
  return false;
#endif
}

}  // namespace fastnn
