// Host emulation of the CUDA subset used by csrc/cuda (testing only, no GPU): each launch runs
// blocks one after another, the threads of a block as std::threads; __shared__ becomes static
// (shared by the threads of the running block); __syncthreads is a barrier; warp shuffles
// exchange through a block-wide slot array (all threads of a block must call them, as ours do).
#pragma once
#include <barrier>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <math.h>
#include <mutex>
#include <thread>
#include <tuple>
#include <type_traits>
#include <vector>

#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define __launch_bounds__(x)
#define __shared__ static

struct uint3 { unsigned x = 0, y = 0, z = 0; };
struct dim3 {
  unsigned x, y, z;
  dim3(unsigned x_ = 1, unsigned y_ = 1, unsigned z_ = 1) : x(x_), y(y_), z(z_) {}
};
inline thread_local uint3 threadIdx, blockIdx;
inline thread_local dim3 blockDim, gridDim;
inline std::barrier<>* emu_bar = nullptr;
inline void __syncthreads() { emu_bar->arrive_and_wait(); }

template <class T>
T __shfl_xor_sync(unsigned, T v, int off) {
  static std::vector<T> slots(1024);
  unsigned t = threadIdx.x;
  slots[t] = v;
  __syncthreads();
  T r = slots[t ^ (unsigned)off];
  __syncthreads();
  return r;
}
inline std::mutex emu_atomic_mu;
inline float atomicAdd(float* p, float v) {
  std::lock_guard<std::mutex> l(emu_atomic_mu);
  float o = *p;
  *p = o + v;
  return o;
}

typedef int cudaError_t;
enum { cudaSuccess = 0, cudaErrorMemoryAllocation = 2 };
enum cudaMemcpyKind { cudaMemcpyHostToDevice, cudaMemcpyDeviceToHost, cudaMemcpyDeviceToDevice };
struct cudaDeviceProp { char name[256]; };
inline int emu_launches = 0;
inline cudaError_t emu_last = 0;
inline cudaError_t cudaGetLastError() { cudaError_t e = emu_last; emu_last = 0; return e; }
inline const char* cudaGetErrorString(cudaError_t e) { return e ? "emulated error" : "no error"; }
inline cudaError_t cudaGetDeviceCount(int* n) { *n = 1; return 0; }
inline cudaError_t cudaGetDeviceProperties(cudaDeviceProp* p, int) { std::strcpy(p->name, "emulator"); return 0; }
inline cudaError_t cudaDeviceSynchronize() { return 0; }
inline long emu_malloc_limit = -1;
inline cudaError_t cudaMalloc(void** p, size_t n) {
  if (emu_malloc_limit >= 0 && (long)n > emu_malloc_limit) { emu_last = 2; return 2; }
  *p = std::malloc(n); std::memset(*p, 0xff, n); return 0;  // NaN-filled, like garbage
}
inline cudaError_t cudaFree(void* p) { std::free(p); return 0; }
inline cudaError_t cudaMemGetInfo(size_t* f, size_t* t) { *f = 0; *t = 0; return 0; }
inline cudaError_t cudaMemcpy(void* d, const void* s, size_t n, cudaMemcpyKind) { std::memcpy(d, s, n); return 0; }

namespace emu {
struct Launcher {
  dim3 g, b;
  Launcher(dim3 g_, dim3 b_) : g(g_), b(b_) {}
  template <class... P, class... A>
  void run(void (*k)(P...), A&&... a) {
    ++emu_launches;
    const unsigned nt = b.x * b.y * b.z;
    if (nt == 0 || nt > 1024 || g.x == 0 || g.y == 0 || g.z == 0 || g.y > 65535 || g.z > 65535) {
      std::fprintf(stderr, "emu: bad launch grid (%u,%u,%u) block (%u,%u,%u)\n", g.x, g.y, g.z, b.x, b.y, b.z);
      emu_last = 9;
      return;
    }
    std::tuple<std::decay_t<P>...> args(std::forward<A>(a)...);
    std::barrier<> bar(nt);
    emu_bar = &bar;
    std::vector<std::thread> ts;
    for (unsigned t = 0; t < nt; ++t)
      ts.emplace_back([&, t] {
        threadIdx.x = t % b.x; threadIdx.y = (t / b.x) % b.y; threadIdx.z = t / (b.x * b.y);
        blockDim = b; gridDim = g;
        for (unsigned z = 0; z < g.z; ++z)
          for (unsigned y = 0; y < g.y; ++y)
            for (unsigned x = 0; x < g.x; ++x) {
              blockIdx.x = x; blockIdx.y = y; blockIdx.z = z;
              std::apply(k, args);
              bar.arrive_and_wait();
            }
      });
    for (auto& th : ts) th.join();
    emu_bar = nullptr;
  }
};
}  // namespace emu
