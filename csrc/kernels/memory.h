// CUDA device memory and queries (csrc/cuda/memory.cu). Device memory comes from a caching
// allocator, so a training step does not call cudaMalloc for the same buffers every batch.
// Only compiled with FASTNN_WITH_CUDA; the ops layer answers "built without CUDA" otherwise.
#pragma once
#include <cstdint>
#include <string>

namespace fastnn::cuda {

int device_count();                 // 0 when there is no driver or no GPU (never throws)
std::string device_name(int device);
void* alloc(int64_t nbytes);        // from the cache; throws RuntimeError when out of memory
void free(void* ptr);               // back to the cache
void empty_cache();                 // release cached blocks to the driver
void copy_h2d(void* dst, const void* src, int64_t nbytes);
void copy_d2h(void* dst, const void* src, int64_t nbytes);
void copy_d2d(void* dst, const void* src, int64_t nbytes);
void fill_f32(float* dst, float value, int64_t n);
void fill_i64(int64_t* dst, int64_t value, int64_t n);
void synchronize();

}  // namespace fastnn::cuda
