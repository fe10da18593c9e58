// Device-neutral entries for gathering and copying (see kernels/index.h).
#pragma once
#include "core/common.h"

namespace fastnn::ops {

// out = x.take(idx, axis): x seen as (O, V, I) around `axis`; out (O, N, I). Indices may be
// negative (counted from the end); out-of-range indices raise IndexError-style ValueError.
void index_select_forward(const View& out, const View& x, const View& idx, int axis);
// dx (+=) scatter-add of dout back through index_select_forward.
void index_select_backward(const View& dx, const View& dout, const View& idx, int axis);
// Merges a scattered gradient: idx (any shape, N entries) into V rows, rows of shape
// idx.shape + R. Writes the U sorted unique indices into out_idx[:U] and their summed rows into
// out[:U] (out_idx (N,), out (N,) + R) and returns U. ValueError for an index outside [0, V).
int64_t row_coalesce(const View& out_idx, const View& out, const View& idx, const View& rows, int64_t V);
// dst[...] = src[...] over `shape` with element strides (dst, src in bytes-agnostic elements).
void strided_copy(const View& dst, int64_t dst_offset, const Shape& dst_strides, const View& src,
                  int64_t src_offset, const Shape& src_strides, const Shape& shape);

}  // namespace fastnn::ops
