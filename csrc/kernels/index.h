// Gathering and copying: index_select (embedding lookup, integer-array indexing) with its
// scatter-add backward, and the strided copy behind permute, expand, slicing and concatenation.
// x is seen as (O, V, I); idx holds N indices into V (range-checked by the caller);
// out is (O, N, I). Backward accumulates into dx (+=), in an order that does not depend on the
// thread count.
#pragma once
#include <cstdint>

#include "core/common.h"

namespace fastnn {

// A strided n-d copy: dst[d] = src[s] over `shape`, strides in elements (any sign, 0 allowed
// for src to broadcast).
struct StridedCopy {
  int ndim = 0;
  int64_t shape[kMaxDims] = {};
  int64_t dst_stride[kMaxDims] = {};
  int64_t src_stride[kMaxDims] = {};
};

#define FASTNN_DECLARE_INDEX_KERNELS                                                               \
  void index_select_forward(float* out, const float* x, const int64_t* idx, int64_t O, int64_t V,  \
                            int64_t I, int64_t N);                                                \
  void index_select_backward(float* dx, const float* dout, const int64_t* idx, int64_t O,          \
                             int64_t V, int64_t I, int64_t N);                                    \
  /* Merges the rows of a scattered gradient (an embedding's backward): idx holds N indices  \
     into V rows (range-checked by the caller), rows is (N, D). Writes the U sorted unique    \
     indices to out_idx and out[u, :] = sum of rows[n, :] over idx[n] == out_idx[u] (both    \
     with room for N rows) and returns U. CPU: each sum runs in the order of n from 0, the    \
     order of index_select_backward (the same bits as the dense gradient); CUDA: atomicAdd. */ \
  int64_t row_coalesce(int64_t* out_idx, float* out, const int64_t* idx, const float* rows,       \
                       int64_t N, int64_t V, int64_t D);                                          \
  /* elem_size bytes per element (4 or 8); dst and src must not overlap */                         \
  void strided_copy(void* dst, const void* src, const StridedCopy& sc, int64_t elem_size);

namespace cpu { FASTNN_DECLARE_INDEX_KERNELS }
namespace cuda { FASTNN_DECLARE_INDEX_KERNELS }

}  // namespace fastnn
