// Storage bindings: DeviceArray (CUDA memory), host <-> device transfers, device queries.
#include "bindings/common.h"
#ifdef FASTNN_WITH_CUDA
#include "kernels/memory.h"
#endif

namespace fastnn::bind {

static DType dtype_of(py::array arr) {
  if (is_dtype(arr.dtype(), py::dtype::of<float>())) return DType::F32;
  if (is_dtype(arr.dtype(), py::dtype::of<int64_t>())) return DType::I64;
  throw TypeError("expected a float32 or int64 array, got dtype " + py::str(arr.dtype()).cast<std::string>());
}

void bind_core(py::module_& m) {
  py::class_<DeviceArray>(m, "DeviceArray", "A contiguous array in CUDA memory")
      .def_property_readonly("shape", [](const DeviceArray& a) { return py::tuple(py::cast(a.shape)); })
      .def_property_readonly("dtype", [](const DeviceArray& a) { return std::string(dtype_name(a.dtype)); })
      .def_property_readonly("ndim", [](const DeviceArray& a) { return (int)a.shape.size(); })
      .def_property_readonly("size", &DeviceArray::numel)
      .def_property_readonly("nbytes", &DeviceArray::nbytes)
      .def("reshape", [](const DeviceArray& a, py::handle shape) {
        DeviceArray b = a;  // shares memory
        b.shape = to_shape(shape);
        FASTNN_CHECK(numel_of(b.shape) == a.numel(), ValueError,
                     "cannot reshape an array of shape " << shape_str(a.shape) << " into " << shape_str(b.shape));
        return b;
      });

  m.def("cuda_built", &cuda_built);
  m.def("cuda_device_count", &cuda_device_count);
  m.def("cuda_device_name", [](int d) -> std::string {
#ifdef FASTNN_WITH_CUDA
    return cuda::device_name(d);
#else
    throw_no_cuda();
#endif
  });
  m.def("cuda_synchronize", [] {
#ifdef FASTNN_WITH_CUDA
    cuda::synchronize();
#else
    throw_no_cuda();
#endif
  });
  m.def("cuda_empty_cache", [] {
#ifdef FASTNN_WITH_CUDA
    cuda::empty_cache();
#else
    throw_no_cuda();
#endif
  });

  m.def("to_device", [](py::array arr) {
    FASTNN_CHECK(arr.flags() & py::array::c_style, TypeError, "to_device: expected a C-contiguous array");
    DeviceArray d = device_empty(dtype_of(arr), Shape(arr.shape(), arr.shape() + arr.ndim()));
    py::gil_scoped_release nogil;
    device_upload(d, arr.data());
    return d;
  });
  m.def("to_host", [](const DeviceArray& d) {
    py::object out = empty(Device::CPU, d.dtype, d.shape);
    auto arr = out.cast<py::array>();
    {
      py::gil_scoped_release nogil;
      device_download(arr.mutable_data(), d);
    }
    return out;
  });
  m.def("device_clone", &device_clone);
  m.def("device_full", [](py::handle shape, double value, const std::string& dtype) {
    DType t = dtype == "int64" ? DType::I64 : DType::F32;
    DeviceArray d = device_empty(t, to_shape(shape));
#ifdef FASTNN_WITH_CUDA
    if (t == DType::F32) cuda::fill_f32((float*)d.mem.get(), (float)value, d.numel());
    else cuda::fill_i64((int64_t*)d.mem.get(), (int64_t)value, d.numel());
#endif
    return d;
  });
  m.def("device_empty", [](py::handle shape, const std::string& dtype) {
    return device_empty(dtype == "int64" ? DType::I64 : DType::F32, to_shape(shape));
  });
}

}  // namespace fastnn::bind
