// 2-D convolution on the CPU: im2col / col2im around the blocked GEMM of cpu/gemm.cpp.
// Per image and group the im2col matrix is logically P x Kc (P = OH * OW output pixels,
// Kc = KH * KW * C/groups taps in the kernel's (kh, kw, c) order), so the Keras kernel
// (KH, KW, C/groups, OC) is the GEMM's right operand as it is stored. channels_last builds it
// P x Kc (each pixel's taps are runs of C contiguous floats, copied whole); channels_first builds
// its transpose Kc x P (each row a strided walk over one input row), and the GEMM's transA /
// transB flags absorb the difference, so no operand is ever transposed in memory. A 1x1
// convolution with stride 1 and no padding skips im2col: the input is the matrix.
// channels_last layers with few filters (<= 8) or filters one or two SIMD vectors wide (16, 32 on
// AVX-512; 8, 16 on AVX2) skip im2col: the direct kernels of cpu/conv_direct.h read the image
// (zero-padded copies, per channel planes for the few-filter kernels) in place, for the forward,
// the stride-1 backward to the input (few input channels) and the weight and bias gradient (few
// input channels); the portable build and every other shape take im2col + GEMM.
// Threads: forward and backward-data split the batch (one image per task, scratch per thread);
// backward-weight is one GEMM over the batch (its K is never split), or on the direct kernels
// per fixed block of 4 images with the blocks' partials added in order, so every output is the
// same sequence of operations for any number of threads.
#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>
#include <vector>

#include "core/cpu_features.h"
#include "core/parallel.h"
#include "cpu/conv_direct.h"
#include "cpu/gemm_packed.h"
#include "cpu/vec_math.h"
#include "kernels/conv.h"
#include "kernels/gemm.h"

namespace fastnn::cpu {
namespace {

// A 64-byte aligned buffer that grows and is reused from call to call (one per thread).
struct Scratch {
  float* ptr = nullptr;
  size_t cap = 0;
  float* get(size_t n) {
    if (n > cap) {
      std::free(ptr);
      size_t bytes = (std::max<size_t>(n, 16) * sizeof(float) + 63) / 64 * 64;
      ptr = static_cast<float*>(std::aligned_alloc(64, bytes));
      if (!ptr) {
        cap = 0;
        throw std::bad_alloc();
      }
      cap = bytes / sizeof(float);
    }
    return ptr;
  }
  ~Scratch() { std::free(ptr); }
};
thread_local Scratch tl_col, tl_batch, tl_out, tl_plane, tl_plane2;

// Below this many output channels per group a GEMM with the channels as its N would fill a
// fraction of the micro-kernel's width (16 or 32 columns): channels_last products are then
// computed transposed (channels as M, pixels or taps as N) and the small result transposed back.
// The thresholds were measured on the LeNet-5 shapes (6 and 16 filters) with AVX-512.
constexpr int64_t kNarrowForward = 16, kNarrowWeight = 24;

// The batch im2col of backward-weight is cut into chunks of at most this many floats (64 MiB).
constexpr int64_t kBatchColFloats = int64_t(16) << 20;

// A GEMM operand: stored row-major with row stride ld; t when stored as the transpose of its
// logical shape (P x Kc for im2col matrices, P x OC for outputs).
struct Mat {
  const float* p;
  int64_t ld;
  bool t;
};

// The first and one-past-last output column ow whose input column ow * s + off lies in [0, W).
inline void valid_range(int64_t OW, int64_t s, int64_t off, int64_t W, int64_t& lo, int64_t& hi) {
  // lo is clamped to OW: a tap left of the image for every output (a dilated kernel wider than
  // the padded row) has an empty range, not one past the row's end
  lo = std::min<int64_t>(OW, off >= 0 ? 0 : (-off + s - 1) / s);
  hi = off >= W ? 0 : std::min<int64_t>(OW, (W - 1 - off) / s + 1);
  if (hi < lo) hi = lo;
}

// im2col of one image for group gi: channels_last col is P x Kc, channels_first Kc x P.
void im2col(float* col, const float* x, const ConvGeom& g, int64_t gi) {
  const int64_t Cg = g.cg(), c0 = gi * Cg, Kc = g.Kc(), P = g.P();
  if (g.channels_last) {
    // with one group and no dilation the taps (kw, c) of one kernel row are one contiguous run
    const bool runs = g.groups == 1 && g.dw == 1;
    for (int64_t oh = 0; oh < g.OH; ++oh) {
      for (int64_t ow = 0; ow < g.OW; ++ow) {
        float* row = col + (oh * g.OW + ow) * Kc;
        const int64_t iw0 = ow * g.sw - g.pl;
        for (int64_t kh = 0; kh < g.KH; ++kh) {
          const int64_t ih = oh * g.sh - g.pt + kh * g.dh;
          float* dst = row + kh * g.KW * Cg;
          if (ih < 0 || ih >= g.H) {
            std::fill(dst, dst + g.KW * Cg, 0.0f);
            continue;
          }
          const float* xr = x + ih * g.W * g.C + c0;
          if (runs) {
            const int64_t klo = std::max<int64_t>(0, -iw0), khi = std::min<int64_t>(g.KW, g.W - iw0);
            if (khi <= klo) {
              std::fill(dst, dst + g.KW * Cg, 0.0f);
              continue;
            }
            std::fill(dst, dst + klo * Cg, 0.0f);
            std::memcpy(dst + klo * Cg, xr + (iw0 + klo) * g.C, (khi - klo) * Cg * sizeof(float));
            std::fill(dst + khi * Cg, dst + g.KW * Cg, 0.0f);
            continue;
          }
          for (int64_t kw = 0; kw < g.KW; ++kw) {
            const int64_t iw = iw0 + kw * g.dw;
            float* d = dst + kw * Cg;
            if (iw < 0 || iw >= g.W)
              std::fill(d, d + Cg, 0.0f);
            else if (Cg == 1)
              *d = xr[iw * g.C];
            else
              std::memcpy(d, xr + iw * g.C, Cg * sizeof(float));
          }
        }
      }
    }
    return;
  }
  const int64_t HW = g.H * g.W;
  for (int64_t kh = 0; kh < g.KH; ++kh) {
    for (int64_t kw = 0; kw < g.KW; ++kw) {
      const int64_t off = kw * g.dw - g.pl;
      int64_t lo, hi;
      valid_range(g.OW, g.sw, off, g.W, lo, hi);
      for (int64_t c = 0; c < Cg; ++c) {
        float* row = col + ((kh * g.KW + kw) * Cg + c) * P;
        const float* xc = x + (c0 + c) * HW;
        for (int64_t oh = 0; oh < g.OH; ++oh) {
          float* r = row + oh * g.OW;
          const int64_t ih = oh * g.sh - g.pt + kh * g.dh;
          if (ih < 0 || ih >= g.H) {
            std::fill(r, r + g.OW, 0.0f);
            continue;
          }
          const float* xr = xc + ih * g.W + off;
          std::fill(r, r + lo, 0.0f);
          if (g.sw == 1)
            std::memcpy(r + lo, xr + lo, (hi - lo) * sizeof(float));
          else
            for (int64_t ow = lo; ow < hi; ++ow) r[ow] = xr[ow * g.sw];
          std::fill(r + hi, r + g.OW, 0.0f);
        }
      }
    }
  }
  (void)Kc;
}

// im2col of a channels_last image for group gi, transposed: col (Kc x P), row (kh, kw, c).
void im2col_nhwc_t(float* col, const float* x, const ConvGeom& g, int64_t gi) {
  const int64_t Cg = g.cg(), c0 = gi * Cg, P = g.P();
  for (int64_t kh = 0; kh < g.KH; ++kh) {
    for (int64_t kw = 0; kw < g.KW; ++kw) {
      const int64_t off = kw * g.dw - g.pl;
      int64_t lo, hi;
      valid_range(g.OW, g.sw, off, g.W, lo, hi);
      for (int64_t c = 0; c < Cg; ++c) {
        float* row = col + ((kh * g.KW + kw) * Cg + c) * P;
        for (int64_t oh = 0; oh < g.OH; ++oh) {
          float* r = row + oh * g.OW;
          const int64_t ih = oh * g.sh - g.pt + kh * g.dh;
          if (ih < 0 || ih >= g.H) {
            std::fill(r, r + g.OW, 0.0f);
            continue;
          }
          const float* xr = x + (ih * g.W + off) * g.C + c0 + c;
          const int64_t step = g.sw * g.C;
          std::fill(r, r + lo, 0.0f);
          for (int64_t ow = lo; ow < hi; ++ow) r[ow] = xr[ow * step];
          std::fill(r + hi, r + g.OW, 0.0f);
        }
      }
    }
  }
}

// dx (one image, already holding earlier groups' and taps' sums) += col2im(col) for group gi;
// the layouts are im2col's. Taps are added in a fixed order (pixel, then tap).
FASTNN_SIMD void col2im(float* dx, const float* col, const ConvGeom& g, int64_t gi) {
  const int64_t Cg = g.cg(), c0 = gi * Cg, Kc = g.Kc(), P = g.P();
  if (g.channels_last) {
    for (int64_t oh = 0; oh < g.OH; ++oh) {
      for (int64_t ow = 0; ow < g.OW; ++ow) {
        const float* row = col + (oh * g.OW + ow) * Kc;
        const int64_t iw0 = ow * g.sw - g.pl;
        for (int64_t kh = 0; kh < g.KH; ++kh) {
          const int64_t ih = oh * g.sh - g.pt + kh * g.dh;
          if (ih < 0 || ih >= g.H) continue;
          float* xr = dx + ih * g.W * g.C + c0;
          const float* src = row + kh * g.KW * Cg;
          for (int64_t kw = 0; kw < g.KW; ++kw) {
            const int64_t iw = iw0 + kw * g.dw;
            if (iw < 0 || iw >= g.W) continue;
            float* d = xr + iw * g.C;
            const float* s = src + kw * Cg;
            for (int64_t c = 0; c < Cg; ++c) d[c] += s[c];
          }
        }
      }
    }
    return;
  }
  const int64_t HW = g.H * g.W;
  for (int64_t kh = 0; kh < g.KH; ++kh) {
    for (int64_t kw = 0; kw < g.KW; ++kw) {
      const int64_t off = kw * g.dw - g.pl;
      int64_t lo, hi;
      valid_range(g.OW, g.sw, off, g.W, lo, hi);
      for (int64_t c = 0; c < Cg; ++c) {
        const float* row = col + ((kh * g.KW + kw) * Cg + c) * P;
        float* xc = dx + (c0 + c) * HW;
        for (int64_t oh = 0; oh < g.OH; ++oh) {
          const int64_t ih = oh * g.sh - g.pt + kh * g.dh;
          if (ih < 0 || ih >= g.H) continue;
          const float* r = row + oh * g.OW;
          float* xr = xc + ih * g.W + off;
          if (g.sw == 1)
            for (int64_t ow = lo; ow < hi; ++ow) xr[ow] += r[ow];
          else
            for (int64_t ow = lo; ow < hi; ++ow) xr[ow * g.sw] += r[ow];
        }
      }
    }
  }
}

float activate(float v, Activation act) {
  switch (act) {
    case Activation::Relu: return v < 0.0f ? 0.0f : v;  // NaN passes
    case Activation::Sigmoid: return vm::sigmoid(v);
    case Activation::Tanh: return vm::tanh(v);
    default: return v;
  }
}

// y (P rows of ldy, OCg columns used) = act(yt^T + bias), yt OCg x P.
void transpose_bias_act(float* y, int64_t ldy, const float* yt, int64_t OCg, int64_t P,
                        const float* bias, Activation act) {
  for (int64_t p = 0; p < P; ++p) {
    float* r = y + p * ldy;
    for (int64_t o = 0; o < OCg; ++o) {
      float v = yt[o * P + p];
      if (bias) v += bias[o];
      r[o] = activate(v, act);
    }
  }
}

// channels_first output of one image (OC rows of P): y = act(y + bias[row]).
FASTNN_SIMD void bias_act_rows(float* y, const float* bias, Activation act, int64_t OC, int64_t P) {
  for (int64_t o = 0; o < OC; ++o) {
    float* r = y + o * P;
    const float b = bias ? bias[o] : 0.0f;
    if (bias)
      for (int64_t p = 0; p < P; ++p) r[p] += b;
    if (act == Activation::Relu)
      for (int64_t p = 0; p < P; ++p) r[p] = r[p] < 0.0f ? 0.0f : r[p];
    else if (act != Activation::None)
      for (int64_t p = 0; p < P; ++p) r[p] = activate(r[p], act);
  }
}

// x (one image, HW pixels of C channels, either layout) += bias per channel.
FASTNN_SIMD void add_channel_bias(float* x, const float* bias, int64_t HW, int64_t C, bool channels_last) {
  if (channels_last) {
    for (int64_t p = 0; p < HW; ++p)
      for (int64_t c = 0; c < C; ++c) x[p * C + c] += bias[c];
  } else {
    for (int64_t c = 0; c < C; ++c)
      for (int64_t p = 0; p < HW; ++p) x[c * HW + p] += bias[c];
  }
}

// The logical P x Kc im2col operand of image xi, group gi: the input itself for direct 1x1
// convolutions, else im2col into col.
Mat col_operand(float* col, const float* xi, const ConvGeom& g, int64_t gi) {
  const int64_t Cg = g.cg();
  if (g.direct())
    return g.channels_last ? Mat{xi + gi * Cg, g.C, false} : Mat{xi + gi * Cg * g.P(), g.P(), true};
  im2col(col, xi, g, gi);
  return g.channels_last ? Mat{col, g.Kc(), false} : Mat{col, g.P(), true};
}


// ---------------------------------------------------------------- direct kernels (conv_direct.h)
// The direct kernels of the active ISA; none (vw == 0) on the portable build. Each ISA's table is
// built on first use only, so no AVX-512 code runs on a CPU without it.
const convd::Kernels& direct_kernels() {
  static const convd::Kernels none{};
  switch (active_isa()) {
    case Isa::AVX512: {
      static const convd::Kernels k = convd::avx512_kernels();
      return k;
    }
    case Isa::AVX2: {
      static const convd::Kernels k = convd::avx2_kernels();
      return k;
    }
    default: return none;
  }
}

// Planes are worth their copy while the input has few channels per output channel computed; wider
// inputs go to the GEMM, which reads each im2col row once per output-channel block.
constexpr int64_t kPlanarMaxC = 64;
// The OC kernel's weight gradient walks all pixels once per block of taps, which stays ahead of
// the GEMM for few input channels only (measured: 3 and 6 ahead, 32 behind).
constexpr int64_t kOcWeightMaxC = 16;

// The planar kernels: channels_last, one group, stride and dilation 1 along the width, few filters.
bool planar_ok(const ConvGeom& g, const convd::Kernels& k) {
  return k.vw && g.channels_last && g.groups == 1 && g.sw == 1 && g.dw == 1 && !g.direct() &&
         g.OC <= k.planar_oc && g.C <= kPlanarMaxC;
}

// The OC kernel: channels_last, one group, filters one or two vectors wide.
bool oc_ok(const ConvGeom& g, const convd::Kernels& k) {
  return k.vw && g.channels_last && g.groups == 1 && !g.direct() && g.OC % k.vw == 0 &&
         g.OC / k.vw >= 1 && g.OC / k.vw <= k.oc_vectors;
}

// Channel planes of a channels_last image (H x W x C): rows [0, rows) of ld zero-padded columns,
// pixel (ih, iw) at row ih + top, column iw + left (parts outside the planes are dropped).
FASTNN_SIMD void to_planes(float* xd, const float* xi, int64_t H, int64_t W, int64_t C, int64_t top,
               int64_t left, int64_t rows, int64_t ld) {
  std::fill(xd, xd + C * rows * ld, 0.0f);
  const int64_t j0 = std::max<int64_t>(0, -left), j1 = std::min<int64_t>(W, ld - left);
  for (int64_t ih = 0; ih < H; ++ih) {
    const int64_t r = ih + top;
    if (r < 0 || r >= rows || j1 <= j0) continue;
    const float* src = xi + ih * W * C;
    for (int64_t c = 0; c < C; ++c) {
      float* d = xd + (c * rows + r) * ld + left;
      if (C == 1)
        std::memcpy(d + j0, src + j0, (j1 - j0) * sizeof(float));
      else
        for (int64_t iw = j0; iw < j1; ++iw) d[iw] = src[iw * C + c];
    }
  }
}

// Padded rows of the input that outputs read: (OH - 1) * sh + (KH - 1) * dh + 1.
inline int64_t rows_read(const ConvGeom& g) { return (g.OH - 1) * g.sh + (g.KH - 1) * g.dh + 1; }

// A zero-padded copy of a channels_last image: rows x cols pixels, pixel (ih, iw) at
// (ih + pt, iw + pl); what lies outside is dropped.
void pad_image(float* xp, const float* xi, const ConvGeom& g, int64_t rows, int64_t cols) {
  std::fill(xp, xp + rows * cols * g.C, 0.0f);
  const int64_t j0 = std::max<int64_t>(0, -g.pl), j1 = std::min<int64_t>(g.W, cols - g.pl);
  if (j1 <= j0) return;
  for (int64_t ih = 0; ih < g.H; ++ih) {
    const int64_t r = ih + g.pt;
    if (r < 0 || r >= rows) continue;
    std::memcpy(xp + (r * cols + g.pl + j0) * g.C, xi + (ih * g.W + j0) * g.C,
                (j1 - j0) * g.C * sizeof(float));
  }
}

// acc[0, n) += t[0, n) in double (one image's partial into its block's sum)
FASTNN_SIMD void add_partial(double* acc, const float* t, int64_t n) {
  for (int64_t i = 0; i < n; ++i) acc[i] += t[i];
}

// dw (KO values) and db (OC, or null) = the blocks' partial sums (KO + OC each) added in order.
void sum_blocks(float* dw, float* db, const std::vector<double>& part, int64_t blocks, int64_t KO,
                int64_t OC) {
  const int64_t stride = KO + OC;
  for (int64_t i = 0; i < (db ? stride : KO); ++i) {
    double s = 0.0;
    for (int64_t q = 0; q < blocks; ++q) s += part[q * stride + i];
    if (i < KO)
      dw[i] = (float)s;
    else
      db[i - KO] = (float)s;
  }
}

// ---------------------------------------------------------------- depthwise, multiplier 1
// One filter per channel (groups == C == OC), channels_last: each tap is a product of the
// pixel's C channels with the tap's C weights, vectorised over the channels, instead of one
// GEMM of a single column per group.
bool depthwise_ok(const ConvGeom& g) {
  return g.channels_last && g.groups > 1 && g.groups == g.C && g.OC == g.C;
}

// The first and one-past-last tap index k with ih = base + k * d inside [0, n).
inline void tap_range(int64_t base, int64_t d, int64_t K, int64_t n, int64_t& lo, int64_t& hi) {
  lo = base >= 0 ? 0 : (-base + d - 1) / d;
  hi = base >= n ? 0 : std::min<int64_t>(K, (n - 1 - base) / d + 1);
  if (hi < lo) hi = lo;
}

// y of one image = act(depthwise conv + bias)
FASTNN_SIMD void depthwise_forward_image(float* __restrict y, const float* __restrict x,
                                         const float* __restrict w, const float* bias,
                                         Activation act, const ConvGeom& g) {
  const int64_t C = g.C;
  for (int64_t oh = 0; oh < g.OH; ++oh) {
    int64_t kh0, kh1;
    tap_range(oh * g.sh - g.pt, g.dh, g.KH, g.H, kh0, kh1);
    for (int64_t ow = 0; ow < g.OW; ++ow) {
      int64_t kw0, kw1;
      tap_range(ow * g.sw - g.pl, g.dw, g.KW, g.W, kw0, kw1);
      float* __restrict yr = y + (oh * g.OW + ow) * C;
      for (int64_t c = 0; c < C; ++c) yr[c] = 0.0f;
      for (int64_t kh = kh0; kh < kh1; ++kh) {
        const int64_t ih = oh * g.sh - g.pt + kh * g.dh;
        for (int64_t kw = kw0; kw < kw1; ++kw) {
          const float* xp = x + (ih * g.W + ow * g.sw - g.pl + kw * g.dw) * C;
          const float* wp = w + (kh * g.KW + kw) * C;
          for (int64_t c = 0; c < C; ++c) yr[c] += xp[c] * wp[c];
        }
      }
      if (bias)
        for (int64_t c = 0; c < C; ++c) yr[c] += bias[c];
      if (act == Activation::Relu)
        for (int64_t c = 0; c < C; ++c) yr[c] = yr[c] < 0.0f ? 0.0f : yr[c];  // NaN passes
      else if (act != Activation::None)
        for (int64_t c = 0; c < C; ++c) yr[c] = activate(yr[c], act);
    }
  }
}

// dx of one image (zeroed here) from dy: every output pixel's taps added in order.
FASTNN_SIMD void depthwise_data_image(float* __restrict dx, const float* __restrict dy,
                                      const float* __restrict w, const ConvGeom& g) {
  const int64_t C = g.C;
  std::fill(dx, dx + g.H * g.W * C, 0.0f);
  for (int64_t oh = 0; oh < g.OH; ++oh) {
    int64_t kh0, kh1;
    tap_range(oh * g.sh - g.pt, g.dh, g.KH, g.H, kh0, kh1);
    for (int64_t ow = 0; ow < g.OW; ++ow) {
      int64_t kw0, kw1;
      tap_range(ow * g.sw - g.pl, g.dw, g.KW, g.W, kw0, kw1);
      const float* dr = dy + (oh * g.OW + ow) * C;
      for (int64_t kh = kh0; kh < kh1; ++kh) {
        const int64_t ih = oh * g.sh - g.pt + kh * g.dh;
        for (int64_t kw = kw0; kw < kw1; ++kw) {
          float* xp = dx + (ih * g.W + ow * g.sw - g.pl + kw * g.dw) * C;
          const float* wp = w + (kh * g.KW + kw) * C;
          for (int64_t c = 0; c < C; ++c) xp[c] += dr[c] * wp[c];
        }
      }
    }
  }
}

// t (KH * KW * C weights, then C biases when db) = one image's gradient, overwritten.
FASTNN_SIMD void depthwise_weight_image(float* __restrict t, bool db, const float* __restrict dy,
                                        const float* __restrict x, const ConvGeom& g) {
  const int64_t C = g.C, KO = g.KH * g.KW * C;
  std::fill(t, t + KO + (db ? C : 0), 0.0f);
  for (int64_t oh = 0; oh < g.OH; ++oh) {
    int64_t kh0, kh1;
    tap_range(oh * g.sh - g.pt, g.dh, g.KH, g.H, kh0, kh1);
    for (int64_t ow = 0; ow < g.OW; ++ow) {
      int64_t kw0, kw1;
      tap_range(ow * g.sw - g.pl, g.dw, g.KW, g.W, kw0, kw1);
      const float* dr = dy + (oh * g.OW + ow) * C;
      for (int64_t kh = kh0; kh < kh1; ++kh) {
        const int64_t ih = oh * g.sh - g.pt + kh * g.dh;
        for (int64_t kw = kw0; kw < kw1; ++kw) {
          const float* xp = x + (ih * g.W + ow * g.sw - g.pl + kw * g.dw) * C;
          float* tp = t + (kh * g.KW + kw) * C;
          for (int64_t c = 0; c < C; ++c) tp[c] += xp[c] * dr[c];
        }
      }
      if (db)
        for (int64_t c = 0; c < C; ++c) t[KO + c] += dr[c];
    }
  }
}

void planar_forward_images(float* y, const float* x, const float* w, const float* bias,
                           Activation act, const ConvGeom& g, const convd::Kernels& k) {
  const int64_t bw = k.planar_block(g.OC, g.OW);
  const int64_t ld = (g.OW + bw - 1) / bw * bw + g.KW - 1, rows = rows_read(g);
  const int64_t xs = g.H * g.W * g.C, ys = g.P() * g.OC;
  parallel_for(g.N, 1, [&](int64_t b0, int64_t b1) {
    float* xd = tl_plane.get(g.C * rows * ld);
    for (int64_t n = b0; n < b1; ++n) {
      to_planes(xd, x + n * xs, g.H, g.W, g.C, g.pt, g.pl, rows, ld);
      const convd::Planar p{xd, rows * ld, ld, g.C, g.OC, g.OH, g.OW, g.KH, g.KW, g.sh, g.dh, w,
                            g.pt, g.pt + g.H};
      k.planar_forward(y + n * ys, p, bias, act);
    }
  });
}

void oc_forward_images(float* y, const float* x, const float* w, const float* bias, Activation act,
                       const ConvGeom& g, const convd::Kernels& k) {
  const int64_t rows = rows_read(g), cols = (g.OW - 1) * g.sw + (g.KW - 1) * g.dw + 1;
  const int64_t xs = g.H * g.W * g.C, ys = g.P() * g.OC;
  // read in place when every pixel read is inside the image
  const bool pad = g.pt > 0 || g.pl > 0 || rows > g.H || cols > g.W;
  parallel_for(g.N, 1, [&](int64_t b0, int64_t b1) {
    float* xp = pad ? tl_plane.get(rows * cols * g.C) : nullptr;
    for (int64_t n = b0; n < b1; ++n) {
      const float* xi = x + n * xs;
      if (pad) pad_image(xp, xi, g, rows, cols);
      const convd::Implicit q{pad ? xp : xi, (pad ? cols : g.W) * g.C, g.C, g.OC, g.OH, g.OW,
                              g.KH, g.KW, g.sh, g.sw, g.dh, g.dw, w};
      k.oc_forward(y + n * ys, q, bias, act);
    }
  });
}

// Depthwise weight (and bias) gradient, per fixed blocks of images as the planar one.
void depthwise_weight_images(float* dw, float* db, const float* dy, const float* x,
                             const ConvGeom& g) {
  constexpr int64_t kImages = 4;
  const int64_t KO = g.Kc() * g.OC, stride = KO + g.OC;
  const int64_t xs = g.H * g.W * g.C, ys = g.P() * g.OC;
  const int64_t blocks = (g.N + kImages - 1) / kImages;
  std::vector<double> part(blocks * stride, 0.0);
  parallel_for(blocks, 1, [&](int64_t q0, int64_t q1) {
    float* t = tl_out.get(stride);
    for (int64_t q = q0; q < q1; ++q)
      for (int64_t n = q * kImages; n < std::min(g.N, (q + 1) * kImages); ++n) {
        depthwise_weight_image(t, db != nullptr, dy + n * ys, x + n * xs, g);
        add_partial(part.data() + q * stride, t, db ? stride : KO);
      }
  });
  sum_blocks(dw, db, part, blocks, KO, g.OC);
}

// Weight (and bias) gradient on the OC kernel, per fixed blocks of images as the planar one.
void oc_weight_images(float* dw, float* db, const float* dy, const float* x, const ConvGeom& g,
                      const convd::Kernels& k) {
  constexpr int64_t kImages = 4;
  const int64_t rows = rows_read(g), cols = (g.OW - 1) * g.sw + (g.KW - 1) * g.dw + 1;
  const bool pad = g.pt > 0 || g.pl > 0 || rows > g.H || cols > g.W;
  const int64_t KO = g.Kc() * g.OC, stride = KO + g.OC;
  const int64_t xs = g.H * g.W * g.C, ys = g.P() * g.OC;
  const int64_t blocks = (g.N + kImages - 1) / kImages;
  std::vector<double> part(blocks * stride, 0.0);
  parallel_for(blocks, 1, [&](int64_t q0, int64_t q1) {
    float* xp = pad ? tl_plane.get(rows * cols * g.C) : nullptr;
    float* t = tl_out.get(stride);
    for (int64_t q = q0; q < q1; ++q) {
      double* pq = part.data() + q * stride;
      for (int64_t n = q * kImages; n < std::min(g.N, (q + 1) * kImages); ++n) {
        const float* xi = x + n * xs;
        if (pad) pad_image(xp, xi, g, rows, cols);
        const convd::Implicit im{pad ? xp : xi, (pad ? cols : g.W) * g.C, g.C, g.OC, g.OH, g.OW,
                                 g.KH, g.KW, g.sh, g.sw, g.dh, g.dw, nullptr};
        k.oc_weight(t, db ? t + KO : nullptr, im, dy + n * ys);
        add_partial(pq, t, db ? stride : KO);
      }
    }
  });
  sum_blocks(dw, db, part, blocks, KO, g.OC);
}

// Backward to the input of a stride-1, undilated convolution with few input channels: the
// forward planar kernel run on dy with the kernel flipped (taps reversed, C and OC swapped) and
// the complementary padding (KH - 1 - top, KW - 1 - left).
bool planar_data_ok(const ConvGeom& g, const convd::Kernels& k) {
  return k.vw && g.channels_last && g.groups == 1 && g.sh == 1 && g.sw == 1 && g.dh == 1 &&
         g.dw == 1 && !g.direct() && g.C <= k.planar_oc && g.OC <= kPlanarMaxC &&
         g.pt <= g.KH - 1 && g.pl <= g.KW - 1;
}

void planar_data_images(float* dx, const float* dy, const float* w, const float* bias,
                        const ConvGeom& g, const convd::Kernels& k) {
  // w2 (KH, KW, OC, C): w2[kh][kw][o][c] = w[KH-1-kh][KW-1-kw][c][o]
  float* w2 = tl_out.get(g.Kc() * g.OC);
  for (int64_t kh = 0; kh < g.KH; ++kh)
    for (int64_t kw = 0; kw < g.KW; ++kw)
      for (int64_t c = 0; c < g.C; ++c)
        for (int64_t o = 0; o < g.OC; ++o)
          w2[((kh * g.KW + kw) * g.OC + o) * g.C + c] =
              w[(((g.KH - 1 - kh) * g.KW + (g.KW - 1 - kw)) * g.C + c) * g.OC + o];
  const int64_t bw = k.planar_block(g.C, g.W);
  const int64_t ld = (g.W + bw - 1) / bw * bw + g.KW - 1, rows = g.H + g.KH - 1;
  const int64_t top = g.KH - 1 - g.pt, left = g.KW - 1 - g.pl;
  const int64_t xs = g.H * g.W * g.C, ys = g.P() * g.OC;
  parallel_for(g.N, 1, [&](int64_t b0, int64_t b1) {
    float* yd = tl_plane.get(g.OC * rows * ld);
    for (int64_t n = b0; n < b1; ++n) {
      to_planes(yd, dy + n * ys, g.OH, g.OW, g.OC, top, left, rows, ld);
      const convd::Planar p{yd, rows * ld, ld, g.OC, g.C, g.H, g.W, g.KH, g.KW, 1, 1, w2, top, top + g.OH};
      k.planar_forward(dx + n * xs, p, bias, Activation::None);
    }
  });
}

// Weight (and bias) gradient on the planar kernel: per fixed block of images a partial sum in
// double, the blocks added in order, so the result does not depend on the thread count.
void planar_weight_images(float* dw, float* db, const float* dy, const float* x, const ConvGeom& g,
                          const convd::Kernels& k) {
  constexpr int64_t kImages = 4;
  const int64_t vw = k.vw, nv = (g.OW + vw - 1) / vw;
  const int64_t ld = nv * vw + g.KW - 1, rows = rows_read(g), dld = nv * vw, dplane = g.OH * dld;
  const int64_t KO = g.Kc() * g.OC, stride = KO + g.OC, P = g.P();
  const int64_t xs = g.H * g.W * g.C, ys = P * g.OC;
  const int64_t blocks = (g.N + kImages - 1) / kImages;
  std::vector<double> part(blocks * stride, 0.0);
  parallel_for(blocks, 1, [&](int64_t q0, int64_t q1) {
    float* xd = tl_plane.get(g.C * rows * ld);
    float* dyt = tl_plane2.get(g.OC * dplane);
    float* t = tl_out.get(stride);
    for (int64_t q = q0; q < q1; ++q) {
      double* pq = part.data() + q * stride;
      for (int64_t n = q * kImages; n < std::min(g.N, (q + 1) * kImages); ++n) {
        to_planes(xd, x + n * xs, g.H, g.W, g.C, g.pt, g.pl, rows, ld);
        to_planes(dyt, dy + n * ys, g.OH, g.OW, g.OC, 0, 0, g.OH, dld);
        const convd::Planar p{xd,   rows * ld, ld,   g.C,  g.OC,    g.OH, g.OW, g.KH,
                              g.KW, g.sh,      g.dh, nullptr, g.pt, g.pt + g.H};
        k.planar_weight(t, db ? t + KO : nullptr, p, dyt, dld, dplane);
        add_partial(pq, t, db ? stride : KO);
      }
    }
  });
  sum_blocks(dw, db, part, blocks, KO, g.OC);
}

}  // namespace

void conv2d_forward(float* y, const float* x, const float* w, const float* bias, Activation act,
                    const ConvGeom& g) {
  const int64_t P = g.P(), Kc = g.Kc(), OCg = g.ocg();
  const int64_t xs = g.H * g.W * g.C, ys = P * g.OC;
  if (g.N == 0 || ys == 0) return;
  const convd::Kernels& dk = direct_kernels();
  if (planar_ok(g, dk)) return planar_forward_images(y, x, w, bias, act, g, dk);
  if (oc_ok(g, dk)) return oc_forward_images(y, x, w, bias, act, g, dk);
  if (depthwise_ok(g)) {
    parallel_for(g.N, 1, [&](int64_t b0, int64_t b1) {
      for (int64_t n = b0; n < b1; ++n)
        depthwise_forward_image(y + n * ys, x + n * xs, w, bias, act, g);
    });
    return;
  }
  if (g.direct() && g.channels_last && g.groups == 1) {  // the whole batch is one GEMM
    Epilogue ep{bias, act};
    sgemm_ex(false, false, g.N * P, g.OC, g.C, 1.0f, x, g.C, w, g.OC, 0.0f, y, g.OC, ep);
    return;
  }
  parallel_for(g.N, 1, [&](int64_t b0, int64_t b1) {
    float* col = g.direct() ? nullptr : tl_col.get(P * Kc);
    for (int64_t n = b0; n < b1; ++n) {
      const float* xi = x + n * xs;
      float* yi = y + n * ys;
      for (int64_t gi = 0; gi < g.groups; ++gi) {
        const float* wg = w + gi * OCg;
        if (g.channels_last && OCg < kNarrowForward && P >= 4 * kNarrowForward && !g.direct()) {
          // yt (OCg x P) = Wg^T @ col^T with col built transposed (read in place by the GEMM),
          // then y = act(yt^T + bias)
          im2col_nhwc_t(col, xi, g, gi);
          float* yt = tl_out.get(OCg * P);
          sgemm(true, false, OCg, P, Kc, 1.0f, wg, g.OC, col, P, 0.0f, yt, P);
          transpose_bias_act(yi + gi * OCg, g.OC, yt, OCg, P, bias ? bias + gi * OCg : nullptr, act);
          continue;
        }
        const Mat cm = col_operand(col, xi, g, gi);
        if (g.channels_last) {
          Epilogue ep{bias ? bias + gi * OCg : nullptr, act};
          sgemm_ex(cm.t, false, P, OCg, Kc, 1.0f, cm.p, cm.ld, wg, g.OC, 0.0f, yi + gi * OCg, g.OC, ep);
        } else {
          sgemm(true, !cm.t, OCg, P, Kc, 1.0f, wg, g.OC, cm.p, cm.ld, 0.0f, yi + gi * OCg * P, P);
        }
      }
      if (!g.channels_last && (bias || act != Activation::None)) bias_act_rows(yi, bias, act, g.OC, P);
    }
  });
}

void conv2d_backward_data(float* dx, const float* dy, const float* w, const float* bias,
                          const ConvGeom& g) {
  const int64_t P = g.P(), Kc = g.Kc(), Cg = g.cg(), OCg = g.ocg();
  const int64_t HW = g.H * g.W, xs = HW * g.C, ys = P * g.OC;
  if (g.N == 0 || xs == 0) return;
  const convd::Kernels& dk = direct_kernels();
  if (P > 0 && planar_data_ok(g, dk)) return planar_data_images(dx, dy, w, bias, g, dk);
  if (depthwise_ok(g)) {
    parallel_for(g.N, 1, [&](int64_t b0, int64_t b1) {
      for (int64_t n = b0; n < b1; ++n) {
        depthwise_data_image(dx + n * xs, dy + n * ys, w, g);
        if (bias) add_channel_bias(dx + n * xs, bias, HW, g.C, true);
      }
    });
    return;
  }
  const bool direct = g.direct();
  if (direct && g.channels_last && g.groups == 1) {
    sgemm(false, true, g.N * P, g.C, g.OC, 1.0f, dy, g.OC, w, g.OC, 0.0f, dx, g.C);
    if (bias)
      parallel_for(g.N, 1, [&](int64_t b0, int64_t b1) {
        for (int64_t n = b0; n < b1; ++n) add_channel_bias(dx + n * xs, bias, HW, g.C, true);
      });
    return;
  }
  // channels_last: every image multiplies by the same Wg^T (OCg x Kc), a transposed gather that
  // cost as much as the product when packed per image (K = OCg is short); pack it once.
  std::vector<std::unique_ptr<PackedB>> wt;
  if (g.channels_last && !direct && P > 0)
    for (int64_t gi = 0; gi < g.groups; ++gi)
      wt.push_back(std::make_unique<PackedB>(true, OCg, Kc, w + gi * OCg, g.OC));
  parallel_for(g.N, 1, [&](int64_t b0, int64_t b1) {
    float* col = direct ? nullptr : tl_col.get(P * Kc);
    for (int64_t n = b0; n < b1; ++n) {
      float* dxi = dx + n * xs;
      const float* dyi = dy + n * ys;
      if (!direct) std::fill(dxi, dxi + xs, 0.0f);
      if (!wt.empty()) {
        for (int64_t gi = 0; gi < g.groups; ++gi) {
          sgemm_packed(P, *wt[gi], 1.0f, dyi + gi * OCg, g.OC, 0.0f, col, Kc);
          col2im(dxi, col, g, gi);
        }
        if (bias) add_channel_bias(dxi, bias, HW, g.C, true);
        continue;
      }
      for (int64_t gi = 0; gi < g.groups; ++gi) {
        const Mat Y = g.channels_last ? Mat{dyi + gi * OCg, g.OC, false} : Mat{dyi + gi * OCg * P, P, true};
        const float* wg = w + gi * OCg;
        // the logical P x Kc gradient of the im2col matrix: dx itself when direct
        float* tp;
        int64_t tld;
        const bool tt = !g.channels_last;
        if (direct) {
          tp = g.channels_last ? dxi + gi * Cg : dxi + gi * Cg * P;
          tld = g.channels_last ? g.C : P;
        } else {
          tp = col;
          tld = g.channels_last ? Kc : P;
        }
        if (!tt)  // (P x Kc) = Y (P x OCg) @ Wg^T
          sgemm(Y.t, true, P, Kc, OCg, 1.0f, Y.p, Y.ld, wg, g.OC, 0.0f, tp, tld);
        else  // (Kc x P) = Wg (Kc x OCg) @ Y^T
          sgemm(false, !Y.t, Kc, P, OCg, 1.0f, wg, g.OC, Y.p, Y.ld, 0.0f, tp, tld);
        if (!direct) col2im(dxi, col, g, gi);
      }
      if (bias) add_channel_bias(dxi, bias, HW, g.C, g.channels_last);
    }
  });
}

void conv2d_backward_weight(float* dw, float* db, const float* dy, const float* x,
                            const ConvGeom& g) {
  const int64_t P = g.P(), Kc = g.Kc(), OCg = g.ocg();
  const int64_t xs = g.H * g.W * g.C, ys = P * g.OC;
  const convd::Kernels& dk = direct_kernels();
  if (g.N > 0 && P > 0 && Kc * g.OC > 0 && planar_ok(g, dk))
    return planar_weight_images(dw, db, dy, x, g, dk);
  if (g.N > 0 && P > 0 && Kc * g.OC > 0 && oc_ok(g, dk) && g.C <= kOcWeightMaxC)
    return oc_weight_images(dw, db, dy, x, g, dk);
  if (g.N > 0 && P > 0 && Kc * g.OC > 0 && depthwise_ok(g))
    return depthwise_weight_images(dw, db, dy, x, g);
  if (db) conv_bias_grad(db, dy, g.N, P, g.OC, g.channels_last);
  if (Kc * g.OC == 0) return;
  if (g.N == 0 || P == 0) {
    std::fill(dw, dw + Kc * g.OC, 0.0f);
    return;
  }
  const bool direct = g.direct();
  if (g.channels_last) {
    // dW_g (Kc x OCg) = col^T (Kc x rows) @ dy (rows x OCg) with the batch's pixels as rows:
    // one GEMM per chunk of images (chunks by size only, never by thread count)
    const int64_t per = std::max<int64_t>(1, kBatchColFloats / std::max<int64_t>(P * Kc, 1));
    const int64_t chunk = direct ? g.N : std::min(g.N, per);
    float* big = direct ? nullptr : tl_batch.get(chunk * P * Kc);
    for (int64_t gi = 0; gi < g.groups; ++gi) {
      for (int64_t n0 = 0; n0 < g.N; n0 += chunk) {
        const int64_t nb = std::min(chunk, g.N - n0);
        const float* A;
        int64_t lda;
        if (direct) {
          A = x + n0 * xs + gi * g.cg(), lda = g.C;
        } else {
          parallel_for(nb, 1, [&](int64_t b0, int64_t b1) {
            for (int64_t n = b0; n < b1; ++n) im2col(big + n * P * Kc, x + (n0 + n) * xs, g, gi);
          });
          A = big, lda = Kc;
        }
        if (OCg < kNarrowWeight) {
          // dW_g^T (OCg x Kc) = dy_g^T @ col, added into dW_g transposed
          float* t = tl_out.get(OCg * Kc);
          sgemm(true, false, OCg, Kc, nb * P, 1.0f, dy + n0 * ys + gi * OCg, g.OC, A, lda, 0.0f, t, Kc);
          float* d = dw + gi * OCg;
          for (int64_t k = 0; k < Kc; ++k)
            for (int64_t o = 0; o < OCg; ++o)
              d[k * g.OC + o] = n0 == 0 ? t[o * Kc + k] : d[k * g.OC + o] + t[o * Kc + k];
        } else {
          sgemm(true, false, Kc, OCg, nb * P, 1.0f, A, lda, dy + n0 * ys + gi * OCg, g.OC,
                n0 == 0 ? 0.0f : 1.0f, dw + gi * OCg, g.OC);
        }
      }
    }
    return;
  }
  // channels_first: the images' dy are OC x P blocks, so they accumulate one GEMM per image
  float* col = direct ? nullptr : tl_col.get(P * Kc);
  for (int64_t n = 0; n < g.N; ++n) {
    for (int64_t gi = 0; gi < g.groups; ++gi) {
      const Mat cm = col_operand(col, x + n * xs, g, gi);  // stored Kc x P
      // dW_g (Kc x OCg) += col^T... logical: (Kc x P) @ dy_g^T (P x OCg), dy_g stored OCg x P
      sgemm(!cm.t, true, Kc, OCg, P, 1.0f, cm.p, cm.ld, dy + n * ys + gi * OCg * P, P,
            n == 0 ? 0.0f : 1.0f, dw + gi * OCg, g.OC);
    }
  }
}

void conv_bias_grad(float* db, const float* dy, int64_t N, int64_t P, int64_t C,
                    bool channels_last) {
  if (C == 0) return;
  // double accumulators over a fixed order: a batch of pixels is a long sum
  if (channels_last) {
    constexpr int64_t kCols = 64;
    parallel_for((C + kCols - 1) / kCols, 1, [&](int64_t q0, int64_t q1) {
      for (int64_t q = q0; q < q1; ++q) {
        const int64_t c0 = q * kCols, c1 = std::min(C, c0 + kCols);
        double acc[kCols] = {};
        for (int64_t r = 0; r < N * P; ++r) {
          const float* row = dy + r * C;
          for (int64_t c = c0; c < c1; ++c) acc[c - c0] += row[c];
        }
        for (int64_t c = c0; c < c1; ++c) db[c] = (float)acc[c - c0];
      }
    });
    return;
  }
  parallel_for(C, 1, [&](int64_t c0, int64_t c1) {
    for (int64_t c = c0; c < c1; ++c) {
      double acc = 0.0;
      for (int64_t n = 0; n < N; ++n) {
        const float* r = dy + (n * C + c) * P;
        for (int64_t p = 0; p < P; ++p) acc += r[p];
      }
      db[c] = (float)acc;
    }
  });
}

}  // namespace fastnn::cpu
