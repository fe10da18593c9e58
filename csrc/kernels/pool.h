// Pooling and resizing of images: max pooling (with the argmax kept for backward), average
// pooling, and bilinear resizing, forward and backward, on (N, H, W, C) (channels_last, Keras's
// default) or (N, C, H, W) (channels_first) arrays. 1-D pooling is the H = 1 case.
//
// Geometry (PoolGeom): window KH x KW moved by SH x SW; output pixel (oh, ow) covers input rows
// oh * SH - PT .. + KH - 1 and columns ow * SW - PL .. + KW - 1, clipped to the image (padding
// cells are never read: max ignores them, average divides by the number of valid cells, as
// TensorFlow's 'same' pooling does). The entries in ops/ compute OH, OW, PT, PL from 'valid' or
// 'same' with the TensorFlow convention.
//
// argmax[j] is the index h * W + w, inside the sample's (and, for channels_first, the channel's)
// image, of the maximum of window j: the first maximum in row-major window order, or the last
// NaN when the window holds NaNs (torch's rule). Backward kernels overwrite dx (no +=) and sum
// overlapping windows in a fixed order, so results never depend on the thread count.
//
// Bilinear resizing uses half-pixel centres (TensorFlow's resize, torch's align_corners=False):
// src = max((dst + 0.5) * in / out - 0.5, 0), neighbours floor(src) and floor(src) + 1 clamped.
#pragma once
#include <cstdint>

#include "core/common.h"

namespace fastnn {

struct PoolGeom {
  int64_t N = 0, C = 0, H = 0, W = 0;  // input
  int64_t OH = 0, OW = 0;              // output
  int64_t KH = 1, KW = 1, SH = 1, SW = 1, PT = 0, PL = 0;
  bool channels_last = true;
};

#define FASTNN_DECLARE_POOL_KERNELS                                                                \
  void max_pool2d_forward(float* y, int64_t* argmax, const float* x, const PoolGeom& g);          \
  void max_pool2d_backward(float* dx, const float* dy, const int64_t* argmax, const PoolGeom& g); \
  void avg_pool2d_forward(float* y, const float* x, const PoolGeom& g);                           \
  void avg_pool2d_backward(float* dx, const float* dy, const PoolGeom& g);                        \
  /* g.KH.. unused: only N, C, H, W, OH, OW, channels_last */                                      \
  void resize_bilinear_forward(float* y, const float* x, const PoolGeom& g);                      \
  void resize_bilinear_backward(float* dx, const float* dy, const PoolGeom& g);

namespace cpu { FASTNN_DECLARE_POOL_KERNELS }
namespace cuda { FASTNN_DECLARE_POOL_KERNELS }

}  // namespace fastnn
