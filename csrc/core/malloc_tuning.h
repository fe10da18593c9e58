// Keeps large, short-lived buffers in the C heap instead of fresh mmap()s.
//
// A training step allocates and frees the same activation- and gradient-sized buffers (hundreds
// of KiB to a few MiB) every step. glibc serves blocks above M_MMAP_THRESHOLD with mmap() and
// gives freed heap tops back to the kernel above M_TRIM_THRESHOLD, so each step page-faults its
// buffers in anew: on the course CNN that was ~1,400 faults and half of the step's time. Fixing
// both thresholds keeps those buffers in the heap and reuses them. Process-wide; glibc only.
#pragma once
#include <cstddef>

namespace fastnn {

// Returns false (and changes nothing) where the C library has no mallopt.
bool tune_malloc(std::size_t mmap_threshold, std::size_t trim_threshold);

}  // namespace fastnn
