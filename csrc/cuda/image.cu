// Image resampling on CUDA: the affine / projective pass and the half-pixel resize, with the
// arithmetic of kernels/image.h (shared with csrc/cpu/image.cpp). One thread per output
// element, the channel fastest in channels-last and the column fastest in channels-first, so
// neighbouring threads write neighbouring addresses. Each thread recomputes its pixel's source
// coordinates in double (a handful of operations; it saves a pass and a buffer). Every element
// is computed on its own: the results do not depend on the launch configuration.
// The transform rows arrive on the host (they are a few numbers per image) and are copied to a
// scratch buffer before the launch.
#include "kernels/image.h"

#include "cuda/common.cuh"

namespace fastnn::cuda {

namespace {

// Element (b, y, x, c) of an image batch (B, H, W, C) or (B, C, H, W).
template <bool kCF>
__device__ __forceinline__ int64_t offset(int64_t b, int64_t y, int64_t x, int64_t c, int64_t H, int64_t W,
                                          int64_t C) {
  return kCF ? ((b * C + c) * H + y) * W + x : ((b * H + y) * W + x) * C + c;
}

// Output element t as (b, y, x, c).
template <bool kCF>
__device__ __forceinline__ void split(int64_t t, int64_t OH, int64_t OW, int64_t C, int64_t& b, int64_t& y,
                                      int64_t& x, int64_t& c) {
  if (kCF) {
    x = t % OW;
    y = (t / OW) % OH;
    c = (t / (OW * OH)) % C;
    b = t / (OW * OH * C);
  } else {
    c = t % C;
    x = (t / C) % OW;
    y = (t / (C * OW)) % OH;
    b = t / (C * OW * OH);
  }
}

template <bool kCF>
__global__ void affine_kernel(float* out, const float* in, int64_t B, int64_t H, int64_t W, int64_t C, int64_t OH,
                              int64_t OW, const double* transforms, int64_t tstride, Interpolation interp,
                              FillMode mode, float fill_value) {
  FASTNN_KERNEL_LOOP(t, B * OH * OW * C) {
    int64_t b, y, x, c;
    split<kCF>(t, OH, OW, C, b, y, x, c);
    double xs, ys;
    affine_coord(transforms + b * tstride, (double)x, (double)y, xs, ys);
    auto read = [&](int64_t r, int64_t q) -> float {
      const int64_t ri = fill_index(r, H, mode), qi = fill_index(q, W, mode);
      return (ri < 0 || qi < 0) ? fill_value : in[offset<kCF>(b, ri, qi, c, H, W, C)];
    };
    if (interp == Interpolation::Nearest) {
      out[t] = read((int64_t)rint(ys), (int64_t)rint(xs));
      continue;
    }
    const double fx = floor(xs), fy = floor(ys);
    const float wx = (float)(xs - fx), wy = (float)(ys - fy);
    const int64_t x0 = (int64_t)fx, y0 = (int64_t)fy;
    const float a = read(y0, x0), e = read(y0, x0 + 1), d = read(y0 + 1, x0), g = read(y0 + 1, x0 + 1);
    const float top = a + (e - a) * wx;
    const float bottom = d + (g - d) * wx;
    out[t] = top + (bottom - top) * wy;
  }
}

template <bool kCF>
__global__ void resize_kernel(float* out, const float* in, int64_t B, int64_t H, int64_t W, int64_t C, int64_t top,
                              int64_t left, int64_t CH, int64_t CW, int64_t OH, int64_t OW, Interpolation interp) {
  FASTNN_KERNEL_LOOP(t, B * OH * OW * C) {
    int64_t b, y, x, c;
    split<kCF>(t, OH, OW, C, b, y, x, c);
    int64_t ya, yb, xa, xb;
    float wy, wx;
    resize_source(y, CH, OH, interp, ya, yb, wy);
    resize_source(x, CW, OW, interp, xa, xb, wx);
    ya += top, yb += top, xa += left, xb += left;
    if (interp == Interpolation::Nearest) {
      out[t] = in[offset<kCF>(b, ya, xa, c, H, W, C)];
      continue;
    }
    const float a = in[offset<kCF>(b, ya, xa, c, H, W, C)], e = in[offset<kCF>(b, ya, xb, c, H, W, C)];
    const float d = in[offset<kCF>(b, yb, xa, c, H, W, C)], g = in[offset<kCF>(b, yb, xb, c, H, W, C)];
    const float tp = a + (e - a) * wx;
    const float bottom = d + (g - d) * wx;
    out[t] = tp + (bottom - tp) * wy;
  }
}

template <bool kCF>
void affine(float* out, const float* in, int64_t B, int64_t H, int64_t W, int64_t C, int64_t OH, int64_t OW,
            const double* transforms, int64_t tstride, Interpolation interp, FillMode mode, float fill_value) {
  const int64_t n = B * OH * OW * C;
  if (n <= 0) return;
  const int64_t rows = tstride ? B : 1;
  Scratch dt(rows * 8 * (int64_t)sizeof(double));
  copy_h2d(dt.ptr, transforms, rows * 8 * (int64_t)sizeof(double));
  const double* t = static_cast<const double*>(dt.ptr);
  affine_kernel<kCF><<<grid_for(n), kThreads>>>(out, in, B, H, W, C, OH, OW, t, tstride, interp, mode, fill_value);
  FASTNN_CUDA_CHECK_LAUNCH();
}

template <bool kCF>
void resize(float* out, const float* in, int64_t B, int64_t H, int64_t W, int64_t C, int64_t top, int64_t left,
            int64_t CH, int64_t CW, int64_t OH, int64_t OW, Interpolation interp) {
  const int64_t n = B * OH * OW * C;
  if (n <= 0) return;
  resize_kernel<kCF><<<grid_for(n), kThreads>>>(out, in, B, H, W, C, top, left, CH, CW, OH, OW, interp);
  FASTNN_CUDA_CHECK_LAUNCH();
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

}  // namespace fastnn::cuda
