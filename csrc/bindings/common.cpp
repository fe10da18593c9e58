#include "bindings/common.h"

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

py::object empty(Device device, DType dtype, const Shape& shape) {
  if (device == Device::CPU) {
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

Shape to_shape(py::handle seq) {
  Shape s;
  for (auto item : seq) s.push_back(item.cast<int64_t>());
  return s;
}

}  // namespace fastnn::bind
