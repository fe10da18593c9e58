// CUDA device memory: device queries, a caching allocator, host <-> device copies and fills.
// The allocator rounds every request up to a size class and keeps freed blocks in a free list
// per class, so a training step that asks for the same shapes every batch stops calling
// cudaMalloc (and cudaFree, which synchronises the device) after the first step.
#include "kernels/memory.h"

#include <mutex>
#include <unordered_map>
#include <vector>

#include "cuda/common.cuh"

namespace fastnn::cuda {

// ---- fills

__global__ void fill_f32_kernel(float* dst, float value, int64_t n) {
  FASTNN_KERNEL_LOOP(i, n) dst[i] = value;
}
__global__ void fill_i64_kernel(int64_t* dst, int64_t value, int64_t n) {
  FASTNN_KERNEL_LOOP(i, n) dst[i] = value;
}

void fill_f32(float* dst, float value, int64_t n) {
  if (n <= 0) return;
  fill_f32_kernel<<<grid_for(n), kThreads>>>(dst, value, n);
  FASTNN_CUDA_CHECK_LAUNCH();
}
void fill_i64(int64_t* dst, int64_t value, int64_t n) {
  if (n <= 0) return;
  fill_i64_kernel<<<grid_for(n), kThreads>>>(dst, value, n);
  FASTNN_CUDA_CHECK_LAUNCH();
}

// ---- device queries

int device_count() {
  // Computed once: without a driver or a GPU every CUDA call fails, and that means "0 devices".
  static const int count = [] {
    int n = 0;
    cudaError_t err = cudaGetDeviceCount(&n);
    if (err != cudaSuccess) {
      (void)cudaGetLastError();
      n = 0;
    }
    return n;
  }();
  return count;
}

std::string device_name(int device) {
  FASTNN_CHECK(device >= 0 && device < device_count(), ValueError,
               "CUDA device " << device << " does not exist (" << device_count() << " found)");
  cudaDeviceProp prop;
  FASTNN_CUDA_CHECK(cudaGetDeviceProperties(&prop, device));
  return prop.name;
}

void synchronize() { FASTNN_CUDA_CHECK(cudaDeviceSynchronize()); }

// ---- caching allocator

namespace {

constexpr int64_t kAlign = 512;           // every block is a multiple of 512 bytes
constexpr int64_t kSmall = 1 << 20;       // up to 1 MiB: classes 512 bytes apart
// Above 1 MiB: 8 classes per power of two, so at most 12.5% of a block is padding.
int64_t size_class(int64_t nbytes) {
  int64_t n = ceil_div(nbytes, kAlign) * kAlign;
  if (n <= kSmall) return n;
  int64_t p = kSmall;
  while (p * 2 <= n) p *= 2;
  int64_t step = p / 8;
  return ceil_div(n, step) * step;
}

struct Cache {
  std::mutex mu;
  std::unordered_map<int64_t, std::vector<void*>> free_blocks;  // size class -> cached blocks
  std::unordered_map<void*, int64_t> live;                      // block in use -> size class
  int64_t cached_bytes = 0;

  // Caller holds mu.
  void release_all() {
    for (auto& kv : free_blocks)
      for (void* p : kv.second) (void)cudaFree(p);
    free_blocks.clear();
    cached_bytes = 0;
    (void)cudaGetLastError();
  }
};

// Never destroyed: DeviceArrays released at interpreter exit must still find it, and the CUDA
// runtime may already be torn down by then.
Cache& cache() {
  static Cache* c = new Cache;
  return *c;
}

}  // namespace

void* alloc(int64_t nbytes) {
  if (nbytes <= 0) return nullptr;
  const int64_t size = size_class(nbytes);
  Cache& c = cache();
  std::lock_guard<std::mutex> lock(c.mu);
  auto it = c.free_blocks.find(size);
  if (it != c.free_blocks.end() && !it->second.empty()) {
    void* p = it->second.back();
    it->second.pop_back();
    c.cached_bytes -= size;
    c.live[p] = size;
    return p;
  }
  void* p = nullptr;
  cudaError_t err = cudaMalloc(&p, (size_t)size);
  if (err != cudaSuccess) {
    // Out of memory (or fragmented by cached blocks of other sizes): give the cache back to
    // the driver and try once more.
    (void)cudaGetLastError();
    c.release_all();
    err = cudaMalloc(&p, (size_t)size);
  }
  if (err != cudaSuccess) {
    (void)cudaGetLastError();
    size_t free_b = 0, total_b = 0;
    (void)cudaMemGetInfo(&free_b, &total_b);
    (void)cudaGetLastError();
    int64_t in_use = 0;
    for (auto& kv : c.live) in_use += kv.second;
    FASTNN_CHECK(false, RuntimeError,
                 "CUDA out of memory: tried to allocate " << nbytes << " bytes (" << size
                     << " with rounding); " << in_use << " bytes in use by fastnn, " << free_b
                     << " of " << total_b << " bytes free on the device ("
                     << cudaGetErrorString(err) << ")");
  }
  c.live[p] = size;
  return p;
}

void free(void* ptr) {
  // Called from DeviceArray deleters: must not throw.
  if (!ptr) return;
  Cache& c = cache();
  std::lock_guard<std::mutex> lock(c.mu);
  auto it = c.live.find(ptr);
  if (it == c.live.end()) return;  // not ours (or freed twice): leave it alone
  c.free_blocks[it->second].push_back(ptr);
  c.cached_bytes += it->second;
  c.live.erase(it);
}

void empty_cache() {
  if (device_count() == 0) return;
  Cache& c = cache();
  std::lock_guard<std::mutex> lock(c.mu);
  c.release_all();
}

// ---- copies (synchronous with respect to the host for pageable host memory)

void copy_h2d(void* dst, const void* src, int64_t nbytes) {
  if (nbytes <= 0) return;
  FASTNN_CUDA_CHECK(cudaMemcpy(dst, src, (size_t)nbytes, cudaMemcpyHostToDevice));
}
void copy_d2h(void* dst, const void* src, int64_t nbytes) {
  if (nbytes <= 0) return;
  FASTNN_CUDA_CHECK(cudaMemcpy(dst, src, (size_t)nbytes, cudaMemcpyDeviceToHost));
}
void copy_d2d(void* dst, const void* src, int64_t nbytes) {
  if (nbytes <= 0) return;
  FASTNN_CUDA_CHECK(cudaMemcpy(dst, src, (size_t)nbytes, cudaMemcpyDeviceToDevice));
}

}  // namespace fastnn::cuda
