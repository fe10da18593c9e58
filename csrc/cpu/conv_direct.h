// Direct (no im2col) convolution kernels for the shapes where im2col + GEMM wastes most of the
// micro-kernel: few output channels (LeNet's 6) and output channels that are one or two SIMD
// vectors wide (16, 32). Templates on the vector type, instantiated in cpu/conv_avx512.cpp and
// cpu/conv_avx2.cpp (each compiled for its ISA) and picked by cpu/conv.cpp after a CPUID check.
//
// Planar kernels vectorise over output columns: the image is first copied per channel into
// zero-padded planes (rows ld floats apart), so every tap is a run of contiguous loads whatever
// the padding; the accumulators are (output channel x column vector). They need stride 1 and
// dilation 1 along the width. The OC kernel vectorises over output channels: a block of R output
// pixels of one row times OC / VW vectors, the input broadcast from the (padded) image, i.e. an
// implicit GEMM that reads the image in place.
//
// Every output is one fixed sequence of operations (no thread count or block split enters), so
// results are the same for any number of threads.
#pragma once
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <utility>

#include "cpu/vec_math.h"
#include "kernels/gemm.h"

namespace fastnn::cpu::convd {

// One image in planes: channel c, padded row r, padded column j at xd[c * plane + r * ld + j];
// output pixel (oh, ow) at tap (kh, kw) reads row oh * sh + kh * dh, column ow + kw.
struct Planar {
  const float* xd;
  int64_t plane, ld;
  int64_t C, OC, OH, OW, KH, KW, sh, dh;
  const float* w;  // Keras (KH, KW, C, OC)
  int64_t r0, r1;  // rows [r0, r1) hold pixels; taps on the other (zero) rows are skipped
};

// One channels_last image, padded: pixel (r, j) channel c at x[r * ldr + j * C + c]; output pixel
// (oh, ow) at tap (kh, kw) reads pixel (oh * sh + kh * dh, ow * sw + kw * dw).
struct Implicit {
  const float* x;
  int64_t ldr;
  int64_t C, OC, OH, OW, KH, KW, sh, sw, dh, dw;
  const float* w;  // Keras (KH, KW, C, OC)
};

struct Kernels {
  int vw = 0;       // floats per vector; 0: no direct kernels on this ISA
  int planar_oc = 0;  // the planar kernels take OC <= planar_oc
  int oc_vectors = 0;  // the OC kernel takes OC == v * vw for v in [1, oc_vectors]
  // y (OH x OW x OC, channels_last) = act(conv + bias)
  void (*planar_forward)(float* y, const Planar& p, const float* bias, Activation act) = nullptr;
  // dw (KH, KW, C, OC) and db (OC, or null: not computed) of one image: dy in planes
  // dyt[o * dplane + oh * dld + ow], columns from OW to the next multiple of vw zero
  void (*planar_weight)(float* dw, float* db, const Planar& p, const float* dyt, int64_t dld,
                        int64_t dplane) = nullptr;
  void (*oc_forward)(float* y, const Implicit& q, const float* bias, Activation act) = nullptr;
  // dw (KH, KW, C, OC) and db (OC, or null) of one image from its dy (OH x OW x OC)
  void (*oc_weight)(float* dw, float* db, const Implicit& q, const float* dy) = nullptr;
  // columns per planar forward block for this OC and OW (the padded planes must cover them)
  int (*planar_block)(int64_t OC, int64_t OW) = nullptr;
};
Kernels avx512_kernels();  // cpu/conv_avx512.cpp
Kernels avx2_kernels();    // cpu/conv_avx2.cpp

// V: a GCC vector of VW floats, VI of VW int32; RMAX: most pixels per OC-kernel block for 1 and
// 2 vectors.
template <class V, class VI, int VW, int RMAX1, int RMAX2>
struct Impl {
  static_assert(sizeof(V) == VW * sizeof(float) && sizeof(VI) == sizeof(V), "V holds VW floats");

  static inline __attribute__((always_inline)) V load(const float* p) {
    V v;
    std::memcpy(&v, p, sizeof v);
    return v;
  }
  static inline __attribute__((always_inline)) void store(float* p, V v) { std::memcpy(p, &v, sizeof v); }
  // sigmoid / tanh of n floats, one loop per function so that each vectorises
  static void activate_rows(float* v, int64_t n, Activation act) {
    if (act == Activation::Sigmoid)
      for (int64_t i = 0; i < n; ++i) v[i] = vm::sigmoid(v[i]);
    else
      for (int64_t i = 0; i < n; ++i) v[i] = vm::tanh(v[i]);
  }
  // lanes added in a fixed tree
  static inline float hsum(V v) {
    float a[VW];
    std::memcpy(a, &v, sizeof v);
    for (int w = VW / 2; w >= 1; w /= 2)
      for (int j = 0; j < w; ++j) a[j] += a[j + w];
    return a[0];
  }

  // ------------------------------------------------------------ planar forward
  template <int OC, int NB>
  static void planar_fwd(float* y, const Planar& p, const float* bias, Activation act) {
    constexpr int BW = NB * VW;
    alignas(64) float tmp[OC][BW];
    for (int64_t oh = 0; oh < p.OH; ++oh) {
      for (int64_t ow0 = 0; ow0 < p.OW; ow0 += BW) {
        V acc[OC][NB];
        for (int o = 0; o < OC; ++o)
          for (int b = 0; b < NB; ++b) acc[o][b] = V{};
        for (int64_t c = 0; c < p.C; ++c) {
          for (int64_t kh = 0; kh < p.KH; ++kh) {
            const int64_t r = oh * p.sh + kh * p.dh;
            if (r < p.r0 || r >= p.r1) continue;
            const float* row = p.xd + c * p.plane + r * p.ld + ow0;
            const float* wk = p.w + (kh * p.KW * p.C + c) * OC;
            for (int64_t kw = 0; kw < p.KW; ++kw) {
              V xv[NB];
              for (int b = 0; b < NB; ++b) xv[b] = load(row + kw + b * VW);
              const float* wt = wk + kw * p.C * OC;
              for (int o = 0; o < OC; ++o) {
                const float wo = wt[o];
                for (int b = 0; b < NB; ++b) acc[o][b] += xv[b] * wo;
              }
            }
          }
        }
        for (int o = 0; o < OC; ++o)
          for (int b = 0; b < NB; ++b) {
            V t = acc[o][b];
            if (bias) t += bias[o];
            if (act == Activation::Relu) t = t < 0.0f ? V{} : t;  // NaN passes
            store(&tmp[o][b * VW], t);
          }
        if (act == Activation::Sigmoid || act == Activation::Tanh) activate_rows(&tmp[0][0], OC * BW, act);
        // columns to channels_last pixels
        const int64_t n = std::min<int64_t>(BW, p.OW - ow0);
        float* yr = y + (oh * p.OW + ow0) * OC;
        for (int64_t i = 0; i < n; ++i)
          for (int o = 0; o < OC; ++o) yr[i * OC + o] = tmp[o][i];
      }
    }
  }

  // ------------------------------------------------------------ planar weight gradient
  template <int OC>
  static void planar_wt(float* dw, float* db, const Planar& p, const float* dyt, int64_t dld,
                        int64_t dplane) {
    const int64_t nv = (p.OW + VW - 1) / VW, rem = p.OW - (nv - 1) * VW;
    if (db) {
      V acc[OC];
      for (int o = 0; o < OC; ++o) acc[o] = V{};
      for (int64_t oh = 0; oh < p.OH; ++oh)
        for (int64_t v = 0; v < nv; ++v)
          for (int o = 0; o < OC; ++o) acc[o] += load(dyt + o * dplane + oh * dld + v * VW);
      for (int o = 0; o < OC; ++o) db[o] = hsum(acc[o]);
    }
    VI lane;
    for (int l = 0; l < VW; ++l) lane[l] = l;
    const VI keep = lane < (int32_t)rem;  // the last vector's columns inside the output
    for (int64_t kh = 0; kh < p.KH; ++kh) {
      for (int64_t kw = 0; kw < p.KW; ++kw) {
        for (int64_t c = 0; c < p.C; ++c) {
          V acc[OC];
          for (int o = 0; o < OC; ++o) acc[o] = V{};
          // the outputs whose row for this tap holds pixels
          const int64_t rk = kh * p.dh;
          const int64_t lo = p.r0 > rk ? (p.r0 - rk + p.sh - 1) / p.sh : 0;
          const int64_t hi = p.r1 > rk ? std::min(p.OH, (p.r1 - rk + p.sh - 1) / p.sh) : 0;
          for (int64_t oh = lo; oh < hi; ++oh) {
            const float* xr = p.xd + c * p.plane + (oh * p.sh + rk) * p.ld + kw;
            const float* dr = dyt + oh * dld;
            for (int64_t v = 0; v < nv; ++v) {
              V xv = load(xr + v * VW);
              // columns past the output read real pixels that no output uses: zero them, so
              // an infinite pixel there cannot turn 0 * inf into NaN
              if (v == nv - 1) xv = keep ? xv : V{};
              for (int o = 0; o < OC; ++o) acc[o] += xv * load(dr + o * dplane + v * VW);
            }
          }
          float* d = dw + ((kh * p.KW + kw) * p.C + c) * OC;
          for (int o = 0; o < OC; ++o) d[o] = hsum(acc[o]);
        }
      }
    }
  }

  // ------------------------------------------------------------ OC-vectorised forward
  // R output pixels of one row (the first at xb's window origin) times NV vectors of channels.
  template <int R, int NV>
  static void oc_block(float* yo, const Implicit& q, const float* xb, const float* bias,
                       Activation act) {
    constexpr int OC = NV * VW;
    V acc[R][NV];
    for (int r = 0; r < R; ++r)
      for (int v = 0; v < NV; ++v) acc[r][v] = V{};
    const int64_t ps = q.sw * q.C;
    // with no dilation along the width the taps (kw, c) of one kernel row are one run
    const int64_t run = q.dw == 1 ? q.KW * q.C : q.C, nruns = q.dw == 1 ? 1 : q.KW;
    const float* wp = q.w;
    for (int64_t kh = 0; kh < q.KH; ++kh) {
      for (int64_t k = 0; k < nruns; ++k) {
        const float* xk = xb + kh * q.dh * q.ldr + k * q.dw * q.C;
        for (int64_t j = 0; j < run; ++j, wp += OC) {
          V wv[NV];
          for (int v = 0; v < NV; ++v) wv[v] = load(wp + v * VW);
          for (int r = 0; r < R; ++r) {
            const float xs = xk[r * ps + j];
            for (int v = 0; v < NV; ++v) acc[r][v] += xs * wv[v];
          }
        }
      }
    }
    for (int r = 0; r < R; ++r) {
      for (int v = 0; v < NV; ++v) {
        V t = acc[r][v];
        if (bias) t += load(bias + v * VW);
        if (act == Activation::Relu) t = t < 0.0f ? V{} : t;  // NaN passes
        store(yo + r * OC + v * VW, t);
      }
    }
    if (act == Activation::Sigmoid || act == Activation::Tanh) activate_rows(yo, R * OC, act);
  }

  using OcFn = void (*)(float*, const Implicit&, const float*, const float*, Activation);
  template <int NV, int... I>
  static const OcFn* oc_table(std::integer_sequence<int, I...>) {
    static const OcFn t[] = {&oc_block<I + 1, NV>...};
    return t;
  }

  static void oc_forward(float* y, const Implicit& q, const float* bias, Activation act) {
    const int NV = (int)(q.OC / VW);
    const int rmax = NV == 1 ? RMAX1 : RMAX2;
    const OcFn* table = NV == 1 ? oc_table<1>(std::make_integer_sequence<int, RMAX1>{})
                                : oc_table<2>(std::make_integer_sequence<int, RMAX2>{});
    // blocks of equal size: 16 columns with at most 12 per block are 8 + 8, not 12 + 4
    const int64_t blocks = (q.OW + rmax - 1) / rmax, per = (q.OW + blocks - 1) / blocks;
    for (int64_t oh = 0; oh < q.OH; ++oh) {
      const float* xr = q.x + oh * q.sh * q.ldr;
      for (int64_t ow0 = 0; ow0 < q.OW; ow0 += per) {
        const int64_t r = std::min(per, q.OW - ow0);
        table[r - 1](y + (oh * q.OW + ow0) * q.OC, q, xr + ow0 * q.sw * q.C, bias, act);
      }
    }
  }

  // ------------------------------------------------------------ OC-vectorised weight gradient
  // T consecutive taps of one run (the first at xk's offset in every window) times NV vectors of
  // channels, summed over the image's pixels in order.
  template <int T, int NV>
  static void oc_wblock(float* dwo, const Implicit& q, const float* xk, const float* dy) {
    constexpr int OC = NV * VW;
    V acc[T][NV];
    for (int t = 0; t < T; ++t)
      for (int v = 0; v < NV; ++v) acc[t][v] = V{};
    const int64_t ps = q.sw * q.C;
    for (int64_t oh = 0; oh < q.OH; ++oh) {
      const float* xr = xk + oh * q.sh * q.ldr;
      const float* dr = dy + oh * q.OW * OC;
      for (int64_t ow = 0; ow < q.OW; ++ow) {
        V g[NV];
        for (int v = 0; v < NV; ++v) g[v] = load(dr + ow * OC + v * VW);
        const float* xp = xr + ow * ps;
        for (int t = 0; t < T; ++t) {
          const float xs = xp[t];
          for (int v = 0; v < NV; ++v) acc[t][v] += xs * g[v];
        }
      }
    }
    for (int t = 0; t < T; ++t)
      for (int v = 0; v < NV; ++v) store(dwo + t * OC + v * VW, acc[t][v]);
  }

  using OwFn = void (*)(float*, const Implicit&, const float*, const float*);
  template <int NV, int... I>
  static const OwFn* ow_table(std::integer_sequence<int, I...>) {
    static const OwFn t[] = {&oc_wblock<I + 1, NV>...};
    return t;
  }

  static void oc_weight(float* dw, float* db, const Implicit& q, const float* dy) {
    const int NV = (int)(q.OC / VW);
    const int tmax = NV == 1 ? RMAX1 : RMAX2;
    const OwFn* table = NV == 1 ? ow_table<1>(std::make_integer_sequence<int, RMAX1>{})
                                : ow_table<2>(std::make_integer_sequence<int, RMAX2>{});
    const int64_t run = q.dw == 1 ? q.KW * q.C : q.C, nruns = q.dw == 1 ? 1 : q.KW;
    const int64_t blocks = (run + tmax - 1) / tmax, per = (run + blocks - 1) / blocks;
    float* d = dw;
    for (int64_t kh = 0; kh < q.KH; ++kh)
      for (int64_t k = 0; k < nruns; ++k) {
        const float* xk = q.x + kh * q.dh * q.ldr + k * q.dw * q.C;
        for (int64_t j0 = 0; j0 < run; j0 += per) {
          const int64_t t = std::min(per, run - j0);
          table[t - 1](d, q, xk + j0, dy);
          d += t * q.OC;
        }
      }
    if (db) {
      for (int v = 0; v < NV; ++v) {
        V acc = V{};
        for (int64_t p = 0; p < q.OH * q.OW; ++p) acc += load(dy + p * q.OC + v * VW);
        store(db + v * VW, acc);
      }
    }
  }

  // ------------------------------------------------------------ dispatch on OC
  using PfFn = void (*)(float*, const Planar&, const float*, Activation);
  using PwFn = void (*)(float*, float*, const Planar&, const float*, int64_t, int64_t);
  static constexpr int kPlanarOC = 8;

  // two column vectors per block while the accumulators (OC x 2) and loads fit the registers
  static int planar_block(int64_t OC, int64_t OW) {
    const bool two = OW > VW && OC * 2 + 4 <= (VW == 16 ? 32 : 16);
    return two ? 2 * VW : VW;
  }

  template <int... I>
  static void planar_forward_t(float* y, const Planar& p, const float* bias, Activation act,
                               std::integer_sequence<int, I...>) {
    static const PfFn one[] = {&planar_fwd<I + 1, 1>...};
    static const PfFn two[] = {&planar_fwd<I + 1, 2>...};
    (planar_block(p.OC, p.OW) == 2 * VW ? two : one)[p.OC - 1](y, p, bias, act);
  }
  static void planar_forward(float* y, const Planar& p, const float* bias, Activation act) {
    planar_forward_t(y, p, bias, act, std::make_integer_sequence<int, kPlanarOC>{});
  }

  template <int... I>
  static void planar_weight_t(float* dw, float* db, const Planar& p, const float* dyt, int64_t dld,
                              int64_t dplane, std::integer_sequence<int, I...>) {
    static const PwFn t[] = {&planar_wt<I + 1>...};
    t[p.OC - 1](dw, db, p, dyt, dld, dplane);
  }
  static void planar_weight(float* dw, float* db, const Planar& p, const float* dyt, int64_t dld,
                            int64_t dplane) {
    planar_weight_t(dw, db, p, dyt, dld, dplane, std::make_integer_sequence<int, kPlanarOC>{});
  }

  static Kernels kernels() {
    Kernels k;
    k.vw = VW;
    k.planar_oc = kPlanarOC;
    k.oc_vectors = 2;
    k.planar_forward = &planar_forward;
    k.planar_weight = &planar_weight;
    k.oc_forward = &oc_forward;
    k.oc_weight = &oc_weight;
    k.planar_block = &planar_block;
    return k;
  }
};

}  // namespace fastnn::cpu::convd
