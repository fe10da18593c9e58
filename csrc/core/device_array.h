// DeviceArray: an owning, contiguous array in CUDA memory (the CPU side uses NumPy arrays,
// which fastnn shares without copies). The Python Tensor keeps one of the two as its storage.
#pragma once
#include <memory>
#include <vector>

#include "core/common.h"

namespace fastnn {

struct DeviceArray {
  std::shared_ptr<void> mem;
  DType dtype = DType::F32;
  Shape shape;

  int64_t numel() const { return numel_of(shape); }
  int64_t nbytes() const { return numel() * dtype_size(dtype); }
  View view() const { return View{mem.get(), dtype, Device::CUDA, shape}; }
};

[[noreturn]] void throw_no_cuda();
bool cuda_built();
int cuda_device_count();

// Allocation and host <-> device copies; each throws "built without CUDA" in a CPU-only build.
DeviceArray device_empty(DType dtype, const Shape& shape);
void device_upload(const DeviceArray& dst, const void* host_src);
void device_download(void* host_dst, const DeviceArray& src);
DeviceArray device_clone(const DeviceArray& src);

// The values of an int64 View, readable on the host: the CPU array itself, or a copy of a device
// array. Indices that a kernel would turn into addresses are checked through this on the host
// before any kernel runs, on every device.
class HostI64 {
 public:
  explicit HostI64(const View& v);
  const int64_t* data() const { return p_; }
  int64_t size() const { return n_; }
  int64_t operator[](int64_t i) const { return p_[i]; }

 private:
  std::vector<int64_t> copy_;
  const int64_t* p_ = nullptr;
  int64_t n_ = 0;
};

}  // namespace fastnn

// Calls cuda::fn(args...) in a CUDA build; throws "built without CUDA" otherwise.
#ifdef FASTNN_WITH_CUDA
#define FASTNN_CUDA_CALL(fn, ...) ::fastnn::cuda::fn(__VA_ARGS__)
#else
#define FASTNN_CUDA_CALL(fn, ...) ::fastnn::throw_no_cuda()
#endif
// Runs the kernel `fn` of the device `dev` (a Device value) with the same arguments.
#define FASTNN_DISPATCH(dev, fn, ...)                   \
  do {                                                  \
    if ((dev) == ::fastnn::Device::CPU)                 \
      ::fastnn::cpu::fn(__VA_ARGS__);                   \
    else                                                \
      FASTNN_CUDA_CALL(fn, __VA_ARGS__);                \
  } while (0)
