// Image resampling on the CPU: the affine / projective pass and the half-pixel resize (the
// arithmetic is written once, in kernels/image.h). Threads split the output rows (b, y); each
// output pixel is computed on its own, so any split gives the same bits. The row loops are
// templated on the fill mode, the interpolation, the layout and small channel counts (1, 3),
// so that the per-pixel work has no branches on them; with many channels (channels-last) the
// inner loop over channels runs on contiguous memory and vectorises.
#include "kernels/image.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "core/parallel.h"

namespace fastnn::cpu {
namespace {

// Output elements per thread at least: below this a second thread costs more than it saves.
constexpr int64_t kGrainElems = 8192;

// The pixel layout of one image: element (y, x, c) at (y * W + x) * ps + c * cs.
template <bool kCF>
struct Strides {
  int64_t ps, cs;
  Strides(int64_t H, int64_t W, int64_t C) : ps(kCF ? 1 : C), cs(kCF ? H * W : 1) {}
};

// One output pixel from four neighbours: p** point at channel 0 of each, s** are their channel
// strides (0 for the fill value in channels-first constant mode).
template <int kC>
inline void lerp_pixel(float* o, int64_t ocs, int64_t C, const float* p00, const float* p01, const float* p10,
                       const float* p11, int64_t s00, int64_t s01, int64_t s10, int64_t s11, float wx, float wy) {
  const int64_t n = kC ? kC : C;
  for (int64_t c = 0; c < n; ++c) {
    const float a = p00[c * s00], b = p01[c * s01], d = p10[c * s10], e = p11[c * s11];
    const float top = a + (b - a) * wx;
    const float bottom = d + (e - d) * wx;
    o[c * ocs] = top + (bottom - top) * wy;
  }
}

// Channels-last variant: unit strides everywhere, so the loop over C vectorises.
template <int kC>
inline void lerp_pixel_unit(float* __restrict o, int64_t C, const float* p00, const float* p01, const float* p10,
                            const float* p11, float wx, float wy) {
  const int64_t n = kC ? kC : C;
  for (int64_t c = 0; c < n; ++c) {
    const float top = p00[c] + (p01[c] - p00[c]) * wx;
    const float bottom = p10[c] + (p11[c] - p10[c]) * wx;
    o[c] = top + (bottom - top) * wy;
  }
}

// Pass 1 over a chunk of a row: the integer source coordinates (floor for bilinear, rint for
// nearest, as doubles) and the bilinear weights. All in double, the pixel counter in int32
// (AVX2 converts int32 to double, not int64; a double counter is not an induction variable
// the vectoriser takes), so the SIMD clones vectorise it.
template <bool kBilinear>
FASTNN_SIMD void affine_coords(const double* __restrict t, double y, double x_begin, int32_t n, double* __restrict ix,
                               double* __restrict iy, double* __restrict wx, double* __restrict wy) {
  for (int32_t j = 0; j < n; ++j) {
    double xs, ys;
    affine_coord(t, x_begin + (double)j, y, xs, ys);
    if constexpr (kBilinear) {
      ix[j] = std::floor(xs);
      iy[j] = std::floor(ys);
      wx[j] = xs - ix[j];
      wy[j] = ys - iy[j];
    } else {
      ix[j] = std::rint(xs);
      iy[j] = std::rint(ys);
    }
  }
}

constexpr int64_t kChunk = 256;  // output pixels per coordinate pass

// One output row y of one image. `o` is the row's first element, `img` the image, `fill` a row
// of C fill values (channels-last constant mode).
template <FillMode kM, bool kBilinear, bool kCF, int kC>
FASTNN_SIMD void affine_row(float* o, const float* img, int64_t H, int64_t W, int64_t C, int64_t OW, int64_t ocs,
                            const double* t, int64_t y, const float* fill, float fill_value) {
  const Strides<kCF> st(H, W, C);
  const int64_t n = kC ? kC : C;
  const int64_t ops = kCF ? 1 : n;  // output pixel stride
  double ix[kChunk], iy[kChunk], wxs[kChunk], wys[kChunk];
  for (int64_t x_begin = 0; x_begin < OW; x_begin += kChunk) {
    const int64_t m = std::min(kChunk, OW - x_begin);
    affine_coords<kBilinear>(t, (double)y, (double)x_begin, (int32_t)m, ix, iy, wxs, wys);
    for (int64_t j = 0; j < m; ++j, o += ops) {
      if constexpr (!kBilinear) {
        const int64_t xi = fill_index((int64_t)ix[j], W, kM), yi = fill_index((int64_t)iy[j], H, kM);
        if (kM == FillMode::Constant && (xi < 0 || yi < 0)) {
          for (int64_t c = 0; c < n; ++c) o[c * (kCF ? ocs : 1)] = fill_value;
          continue;
        }
        const float* p = img + (yi * W + xi) * st.ps;
        for (int64_t c = 0; c < n; ++c) o[c * (kCF ? ocs : 1)] = p[c * st.cs];
      } else {
        const float wx = (float)wxs[j], wy = (float)wys[j];
        const int64_t x0 = (int64_t)ix[j], y0 = (int64_t)iy[j];
        // most pixels have their 2 x 2 neighbourhood inside the image: no fill-mode mapping
        const bool inside = (uint64_t)x0 < (uint64_t)(W - 1) && (uint64_t)y0 < (uint64_t)(H - 1);
        if constexpr (kCF) {
          if (inside) {
            const float* p = img + y0 * W + x0;
            const int64_t s = st.cs;
            lerp_pixel<kC>(o, ocs, C, p, p + 1, p + W, p + W + 1, s, s, s, s, wx, wy);
            continue;
          }
          const int64_t xa = fill_index(x0, W, kM), xb = fill_index(x0 + 1, W, kM);
          const int64_t ya = fill_index(y0, H, kM), yb = fill_index(y0 + 1, H, kM);
          auto at = [&](int64_t r, int64_t c, int64_t& s) -> const float* {
            if (kM == FillMode::Constant && (r < 0 || c < 0)) {
              s = 0;
              return &fill_value;
            }
            s = st.cs;
            return img + r * W + c;
          };
          int64_t s00, s01, s10, s11;
          const float *p00 = at(ya, xa, s00), *p01 = at(ya, xb, s01), *p10 = at(yb, xa, s10), *p11 = at(yb, xb, s11);
          lerp_pixel<kC>(o, ocs, C, p00, p01, p10, p11, s00, s01, s10, s11, wx, wy);
        } else {
          if (inside) {
            const float* p = img + (y0 * W + x0) * n;
            lerp_pixel_unit<kC>(o, C, p, p + n, p + W * n, p + (W + 1) * n, wx, wy);
            continue;
          }
          const int64_t xa = fill_index(x0, W, kM), xb = fill_index(x0 + 1, W, kM);
          const int64_t ya = fill_index(y0, H, kM), yb = fill_index(y0 + 1, H, kM);
          auto at = [&](int64_t r, int64_t c) -> const float* {
            if (kM == FillMode::Constant && (r < 0 || c < 0)) return fill;
            return img + (r * W + c) * n;
          };
          lerp_pixel_unit<kC>(o, C, at(ya, xa), at(ya, xb), at(yb, xa), at(yb, xb), wx, wy);
        }
      }
    }
  }
}

template <FillMode kM, bool kBilinear, bool kCF, int kC>
void affine_run(float* out, const float* in, int64_t B, int64_t H, int64_t W, int64_t C, int64_t OH, int64_t OW,
                const double* transforms, int64_t tstride, float fill_value) {
  const int64_t rows = B * OH;
  const int64_t grain = std::max<int64_t>(1, kGrainElems / std::max<int64_t>(1, OW * C));
  const int64_t ocs = kCF ? OH * OW : 1;
  parallel_for(rows, grain, [&](int64_t r0, int64_t r1) {
    std::vector<float> fill(kCF ? 0 : C, fill_value);
    for (int64_t r = r0; r < r1; ++r) {
      const int64_t b = r / OH, y = r % OH;
      float* o = out + b * OH * OW * C + (kCF ? y * OW : y * OW * C);
      affine_row<kM, kBilinear, kCF, kC>(o, in + b * H * W * C, H, W, C, OW, ocs, transforms + b * tstride, y,
                                         fill.data(), fill_value);
    }
  });
}

template <FillMode kM, bool kBilinear, bool kCF>
void affine_channels(float* out, const float* in, int64_t B, int64_t H, int64_t W, int64_t C, int64_t OH,
                     int64_t OW, const double* t, int64_t ts, float fv) {
  if (C == 1) return affine_run<kM, kBilinear, kCF, 1>(out, in, B, H, W, C, OH, OW, t, ts, fv);
  if (C == 3) return affine_run<kM, kBilinear, kCF, 3>(out, in, B, H, W, C, OH, OW, t, ts, fv);
  affine_run<kM, kBilinear, kCF, 0>(out, in, B, H, W, C, OH, OW, t, ts, fv);
}

template <FillMode kM, bool kCF>
void affine_interp(float* out, const float* in, int64_t B, int64_t H, int64_t W, int64_t C, int64_t OH,
                   int64_t OW, const double* t, int64_t ts, Interpolation interp, float fv) {
  if (interp == Interpolation::Bilinear) return affine_channels<kM, true, kCF>(out, in, B, H, W, C, OH, OW, t, ts, fv);
  affine_channels<kM, false, kCF>(out, in, B, H, W, C, OH, OW, t, ts, fv);
}

template <bool kCF>
void affine(float* out, const float* in, int64_t B, int64_t H, int64_t W, int64_t C, int64_t OH, int64_t OW,
            const double* t, int64_t ts, Interpolation interp, FillMode mode, float fv) {
  if (B <= 0 || C <= 0 || OH <= 0 || OW <= 0) return;
  switch (mode) {
    case FillMode::Reflect:
      return affine_interp<FillMode::Reflect, kCF>(out, in, B, H, W, C, OH, OW, t, ts, interp, fv);
    case FillMode::Wrap:
      return affine_interp<FillMode::Wrap, kCF>(out, in, B, H, W, C, OH, OW, t, ts, interp, fv);
    case FillMode::Constant:
      return affine_interp<FillMode::Constant, kCF>(out, in, B, H, W, C, OH, OW, t, ts, interp, fv);
    case FillMode::Nearest:
      return affine_interp<FillMode::Nearest, kCF>(out, in, B, H, W, C, OH, OW, t, ts, interp, fv);
  }
}

// ---- resize: the source rows and columns are the same for every image, so they are tabulated
// once per call (in double, by resize_source) and the pass only reads the tables.
struct AxisTable {
  std::vector<int64_t> i0, i1;
  std::vector<float> w;
  AxisTable(int64_t n_in, int64_t n_out, int64_t offset, Interpolation interp) : i0(n_out), i1(n_out), w(n_out) {
    for (int64_t i = 0; i < n_out; ++i) {
      resize_source(i, n_in, n_out, interp, i0[i], i1[i], w[i]);
      i0[i] += offset;
      i1[i] += offset;
    }
  }
};

template <bool kBilinear, bool kCF, int kC>
FASTNN_SIMD void resize_row(float* o, const float* img, int64_t H, int64_t W, int64_t C, int64_t OW, int64_t ocs,
                            int64_t ya, int64_t yb, float wy, const int64_t* xa, const int64_t* xb, const float* wx) {
  const Strides<kCF> st(H, W, C);
  const int64_t n = kC ? kC : C;
  const int64_t ops = kCF ? 1 : n;
  const float* ra = img + ya * W * st.ps;
  const float* rb = img + yb * W * st.ps;
  for (int64_t x = 0; x < OW; ++x, o += ops) {
    if constexpr (!kBilinear) {
      const float* p = ra + xa[x] * st.ps;
      for (int64_t c = 0; c < n; ++c) o[c * (kCF ? ocs : 1)] = p[c * st.cs];
    } else if constexpr (kCF) {
      const int64_t s = st.cs;
      lerp_pixel<kC>(o, ocs, C, ra + xa[x], ra + xb[x], rb + xa[x], rb + xb[x], s, s, s, s, wx[x], wy);
    } else {
      lerp_pixel_unit<kC>(o, C, ra + xa[x] * n, ra + xb[x] * n, rb + xa[x] * n, rb + xb[x] * n, wx[x], wy);
    }
  }
}

template <bool kBilinear, bool kCF, int kC>
void resize_run(float* out, const float* in, int64_t B, int64_t H, int64_t W, int64_t C, int64_t top, int64_t left,
                int64_t CH, int64_t CW, int64_t OH, int64_t OW) {
  const Interpolation interp = kBilinear ? Interpolation::Bilinear : Interpolation::Nearest;
  const AxisTable ty(CH, OH, top, interp), tx(CW, OW, left, interp);
  const int64_t grain = std::max<int64_t>(1, kGrainElems / std::max<int64_t>(1, OW * C));
  const int64_t ocs = kCF ? OH * OW : 1;
  parallel_for(B * OH, grain, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      const int64_t b = r / OH, y = r % OH;
      float* o = out + b * OH * OW * C + (kCF ? y * OW : y * OW * C);
      resize_row<kBilinear, kCF, kC>(o, in + b * H * W * C, H, W, C, OW, ocs, ty.i0[y], ty.i1[y], ty.w[y],
                                     tx.i0.data(), tx.i1.data(), tx.w.data());
    }
  });
}

template <bool kCF>
void resize(float* out, const float* in, int64_t B, int64_t H, int64_t W, int64_t C, int64_t top, int64_t left,
            int64_t CH, int64_t CW, int64_t OH, int64_t OW, Interpolation interp) {
  if (B <= 0 || C <= 0 || OH <= 0 || OW <= 0) return;
  const bool bl = interp == Interpolation::Bilinear;
  if (C == 1)
    return bl ? resize_run<true, kCF, 1>(out, in, B, H, W, C, top, left, CH, CW, OH, OW)
              : resize_run<false, kCF, 1>(out, in, B, H, W, C, top, left, CH, CW, OH, OW);
  if (C == 3)
    return bl ? resize_run<true, kCF, 3>(out, in, B, H, W, C, top, left, CH, CW, OH, OW)
              : resize_run<false, kCF, 3>(out, in, B, H, W, C, top, left, CH, CW, OH, OW);
  bl ? resize_run<true, kCF, 0>(out, in, B, H, W, C, top, left, CH, CW, OH, OW)
     : resize_run<false, kCF, 0>(out, in, B, H, W, C, top, left, CH, CW, OH, OW);
}

}  // namespace

void affine_nhwc(float* out, const float* in, int64_t B, int64_t H, int64_t W, int64_t C, int64_t OH, int64_t OW,
                 const double* transforms, int64_t transform_stride, Interpolation interp, FillMode fill_mode,
                 float fill_value) {
  affine<false>(out, in, B, H, W, C, OH, OW, transforms, transform_stride, interp, fill_mode, fill_value);
}

void affine_nchw(float* out, const float* in, int64_t B, int64_t H, int64_t W, int64_t C, int64_t OH, int64_t OW,
                 const double* transforms, int64_t transform_stride, Interpolation interp, FillMode fill_mode,
                 float fill_value) {
  affine<true>(out, in, B, H, W, C, OH, OW, transforms, transform_stride, interp, fill_mode, fill_value);
}

void resize_nhwc(float* out, const float* in, int64_t B, int64_t H, int64_t W, int64_t C, int64_t top, int64_t left,
                 int64_t CH, int64_t CW, int64_t OH, int64_t OW, Interpolation interp) {
  resize<false>(out, in, B, H, W, C, top, left, CH, CW, OH, OW, interp);
}

void resize_nchw(float* out, const float* in, int64_t B, int64_t H, int64_t W, int64_t C, int64_t top, int64_t left,
                 int64_t CH, int64_t CW, int64_t OH, int64_t OW, Interpolation interp) {
  resize<true>(out, in, B, H, W, C, top, left, CH, CW, OH, OW, interp);
}

}  // namespace fastnn::cpu
