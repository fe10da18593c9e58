// The direct convolution kernels of cpu/conv_direct.h compiled for AVX2 (8 floats per ymm).
// Called only when active_isa() is AVX2 or better.
#include "cpu/conv_direct.h"

namespace fastnn::cpu::convd {

typedef float vf8 __attribute__((vector_size(32)));
typedef int32_t vi8 __attribute__((vector_size(32)));

// 16 ymm: up to 12 pixels x 1 vector or 6 pixels x 2 vectors of accumulators
Kernels avx2_kernels() { return Impl<vf8, vi8, 8, 12, 6>::kernels(); }

}  // namespace fastnn::cpu::convd
