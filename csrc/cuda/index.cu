// Gather / scatter-add (index_select) and the strided n-d copy on CUDA.
// x is (O, V, I), idx has N entries, out is (O, N, I).
// The indices are range-checked by the caller (Python layer); the kernels clamp them to
// [0, V - 1] anyway, so a bad index reads or writes a wrong row instead of faulting.
// Backward scatters with atomicAdd: rows hit by repeated indices are summed in an order that
// can vary from run to run (float rounding differs in the last bits; the CPU kernel is exact).
#include "kernels/index.h"

#include "cuda/common.cuh"

namespace fastnn::cuda {

__device__ __forceinline__ int64_t clamp_index(int64_t v, int64_t V) {
  return v < 0 ? 0 : (v >= V ? V - 1 : v);
}

// t indexes out as (o, n, i)
__global__ void index_select_forward_kernel(float* out, const float* x, const int64_t* idx,
                                            int64_t O, int64_t V, int64_t I, int64_t N) {
  FASTNN_KERNEL_LOOP(t, O * N * I) {
    const int64_t i = t % I, n = (t / I) % N, o = t / (I * N);
    out[t] = x[(o * V + clamp_index(idx[n], V)) * I + i];
  }
}

__global__ void index_select_backward_kernel(float* dx, const float* dout, const int64_t* idx,
                                             int64_t O, int64_t V, int64_t I, int64_t N) {
  FASTNN_KERNEL_LOOP(t, O * N * I) {
    const int64_t i = t % I, n = (t / I) % N, o = t / (I * N);
    atomicAdd(dx + (o * V + clamp_index(idx[n], V)) * I + i, dout[t]);
  }
}

void index_select_forward(float* out, const float* x, const int64_t* idx, int64_t O, int64_t V,
                          int64_t I, int64_t N) {
  FASTNN_CHECK(O >= 0 && V >= 0 && I >= 0 && N >= 0, ValueError, "index_select: negative size");
  const int64_t n = O * N * I;
  if (n <= 0) return;
  FASTNN_CHECK(V > 0, ValueError, "index_select: cannot index an axis of size 0");
  index_select_forward_kernel<<<grid_for(n), kThreads>>>(out, x, idx, O, V, I, N);
  FASTNN_CUDA_CHECK_LAUNCH();
}

void index_select_backward(float* dx, const float* dout, const int64_t* idx, int64_t O, int64_t V,
                           int64_t I, int64_t N) {
  FASTNN_CHECK(O >= 0 && V >= 0 && I >= 0 && N >= 0, ValueError,
               "index_select_backward: negative size");
  const int64_t n = O * N * I;
  if (n <= 0) return;
  FASTNN_CHECK(V > 0, ValueError, "index_select_backward: cannot index an axis of size 0");
  index_select_backward_kernel<<<grid_for(n), kThreads>>>(dx, dout, idx, O, V, I, N);
  FASTNN_CUDA_CHECK_LAUNCH();
}

// ---- row_coalesce: mark the rows present, an exclusive scan of the marks gives each present
// row its place, then the rows are added into place with atomicAdd.

__global__ void mark_rows_kernel(int64_t* flag, const int64_t* idx, int64_t N, int64_t V) {
  FASTNN_KERNEL_LOOP(n, N) flag[clamp_index(idx[n], V)] = 1;
}

// pos[v] = flag[0] + ... + flag[v - 1] for v in [0, V], one block of kThreads threads walking
// [0, V) in chunks (Hillis-Steele inside a chunk, a carry between chunks).
__global__ void scan_rows_kernel(int64_t* pos, const int64_t* flag, int64_t V) {
  __shared__ int64_t buf[kThreads];
  __shared__ int64_t carry;
  const int t = threadIdx.x;
  if (t == 0) carry = 0;
  __syncthreads();
  for (int64_t c0 = 0; c0 < V; c0 += kThreads) {
    const int64_t v = c0 + t;
    const int64_t x = v < V ? flag[v] : 0;
    buf[t] = x;
    __syncthreads();
    for (int o = 1; o < kThreads; o *= 2) {
      const int64_t add = t >= o ? buf[t - o] : 0;
      __syncthreads();
      buf[t] += add;
      __syncthreads();
    }
    if (v < V) pos[v] = carry + buf[t] - x;
    __syncthreads();
    if (t == kThreads - 1) carry += buf[t];
    __syncthreads();
  }
  if (t == 0) pos[V] = carry;
}

__global__ void write_rows_kernel(int64_t* out_idx, const int64_t* flag, const int64_t* pos, int64_t V) {
  FASTNN_KERNEL_LOOP(v, V) {
    if (flag[v]) out_idx[pos[v]] = v;
  }
}

__global__ void add_rows_kernel(float* out, const float* rows, const int64_t* idx, const int64_t* pos, int64_t N,
                                int64_t V, int64_t D) {
  FASTNN_KERNEL_LOOP(t, N * D) {
    const int64_t n = t / D, i = t % D;
    atomicAdd(out + pos[clamp_index(idx[n], V)] * D + i, rows[t]);
  }
}

int64_t row_coalesce(int64_t* out_idx, float* out, const int64_t* idx, const float* rows, int64_t N, int64_t V,
                     int64_t D) {
  FASTNN_CHECK(N >= 0 && V >= 0 && D >= 0, ValueError, "row_coalesce: negative size");
  if (N == 0) return 0;
  FASTNN_CHECK(V > 0, ValueError, "row_coalesce: cannot index an axis of size 0");
  Scratch flag(V * (int64_t)sizeof(int64_t)), pos((V + 1) * (int64_t)sizeof(int64_t));
  int64_t* f = static_cast<int64_t*>(flag.ptr);
  int64_t* p = static_cast<int64_t*>(pos.ptr);
  fill_i64(f, 0, V);
  mark_rows_kernel<<<grid_for(N), kThreads>>>(f, idx, N, V);
  FASTNN_CUDA_CHECK_LAUNCH();
  scan_rows_kernel<<<1, kThreads>>>(p, f, V);
  FASTNN_CUDA_CHECK_LAUNCH();
  write_rows_kernel<<<grid_for(V), kThreads>>>(out_idx, f, p, V);
  FASTNN_CUDA_CHECK_LAUNCH();
  int64_t U = 0;
  copy_d2h(&U, p + V, sizeof(int64_t));
  if (U * D > 0) {
    fill_f32(out, 0.0f, U * D);
    add_rows_kernel<<<grid_for(N * D), kThreads>>>(out, rows, idx, p, N, V, D);
    FASTNN_CUDA_CHECK_LAUNCH();
  }
  return U;
}

// ---- strided copy: one thread per element; T is uint32_t or uint64_t (bits are copied as is)

template <class T>
__global__ void strided_copy_kernel(T* dst, const T* src, StridedCopy sc, int64_t n) {
  FASTNN_KERNEL_LOOP(t, n) {
    int64_t rem = t, d_off = 0, s_off = 0;
    for (int d = sc.ndim - 1; d >= 0; --d) {
      const int64_t k = rem % sc.shape[d];
      rem /= sc.shape[d];
      d_off += k * sc.dst_stride[d];
      s_off += k * sc.src_stride[d];
    }
    dst[d_off] = src[s_off];
  }
}

// Drops size-1 dims and merges neighbours that are contiguous in both dst and src (a plain
// contiguous copy becomes one dim).
static StridedCopy simplify(const StridedCopy& in) {
  StridedCopy s;
  for (int d = 0; d < in.ndim; ++d) {
    if (in.shape[d] == 1) continue;
    const int k = s.ndim - 1;
    if (k >= 0 && s.dst_stride[k] == in.dst_stride[d] * in.shape[d] &&
        s.src_stride[k] == in.src_stride[d] * in.shape[d]) {
      s.shape[k] *= in.shape[d];
      s.dst_stride[k] = in.dst_stride[d];
      s.src_stride[k] = in.src_stride[d];
    } else {
      s.shape[s.ndim] = in.shape[d];
      s.dst_stride[s.ndim] = in.dst_stride[d];
      s.src_stride[s.ndim] = in.src_stride[d];
      ++s.ndim;
    }
  }
  return s;
}

void strided_copy(void* dst, const void* src, const StridedCopy& sc, int64_t elem_size) {
  FASTNN_CHECK(elem_size == 4 || elem_size == 8, ValueError,
               "strided_copy: element size must be 4 or 8 bytes, got " << elem_size);
  FASTNN_CHECK(sc.ndim >= 0 && sc.ndim <= kMaxDims, ValueError,
               "strided_copy: ndim " << sc.ndim << " out of range");
  int64_t n = 1;
  for (int d = 0; d < sc.ndim; ++d) n *= sc.shape[d];
  if (n <= 0) return;
  const StridedCopy s = simplify(sc);
  if (elem_size == 4)
    strided_copy_kernel<uint32_t><<<grid_for(n), kThreads>>>(
        static_cast<uint32_t*>(dst), static_cast<const uint32_t*>(src), s, n);
  else
    strided_copy_kernel<uint64_t><<<grid_for(n), kThreads>>>(
        static_cast<uint64_t*>(dst), static_cast<const uint64_t*>(src), s, n);
  FASTNN_CUDA_CHECK_LAUNCH();
}

}  // namespace fastnn::cuda
