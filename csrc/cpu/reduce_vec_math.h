// TEMPORARY (reduce branch): small vectorisable exp / log / log1p for the reduce and loss
// kernels, written while csrc/cpu/vec_math.h is being written in the elementwise branch.
// LEAD: at merge, replace rmath::exp_f / log_f / log1p_f with the vec_math.h functions and
// delete this file (used only by csrc/cpu/reduce.cpp and csrc/cpu/loss.cpp).
//
// Branch-free (selects only) so that GCC vectorises loops that call them; Cephes-style range
// reduction plus a polynomial, about 1 ulp over the normal range; inf and NaN handled. IEEE
// semantics, no -ffast-math needed.
#pragma once
#include <cstdint>
#include <cstring>
#include <limits>

namespace fastnn::cpu::rmath {

inline float bits_to_f(int32_t i) {
  float f;
  std::memcpy(&f, &i, 4);
  return f;
}
inline int32_t f_to_bits(float f) {
  int32_t i;
  std::memcpy(&i, &f, 4);
  return i;
}

// e^x. x = n ln2 + r, |r| <= ln2 / 2; e^r by a degree-7 polynomial; 2^n applied in two halves
// so that results down to the subnormal range come out right and overflow gives inf.
inline float exp_f(float x) {
  float xc = x > 88.8f ? 88.8f : x;
  xc = xc < -104.0f ? -104.0f : xc;  // NaN passes both selects
  const float kMagic = 12582912.0f;   // 1.5 * 2^23: adding it rounds to the nearest integer
  float nf = (xc * 1.44269504088896341f + kMagic) - kMagic;
  float r = xc - nf * 0.693359375f;
  r = r - nf * -2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * r * r + r + 1.0f;
  int32_t n = (int32_t)(x == x ? nf : 0.0f);
  int32_t n1 = n / 2, n2 = n - n1;
  float s1 = bits_to_f((n1 + 127) << 23), s2 = bits_to_f((n2 + 127) << 23);
  float y = p * s1 * s2;
  return x == x ? y : x;
}

// log(x): x = m 2^e with m in [sqrt(1/2), sqrt(2)); log(m) by the Cephes polynomial.
// log(0) = -inf, log(x < 0) = NaN, log(inf) = inf, NaN propagates; subnormals are rescaled.
inline float log_f(float x) {
  const float kMinNormal = std::numeric_limits<float>::min();
  bool sub = x < kMinNormal;
  float xs = sub ? x * 8388608.0f : x;  // 2^23
  int32_t b = f_to_bits(xs);
  int32_t e = ((b >> 23) & 0xff) - 126;
  float m = bits_to_f((b & 0x007fffff) | 0x3f000000);  // [0.5, 1)
  bool lo = m < 0.707106781186547524f;
  e = lo ? e - 1 : e;
  m = lo ? m + m - 1.0f : m - 1.0f;
  float ef = (float)e - (sub ? 23.0f : 0.0f);
  float z = m * m;
  float y = 7.0376836292e-2f;
  y = y * m - 1.1514610310e-1f;
  y = y * m + 1.1676998740e-1f;
  y = y * m - 1.2420140846e-1f;
  y = y * m + 1.4249322787e-1f;
  y = y * m - 1.6668057665e-1f;
  y = y * m + 2.0000714765e-1f;
  y = y * m - 2.4999993993e-1f;
  y = y * m + 3.3333331174e-1f;
  y = y * m * z;
  y = y + ef * -2.12194440e-4f;
  y = y - 0.5f * z;
  float r = m + y;
  r = r + ef * 0.693359375f;
  const float inf = std::numeric_limits<float>::infinity();
  r = x == inf ? inf : r;
  r = x == 0.0f ? -inf : r;
  r = x < 0.0f ? std::numeric_limits<float>::quiet_NaN() : r;
  return x == x ? r : x;
}

// log(1 + u) accurate for small u (Goldberg's trick: the rounding of 1 + u is compensated).
inline float log1p_f(float u) {
  float w = 1.0f + u;
  float d = w - 1.0f;
  float r = log_f(w) * (u / (d == 0.0f ? 1.0f : d));
  r = d == 0.0f ? u : r;
  r = w == std::numeric_limits<float>::infinity() ? w : r;
  return r;
}

}  // namespace fastnn::cpu::rmath
