// Reductions, argmax, variance and softmax on the CPU. x is (O, R, I) contiguous, the middle
// axis R is reduced, y is (O, I): O = rows before the reduced block, R = reduced length,
// I = inner (contiguous) length after it; I == 1 is the contiguous "last axis" fast path.
// Sums use 16 lanes of partial sums over fixed blocks of kBlock elements (or cascades of
// kCascade rows in the strided case), combined in order, so results never depend on the
// thread count: threads only ever split work along O, I or fixed blocks.
#include "kernels/reduce.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "core/parallel.h"
#include "cpu/simd.h"
#include "cpu/vec_math.h"

namespace fastnn::cpu {
namespace {

constexpr int64_t kBlock = 8192;   // elements per partial sum of a long contiguous reduction
constexpr int64_t kCols = 1024;    // columns per task in the strided case
constexpr int64_t kCascade = 64;   // rows summed into a local accumulator before y (strided)
constexpr int64_t kGrain = 32768;  // elements per thread at least
constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();
constexpr float kInf = std::numeric_limits<float>::infinity();

inline int64_t row_grain(int64_t len) { return std::max<int64_t>(1, kGrain / std::max<int64_t>(len, 1)); }

// ------------------------------------------------------------------ contiguous leaf loops
FASTNN_SIMD float sum_contig(const float* x, int64_t n) { return simd::sum(x, n); }

// sum of (x - m)^2, same lane structure as sum_contig
FASTNN_SIMD float sqdev_contig(const float* x, float m, int64_t n) {
  return simd::lane_sum(n, [&](int64_t i) {
    const float d = x[i] - m;
    return d * d;
  });
}

// NaN-propagating extremum: once NaN, it stays NaN.
FASTNN_SIMD float max_contig(const float* x, int64_t n) { return simd::extremum<true>(x, n); }
FASTNN_SIMD float min_contig(const float* x, int64_t n) { return simd::extremum<false>(x, n); }

FASTNN_INLINE float combine(ReduceOp op, float acc, float v) {
  if (op == ReduceOp::Max) return (v > acc || v != v) ? v : acc;
  if (op == ReduceOp::Min) return (v < acc || v != v) ? v : acc;
  return acc + v;
}

float reduce_contig(ReduceOp op, const float* x, int64_t n) {
  if (op == ReduceOp::Max) return max_contig(x, n);
  if (op == ReduceOp::Min) return min_contig(x, n);
  return sum_contig(x, n);
}

// Reduces each contiguous row of length R: rows are cut into fixed kBlock blocks, blocks run in
// parallel, and each row's block results are combined in order. f(o, ptr, n) -> float.
template <class F>
void rows_blocked(ReduceOp comb, float* y, const float* x, int64_t O, int64_t R, F&& f) {
  int64_t nb = std::max<int64_t>(1, (R + kBlock - 1) / kBlock);
  if (nb == 1) {
    parallel_for(O, row_grain(R), [&](int64_t b, int64_t e) {
      for (int64_t o = b; o < e; ++o) y[o] = f(o, x + o * R, R);
    });
    return;
  }
  std::vector<float> part(O * nb);
  parallel_for(O * nb, std::max<int64_t>(1, kGrain / kBlock), [&](int64_t b, int64_t e) {
    for (int64_t t = b; t < e; ++t) {
      int64_t o = t / nb, r0 = (t % nb) * kBlock, r1 = std::min(R, r0 + kBlock);
      part[t] = f(o, x + o * R + r0, r1 - r0);
    }
  });
  for (int64_t o = 0; o < O; ++o) {
    float acc = part[o * nb];
    for (int64_t k = 1; k < nb; ++k) acc = combine(comb, acc, part[o * nb + k]);
    y[o] = acc;
  }
}

// ------------------------------------------------------------------ strided leaf loops
// Each works on one (o, column chunk): x points at x[o, 0, c0], rows are I apart, w columns.

// y[i] = sum_r x[r, i], summed in cascades of kCascade rows for accuracy.
FASTNN_SIMD void sum_strided(float* y, const float* x, int64_t R, int64_t I, int64_t w) {
  float acc[kCols];
  for (int64_t i = 0; i < w; ++i) y[i] = 0.f;
  for (int64_t r0 = 0; r0 < R; r0 += kCascade) {
    int64_t r1 = std::min(R, r0 + kCascade);
    const float* xr = x + r0 * I;
    for (int64_t i = 0; i < w; ++i) acc[i] = xr[i];
    for (int64_t r = r0 + 1; r < r1; ++r) {
      xr = x + r * I;
      for (int64_t i = 0; i < w; ++i) acc[i] += xr[i];
    }
    for (int64_t i = 0; i < w; ++i) y[i] += acc[i];
  }
}

FASTNN_SIMD void sqdev_strided(float* y, const float* x, const float* m, int64_t R, int64_t I, int64_t w) {
  float acc[kCols];
  for (int64_t i = 0; i < w; ++i) y[i] = 0.f;
  for (int64_t r0 = 0; r0 < R; r0 += kCascade) {
    int64_t r1 = std::min(R, r0 + kCascade);
    for (int64_t i = 0; i < w; ++i) acc[i] = 0.f;
    for (int64_t r = r0; r < r1; ++r) {
      const float* xr = x + r * I;
      for (int64_t i = 0; i < w; ++i) {
        float d = xr[i] - m[i];
        acc[i] += d * d;
      }
    }
    for (int64_t i = 0; i < w; ++i) y[i] += acc[i];
  }
}

FASTNN_SIMD void max_strided(float* y, const float* x, int64_t R, int64_t I, int64_t w) {
  for (int64_t i = 0; i < w; ++i) y[i] = x[i];
  for (int64_t r = 1; r < R; ++r) {
    const float* xr = x + r * I;
    for (int64_t i = 0; i < w; ++i) {
      const float v = xr[i], m = v > y[i] ? v : y[i];
      y[i] = v != v ? v : m;
    }
  }
}
FASTNN_SIMD void min_strided(float* y, const float* x, int64_t R, int64_t I, int64_t w) {
  for (int64_t i = 0; i < w; ++i) y[i] = x[i];
  for (int64_t r = 1; r < R; ++r) {
    const float* xr = x + r * I;
    for (int64_t i = 0; i < w; ++i) {
      const float v = xr[i], m = v < y[i] ? v : y[i];
      y[i] = v != v ? v : m;
    }
  }
}

// Runs f(o, c0, w) over every (o, column chunk) of an (O, R, I) problem, in parallel.
template <class F>
void strided_tasks(int64_t O, int64_t R, int64_t I, F&& f) {
  int64_t nc = (I + kCols - 1) / kCols;
  int64_t per_task = std::max<int64_t>(1, R * std::min(I, kCols));
  parallel_for(O * nc, std::max<int64_t>(1, kGrain / per_task), [&](int64_t b, int64_t e) {
    for (int64_t t = b; t < e; ++t) {
      int64_t o = t / nc, c0 = (t % nc) * kCols;
      f(o, c0, std::min(kCols, I - c0));
    }
  });
}

// ------------------------------------------------------------------ max / min backward
// Ties share dy equally (torch.amax); a NaN extremum gives NaN gradients (as torch does).
FASTNN_SIMD void extremum_grad_contig(float* dx, const float* x, float y, float g, int64_t n) {
  int64_t c = 0;
  for (int64_t i = 0; i < n; ++i) c += x[i] == y;
  float v = y != y ? kNaN : g / (float)c;
  for (int64_t i = 0; i < n; ++i) dx[i] = x[i] == y ? v : (y != y ? kNaN : 0.f);
}

FASTNN_SIMD void extremum_grad_strided(float* dx, const float* x, const float* y, const float* g,
                                       int64_t R, int64_t I, int64_t w) {
  float cnt[kCols], v[kCols];
  for (int64_t i = 0; i < w; ++i) cnt[i] = 0.f;
  for (int64_t r = 0; r < R; ++r)
    for (int64_t i = 0; i < w; ++i) cnt[i] += x[r * I + i] == y[i] ? 1.f : 0.f;
  for (int64_t i = 0; i < w; ++i) v[i] = y[i] != y[i] ? kNaN : g[i] / cnt[i];
  for (int64_t r = 0; r < R; ++r)
    for (int64_t i = 0; i < w; ++i)
      dx[r * I + i] = x[r * I + i] == y[i] ? v[i] : (y[i] != y[i] ? kNaN : 0.f);
}

// ------------------------------------------------------------------ softmax leaf loops
// Contiguous row: y = exp(x - max) / sum (or log_softmax: x - max - log(sum)).
FASTNN_SIMD void softmax_row(float* y, const float* x, int64_t n, bool log) {
  // Plain loops (exp into y, then a laned sum) vectorise; exp inside the 16-lane sum does not.
  const float m = max_contig(x, n);
  for (int64_t i = 0; i < n; ++i) y[i] = vm::exp(x[i] - m);
  const float sum = sum_contig(y, n);
  if (log) {
    const float ls = std::log(sum);
    for (int64_t i = 0; i < n; ++i) y[i] = (x[i] - m) - ls;
  } else {
    const float inv = 1.0f / sum;
    for (int64_t i = 0; i < n; ++i) y[i] *= inv;
  }
}

// Strided: the same per column, r outer so the inner loop runs over contiguous columns.
FASTNN_SIMD void softmax_strided(float* y, const float* x, int64_t R, int64_t I, int64_t w, bool log) {
  float m[kCols], s[kCols];
  max_strided(m, x, R, I, w);
  for (int64_t i = 0; i < w; ++i) s[i] = 0.f;
  for (int64_t r = 0; r < R; ++r) {
    const float* xr = x + r * I;
    float* yr = y + r * I;
    for (int64_t i = 0; i < w; ++i) {
      float e = vm::exp(xr[i] - m[i]);
      s[i] += e;
      if (!log) yr[i] = e;
    }
  }
  if (log) {
    for (int64_t i = 0; i < w; ++i) s[i] = std::log(s[i]);
    for (int64_t r = 0; r < R; ++r)
      for (int64_t i = 0; i < w; ++i) y[r * I + i] = (x[r * I + i] - m[i]) - s[i];
  } else {
    for (int64_t i = 0; i < w; ++i) s[i] = 1.0f / s[i];
    for (int64_t r = 0; r < R; ++r)
      for (int64_t i = 0; i < w; ++i) y[r * I + i] *= s[i];
  }
}

// softmax: dx = y * (dy - sum(dy * y)); log_softmax: dx = dy - exp(y) * sum(dy).
FASTNN_SIMD void softmax_grad_row(float* dx, const float* dy, const float* y, int64_t n, bool log) {
  float acc[16] = {0};
  int64_t i = 0;
  for (; i + 16 <= n; i += 16)
    for (int j = 0; j < 16; ++j) acc[j] += log ? dy[i + j] : dy[i + j] * y[i + j];
  for (int j = 0; i < n; ++i, ++j) acc[j] += log ? dy[i] : dy[i] * y[i];
  for (int w = 8; w >= 1; w /= 2)
    for (int j = 0; j < w; ++j) acc[j] += acc[j + w];
  float s = acc[0];
  if (log)
    for (i = 0; i < n; ++i) dx[i] = dy[i] - vm::exp(y[i]) * s;
  else
    for (i = 0; i < n; ++i) dx[i] = y[i] * (dy[i] - s);
}

FASTNN_SIMD void softmax_grad_strided(float* dx, const float* dy, const float* y, int64_t R, int64_t I,
                                      int64_t w, bool log) {
  float s[kCols];
  for (int64_t i = 0; i < w; ++i) s[i] = 0.f;
  for (int64_t r = 0; r < R; ++r)
    for (int64_t i = 0; i < w; ++i) s[i] += log ? dy[r * I + i] : dy[r * I + i] * y[r * I + i];
  for (int64_t r = 0; r < R; ++r)
    for (int64_t i = 0; i < w; ++i) {
      int64_t k = r * I + i;
      dx[k] = log ? dy[k] - vm::exp(y[k]) * s[i] : y[k] * (dy[k] - s[i]);
    }
}

void softmax_any(float* y, const float* x, int64_t O, int64_t R, int64_t I, bool log) {
  if (R == 0) return;
  if (I == 1) {
    parallel_for(O, row_grain(R), [&](int64_t b, int64_t e) {
      for (int64_t o = b; o < e; ++o) softmax_row(y + o * R, x + o * R, R, log);
    });
    return;
  }
  strided_tasks(O, R, I, [&](int64_t o, int64_t c0, int64_t w) {
    softmax_strided(y + o * R * I + c0, x + o * R * I + c0, R, I, w, log);
  });
}

void softmax_grad_any(float* dx, const float* dy, const float* y, int64_t O, int64_t R, int64_t I, bool log) {
  if (R == 0) return;
  if (I == 1) {
    parallel_for(O, row_grain(R), [&](int64_t b, int64_t e) {
      for (int64_t o = b; o < e; ++o) softmax_grad_row(dx + o * R, dy + o * R, y + o * R, R, log);
    });
    return;
  }
  strided_tasks(O, R, I, [&](int64_t o, int64_t c0, int64_t w) {
    int64_t off = o * R * I + c0;
    softmax_grad_strided(dx + off, dy + off, y + off, R, I, w, log);
  });
}

// z = scale x - 1e9 (mask == 0) into y, softmax in place, then the mask's zeros when asked.
FASTNN_SIMD void masked_softmax_row(float* y, const float* x, const float* mask, int64_t n, float scale,
                                    bool zero_masked) {
  if (mask)
    for (int64_t i = 0; i < n; ++i) y[i] = scale * x[i] - (mask[i] != 0.f ? 0.f : 1e9f);
  else
    for (int64_t i = 0; i < n; ++i) y[i] = scale * x[i];
  const float m = max_contig(y, n);
  for (int64_t i = 0; i < n; ++i) y[i] = vm::exp(y[i] - m);
  const float inv = 1.0f / sum_contig(y, n);
  if (mask && zero_masked)
    for (int64_t i = 0; i < n; ++i) y[i] = mask[i] != 0.f ? y[i] * inv : 0.f;
  else
    for (int64_t i = 0; i < n; ++i) y[i] *= inv;
}

// first r with x[r] == m (or the first NaN when m is NaN); x strided by I
inline int64_t first_index(const float* x, float m, int64_t R, int64_t I) {
  bool nan = m != m;
  for (int64_t r = 0; r < R; ++r) {
    float v = x[r * I];
    if (nan ? v != v : v == m) return r;
  }
  return 0;
}

}  // namespace

// ------------------------------------------------------------------ sum / mean / max / min
void reduce_forward(ReduceOp op, float* y, const float* x, int64_t O, int64_t R, int64_t I) {
  const float scale = op == ReduceOp::Mean ? 1.0f / (float)R : 1.0f;
  const ReduceOp comb = op == ReduceOp::Mean ? ReduceOp::Sum : op;
  if (I == 1) {
    rows_blocked(comb, y, x, O, R, [&](int64_t, const float* p, int64_t n) { return reduce_contig(op, p, n); });
    if (scale != 1.0f)
      for (int64_t o = 0; o < O; ++o) y[o] *= scale;
    return;
  }
  strided_tasks(O, R, I, [&](int64_t o, int64_t c0, int64_t w) {
    float* yr = y + o * I + c0;
    const float* xo = x + o * R * I + c0;
    if (R == 0) {
      for (int64_t i = 0; i < w; ++i) yr[i] = 0.f;
      return;
    }
    if (op == ReduceOp::Max) max_strided(yr, xo, R, I, w);
    else if (op == ReduceOp::Min) min_strided(yr, xo, R, I, w);
    else sum_strided(yr, xo, R, I, w);
    if (scale != 1.0f)
      for (int64_t i = 0; i < w; ++i) yr[i] *= scale;
  });
}

void reduce_backward(ReduceOp op, float* dx, const float* dy, const float* x, const float* y,
                     int64_t O, int64_t R, int64_t I) {
  if (op == ReduceOp::Sum || op == ReduceOp::Mean) {
    const float scale = op == ReduceOp::Mean ? 1.0f / (float)R : 1.0f;
    parallel_for(O * R, row_grain(I), [&](int64_t b, int64_t e) {
      for (int64_t t = b; t < e; ++t) {
        int64_t o = t / R;
        const float* g = dy + o * I;
        float* d = dx + t * I;
        for (int64_t i = 0; i < I; ++i) d[i] = g[i] * scale;
      }
    });
    return;
  }
  if (R == 0) return;
  if (I == 1) {
    parallel_for(O, row_grain(R), [&](int64_t b, int64_t e) {
      for (int64_t o = b; o < e; ++o) extremum_grad_contig(dx + o * R, x + o * R, y[o], dy[o], R);
    });
    return;
  }
  strided_tasks(O, R, I, [&](int64_t o, int64_t c0, int64_t w) {
    int64_t off = o * R * I + c0;
    extremum_grad_strided(dx + off, x + off, y + o * I + c0, dy + o * I + c0, R, I, w);
  });
}

// ------------------------------------------------------------------ argmax / argmin
// Pass 1 finds the (NaN-propagating) extremum with the vectorised loops, pass 2 its first index.
void argmax_forward(int64_t* idx, const float* x, int64_t O, int64_t R, int64_t I, bool is_min) {
  if (R == 0) return;
  if (I == 1) {
    parallel_for(O, row_grain(R), [&](int64_t b, int64_t e) {
      for (int64_t o = b; o < e; ++o) {
        const float* xr = x + o * R;
        float m = is_min ? min_contig(xr, R) : max_contig(xr, R);
        idx[o] = first_index(xr, m, R, 1);
      }
    });
    return;
  }
  strided_tasks(O, R, I, [&](int64_t o, int64_t c0, int64_t w) {
    float m[kCols];
    const float* xo = x + o * R * I + c0;
    if (is_min) min_strided(m, xo, R, I, w);
    else max_strided(m, xo, R, I, w);
    for (int64_t i = 0; i < w; ++i) idx[o * I + c0 + i] = first_index(xo + i, m[i], R, I);
  });
}

// ------------------------------------------------------------------ variance
// Two passes (mean, then the sum of squared deviations): stable for data far from zero.
// The divisor is max(R - correction, 0), as NumPy and torch (0/0 = NaN, s/0 = inf).
void var_forward(float* var, float* mean, const float* x, int64_t O, int64_t R, int64_t I,
                 int64_t correction) {
  const float inv_r = 1.0f / (float)R;
  const float div = (float)std::max<int64_t>(R - correction, 0);
  if (I == 1) {
    rows_blocked(ReduceOp::Sum, mean, x, O, R, [&](int64_t, const float* p, int64_t n) { return sum_contig(p, n); });
    for (int64_t o = 0; o < O; ++o) mean[o] *= inv_r;
    rows_blocked(ReduceOp::Sum, var, x, O, R, [&](int64_t o, const float* p, int64_t n) {
      return sqdev_contig(p, mean[o], n);
    });
    for (int64_t o = 0; o < O; ++o) var[o] /= div;
    return;
  }
  strided_tasks(O, R, I, [&](int64_t o, int64_t c0, int64_t w) {
    float* m = mean + o * I + c0;
    float* v = var + o * I + c0;
    const float* xo = x + o * R * I + c0;
    sum_strided(m, xo, R, I, w);
    for (int64_t i = 0; i < w; ++i) m[i] *= inv_r;
    sqdev_strided(v, xo, m, R, I, w);
    for (int64_t i = 0; i < w; ++i) v[i] /= div;
  });
}

// dx = dvar * 2 (x - mean) / (R - correction); the mean's own gradient term sums to zero.
void var_backward(float* dx, const float* dvar, const float* x, const float* mean, int64_t O,
                  int64_t R, int64_t I, int64_t correction) {
  const float k = 2.0f / (float)std::max<int64_t>(R - correction, 0);
  parallel_for(O * R, row_grain(I), [&](int64_t b, int64_t e) {
    for (int64_t t = b; t < e; ++t) {
      int64_t o = t / R;
      const float* g = dvar + o * I;
      const float* m = mean + o * I;
      const float* xr = x + t * I;
      float* d = dx + t * I;
      for (int64_t i = 0; i < I; ++i) d[i] = g[i] * k * (xr[i] - m[i]);
    }
  });
}

// ------------------------------------------------------------------ softmax / log_softmax
void softmax_forward(float* y, const float* x, int64_t O, int64_t R, int64_t I) { softmax_any(y, x, O, R, I, false); }
void softmax_backward(float* dx, const float* dy, const float* y, int64_t O, int64_t R, int64_t I) {
  softmax_grad_any(dx, dy, y, O, R, I, false);
}
void log_softmax_forward(float* y, const float* x, int64_t O, int64_t R, int64_t I) { softmax_any(y, x, O, R, I, true); }
void log_softmax_backward(float* dx, const float* dy, const float* y, int64_t O, int64_t R, int64_t I) {
  softmax_grad_any(dx, dy, y, O, R, I, true);
}


void masked_softmax_forward(float* y, const float* x, const float* mask, int64_t rows, int64_t n,
                            int64_t rep, int64_t inner, float scale, bool zero_masked) {
  if (n == 0) return;
  parallel_for(rows, row_grain(n), [&](int64_t b, int64_t e) {
    for (int64_t r = b; r < e; ++r) {
      const float* mr = mask ? mask + ((r / (rep * inner)) * inner + r % inner) * n : nullptr;
      masked_softmax_row(y + r * n, x + r * n, mr, n, scale, zero_masked);
    }
  });
}

void masked_softmax_backward(float* dx, const float* dy, const float* y, int64_t rows, int64_t n, float scale) {
  if (n == 0) return;
  parallel_for(rows, row_grain(n), [&](int64_t b, int64_t e) {
    for (int64_t r = b; r < e; ++r) {
      float* d = dx + r * n;
      softmax_grad_row(d, dy + r * n, y + r * n, n, false);
      if (scale != 1.0f)
        for (int64_t i = 0; i < n; ++i) d[i] *= scale;
    }
  });
}

}  // namespace fastnn::cpu
