#include "core/cpu_features.h"

#include <cstdlib>

#include "core/common.h"

namespace fastnn {
namespace {
Isa detect() {
#if defined(__x86_64__) && defined(__GNUC__)
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
      __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq"))
    return Isa::AVX512;
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return Isa::AVX2;
#endif
  return Isa::Generic;
}
Isa initial_active() {
  Isa d = detect();
  if (const char* env = std::getenv("FASTNN_ISA")) {
    try {
      Isa want = isa_from_name(env);
      if ((int)want < (int)d) return want;
    } catch (const ValueError&) {
      // an unknown FASTNN_ISA value is ignored here; set_isa reports it when called
    }
  }
  return d;
}
Isa g_active = initial_active();
}  // namespace

Isa detected_isa() {
  static Isa d = detect();
  return d;
}
Isa active_isa() { return g_active; }

void set_isa(Isa isa) {
  FASTNN_CHECK((int)isa <= (int)detected_isa(), ValueError,
               "this CPU does not support " << isa_name(isa) << " (best: " << isa_name(detected_isa())
                                            << ")");
  g_active = isa;
}

const char* isa_name(Isa isa) {
  switch (isa) {
    case Isa::AVX512: return "avx512";
    case Isa::AVX2: return "avx2";
    default: return "generic";
  }
}

Isa isa_from_name(const std::string& name) {
  if (name == "avx512") return Isa::AVX512;
  if (name == "avx2") return Isa::AVX2;
  if (name == "generic") return Isa::Generic;
  throw ValueError("unknown ISA '" + name + "': expected avx512, avx2 or generic");
}

}  // namespace fastnn
