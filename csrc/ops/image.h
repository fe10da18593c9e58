// Device-neutral entries for image resampling (see kernels/image.h): shape, dtype and device
// checks, then dispatch to the device's kernel.
#pragma once
#include "core/common.h"
#include "kernels/image.h"

namespace fastnn::ops {

// out (B, OH, OW, C) = the affine / projective resampling of in (B, H, W, C) (with
// channels_first: (B, C, OH, OW) from (B, C, H, W)). transforms is a host array of
// n_transforms rows of 8 doubles, n_transforms 1 (shared by the batch) or B.
void affine_transform(const View& out, const View& in, const double* transforms, int64_t n_transforms,
                      Interpolation interp, FillMode fill_mode, float fill_value, bool channels_first);
// out (B, OH, OW, C) = the half-pixel resize of the window rows [top, top + crop_h), columns
// [left, left + crop_w) of in (B, H, W, C) (channels_first: (B, C, ...)).
void resize(const View& out, const View& in, int64_t top, int64_t left, int64_t crop_h, int64_t crop_w,
            Interpolation interp, bool channels_first);

}  // namespace fastnn::ops
