// Scalar float math written so that GCC vectorises it inside FASTNN_SIMD loops: no libm calls,
// no data-dependent branches (both sides are computed and selected), bit manipulation through
// memcpy. Each function is range reduction + a polynomial, about 1-2 ulp in float, and handles
// inf, -inf, NaN, overflow, underflow and denormals like libm. glibc's expf does not vectorise
// without -ffast-math, which fastnn does not use (kernels rely on IEEE NaN semantics).
// Names: x = argument, n = integer exponent of the range reduction, r = reduced argument,
// p = polynomial value, e = exponent bits.
#pragma once
#include <cstdint>
#include <cstring>

#define FASTNN_INLINE inline __attribute__((always_inline))

namespace fastnn::vm {

FASTNN_INLINE uint32_t bits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}
FASTNN_INLINE float from_bits(uint32_t u) {
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

constexpr float kInf = __builtin_inff();
constexpr float kNaN = __builtin_nanf("");
constexpr float kLn2Hi = 0.693359375f;       // ln 2 with 9 significant bits: n * kLn2Hi is exact
constexpr float kLn2Lo = -2.12194440e-4f;    // ln 2 - kLn2Hi
constexpr float kLog2e = 1.44269504088896341f;
constexpr float kRoundMagic = 12582912.0f;   // 1.5 * 2^23: x + magic rounds x to an integer

FASTNN_INLINE float fabs(float x) { return from_bits(bits(x) & 0x7fffffffu); }
FASTNN_INLINE float copysign(float mag, float sgn) {
  return from_bits((bits(mag) & 0x7fffffffu) | (bits(sgn) & 0x80000000u));
}

// 2^n for n in [-126, 127] (a normal float built from its exponent bits).
FASTNN_INLINE float pow2i(int32_t n) { return from_bits((uint32_t)(n + 127) << 23); }

// Cody-Waite reduction x = n ln2 + r, |r| <= ln2/2 (n is round(x / ln2), also as an integer).
FASTNN_INLINE float reduce_ln2(float x, float& n, int32_t& ni) {
  float t = x * kLog2e + kRoundMagic;
  n = t - kRoundMagic;
  ni = (int32_t)(bits(t) - bits(kRoundMagic));
  float r = x - n * kLn2Hi;
  return r - n * kLn2Lo;
}

// e^x. Overflows to inf above ~88.72, reaches the denormals below ~-87.3 and 0 below ~-103.97.
FASTNN_INLINE float exp(float x) {
  // Clamp so that n stays in [-150, 128]; NaN passes (comparisons are false) and propagates.
  x = x > 88.8f ? 88.8f : x;
  x = x < -104.0f ? -104.0f : x;
  float n;
  int32_t ni;
  float r = reduce_ln2(x, n, ni);
  // Cephes expf polynomial for e^r on [-ln2/2, ln2/2].
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * (r * r) + r + 1.0f;
  // Scale by 2^n in two exact steps so that denormal results (n < -126) and n = 128 work.
  int32_t n1 = ni >> 1, n2 = ni - n1;
  return p * pow2i(n1) * pow2i(n2);
}

// e^x - 1, accurate near 0. expm1(x) = 2^n (expm1(r) + 1) - 1, evaluated as
// 2 (2^(n-1) expm1(r) + (2^(n-1) - 1/2)) so that n = 128 overflows correctly.
FASTNN_INLINE float expm1(float x) {
  float xc = x > 88.8f ? 88.8f : x;
  xc = xc < -87.0f ? -87.0f : xc;  // expm1(-87) is -1 in float; keeps 2^(n-1) normal
  float n;
  int32_t ni;
  float r = reduce_ln2(xc, n, ni);
  // Taylor series of expm1(r) = r + r^2 q(r) (|r| <= 0.35: the next term is below 1e-9 r).
  float q = 2.48015873e-5f;  // 1/8!
  q = q * r + 1.98412698e-4f;
  q = q * r + 1.38888889e-3f;
  q = q * r + 8.33333333e-3f;
  q = q * r + 4.16666667e-2f;
  q = q * r + 1.66666667e-1f;
  q = q * r + 0.5f;
  float em = r + (r * r) * q;
  float s = pow2i(ni - 1);
  float res = 2.0f * (s * em + (s - 0.5f));
  res = ni == 0 ? em : res;  // exact for |x| <= ln2/2
  return x != x ? x : res;
}

// Natural logarithm. x = m 2^e with m in [sqrt(1/2), sqrt(2)); log x = e ln2 + log m.
FASTNN_INLINE float log(float x) {
  // Denormals: scale into the normal range first.
  bool sub = x < 1.17549435e-38f;
  float xs = sub ? x * 8388608.0f : x;  // 2^23
  int32_t eadj = sub ? 23 : 0;
  uint32_t u = bits(xs);
  int32_t e = (int32_t)((u >> 23) & 0xffu) - 126 - eadj;
  float m = from_bits((u & 0x007fffffu) | 0x3f000000u);  // [0.5, 1)
  bool lo = m < 0.707106781186547524f;
  float f = lo ? (m + m) - 1.0f : m - 1.0f;
  float ef = (float)(lo ? e - 1 : e);
  // Cephes logf polynomial: log(1 + f) = f - f^2/2 + f^3 P(f).
  float z = f * f;
  float p = 7.0376836292e-2f;
  p = p * f - 1.1514610310e-1f;
  p = p * f + 1.1676998740e-1f;
  p = p * f - 1.2420140846e-1f;
  p = p * f + 1.4249322787e-1f;
  p = p * f - 1.6668057665e-1f;
  p = p * f + 2.0000714765e-1f;
  p = p * f - 2.4999993993e-1f;
  p = p * f + 3.3333331174e-1f;
  float y = p * f * z;
  y = y + ef * kLn2Lo;
  y = y - 0.5f * z;
  float res = f + y;
  res = res + ef * kLn2Hi;
  res = x == kInf ? kInf : res;
  res = x == 0.0f ? -kInf : res;
  res = x < 0.0f ? kNaN : res;
  return x != x ? x : res;
}

// log(1 + x), accurate near 0: log(u) * x / (u - 1) with u = 1 + x corrects the rounding of u.
FASTNN_INLINE float log1p(float x) {
  float u = 1.0f + x;
  float d = u - 1.0f;
  float res = log(u) * (x / d);
  res = d == 0.0f ? x : res;
  return x == kInf ? kInf : res;
}

// tanh: odd polynomial for |x| < 0.625 (Cephes tanhf), 1 - 2 / (e^2|x| + 1) above.
FASTNN_INLINE float tanh(float x) {
  float a = fabs(x);
  float z = x * x;
  float p = -5.70498872745e-3f;
  p = p * z + 2.06390887954e-2f;
  p = p * z - 5.37397155531e-2f;
  p = p * z + 1.33314422036e-1f;
  p = p * z - 3.33332819422e-1f;
  float small = p * z * x + x;
  float big = 1.0f - 2.0f / (exp(a + a) + 1.0f);  // exp overflow gives exactly 1
  big = copysign(big, x);
  return a < 0.625f ? small : big;  // NaN takes the `big` side, which is NaN
}

// 1 / (1 + e^-x) without overflow: e = e^-|x| <= 1.
FASTNN_INLINE float sigmoid(float x) {
  float e = exp(-fabs(x));
  float r = 1.0f / (1.0f + e);
  return x >= 0.0f ? r : e * r;  // NaN: e * r is NaN
}

// erf: x + x P(x^2) on |x| <= 1, 1 - e^(-x^2) R(1/|x|) on 1 < |x| < 3.92, +-1 above
// (polynomials fitted for relative error, Lawson's minimax iteration).
FASTNN_INLINE float erf(float x) {
  float a = fabs(x);
  float z = x * x;
  float p = 7.853897390139204e-05f;
  p = p * z - 8.010205616482987e-04f;
  p = p * z + 5.188329222764814e-03f;
  p = p * z - 2.68538128829892e-02f;
  p = p * z + 1.1283585177103735e-01f;
  p = p * z - 3.7612625827919277e-01f;
  p = p * z + 1.283791657280808e-01f;
  float small = x + x * p;
  float ac = a > 3.92f ? 3.92f : a;  // keeps 1 / a and e^(-a^2) tame; erf(3.92) is 1 in float
  float t = 1.0f / ac;
  float q = 0.029668794506250422f;
  q = q * t - 0.173760027718631f;
  q = q * t + 0.4234863000783019f;
  q = q * t - 0.5160914698452975f;
  q = q * t + 0.2198258675763974f;
  q = q * t + 0.24107173881609653f;
  q = q * t - 0.3798619297173654f;
  q = q * t + 0.021472547669279522f;
  q = q * t + 0.5616435464043268f;
  q = q * t + 0.00012821409633969583f;
  float big = 1.0f - exp(-(ac * ac)) * q;
  big = a >= 3.92f ? 1.0f : big;
  big = copysign(big, x);
  return a <= 1.0f ? small : (x != x ? x : big);
}

}  // namespace fastnn::vm

namespace fastnn::cpu {
// Test hook: y = fn(x) for fn in exp, expm1, log, log1p, tanh, sigmoid, erf (index in that
// order), through the same vectorised loops the kernels use. Defined in cpu/elementwise.cpp.
void vec_math_eval(int fn, float* y, const float* x, int64_t n);
}  // namespace fastnn::cpu
