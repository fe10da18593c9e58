// Image resampling behind the augmentation layers (python/fastnn/layers/augmentation.py):
// the inverse-mapped affine / projective pass of RandomTranslation, RandomRotation, RandomZoom
// and affine_transform, and the half-pixel resize of Resizing, RandomCrop and resize.
//
// Images are float32 batches (B, H, W, C) (the *_nhwc entries) or (B, C, H, W) (*_nchw); the
// output has its own height and width OH, OW and the same B and C.
//
// affine: output pixel (x, y) (x the column, y the row, pixel centres at integers) reads the
// input at ((a0 x + a1 y + a2) / k, (b0 x + b1 y + b2) / k), k = c0 x + c1 y + 1, with the row
// t = [a0 a1 a2 b0 b1 b2 c0 c1] of image b at transforms[b * transform_stride] (a HOST array of
// doubles on both devices; stride 8, or 0 for one row shared by the batch). The coordinates are
// computed in double; a coordinate beyond +-kCoordLimit is clamped to it and NaN reads as
// -kCoordLimit (a degenerate projective row, k = 0, gives defined results; far outside the
// image either way). Interpolation:
//   nearest   the pixel at (rint(xs), rint(ys)), ties to even (np.rint / jnp.round);
//   bilinear  x0 = floor(xs), wx = float(xs - x0) (likewise y), then in float
//             top = v00 + (v01 - v00) wx, bottom = v10 + (v11 - v10) wx, out = top + (bottom - top) wy.
// Integer coordinates outside [0, n) read the input extended by the fill mode (fill_index):
//   reflect   (d c b a | a b c d | d c b a), about the edge of the last pixel;
//   wrap      (a b c d | a b c d | a b c d);
//   nearest   (a a a a | a b c d | d d d d);
//   constant  (k k k k | a b c d | k k k k) with k = fill_value.
// Each output pixel is computed on its own, so results do not depend on the thread count.
//
// resize: half-pixel centres without antialiasing (TF 2 / JAX / keras.ops.image.resize), on the
// window of rows [top, top + CH) and columns [left, left + CW) of the input (the whole image,
// or the centred crop of crop_to_aspect_ratio), with scale = CH / OH (likewise CW / OW):
//   nearest   src = min(floor((i + 0.5) scale), CH - 1);
//   bilinear  s = clip((i + 0.5) scale - 0.5, 0, CH - 1), i0 = floor(s), i1 = min(i0 + 1, CH - 1),
//             weight float(s - i0), combined as the bilinear affine case.
// Shapes are checked by the caller (csrc/ops/image.cpp): H, W > 0 when the output is not empty.
#pragma once
#include <cmath>
#include <cstdint>

#include "core/common.h"

#ifndef FASTNN_HD
#if defined(__CUDACC__)
#define FASTNN_HD __host__ __device__ __forceinline__
#else
#define FASTNN_HD inline
#endif
#endif

namespace fastnn {

enum class Interpolation : int { Nearest = 0, Bilinear = 1 };
enum class FillMode : int { Reflect = 0, Wrap = 1, Constant = 2, Nearest = 3 };

// Far beyond any image, small enough that floor() fits an int64 exactly and the fraction keeps
// 20 bits.
constexpr double kCoordLimit = 1073741824.0;  // 2^30

FASTNN_HD double clamp_coord(double v) {
  return v > kCoordLimit ? kCoordLimit : (v >= -kCoordLimit ? v : -kCoordLimit);  // NaN -> -limit
}

// Sample coordinates (xs, ys) of output pixel (x, y) under the row t (see above). Without a
// branch for affine rows: c0 = c1 = 0 gives k = 1 exactly, and a division by 1 is exact, so
// the loops over pixels vectorise.
FASTNN_HD void affine_coord(const double* t, double x, double y, double& xs, double& ys) {
  const double k = t[6] * x + t[7] * y + 1.0;
  xs = clamp_coord((t[0] * x + t[1] * y + t[2]) / k);
  ys = clamp_coord((t[3] * x + t[4] * y + t[5]) / k);
}

// Integer coordinate i on the input of length n (> 0) extended by `mode`: an index in [0, n),
// or -1 (the fill value) for constant outside.
FASTNN_HD int64_t fill_index(int64_t i, int64_t n, FillMode mode) {
  if (i >= 0 && i < n) return i;
  switch (mode) {
    case FillMode::Reflect: {
      const int64_t p = 2 * n;
      int64_t m = i % p;
      if (m < 0) m += p;
      return m < n ? m : p - 1 - m;
    }
    case FillMode::Wrap: {
      int64_t m = i % n;
      return m < 0 ? m + n : m;
    }
    case FillMode::Nearest:
      return i < 0 ? 0 : n - 1;
    default:
      return -1;
  }
}

// Source of output index i along an axis resized from n_in to n_out: i0, i1 in [0, n_in) and
// the weight of i1 (nearest: i1 = i0, weight 0).
FASTNN_HD void resize_source(int64_t i, int64_t n_in, int64_t n_out, Interpolation interp, int64_t& i0,
                             int64_t& i1, float& w) {
  const double scale = (double)n_in / (double)n_out;
  if (interp == Interpolation::Nearest) {
    const int64_t s = (int64_t)floor((i + 0.5) * scale);
    i0 = i1 = s < n_in - 1 ? s : n_in - 1;
    w = 0.0f;
    return;
  }
  double s = (i + 0.5) * scale - 0.5;
  s = s < 0.0 ? 0.0 : (s > (double)(n_in - 1) ? (double)(n_in - 1) : s);
  i0 = (int64_t)floor(s);
  i1 = i0 + 1 < n_in ? i0 + 1 : n_in - 1;
  w = (float)(s - (double)i0);
}

#define FASTNN_DECLARE_IMAGE_KERNELS                                                              \
  void affine_nhwc(float* out, const float* in, int64_t B, int64_t H, int64_t W, int64_t C,     \
                   int64_t OH, int64_t OW, const double* transforms, int64_t transform_stride,   \
                   Interpolation interp, FillMode fill_mode, float fill_value);                  \
  void affine_nchw(float* out, const float* in, int64_t B, int64_t H, int64_t W, int64_t C,     \
                   int64_t OH, int64_t OW, const double* transforms, int64_t transform_stride,   \
                   Interpolation interp, FillMode fill_mode, float fill_value);                  \
  void resize_nhwc(float* out, const float* in, int64_t B, int64_t H, int64_t W, int64_t C,     \
                   int64_t top, int64_t left, int64_t CH, int64_t CW, int64_t OH, int64_t OW,    \
                   Interpolation interp);                                                        \
  void resize_nchw(float* out, const float* in, int64_t B, int64_t H, int64_t W, int64_t C,     \
                   int64_t top, int64_t left, int64_t CH, int64_t CW, int64_t OH, int64_t OW,    \
                   Interpolation interp);

namespace cpu { FASTNN_DECLARE_IMAGE_KERNELS }
namespace cuda { FASTNN_DECLARE_IMAGE_KERNELS }

}  // namespace fastnn
