// The direct convolution kernels of cpu/conv_direct.h compiled for AVX-512 (16 floats per zmm).
// Called only when active_isa() is AVX512.
#include "cpu/conv_direct.h"

namespace fastnn::cpu::convd {

typedef float vf16 __attribute__((vector_size(64)));
typedef int32_t vi16 __attribute__((vector_size(64)));

// 32 zmm: up to 12 pixels x 2 vectors (24 accumulators) or 16 pixels x 1 vector
Kernels avx512_kernels() { return Impl<vf16, vi16, 16, 16, 12>::kernels(); }

}  // namespace fastnn::cpu::convd
