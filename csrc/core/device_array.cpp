#include "core/device_array.h"

#ifdef FASTNN_WITH_CUDA
#include "kernels/memory.h"
#endif

namespace fastnn {

void throw_no_cuda() {
  throw RuntimeError("fastnn was built without CUDA: rebuild with nvcc available (FASTNN_CUDA=ON) "
                     "to use device='cuda'");
}

bool cuda_built() {
#ifdef FASTNN_WITH_CUDA
  return true;
#else
  return false;
#endif
}

int cuda_device_count() {
#ifdef FASTNN_WITH_CUDA
  return cuda::device_count();
#else
  return 0;
#endif
}

HostI64::HostI64(const View& v) : n_(v.numel()) {
  if (v.device == Device::CPU || n_ == 0) {
    p_ = v.i64();
    return;
  }
#ifdef FASTNN_WITH_CUDA
  copy_.resize(n_);
  cuda::copy_d2h(copy_.data(), v.data, n_ * (int64_t)sizeof(int64_t));
  p_ = copy_.data();
#else
  throw_no_cuda();
#endif
}

#ifdef FASTNN_WITH_CUDA
static void require_device() {
  if (cuda::device_count() == 0)
    throw RuntimeError("fastnn was built with CUDA, but no CUDA device is available");
}

DeviceArray device_empty(DType dtype, const Shape& shape) {
  require_device();
  DeviceArray a;
  a.dtype = dtype;
  a.shape = shape;
  int64_t nbytes = a.nbytes();
  void* p = nbytes > 0 ? cuda::alloc(nbytes) : nullptr;
  a.mem = std::shared_ptr<void>(p, [](void* q) {
    if (q) cuda::free(q);
  });
  return a;
}
void device_upload(const DeviceArray& dst, const void* host_src) {
  if (dst.nbytes()) cuda::copy_h2d(dst.mem.get(), host_src, dst.nbytes());
}
void device_download(void* host_dst, const DeviceArray& src) {
  if (src.nbytes()) cuda::copy_d2h(host_dst, src.mem.get(), src.nbytes());
}
DeviceArray device_clone(const DeviceArray& src) {
  DeviceArray d = device_empty(src.dtype, src.shape);
  if (src.nbytes()) cuda::copy_d2d(d.mem.get(), src.mem.get(), src.nbytes());
  return d;
}
#else
DeviceArray device_empty(DType, const Shape&) { throw_no_cuda(); }
void device_upload(const DeviceArray&, const void*) { throw_no_cuda(); }
void device_download(void*, const DeviceArray&) { throw_no_cuda(); }
DeviceArray device_clone(const DeviceArray&) { throw_no_cuda(); }
#endif

}  // namespace fastnn
