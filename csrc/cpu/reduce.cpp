// Reductions and softmax on the CPU. x is (O, R, I) contiguous, the middle axis R is reduced,
// y is (O, I). Sums use 16 lanes of partial sums over fixed blocks of kBlock elements, combined
// in order, so the result is the same for any thread count and SIMD level.
#include "kernels/reduce.h"

#include <cmath>
#include <limits>
#include <vector>

#include "core/parallel.h"

namespace fastnn::cpu {
namespace {

constexpr int64_t kBlock = 8192;  // elements per partial sum of a long contiguous reduction

FASTNN_SIMD float sum_contig(const float* x, int64_t n) {
  float acc[16] = {0};
  int64_t i = 0;
  for (; i + 16 <= n; i += 16)
    for (int j = 0; j < 16; ++j) acc[j] += x[i + j];
  for (int j = 0; i < n; ++i, ++j) acc[j] += x[i];
  for (int w = 8; w >= 1; w /= 2)
    for (int j = 0; j < w; ++j) acc[j] += acc[j + w];
  return acc[0];
}

// NaN-propagating extremum: once NaN, it stays NaN.
FASTNN_SIMD float max_contig(const float* x, int64_t n) {
  float m = -std::numeric_limits<float>::infinity();
  for (int64_t i = 0; i < n; ++i) m = (x[i] > m || x[i] != x[i]) ? x[i] : m;
  return m;
}
FASTNN_SIMD float min_contig(const float* x, int64_t n) {
  float m = std::numeric_limits<float>::infinity();
  for (int64_t i = 0; i < n; ++i) m = (x[i] < m || x[i] != x[i]) ? x[i] : m;
  return m;
}

// y[i] op= x[i] over a row of I (the strided case, I > 1).
FASTNN_SIMD void add_row(float* y, const float* x, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] += x[i];
}
FASTNN_SIMD void max_row(float* y, const float* x, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = (x[i] > y[i] || x[i] != x[i]) ? x[i] : y[i];
}
FASTNN_SIMD void min_row(float* y, const float* x, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = (x[i] < y[i] || x[i] != x[i]) ? x[i] : y[i];
}

float reduce_contig(ReduceOp op, const float* x, int64_t n) {
  if (op == ReduceOp::Max) return max_contig(x, n);
  if (op == ReduceOp::Min) return min_contig(x, n);
  return sum_contig(x, n);
}

}  // namespace

void reduce_forward(ReduceOp op, float* y, const float* x, int64_t O, int64_t R, int64_t I) {
  const float scale = op == ReduceOp::Mean ? 1.0f / (float)R : 1.0f;
  if (I == 1) {
    // Contiguous rows: split each row into fixed blocks, reduce the blocks in parallel, then
    // combine each row's blocks in order.
    int64_t nb = std::max<int64_t>(1, (R + kBlock - 1) / kBlock);
    std::vector<float> part(O * nb);
    parallel_for(O * nb, 1, [&](int64_t b, int64_t e) {
      for (int64_t t = b; t < e; ++t) {
        int64_t o = t / nb, k = t % nb;
        int64_t r0 = k * kBlock, r1 = std::min(R, r0 + kBlock);
        part[t] = reduce_contig(op, x + o * R + r0, r1 - r0);
      }
    });
    for (int64_t o = 0; o < O; ++o) {
      float acc = part[o * nb];
      for (int64_t k = 1; k < nb; ++k) {
        float v = part[o * nb + k];
        if (op == ReduceOp::Max) acc = (v > acc || v != v) ? v : acc;
        else if (op == ReduceOp::Min) acc = (v < acc || v != v) ? v : acc;
        else acc += v;
      }
      y[o] = acc * scale;
    }
    return;
  }
  // Strided: y[o, :] accumulates rows x[o, r, :] in r order; parallel over o and column chunks.
  constexpr int64_t kCols = 1024;
  int64_t nc = (I + kCols - 1) / kCols;
  parallel_for(O * nc, 1, [&](int64_t b, int64_t e) {
    for (int64_t t = b; t < e; ++t) {
      int64_t o = t / nc, c0 = (t % nc) * kCols, w = std::min(kCols, I - c0);
      float* yr = y + o * I + c0;
      const float* xo = x + o * R * I + c0;
      if (R == 0) {
        for (int64_t i = 0; i < w; ++i) yr[i] = 0.f;
        continue;
      }
      for (int64_t i = 0; i < w; ++i) yr[i] = xo[i];
      for (int64_t r = 1; r < R; ++r) {
        if (op == ReduceOp::Max) max_row(yr, xo + r * I, w);
        else if (op == ReduceOp::Min) min_row(yr, xo + r * I, w);
        else add_row(yr, xo + r * I, w);
      }
      if (scale != 1.0f)
        for (int64_t i = 0; i < w; ++i) yr[i] *= scale;
    }
  });
}

void reduce_backward(ReduceOp op, float* dx, const float* dy, const float* x, const float* y,
                     int64_t O, int64_t R, int64_t I) {
  if (op == ReduceOp::Sum || op == ReduceOp::Mean) {
    const float scale = op == ReduceOp::Mean ? 1.0f / (float)R : 1.0f;
    parallel_for(O * R, std::max<int64_t>(1, 16384 / std::max<int64_t>(I, 1)), [&](int64_t b, int64_t e) {
      for (int64_t t = b; t < e; ++t) {
        int64_t o = t / R;
        const float* g = dy + o * I;
        float* d = dx + t * I;
        for (int64_t i = 0; i < I; ++i) d[i] = g[i] * scale;
      }
    });
    return;
  }
  throw RuntimeError("reduce_backward: max/min backward is not implemented on the CPU yet");
}

}  // namespace fastnn::cpu
