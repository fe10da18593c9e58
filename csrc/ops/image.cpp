// Image resampling entries: every shape is checked here, so the kernels only see consistent
// sizes (no reads outside the input, no writes outside the output).
#include "ops/image.h"

#include "core/device_array.h"

namespace fastnn::ops {

namespace {

struct Dims {
  int64_t B, H, W, C;
};

Dims image_dims(const char* op, const char* arg, const View& v, bool channels_first) {
  FASTNN_CHECK(v.dtype == DType::F32, TypeError, op << ": " << arg << " must be float32, got " << dtype_name(v.dtype));
  FASTNN_CHECK(v.ndim() == 4, ValueError,
               op << ": " << arg << " must be a batch of images of rank 4 ("
                  << (channels_first ? "B, C, H, W" : "B, H, W, C") << "), got shape " << v.shape_str());
  if (channels_first) return {v.shape[0], v.shape[2], v.shape[3], v.shape[1]};
  return {v.shape[0], v.shape[1], v.shape[2], v.shape[3]};
}

void check_pair(const char* op, const View& out, const Dims& o, const View& in, const Dims& i) {
  FASTNN_CHECK(out.device == in.device, ValueError,
               op << ": the output is on " << device_name(out.device) << " but the images are on "
                  << device_name(in.device));
  FASTNN_CHECK(o.B == i.B && o.C == i.C, ValueError,
               op << ": output of shape " << out.shape_str() << " does not match images of shape " << in.shape_str()
                  << " (the batch and channel sizes must agree)");
}

}  // namespace

void affine_transform(const View& out, const View& in, const double* transforms, int64_t n_transforms,
                      Interpolation interp, FillMode fill_mode, float fill_value, bool channels_first) {
  const char* op = "affine_transform";
  const Dims i = image_dims(op, "images", in, channels_first), o = image_dims(op, "output", out, channels_first);
  check_pair(op, out, o, in, i);
  FASTNN_CHECK(n_transforms == 1 || n_transforms == i.B, ValueError,
               op << ": expected 1 or " << i.B << " transforms (one per image) for images of shape "
                  << in.shape_str() << ", got " << n_transforms);
  if (out.numel() == 0) return;
  FASTNN_CHECK(transforms != nullptr, ValueError, op << ": no transforms given");
  FASTNN_CHECK(i.H > 0 && i.W > 0, ValueError,
               op << ": cannot sample images of shape " << in.shape_str() << " (height and width must be positive)");
  const int64_t stride = n_transforms == 1 ? 0 : 8;
  if (channels_first)
    FASTNN_DISPATCH(in.device, affine_nchw, out.f32(), in.f32(), i.B, i.H, i.W, i.C, o.H, o.W, transforms, stride,
                    interp, fill_mode, fill_value);
  else
    FASTNN_DISPATCH(in.device, affine_nhwc, out.f32(), in.f32(), i.B, i.H, i.W, i.C, o.H, o.W, transforms, stride,
                    interp, fill_mode, fill_value);
}

void resize(const View& out, const View& in, int64_t top, int64_t left, int64_t crop_h, int64_t crop_w,
            Interpolation interp, bool channels_first) {
  const char* op = "resize";
  const Dims i = image_dims(op, "images", in, channels_first), o = image_dims(op, "output", out, channels_first);
  check_pair(op, out, o, in, i);
  // compared as differences (crop_h <= H - top), which cannot overflow for huge offsets
  FASTNN_CHECK(top >= 0 && left >= 0 && crop_h > 0 && crop_w > 0 && crop_h <= i.H - top && crop_w <= i.W - left,
               ValueError,
               op << ": the crop window (top=" << top << ", left=" << left << ", height=" << crop_h << ", width=" << crop_w
                  << ") does not lie inside images of shape " << in.shape_str());
  if (out.numel() == 0) return;
  if (channels_first)
    FASTNN_DISPATCH(in.device, resize_nchw, out.f32(), in.f32(), i.B, i.H, i.W, i.C, top, left, crop_h, crop_w, o.H,
                    o.W, interp);
  else
    FASTNN_DISPATCH(in.device, resize_nhwc, out.f32(), in.f32(), i.B, i.H, i.W, i.C, top, left, crop_h, crop_w, o.H,
                    o.W, interp);
}

}  // namespace fastnn::ops
