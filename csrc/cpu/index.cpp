// Gather / scatter-add (index_select) and the strided n-d copy, CPU.
// x is (O, V, I), idx has N entries, out is (O, N, I).
#include "kernels/index.h"

#include <algorithm>
#include <cstring>
#include <numeric>
#include <vector>

#include "core/parallel.h"

namespace fastnn::cpu {

void index_select_forward(float* out, const float* x, const int64_t* idx, int64_t O, int64_t V,
                          int64_t I, int64_t N) {
  parallel_for(O * N, std::max<int64_t>(1, 16384 / std::max<int64_t>(I, 1)), [&](int64_t b, int64_t e) {
    for (int64_t t = b; t < e; ++t) {
      int64_t o = t / N, n = t % N;
      std::memcpy(out + t * I, x + (o * V + idx[n]) * I, I * sizeof(float));
    }
  });
}

// Threads own disjoint ranges of V and scan every index in order: no races, and each row sums
// its contributions in the same order for any thread count.
void index_select_backward(float* dx, const float* dout, const int64_t* idx, int64_t O, int64_t V,
                           int64_t I, int64_t N) {
  int64_t grain = std::max<int64_t>(1, V / std::max(1, get_num_threads()));
  if (O * N * I < 32768) grain = V;
  parallel_for(V, grain, [&](int64_t v0, int64_t v1) {
    for (int64_t o = 0; o < O; ++o)
      for (int64_t n = 0; n < N; ++n) {
        int64_t v = idx[n];
        if (v < v0 || v >= v1) continue;
        float* d = dx + (o * V + v) * I;
        const float* g = dout + (o * N + n) * I;
        for (int64_t i = 0; i < I; ++i) d[i] += g[i];
      }
  });
}

// Sorts the positions by (index, position), so equal indices keep the order of n, then sums
// each group; groups are independent, so threads split them.
int64_t row_coalesce(int64_t* out_idx, float* out, const int64_t* idx, const float* rows, int64_t N, int64_t V,
                     int64_t D) {
  if (N <= 0) return 0;
  std::vector<int64_t> order(N);
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(),
            [&](int64_t a, int64_t b) { return idx[a] < idx[b] || (idx[a] == idx[b] && a < b); });
  std::vector<int64_t> start;
  start.reserve(N + 1);
  for (int64_t k = 0; k < N; ++k)
    if (k == 0 || idx[order[k]] != idx[order[k - 1]]) {
      out_idx[start.size()] = idx[order[k]];
      start.push_back(k);
    }
  const int64_t U = (int64_t)start.size();
  start.push_back(N);
  parallel_for(U, std::max<int64_t>(1, 16384 / std::max<int64_t>(D, 1)), [&](int64_t b, int64_t e) {
    for (int64_t u = b; u < e; ++u) {
      float* o = out + u * D;
      std::fill(o, o + D, 0.0f);
      for (int64_t k = start[u]; k < start[u + 1]; ++k) {
        const float* r = rows + order[k] * D;
        for (int64_t i = 0; i < D; ++i) o[i] += r[i];
      }
    }
  });
  return U;
}

template <class T>
static void copy_rows(T* dst, const T* src, const StridedCopy& sc) {
  int nd = sc.ndim;
  if (nd == 0) {
    *dst = *src;
    return;
  }
  int64_t inner = sc.shape[nd - 1], ds = sc.dst_stride[nd - 1], ss = sc.src_stride[nd - 1];
  int64_t rows = 1;
  for (int d = 0; d < nd - 1; ++d) rows *= sc.shape[d];
  parallel_for(rows, std::max<int64_t>(1, 32768 / std::max<int64_t>(inner, 1)), [&](int64_t b, int64_t e) {
    for (int64_t r = b; r < e; ++r) {
      int64_t rem = r, doff = 0, soff = 0;
      for (int d = nd - 2; d >= 0; --d) {
        int64_t k = rem % sc.shape[d];
        rem /= sc.shape[d];
        doff += k * sc.dst_stride[d];
        soff += k * sc.src_stride[d];
      }
      T* dp = dst + doff;
      const T* sp = src + soff;
      if (ds == 1 && ss == 1) {
        std::memcpy(dp, sp, inner * sizeof(T));
      } else {
        for (int64_t i = 0; i < inner; ++i) dp[i * ds] = sp[i * ss];
      }
    }
  });
}

void strided_copy(void* dst, const void* src, const StridedCopy& sc, int64_t elem_size) {
  if (elem_size == 4)
    copy_rows(static_cast<float*>(dst), static_cast<const float*>(src), sc);
  else
    copy_rows(static_cast<int64_t*>(dst), static_cast<const int64_t*>(src), sc);
}

}  // namespace fastnn::cpu
