#include "bindings/common.h"

#include <unistd.h>

#include <algorithm>
#include <climits>

namespace fastnn::bind {

View to_view(py::handle obj, const char* arg) {
  if (py::isinstance<py::array>(obj)) {
    auto arr = py::reinterpret_borrow<py::array>(obj);
    View v;
    if (is_dtype(arr.dtype(), py::dtype::of<float>())) {
      v.dtype = DType::F32;
    } else if (is_dtype(arr.dtype(), py::dtype::of<int64_t>())) {
      v.dtype = DType::I64;
    } else {
      throw TypeError(std::string(arg) + ": expected a float32 or int64 array, got dtype " +
                      py::str(arr.dtype()).cast<std::string>());
    }
    if (!(arr.flags() & py::array::c_style))
      throw TypeError(std::string(arg) + ": expected a C-contiguous array");
    FASTNN_CHECK(arr.ndim() <= kMaxDims, ValueError,
                 arg << ": fastnn supports at most " << kMaxDims << " dimensions, got " << arr.ndim());
    v.device = Device::CPU;
    v.data = const_cast<void*>(arr.data());
    v.shape.assign(arr.shape(), arr.shape() + arr.ndim());
    return v;
  }
  if (py::isinstance<DeviceArray>(obj)) return obj.cast<const DeviceArray&>().view();
  throw TypeError(std::string(arg) + ": expected a NumPy array or a DeviceArray, got " +
                  py::str(py::type::of(obj)).cast<std::string>());
}

View to_view(py::handle obj, const char* arg, DType want) {
  View v = to_view(obj, arg);
  FASTNN_CHECK(v.dtype == want, TypeError,
               arg << ": expected " << dtype_name(want) << ", got " << dtype_name(v.dtype));
  return v;
}

View to_out_view(py::handle obj, const char* arg, DType want) {
  View v = to_out_view(obj, arg);
  FASTNN_CHECK(v.dtype == want, TypeError,
               arg << ": expected " << dtype_name(want) << ", got " << dtype_name(v.dtype));
  return v;
}

View to_out_view(py::handle obj, const char* arg) {
  View v = to_view(obj, arg);
  if (py::isinstance<py::array>(obj))
    FASTNN_CHECK(py::reinterpret_borrow<py::array>(obj).writeable(), ValueError,
                 arg << ": the array of shape " << v.shape_str()
                     << " is read-only, but this call writes its result into it");
  return v;
}

bool overlaps(const View& a, const View& b) {
  if (a.device != b.device) return false;
  const auto lo_a = reinterpret_cast<uintptr_t>(a.data), lo_b = reinterpret_cast<uintptr_t>(b.data);
  const auto hi_a = lo_a + (uintptr_t)(a.numel() * dtype_size(a.dtype));
  const auto hi_b = lo_b + (uintptr_t)(b.numel() * dtype_size(b.dtype));
  return lo_a < hi_b && lo_b < hi_a;  // empty arrays overlap nothing
}

static void check_pair(const char* op, const Named& a, const Named& b) {
  if (a.view && b.view)
    FASTNN_CHECK(!overlaps(*a.view, *b.view), ValueError,
                 op << ": " << a.name << " (shape " << a.view->shape_str() << ") and " << b.name << " (shape "
                    << b.view->shape_str() << ") share memory, but " << a.name
                    << " is written in place; pass separate arrays");
}

void check_disjoint(const char* op, std::initializer_list<Named> outputs, std::initializer_list<Named> inputs) {
  for (auto o = outputs.begin(); o != outputs.end(); ++o) {
    for (auto p = o + 1; p != outputs.end(); ++p) check_pair(op, *o, *p);
    for (const Named& i : inputs) check_pair(op, *o, i);
  }
}

// The machine's physical memory: a result larger than this can never be filled (the kernel would
// page forever or be killed), so it is refused up front rather than left to lazy overcommit.
int64_t physical_memory_bytes() {
  static const int64_t bytes = [] {
    const long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGE_SIZE);
    return pages > 0 && page > 0 ? (int64_t)pages * page : INT64_MAX;
  }();
  return bytes;
}

py::object empty(Device device, DType dtype, const Shape& shape) {
  // Byte strides are products of trailing dimensions even when another dimension is 0, so every
  // non-zero dimension together (times the item size) must fit in 64 bits: (0, 2**40, 2**40) is
  // refused rather than left to overflow inside NumPy's stride computation.
  int64_t extent = dtype_size(dtype);
  for (int64_t d : shape)
    FASTNN_CHECK(d >= 0 && !__builtin_mul_overflow(extent, std::max<int64_t>(d, 1), &extent), ValueError,
                 "cannot make a result of shape " << shape_str(shape) << ": its dimensions overflow 64-bit strides");
  if (device == Device::CPU) {
    const int64_t n = numel_of(shape);
    if (n > physical_memory_bytes() / dtype_size(dtype)) {
      std::ostringstream os;
      os << "cannot allocate a result of shape " << shape_str(shape) << " (" << n << " " << dtype_name(dtype)
         << " values): it is larger than this machine's " << physical_memory_bytes() / (1 << 20) << " MiB of memory";
      PyErr_SetString(PyExc_MemoryError, os.str().c_str());
      throw py::error_already_set();
    }
    if (dtype == DType::F32) return py::array_t<float>(shape);
    return py::array_t<int64_t>(shape);
  }
  return py::cast(device_empty(dtype, shape));
}

py::object empty_like(const View& v) { return empty(v.device, v.dtype, v.shape); }

void check_same_device(const char* op, std::initializer_list<const View*> views) {
  const View* first = *views.begin();
  for (const View* v : views)
    FASTNN_CHECK(v->device == first->device, ValueError,
                 op << ": all arguments must be on the same device, got " << device_name(first->device)
                    << " and " << device_name(v->device));
}

void check_same_shape(const char* op, const View& a, const char* an, const View& b, const char* bn) {
  FASTNN_CHECK(a.shape == b.shape, ValueError,
               op << ": " << an << " has shape " << a.shape_str() << " but " << bn << " has shape "
                  << b.shape_str());
}

Shape to_ints(py::handle seq, const char* arg) {
  Shape s;
  for (auto item : py::iter(seq)) {
    FASTNN_CHECK(s.size() < (size_t)kMaxDims, ValueError,
                 arg << ": fastnn supports at most " << kMaxDims << " dimensions");
    try {
      s.push_back(item.cast<int64_t>());
    } catch (const py::cast_error&) {
      throw TypeError(std::string(arg) + ": expected integers that fit in 64 bits, got " +
                      py::repr(item).cast<std::string>());
    }
  }
  return s;
}

Shape to_shape(py::handle seq, const char* arg) {
  Shape s = to_ints(seq, arg);
  for (int64_t d : s)
    FASTNN_CHECK(d >= 0, ValueError, arg << ": " << shape_str(s) << " has a negative dimension");
  (void)numel_of(s);  // raises when the element count overflows
  return s;
}

}  // namespace fastnn::bind
