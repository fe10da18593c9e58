// CPUID-based selection of the SIMD level. Hand-written intrinsic kernels (GEMM) switch on
// active_isa(); FASTNN_ISA=avx512|avx2|generic (or set_isa) forces a lower level, for tests.
#pragma once
#include <string>

namespace fastnn {

enum class Isa : int { Generic = 0, AVX2 = 1, AVX512 = 2 };

Isa detected_isa();         // best level this CPU (and OS) supports
Isa active_isa();           // level in use: detected, capped by FASTNN_ISA / set_isa
void set_isa(Isa isa);      // throws ValueError if the CPU lacks it
const char* isa_name(Isa isa);
Isa isa_from_name(const std::string& name);  // throws ValueError on unknown names

}  // namespace fastnn
