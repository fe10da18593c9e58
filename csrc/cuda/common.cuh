// Helpers shared by the CUDA kernel files (csrc/cuda/*.cu): the error check that follows every
// launch, ceil_div and the grid of a grid-stride loop, and block-wide reductions.
// All kernels run on the legacy default stream, so a block freed to the caching allocator
// (memory.cu) can be handed to the next kernel without an event.
#pragma once
#include <cuda_runtime.h>

#include <algorithm>
#include <cmath>
#include <cstdint>

#include "core/common.h"
#include "kernels/memory.h"

// Throws fastnn::RuntimeError naming the failing call and the CUDA error.
#define FASTNN_CUDA_CHECK(expr)                                                                  \
  do {                                                                                           \
    cudaError_t fastnn_err_ = (expr);                                                            \
    if (fastnn_err_ != cudaSuccess) {                                                            \
      (void)cudaGetLastError(); /* clear a non-sticky error so later calls are not blamed */     \
      FASTNN_CHECK(false, RuntimeError,                                                          \
                   "CUDA error in " << #expr << " (" << __FILE__ << ":" << __LINE__             \
                                    << "): " << cudaGetErrorString(fastnn_err_));               \
    }                                                                                            \
  } while (0)
// Right after every <<<...>>>: reports a bad launch configuration (errors inside the kernel
// surface at the next synchronising call; run with CUDA_LAUNCH_BLOCKING=1 to pin them down).
#define FASTNN_CUDA_CHECK_LAUNCH() FASTNN_CUDA_CHECK(cudaGetLastError())

namespace fastnn::cuda {

constexpr int kThreads = 256;            // default block size of elementwise kernels
constexpr int64_t kMaxBlocks = 1 << 20;  // grid-stride loops cover the rest

__host__ __device__ inline int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }
// Blocks for a grid-stride loop over n items with `threads` per block (n > 0).
inline unsigned grid_for(int64_t n, int threads = kThreads) {
  return (unsigned)std::min<int64_t>(ceil_div(n, threads), kMaxBlocks);
}
// Block size for one block per row of length n: a power of two in [32, 256].
inline int threads_for_row(int64_t n) {
  int t = 32;
  while (t < 256 && t < n) t *= 2;
  return t;
}

// Temporary device memory from the caching allocator, returned when it goes out of scope
// (safe right after queuing the kernels that use it: they run on the same stream).
struct Scratch {
  void* ptr;
  explicit Scratch(int64_t nbytes) : ptr(alloc(nbytes)) {}
  ~Scratch() { free(ptr); }
  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;
  float* f32() const { return static_cast<float*>(ptr); }
};

// Grid-stride loop over [0, n) with 64-bit indices.
#define FASTNN_KERNEL_LOOP(i, n)                                                        \
  for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x, fastnn_step_ =       \
           (int64_t)blockDim.x * gridDim.x;                                             \
       i < (n); i += fastnn_step_)

// NaN-propagating max / min: once NaN, it stays NaN (the CPU kernels use the same rule).
__device__ __forceinline__ float nan_max(float a, float b) { return (b > a || b != b) ? b : a; }
__device__ __forceinline__ float nan_min(float a, float b) { return (b < a || b != b) ? b : a; }

// Butterfly reductions: every lane ends with the same value, in a fixed order.
__device__ __forceinline__ float warp_sum(float v) {
  for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
  return v;
}
__device__ __forceinline__ float warp_max(float v) {
  for (int o = 16; o > 0; o >>= 1) v = nan_max(v, __shfl_xor_sync(0xffffffffu, v, o));
  return v;
}

// Block-wide sum / max, returned to every thread. blockDim.x must be a multiple of 32 and
// every thread of the block must call it (it synchronises). Deterministic: the order depends
// on blockDim only.
__device__ __forceinline__ float block_sum(float v) {
  __shared__ float warp_part[32];
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, nwarps = blockDim.x >> 5;
  v = warp_sum(v);
  __syncthreads();  // a previous call may still be reading warp_part
  if (lane == 0) warp_part[warp] = v;
  __syncthreads();
  return warp_sum(lane < nwarps ? warp_part[lane] : 0.f);
}
__device__ __forceinline__ float block_max(float v) {
  __shared__ float warp_part[32];
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, nwarps = blockDim.x >> 5;
  v = warp_max(v);
  __syncthreads();
  if (lane == 0) warp_part[warp] = v;
  __syncthreads();
  return warp_max(lane < nwarps ? warp_part[lane] : -INFINITY);
}

}  // namespace fastnn::cuda
