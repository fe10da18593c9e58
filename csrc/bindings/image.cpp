#include "ops/image.h"

#include <cmath>
#include <string>

#include "bindings/common.h"

namespace fastnn::bind {

namespace {

Interpolation parse_interpolation(const std::string& s, const char* op) {
  if (s == "bilinear") return Interpolation::Bilinear;
  if (s == "nearest") return Interpolation::Nearest;
  throw ValueError(std::string(op) + ": interpolation must be 'bilinear' or 'nearest', got interpolation='" + s + "'");
}

FillMode parse_fill_mode(const std::string& s) {
  if (s == "reflect") return FillMode::Reflect;
  if (s == "wrap") return FillMode::Wrap;
  if (s == "constant") return FillMode::Constant;
  if (s == "nearest") return FillMode::Nearest;
  throw ValueError("affine_transform: fill_mode must be one of 'reflect', 'wrap', 'constant', 'nearest', got fill_mode='" +
                   s + "'");
}

// (height, width) from a pair of positive integers.
std::pair<int64_t, int64_t> parse_size(py::handle size, const char* op, const char* what) {
  Shape s;
  try {
    s = to_ints(size, what);
  } catch (const std::exception&) {  // not a sequence of integers: the message below says what is expected
    s.clear();
  }
  FASTNN_CHECK(s.size() == 2 && s[0] > 0 && s[1] > 0, ValueError,
               op << ": " << what << " must be (height, width), two positive integers, got "
                  << py::repr(size).cast<std::string>());
  return {s[0], s[1]};
}

// Rank 3 (one image) is seen as a batch of one; the output keeps the input's rank.
View batched(View v, const char* op, bool channels_first) {
  FASTNN_CHECK(v.ndim() == 3 || v.ndim() == 4, ValueError,
               op << ": images must be a batch of images of rank 4 or one image of rank 3 ("
                  << (channels_first ? "C, H, W" : "H, W, C") << "), got shape " << v.shape_str());
  if (v.ndim() == 3) v.shape.insert(v.shape.begin(), 1);
  return v;
}

Shape out_shape(const View& in4, int64_t oh, int64_t ow, bool channels_first, bool single) {
  Shape s = channels_first ? Shape{in4.shape[0], in4.shape[1], oh, ow} : Shape{in4.shape[0], oh, ow, in4.shape[3]};
  if (single) s.erase(s.begin());
  return s;
}

}  // namespace

void bind_image(py::module_& m) {
  // images (B, H, W, C) or (H, W, C) (channels_first: (B, C, H, W) / (C, H, W)); transforms
  // (8,), (1, 8) or (B, 8), anything NumPy turns into float64; output_size (OH, OW) or None
  // for the input's size. Returns a new array on the images' device.
  m.def(
      "affine_transform",
      [](py::handle images, py::handle transforms, py::handle output_size, const std::string& interpolation,
         const std::string& fill_mode, float fill_value, bool channels_first) -> py::object {
        const char* op = "affine_transform";
        const Interpolation interp = parse_interpolation(interpolation, op);
        const FillMode mode = parse_fill_mode(fill_mode);
        View iv = to_view(images, "images", DType::F32);
        const bool single = iv.ndim() == 3;
        View in4 = batched(iv, op, channels_first);
        const int64_t B = in4.shape[0];
        auto t = py::array_t<double, py::array::c_style | py::array::forcecast>::ensure(transforms);
        if (!t) {
          PyErr_Clear();
          throw TypeError(std::string(op) + ": transforms must be an array of numbers, got " +
                          py::str(py::type::of(transforms)).cast<std::string>());
        }
        const bool ok = (t.ndim() == 1 && t.shape(0) == 8) ||
                        (t.ndim() == 2 && t.shape(1) == 8 && (t.shape(0) == 1 || t.shape(0) == B));
        FASTNN_CHECK(ok, ValueError,
                     op << ": transforms must have shape (8,), (1, 8) or (" << B << ", 8) for images of shape "
                        << iv.shape_str() << ", got shape "
                        << shape_str(Shape(t.shape(), t.shape() + t.ndim())));
        const double* tp = t.data();
        for (int64_t k = 0, n = t.size(); k < n; ++k)
          FASTNN_CHECK(std::isfinite(tp[k]), ValueError,
                       op << ": transforms must be finite, got " << tp[k] << " in row " << k / 8);
        const int64_t H = channels_first ? in4.shape[2] : in4.shape[1];
        const int64_t W = channels_first ? in4.shape[3] : in4.shape[2];
        int64_t oh = H, ow = W;
        if (!output_size.is_none()) std::tie(oh, ow) = parse_size(output_size, op, "output_size");
        py::object out = empty(iv.device, DType::F32, out_shape(in4, oh, ow, channels_first, single));
        View ov = batched(to_view(out, "out"), op, channels_first);
        const int64_t nt = t.ndim() == 1 ? 1 : t.shape(0);
        py::gil_scoped_release nogil;
        ops::affine_transform(ov, in4, tp, nt, interp, mode, fill_value, channels_first);
        return out;
      },
      py::arg("images"), py::arg("transforms"), py::arg("output_size") = py::none(),
      py::arg("interpolation") = "bilinear", py::arg("fill_mode") = "constant", py::arg("fill_value") = 0.0f,
      py::arg("channels_first") = false);
  // images as affine_transform; size (OH, OW); crop (top, left, height, width) or None for the
  // whole image. Returns a new array on the images' device.
  m.def(
      "resize",
      [](py::handle images, py::handle size, const std::string& interpolation, py::handle crop,
         bool channels_first) -> py::object {
        const char* op = "resize";
        const Interpolation interp = parse_interpolation(interpolation, op);
        View iv = to_view(images, "images", DType::F32);
        const bool single = iv.ndim() == 3;
        View in4 = batched(iv, op, channels_first);
        const auto [oh, ow] = parse_size(size, op, "size");
        const int64_t H = channels_first ? in4.shape[2] : in4.shape[1];
        const int64_t W = channels_first ? in4.shape[3] : in4.shape[2];
        int64_t top = 0, left = 0, ch = H, cw = W;
        if (!crop.is_none()) {
          Shape c = to_ints(crop, "crop");  // checked in ops::resize
          FASTNN_CHECK(c.size() == 4, ValueError,
                       op << ": crop must be (top, left, height, width), got " << py::repr(crop).cast<std::string>());
          top = c[0], left = c[1], ch = c[2], cw = c[3];
        }
        py::object out = empty(iv.device, DType::F32, out_shape(in4, oh, ow, channels_first, single));
        View ov = batched(to_view(out, "out"), op, channels_first);
        py::gil_scoped_release nogil;
        ops::resize(ov, in4, top, left, ch, cw, interp, channels_first);
        return out;
      },
      py::arg("images"), py::arg("size"), py::arg("interpolation") = "bilinear", py::arg("crop") = py::none(),
      py::arg("channels_first") = false);
}

}  // namespace fastnn::bind
