// Reductions, argmax, variance and softmax / log_softmax on CUDA. x is a contiguous (O, R, I)
// array and the middle axis R is reduced: y is (O, I). No float atomics: every result is
// summed in an order fixed by (O, R, I) alone, so a run repeats bit for bit.
//
// Two layouts, two kinds of kernel:
//   rows (I == 1, R long): one block per row (or per chunk of a long row), threads stride
//         along the row and meet in a block reduction;
//   cols (I > 1, or short rows): one thread per output (o, i), walking r in order, which reads
//         consecutive i across a warp. Long R with few outputs is split into chunks of R
//         (grid.y) whose partial results a second pass combines.
// Semantics (shared with csrc/cpu/reduce.cpp):
//   Max / Min propagate NaN; Mean = sum * (1 / R);
//   Max / Min backward: dx = (x == y ? dy : 0) / count(x == y) (ties share dy equally; a NaN
//   row has count 0 and gets NaN, as torch.amax does);
//   argmax / argmin: first index of the extremum, NaN counts as the extremum (torch);
//   var = sum((x - mean)^2) * (1 / max(R - correction, 0)), dx = dvar * (2 / (R - correction)) * (x - mean);
//   softmax: m = max, s = sum exp(x - m), y = exp(x - m) / s; log_softmax: y = x - m - log(s);
//   softmax backward dx = y (dy - sum(dy y)); log_softmax backward dx = dy - exp(y) sum(dy).
//   masked softmax: z = scale x - 1e9 (mask == 0), y = softmax(z) (* (mask != 0) if zero_masked);
//   backward dx = scale y (dy - sum(dy y)).
#include "kernels/reduce.h"

#include <limits>

#include "cuda/common.cuh"

namespace fastnn::cuda {

// What each element contributes before it is reduced: x itself, x == ref (to count ties) or
// (x - ref)^2 (for the variance). ref holds one value per output.
enum class Elem : int { Plain = 0, CountEq, SqDiff };

constexpr int64_t kRowChunk = 8192;   // elements of a long row per block
constexpr int64_t kColChunk = 256;    // minimum rows of R per thread when R is split
constexpr int64_t kWantThreads = 65536;

__device__ __forceinline__ float elem(Elem m, float x, const float* ref, int64_t k) {
  if (m == Elem::Plain) return x;
  const float r = ref[k];
  if (m == Elem::CountEq) return x == r ? 1.f : 0.f;
  return (x - r) * (x - r);
}
__device__ __forceinline__ float identity(ReduceOp op) {
  return op == ReduceOp::Max ? -INFINITY : (op == ReduceOp::Min ? INFINITY : 0.f);
}
__device__ __forceinline__ float combine(ReduceOp op, float a, float b) {
  return op == ReduceOp::Max ? nan_max(a, b) : (op == ReduceOp::Min ? nan_min(a, b) : a + b);
}
__device__ __forceinline__ float block_reduce(ReduceOp op, float v) {
  if (op == ReduceOp::Max) return block_max(v);
  if (op == ReduceOp::Min) return -block_max(-v);
  return block_sum(v);
}

// ---- reduce: rows. Block t reduces chunk t % nchunks of row t / nchunks into out[t].
__global__ void reduce_rows_kernel(ReduceOp op, Elem mode, float* out, const float* x,
                                   const float* ref, int64_t rows, int64_t R, int64_t chunk,
                                   int64_t nchunks, float scale) {
  for (int64_t t = blockIdx.x; t < rows * nchunks; t += gridDim.x) {
    const int64_t o = t / nchunks, r0 = (t % nchunks) * chunk;
    const int64_t r1 = r0 + chunk < R ? r0 + chunk : R;
    const float* xr = x + o * R;
    float acc = identity(op);
    for (int64_t r = r0 + threadIdx.x; r < r1; r += blockDim.x)
      acc = combine(op, acc, elem(mode, xr[r], ref, o));
    acc = block_reduce(op, acc);
    if (threadIdx.x == 0) out[t] = acc * scale;
  }
}

// ---- reduce: cols. Thread (c, k) reduces rows [c * chunk, (c + 1) * chunk) of output k into
// out[c * O * I + k].
__global__ void reduce_cols_kernel(ReduceOp op, Elem mode, float* out, const float* x,
                                   const float* ref, int64_t O, int64_t R, int64_t I,
                                   int64_t chunk, float scale) {
  const int64_t c = blockIdx.y, r0 = c * chunk, r1 = r0 + chunk < R ? r0 + chunk : R;
  FASTNN_KERNEL_LOOP(k, O * I) {
    const float* xp = x + (k / I) * R * I + (k % I);
    float acc = identity(op);
    for (int64_t r = r0; r < r1; ++r) acc = combine(op, acc, elem(mode, xp[r * I], ref, k));
    out[c * O * I + k] = acc * scale;
  }
}

// y (O, I) = scale * reduce over R of elem(x); picks the layout and splits long reductions.
static void reduce_ori(ReduceOp op, Elem mode, float* y, const float* x, const float* ref,
                       int64_t O, int64_t R, int64_t I, float scale) {
  const int64_t outs = O * I;
  if (outs <= 0) return;
  if (I == 1 && R >= 64) {
    const int64_t nchunks = ceil_div(R, kRowChunk);
    if (nchunks == 1) {
      reduce_rows_kernel<<<grid_for(O, 1), threads_for_row(R)>>>(op, mode, y, x, ref, O, R, R, 1,
                                                                  scale);
      FASTNN_CUDA_CHECK_LAUNCH();
      return;
    }
    Scratch part(O * nchunks * (int64_t)sizeof(float));
    reduce_rows_kernel<<<grid_for(O * nchunks, 1), 256>>>(op, mode, part.f32(), x, ref, O, R,
                                                           kRowChunk, nchunks, 1.f);
    FASTNN_CUDA_CHECK_LAUNCH();
    reduce_rows_kernel<<<grid_for(O, 1), threads_for_row(nchunks)>>>(
        op, Elem::Plain, y, part.f32(), nullptr, O, nchunks, nchunks, 1, scale);
    FASTNN_CUDA_CHECK_LAUNCH();
    return;
  }
  // Split R when there are too few outputs to fill the GPU (at most 65535 chunks: grid.y).
  int64_t nchunks = 1;
  if (outs < kWantThreads && R > 2 * kColChunk)
    nchunks = std::min<int64_t>({ceil_div(kWantThreads, outs), ceil_div(R, kColChunk), 65535});
  const int64_t chunk = ceil_div(std::max<int64_t>(R, 1), nchunks);
  nchunks = ceil_div(std::max<int64_t>(R, 1), chunk);
  if (nchunks == 1) {
    reduce_cols_kernel<<<grid_for(outs), kThreads>>>(op, mode, y, x, ref, O, R, I, R, scale);
    FASTNN_CUDA_CHECK_LAUNCH();
    return;
  }
  Scratch part(nchunks * outs * (int64_t)sizeof(float));
  dim3 grid(grid_for(outs), (unsigned)nchunks);
  reduce_cols_kernel<<<grid, kThreads>>>(op, mode, part.f32(), x, ref, O, R, I, chunk, 1.f);
  FASTNN_CUDA_CHECK_LAUNCH();
  // part is (nchunks, O * I): reduce it as (1, nchunks, O * I).
  reduce_cols_kernel<<<grid_for(outs), kThreads>>>(op, Elem::Plain, y, part.f32(), nullptr, 1,
                                                   nchunks, outs, nchunks, scale);
  FASTNN_CUDA_CHECK_LAUNCH();
}

static void check_sizes(const char* what, int64_t O, int64_t R, int64_t I) {
  FASTNN_CHECK(O >= 0 && R >= 0 && I >= 0, ValueError,
               what << ": negative size (O, R, I) = (" << O << ", " << R << ", " << I << ")");
}

void reduce_forward(ReduceOp op, float* y, const float* x, int64_t O, int64_t R, int64_t I) {
  check_sizes("reduce_forward", O, R, I);
  const float scale = op == ReduceOp::Mean ? 1.0f / (float)R : 1.0f;
  // Mean is a Sum with a scale from here on.
  reduce_ori(op == ReduceOp::Mean ? ReduceOp::Sum : op, Elem::Plain, y, x, nullptr, O, R, I, scale);
}

// ---- reduce backward

// dx[o, r, i] = dy[o, i] * scale
__global__ void broadcast_grad_kernel(float* dx, const float* dy, int64_t O, int64_t R,
                                      int64_t I, float scale) {
  FASTNN_KERNEL_LOOP(t, O * R * I) dx[t] = dy[(t / (R * I)) * I + t % I] * scale;
}

// dx[o, r, i] = (x == y ? dy : 0) / count, all but x indexed by (o, i)
__global__ void extremum_grad_kernel(float* dx, const float* dy, const float* x, const float* y,
                                     const float* count, int64_t O, int64_t R, int64_t I) {
  FASTNN_KERNEL_LOOP(t, O * R * I) {
    const int64_t k = (t / (R * I)) * I + t % I;
    dx[t] = (x[t] == y[k] ? dy[k] : 0.f) / count[k];
  }
}

void reduce_backward(ReduceOp op, float* dx, const float* dy, const float* x, const float* y,
                     int64_t O, int64_t R, int64_t I) {
  check_sizes("reduce_backward", O, R, I);
  const int64_t n = O * R * I;
  if (n <= 0) return;
  if (op == ReduceOp::Sum || op == ReduceOp::Mean) {
    const float scale = op == ReduceOp::Mean ? 1.0f / (float)R : 1.0f;
    broadcast_grad_kernel<<<grid_for(n), kThreads>>>(dx, dy, O, R, I, scale);
    FASTNN_CUDA_CHECK_LAUNCH();
    return;
  }
  Scratch count(O * I * (int64_t)sizeof(float));
  reduce_ori(ReduceOp::Sum, Elem::CountEq, count.f32(), x, y, O, R, I, 1.f);
  extremum_grad_kernel<<<grid_for(n), kThreads>>>(dx, dy, x, y, count.f32(), O, R, I);
  FASTNN_CUDA_CHECK_LAUNCH();
}

// ---- argmax / argmin

// Is (av, ai) preferred to (bv, bi)? NaN beats numbers, then the larger (smaller) value, then
// the first index. A total order, so any reduction tree gives the same answer.
__device__ __forceinline__ bool arg_better(float av, int64_t ai, float bv, int64_t bi,
                                           bool is_min) {
  const bool an = av != av, bn = bv != bv;
  if (an != bn) return an;
  if (!an && av != bv) return is_min ? av < bv : av > bv;
  return ai < bi;
}

// One block per row (I == 1).
__global__ void argmax_rows_kernel(int64_t* idx, const float* x, int64_t O, int64_t R,
                                   bool is_min) {
  __shared__ float sv[32];
  __shared__ int64_t si[32];
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, nwarps = blockDim.x >> 5;
  for (int64_t o = blockIdx.x; o < O; o += gridDim.x) {
    const float* xr = x + o * R;
    // Threads without elements hold (-inf or +inf, INT64_MAX), which loses to any element.
    float bv = is_min ? INFINITY : -INFINITY;
    int64_t bi = INT64_MAX;
    for (int64_t r = threadIdx.x; r < R; r += blockDim.x)
      if (arg_better(xr[r], r, bv, bi, is_min)) {
        bv = xr[r];
        bi = r;
      }
    for (int off = 16; off > 0; off >>= 1) {
      float ov = __shfl_xor_sync(0xffffffffu, bv, off);
      int64_t oi = __shfl_xor_sync(0xffffffffu, bi, off);
      if (arg_better(ov, oi, bv, bi, is_min)) {
        bv = ov;
        bi = oi;
      }
    }
    __syncthreads();  // the previous row may still be reading sv / si
    if (lane == 0) {
      sv[warp] = bv;
      si[warp] = bi;
    }
    __syncthreads();
    if (threadIdx.x == 0) {
      for (int w = 1; w < nwarps; ++w)
        if (arg_better(sv[w], si[w], bv, bi, is_min)) {
          bv = sv[w];
          bi = si[w];
        }
      idx[o] = R > 0 ? bi : 0;
    }
  }
}

// One thread per output (o, i).
__global__ void argmax_cols_kernel(int64_t* idx, const float* x, int64_t O, int64_t R, int64_t I,
                                   bool is_min) {
  FASTNN_KERNEL_LOOP(k, O * I) {
    const float* xp = x + (k / I) * R * I + (k % I);
    float bv = is_min ? INFINITY : -INFINITY;
    int64_t bi = R > 0 ? INT64_MAX : 0;
    for (int64_t r = 0; r < R; ++r)
      if (arg_better(xp[r * I], r, bv, bi, is_min)) {
        bv = xp[r * I];
        bi = r;
      }
    idx[k] = bi;
  }
}

void argmax_forward(int64_t* idx, const float* x, int64_t O, int64_t R, int64_t I, bool is_min) {
  check_sizes("argmax_forward", O, R, I);
  if (O * I <= 0) return;
  if (I == 1 && R >= 64) {
    argmax_rows_kernel<<<grid_for(O, 1), threads_for_row(R)>>>(idx, x, O, R, is_min);
  } else {
    argmax_cols_kernel<<<grid_for(O * I), kThreads>>>(idx, x, O, R, I, is_min);
  }
  FASTNN_CUDA_CHECK_LAUNCH();
}

// ---- variance

__global__ void var_backward_kernel(float* dx, const float* dvar, const float* x,
                                    const float* mean, int64_t O, int64_t R, int64_t I,
                                    float scale) {
  FASTNN_KERNEL_LOOP(t, O * R * I) {
    const int64_t k = (t / (R * I)) * I + t % I;
    dx[t] = dvar[k] * scale * (x[t] - mean[k]);
  }
}

void var_forward(float* var, float* mean, const float* x, int64_t O, int64_t R, int64_t I,
                 int64_t correction) {
  check_sizes("var_forward", O, R, I);
  // Two passes (mean, then squared deviations): no cancellation on data with a large mean.
  reduce_ori(ReduceOp::Sum, Elem::Plain, mean, x, nullptr, O, R, I, 1.0f / (float)R);
  const float scale = 1.0f / (float)std::max<int64_t>(R - correction, 0);
  reduce_ori(ReduceOp::Sum, Elem::SqDiff, var, x, mean, O, R, I, scale);
}

void var_backward(float* dx, const float* dvar, const float* x, const float* mean, int64_t O,
                  int64_t R, int64_t I, int64_t correction) {
  check_sizes("var_backward", O, R, I);
  const int64_t n = O * R * I;
  if (n <= 0) return;
  const float scale = 2.0f / (float)std::max<int64_t>(R - correction, 0);
  var_backward_kernel<<<grid_for(n), kThreads>>>(dx, dvar, x, mean, O, R, I, scale);
  FASTNN_CUDA_CHECK_LAUNCH();
}

// ---- softmax / log_softmax, forward and backward, along R

enum class Soft : int { Forward = 0, LogForward, Backward, LogBackward };

// One block per row (I == 1). Forward: a = x. Backward: a = dy, b = y.
__global__ void softmax_rows_kernel(Soft mode, float* out, const float* a, const float* b,
                                    int64_t O, int64_t R) {
  for (int64_t o = blockIdx.x; o < O; o += gridDim.x) {
    const float* ar = a + o * R;
    const float* br = b ? b + o * R : nullptr;
    float* yr = out + o * R;
    if (mode == Soft::Forward || mode == Soft::LogForward) {
      float m = -INFINITY;
      for (int64_t r = threadIdx.x; r < R; r += blockDim.x) m = nan_max(m, ar[r]);
      m = block_max(m);
      float s = 0.f;
      for (int64_t r = threadIdx.x; r < R; r += blockDim.x) s += expf(ar[r] - m);
      s = block_sum(s);
      if (mode == Soft::Forward) {
        for (int64_t r = threadIdx.x; r < R; r += blockDim.x) yr[r] = expf(ar[r] - m) / s;
      } else {
        const float ls = logf(s);
        for (int64_t r = threadIdx.x; r < R; r += blockDim.x) yr[r] = ar[r] - m - ls;
      }
    } else if (mode == Soft::Backward) {
      float dot = 0.f;
      for (int64_t r = threadIdx.x; r < R; r += blockDim.x) dot += ar[r] * br[r];
      dot = block_sum(dot);
      for (int64_t r = threadIdx.x; r < R; r += blockDim.x) yr[r] = br[r] * (ar[r] - dot);
    } else {
      float s = 0.f;
      for (int64_t r = threadIdx.x; r < R; r += blockDim.x) s += ar[r];
      s = block_sum(s);
      for (int64_t r = threadIdx.x; r < R; r += blockDim.x) yr[r] = ar[r] - expf(br[r]) * s;
    }
  }
}

// One thread per (o, i), walking r (stride I).
__global__ void softmax_cols_kernel(Soft mode, float* out, const float* a, const float* b,
                                    int64_t O, int64_t R, int64_t I) {
  FASTNN_KERNEL_LOOP(k, O * I) {
    const int64_t base = (k / I) * R * I + (k % I);
    const float* ap = a + base;
    const float* bp = b ? b + base : nullptr;
    float* yp = out + base;
    if (mode == Soft::Forward || mode == Soft::LogForward) {
      float m = -INFINITY, s = 0.f;
      for (int64_t r = 0; r < R; ++r) m = nan_max(m, ap[r * I]);
      for (int64_t r = 0; r < R; ++r) s += expf(ap[r * I] - m);
      if (mode == Soft::Forward) {
        for (int64_t r = 0; r < R; ++r) yp[r * I] = expf(ap[r * I] - m) / s;
      } else {
        const float ls = logf(s);
        for (int64_t r = 0; r < R; ++r) yp[r * I] = ap[r * I] - m - ls;
      }
    } else if (mode == Soft::Backward) {
      float dot = 0.f;
      for (int64_t r = 0; r < R; ++r) dot += ap[r * I] * bp[r * I];
      for (int64_t r = 0; r < R; ++r) yp[r * I] = bp[r * I] * (ap[r * I] - dot);
    } else {
      float s = 0.f;
      for (int64_t r = 0; r < R; ++r) s += ap[r * I];
      for (int64_t r = 0; r < R; ++r) yp[r * I] = ap[r * I] - expf(bp[r * I]) * s;
    }
  }
}

static void softmax_launch(Soft mode, float* out, const float* a, const float* b, int64_t O,
                           int64_t R, int64_t I) {
  check_sizes("softmax", O, R, I);
  if (O * R * I <= 0) return;
  if (I == 1 && R > 16) {
    softmax_rows_kernel<<<grid_for(O, 1), threads_for_row(R)>>>(mode, out, a, b, O, R);
  } else {
    softmax_cols_kernel<<<grid_for(O * I), kThreads>>>(mode, out, a, b, O, R, I);
  }
  FASTNN_CUDA_CHECK_LAUNCH();
}

void softmax_forward(float* y, const float* x, int64_t O, int64_t R, int64_t I) {
  softmax_launch(Soft::Forward, y, x, nullptr, O, R, I);
}
void softmax_backward(float* dx, const float* dy, const float* y, int64_t O, int64_t R, int64_t I) {
  softmax_launch(Soft::Backward, dx, dy, y, O, R, I);
}
void log_softmax_forward(float* y, const float* x, int64_t O, int64_t R, int64_t I) {
  softmax_launch(Soft::LogForward, y, x, nullptr, O, R, I);
}
void log_softmax_backward(float* dx, const float* dy, const float* y, int64_t O, int64_t R,
                          int64_t I) {
  softmax_launch(Soft::LogBackward, dx, dy, y, O, R, I);
}

// ---- masked, scaled softmax of attention scores (rows, n): one block per row.
__device__ __forceinline__ float masked_z(const float* x, const float* mr, int64_t r, float scale) {
  return scale * x[r] - (mr && mr[r] == 0.f ? 1e9f : 0.f);
}

__global__ void masked_softmax_kernel(float* y, const float* x, const float* mask, int64_t rows, int64_t n,
                                      int64_t rep, int64_t inner, float scale, bool zero_masked) {
  for (int64_t o = blockIdx.x; o < rows; o += gridDim.x) {
    const float* xr = x + o * n;
    const float* mr = mask ? mask + ((o / (rep * inner)) * inner + o % inner) * n : nullptr;
    float* yr = y + o * n;
    float m = -INFINITY;
    for (int64_t r = threadIdx.x; r < n; r += blockDim.x) m = nan_max(m, masked_z(xr, mr, r, scale));
    m = block_max(m);
    float s = 0.f;
    for (int64_t r = threadIdx.x; r < n; r += blockDim.x) s += expf(masked_z(xr, mr, r, scale) - m);
    s = block_sum(s);
    for (int64_t r = threadIdx.x; r < n; r += blockDim.x) {
      const float v = expf(masked_z(xr, mr, r, scale) - m) / s;
      yr[r] = (zero_masked && mr && mr[r] == 0.f) ? 0.f : v;
    }
  }
}

__global__ void masked_softmax_grad_kernel(float* dx, const float* dy, const float* y, int64_t rows, int64_t n,
                                           float scale) {
  for (int64_t o = blockIdx.x; o < rows; o += gridDim.x) {
    const float* gr = dy + o * n;
    const float* yr = y + o * n;
    float dot = 0.f;
    for (int64_t r = threadIdx.x; r < n; r += blockDim.x) dot += gr[r] * yr[r];
    dot = block_sum(dot);
    for (int64_t r = threadIdx.x; r < n; r += blockDim.x) dx[o * n + r] = scale * yr[r] * (gr[r] - dot);
  }
}

void masked_softmax_forward(float* y, const float* x, const float* mask, int64_t rows, int64_t n,
                            int64_t rep, int64_t inner, float scale, bool zero_masked) {
  check_sizes("masked_softmax", rows, n, 1);
  if (rows * n <= 0) return;
  masked_softmax_kernel<<<grid_for(rows, 1), threads_for_row(n)>>>(y, x, mask, rows, n, rep, inner, scale, zero_masked);
  FASTNN_CUDA_CHECK_LAUNCH();
}

void masked_softmax_backward(float* dx, const float* dy, const float* y, int64_t rows, int64_t n, float scale) {
  check_sizes("masked_softmax_backward", rows, n, 1);
  if (rows * n <= 0) return;
  masked_softmax_grad_kernel<<<grid_for(rows, 1), threads_for_row(n)>>>(dx, dy, y, rows, n, scale);
  FASTNN_CUDA_CHECK_LAUNCH();
}

}  // namespace fastnn::cuda
