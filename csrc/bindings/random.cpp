// Random-number bindings: new arrays of uniform / normal numbers on a device, dropout forward and
// backward from (seed, offset), and the raw Philox block for known-answer tests.
#include "ops/random.h"

#include "bindings/common.h"
#include "core/philox.h"

namespace fastnn::bind {

static Device parse_device(const std::string& d) {
  if (d == "cpu") return Device::CPU;
  if (d == "cuda" || d.rfind("cuda:", 0) == 0) return Device::CUDA;
  throw ValueError("unknown device '" + d + "': expected 'cpu' or 'cuda'");
}

static Shape checked_shape(py::handle shape) {
  Shape s = to_shape(shape);
  for (auto d : s)
    FASTNN_CHECK(d >= 0, ValueError, "negative dimensions are not allowed, got shape " << shape_str(s));
  return s;
}

void bind_random(py::module_& m) {
  m.def(
      "uniform",
      [](py::handle shape, uint64_t seed, uint64_t offset, float low, float high,
         const std::string& device) {
        py::object out = empty(parse_device(device), DType::F32, checked_shape(shape));
        View ov = to_view(out, "out");
        py::gil_scoped_release nogil;
        ops::uniform_fill(ov, seed, offset, low, high);
        return out;
      },
      py::arg("shape"), py::arg("seed"), py::arg("offset"), py::arg("low") = 0.0f,
      py::arg("high") = 1.0f, py::arg("device") = "cpu",
      "low + (high - low) * unit(philox_word(seed, offset + i)); consumes numel words.");
  m.def(
      "normal",
      [](py::handle shape, uint64_t seed, uint64_t offset, float mean, float std,
         const std::string& device) {
        py::object out = empty(parse_device(device), DType::F32, checked_shape(shape));
        View ov = to_view(out, "out");
        py::gil_scoped_release nogil;
        ops::normal_fill(ov, seed, offset, mean, std);
        return out;
      },
      py::arg("shape"), py::arg("seed"), py::arg("offset"), py::arg("mean") = 0.0f,
      py::arg("std") = 1.0f, py::arg("device") = "cpu",
      "Box-Muller normals from words offset .. offset + 2 * ceil(numel / 2).");
  m.def(
      "dropout_forward",
      [](py::handle x, float rate, uint64_t seed, uint64_t offset) {
        View xv = to_view(x, "x", DType::F32);
        py::object y = empty_like(xv);
        View yv = to_view(y, "y");
        py::gil_scoped_release nogil;
        ops::dropout_forward(yv, xv, rate, seed, offset);
        return y;
      },
      py::arg("x"), py::arg("rate"), py::arg("seed"), py::arg("offset"));
  m.def(
      "dropout_backward",
      [](py::handle dy, float rate, uint64_t seed, uint64_t offset) {
        View gv = to_view(dy, "dy", DType::F32);
        py::object dx = empty_like(gv);
        View dxv = to_view(dx, "dx");
        py::gil_scoped_release nogil;
        ops::dropout_backward(dxv, gv, rate, seed, offset);
        return dx;
      },
      py::arg("dy"), py::arg("rate"), py::arg("seed"), py::arg("offset"));
  m.def(
      "philox4",
      [](uint64_t seed, uint64_t counter) {
        Philox4 r = philox4(seed, counter);
        return py::make_tuple(r.v[0], r.v[1], r.v[2], r.v[3]);
      },
      py::arg("seed"), py::arg("counter"),
      "The four 32-bit words of Philox-4x32-10 block `counter` under key `seed` (tests).");
}

}  // namespace fastnn::bind
