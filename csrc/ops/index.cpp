#include "ops/index.h"

#include "core/device_array.h"
#include "kernels/index.h"

#include <algorithm>

namespace fastnn::ops {

static void split_axis(const View& x, int axis, int64_t& O, int64_t& V, int64_t& I) {
  O = 1;
  I = 1;
  for (int d = 0; d < axis; ++d) O *= x.shape[d];
  V = x.shape[axis];
  for (int d = axis + 1; d < x.ndim(); ++d) I *= x.shape[d];
}

// The kernels take the indices as they are, so negative and out-of-range values are rejected
// here, on every device, before any kernel runs (the CUDA kernels also clamp, as a second line).
static void check_indices(const View& idx, int64_t V) {
  const HostI64 p(idx);
  for (int64_t i = 0, n = p.size(); i < n; ++i)
    FASTNN_CHECK(p[i] >= 0 && p[i] < V, ValueError,
                 "index " << p[i] << " is out of bounds for an axis of size " << V);
}

void index_select_forward(const View& out, const View& x, const View& idx, int axis) {
  FASTNN_CHECK(x.dtype == DType::F32 && out.dtype == DType::F32, TypeError,
               "index_select: expected float32 data");
  FASTNN_CHECK(idx.dtype == DType::I64, TypeError, "index_select: indices must be int64");
  FASTNN_CHECK(axis >= 0 && axis < x.ndim(), ValueError,
               "index_select: axis " << axis << " out of range for shape " << x.shape_str());
  int64_t O, V, I;
  split_axis(x, axis, O, V, I);
  int64_t N = idx.numel();
  FASTNN_CHECK(out.numel() == checked_product({O, N, I}, "index_select"), ValueError,
               "index_select: output shape " << out.shape_str() << " does not match");
  check_indices(idx, V);
  FASTNN_DISPATCH(x.device, index_select_forward, out.f32(), x.f32(), idx.i64(), O, V, I, N);
}

void index_select_backward(const View& dx, const View& dout, const View& idx, int axis) {
  FASTNN_CHECK(dx.dtype == DType::F32 && dout.dtype == DType::F32, TypeError,
               "index_select_backward: expected float32 data");
  FASTNN_CHECK(idx.dtype == DType::I64, TypeError, "index_select_backward: indices must be int64");
  FASTNN_CHECK(axis >= 0 && axis < dx.ndim(), ValueError,
               "index_select_backward: axis " << axis << " out of range for shape " << dx.shape_str());
  int64_t O, V, I;
  split_axis(dx, axis, O, V, I);
  int64_t N = idx.numel();
  FASTNN_CHECK(dout.numel() == checked_product({O, N, I}, "index_select_backward"), ValueError,
               "index_select_backward: gradient shape " << dout.shape_str() << " does not match");
  check_indices(idx, V);
  FASTNN_DISPATCH(dx.device, index_select_backward, dx.f32(), dout.f32(), idx.i64(), O, V, I, N);
}

int64_t row_coalesce(const View& out_idx, const View& out, const View& idx, const View& rows, int64_t V) {
  FASTNN_CHECK(idx.dtype == DType::I64 && out_idx.dtype == DType::I64, TypeError, "row_coalesce: indices must be int64");
  FASTNN_CHECK(rows.dtype == DType::F32 && out.dtype == DType::F32, TypeError, "row_coalesce: rows must be float32");
  FASTNN_CHECK(V >= 0, ValueError, "row_coalesce: the number of rows must be >= 0, got " << V);
  const int64_t N = idx.numel();
  FASTNN_CHECK(rows.ndim() >= idx.ndim() && std::equal(idx.shape.begin(), idx.shape.end(), rows.shape.begin()),
               ValueError, "row_coalesce: rows of shape " << rows.shape_str() << " do not start with the indices' shape "
                                                          << idx.shape_str());
  const int64_t D = N ? rows.numel() / N : 0;
  FASTNN_CHECK(out_idx.numel() >= N && out.numel() >= N * D, ValueError, "row_coalesce: output buffers too small");
  if (N == 0) return 0;
  FASTNN_CHECK(V > 0, ValueError, "row_coalesce: index " << HostI64(idx)[0]
                                                         << " is out of bounds for 0 rows");
  check_indices(idx, V);
  if (idx.device == Device::CPU) return cpu::row_coalesce(out_idx.i64(), out.f32(), idx.i64(), rows.f32(), N, V, D);
#ifdef FASTNN_WITH_CUDA
  return cuda::row_coalesce(out_idx.i64(), out.f32(), idx.i64(), rows.f32(), N, V, D);
#else
  throw_no_cuda();
#endif
}

void strided_copy(const View& dst, int64_t dst_offset, const Shape& dst_strides, const View& src,
                  int64_t src_offset, const Shape& src_strides, const Shape& shape) {
  FASTNN_CHECK(dst.dtype == src.dtype, TypeError, "copy: dtypes differ");
  FASTNN_CHECK(dst.device == src.device, ValueError, "copy: arguments are on different devices");
  FASTNN_CHECK(shape.size() <= (size_t)kMaxDims && dst_strides.size() == shape.size() &&
                   src_strides.size() == shape.size(),
               ValueError, "copy: shape and strides disagree");
  StridedCopy sc;
  sc.ndim = (int)shape.size();
  int64_t esz = dtype_size(dst.dtype);
  // Bounds: every address touched must lie inside both buffers (sums and products checked, so
  // huge strides or offsets cannot wrap into range).
  int64_t dlo = dst_offset, dhi = dst_offset, slo = src_offset, shi = src_offset;
  for (int d = 0; d < sc.ndim; ++d) {
    FASTNN_CHECK(shape[d] >= 0, ValueError, "copy: shape " << shape_str(shape) << " has a negative dimension");
    sc.shape[d] = shape[d];
    sc.dst_stride[d] = dst_strides[d];
    sc.src_stride[d] = src_strides[d];
  }
  for (int d = 0; d < sc.ndim; ++d) {
    if (shape[d] == 0) return;
    const int64_t ds = checked_mul(dst_strides[d], shape[d] - 1, "copy: destination stride");
    const int64_t ss = checked_mul(src_strides[d], shape[d] - 1, "copy: source stride");
    int64_t& dend = ds < 0 ? dlo : dhi;
    int64_t& send = ss < 0 ? slo : shi;
    dend = checked_add(dend, ds, "copy: destination extent");
    send = checked_add(send, ss, "copy: source extent");
  }
  FASTNN_CHECK(dlo >= 0 && dhi < dst.numel() && slo >= 0 && shi < src.numel(), ValueError,
               "copy: the strided region (shape " << shape_str(shape) << ", destination offset " << dst_offset
                   << " strides " << shape_str(dst_strides) << ", source offset " << src_offset << " strides "
                   << shape_str(src_strides) << ") does not lie inside the destination of " << dst.numel()
                   << " and the source of " << src.numel() << " elements");
  char* d = static_cast<char*>(dst.data) + dst_offset * esz;
  const char* s = static_cast<const char*>(src.data) + src_offset * esz;
  FASTNN_DISPATCH(dst.device, strided_copy, d, s, sc, esz);
}

}  // namespace fastnn::ops
