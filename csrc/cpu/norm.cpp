// Batch and layer normalization on the CPU (formulas in kernels/norm.h). Per-channel sums are
// taken in double over fixed blocks of rows (the block size depends on the shape only) and the
// blocks are added in order, so every thread count gives the same bits. Batch norm reads its
// input once for the statistics (both sums in one pass, vectorised over the contiguous axis:
// the channels for channels_last, the pixels for channels_first) and once to normalise; its
// backward reads dy and x once for sum(dy) and sum(dy * (x - mean)) and once to write dx.
#include "kernels/norm.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "core/parallel.h"
#include "cpu/vec_math.h"

namespace fastnn::cpu {
namespace {

constexpr int64_t kWork = 32768;  // elements per block / per thread at least
constexpr int kLanes = 16;        // channels (channels_last) or run elements per accumulator set

// The two per-channel sums of batch norm, over one element with per-channel offset k:
// statistics (Grad = false): u = x - k, v = u * u; gradient (Grad = true): u = dy, v = dy * (x - k).
template <bool Grad>
FASTNN_INLINE void terms(double& u, double& v, float x, float dy, double k) {
  const double d = (double)x - k;
  if (Grad) {
    u = (double)dy;
    v = (double)dy * d;
  } else {
    u = d;
    v = d * d;
  }
}

// channels_last: s1[c], s2[c] (c < C) += the terms of rows [0, rows) of C channels. Channels
// go kLanes at a time with the accumulators in registers, rows two at a time into two sets
// (even, odd rows) added at the end: a fixed order given by the shape alone.
template <bool Grad>
FASTNN_SIMD void rows_sums(double* s1, double* s2, const float* x, const float* dy, const double* k,
                           int64_t rows, int64_t C) {
  for (int64_t c0 = 0; c0 < C; c0 += kLanes) {
    if (c0 + kLanes <= C) {
      double a1[2][kLanes] = {}, a2[2][kLanes] = {}, kk[kLanes];
      for (int j = 0; j < kLanes; ++j) kk[j] = k[c0 + j];
      int64_t r = 0;
      for (; r + 2 <= rows; r += 2)
        for (int h = 0; h < 2; ++h) {
          const float* xr = x + (r + h) * C + c0;
          const float* gr = Grad ? dy + (r + h) * C + c0 : nullptr;
          for (int j = 0; j < kLanes; ++j) {
            double u, v;
            terms<Grad>(u, v, xr[j], Grad ? gr[j] : 0.0f, kk[j]);
            a1[h][j] += u;
            a2[h][j] += v;
          }
        }
      if (r < rows) {
        const float* xr = x + r * C + c0;
        const float* gr = Grad ? dy + r * C + c0 : nullptr;
        for (int j = 0; j < kLanes; ++j) {
          double u, v;
          terms<Grad>(u, v, xr[j], Grad ? gr[j] : 0.0f, kk[j]);
          a1[0][j] += u;
          a2[0][j] += v;
        }
      }
      for (int j = 0; j < kLanes; ++j) {
        s1[c0 + j] += a1[0][j] + a1[1][j];
        s2[c0 + j] += a2[0][j] + a2[1][j];
      }
    } else {  // the last C % kLanes channels
      for (int64_t r = 0; r < rows; ++r)
        for (int64_t c = c0; c < C; ++c) {
          double u, v;
          terms<Grad>(u, v, x[r * C + c], Grad ? dy[r * C + c] : 0.0f, k[c]);
          s1[c] += u;
          s2[c] += v;
        }
    }
  }
}

// channels_first: s1, s2 = the terms of one run of I elements of one channel, element i into
// lane i % kLanes, the lanes added in a fixed tree.
template <bool Grad>
FASTNN_SIMD void run_sums(double& s1, double& s2, const float* x, const float* dy, double k, int64_t I) {
  double a1[kLanes] = {}, a2[kLanes] = {};
  int64_t i = 0;
  for (; i + kLanes <= I; i += kLanes)
    for (int j = 0; j < kLanes; ++j) {
      double u, v;
      terms<Grad>(u, v, x[i + j], Grad ? dy[i + j] : 0.0f, k);
      a1[j] += u;
      a2[j] += v;
    }
  for (int j = 0; i < I; ++i, ++j) {
    double u, v;
    terms<Grad>(u, v, x[i], Grad ? dy[i] : 0.0f, k);
    a1[j] += u;
    a2[j] += v;
  }
  for (int w = kLanes / 2; w >= 1; w /= 2)
    for (int j = 0; j < w; ++j) {
      a1[j] += a1[j + w];
      a2[j] += a2[j + w];
    }
  s1 = a1[0];
  s2 = a2[0];
}

// out1[c], out2[c] = the sums of the terms over (O, C, I) in one pass: per fixed block of rows
// a partial (the block size depends on the shape only), the blocks added in order.
template <bool Grad>
void channel_sums(double* out1, double* out2, const float* x, const float* dy, const double* k, int64_t O,
                  int64_t C, int64_t I) {
  const int64_t rows = std::max<int64_t>(1, kWork / std::max<int64_t>(C * I, 1));
  const int64_t nb = (O + rows - 1) / rows;
  std::vector<double> part((size_t)(nb * 2 * C), 0.0);
  parallel_for(nb, 1, [&](int64_t b, int64_t e) {
    for (int64_t blk = b; blk < e; ++blk) {
      double* p1 = part.data() + blk * 2 * C;
      double* p2 = p1 + C;
      const int64_t o0 = blk * rows, o1 = std::min(O, o0 + rows);
      if (I == 1) {
        rows_sums<Grad>(p1, p2, x + o0 * C, Grad ? dy + o0 * C : nullptr, k, o1 - o0, C);
        continue;
      }
      for (int64_t o = o0; o < o1; ++o)
        for (int64_t c = 0; c < C; ++c) {
          const int64_t j0 = (o * C + c) * I;
          double s1, s2;
          run_sums<Grad>(s1, s2, x + j0, Grad ? dy + j0 : nullptr, k[c], I);
          p1[c] += s1;
          p2[c] += s2;
        }
    }
  });
  for (int64_t c = 0; c < C; ++c) {
    double s1 = 0.0, s2 = 0.0;
    for (int64_t blk = 0; blk < nb; ++blk) {
      s1 += part[blk * 2 * C + c];
      s2 += part[blk * 2 * C + C + c];
    }
    out1[c] = s1;
    out2[c] = s2;
  }
}

// y[j] = x[j] * a[c] + b[c] (+ (z[j] - zc[c]) * k[c] when z is given) over rows [0, rows) of a
// channels_last (O, C) block: the channel loop is the contiguous, vectorisable one.
FASTNN_SIMD void affine_rows(float* y, const float* x, const float* a, const float* b, const float* z,
                             const float* zc, const float* k, int64_t rows, int64_t C) {
  for (int64_t o = 0; o < rows; ++o) {
    const float* xr = x + o * C;
    float* yr = y + o * C;
    if (z) {
      const float* zr = z + o * C;
      for (int64_t c = 0; c < C; ++c) yr[c] = xr[c] * a[c] + ((zr[c] - zc[c]) * k[c] + b[c]);
    } else {
      for (int64_t c = 0; c < C; ++c) yr[c] = xr[c] * a[c] + b[c];
    }
  }
}

// The same over one run of I elements of one channel (channels_first).
FASTNN_SIMD void affine_run(float* y, const float* x, float a, float b, const float* z, float zc, float k,
                            int64_t I) {
  if (z)
    for (int64_t i = 0; i < I; ++i) y[i] = x[i] * a + ((z[i] - zc) * k + b);
  else
    for (int64_t i = 0; i < I; ++i) y[i] = x[i] * a + b;
}

void channel_affine(float* y, const float* x, const float* a, const float* b, const float* z, const float* zc,
                    const float* k, int64_t O, int64_t C, int64_t I) {
  parallel_for(O, std::max<int64_t>(1, kWork / std::max<int64_t>(C * I, 1)), [&](int64_t ob, int64_t oe) {
    if (I == 1) {
      affine_rows(y + ob * C, x + ob * C, a, b, z ? z + ob * C : nullptr, zc, k, oe - ob, C);
      return;
    }
    for (int64_t o = ob; o < oe; ++o)
      for (int64_t c = 0; c < C; ++c) {
        const int64_t j0 = (o * C + c) * I;
        affine_run(y + j0, x + j0, a[c], b[c], z ? z + j0 : nullptr, zc ? zc[c] : 0.0f, k ? k[c] : 0.0f, I);
      }
  });
}

inline float inv_std(float var, float eps) { return 1.0f / std::sqrt(var + eps); }

}  // namespace

void batch_norm_stats(float* mean, float* var, const float* x, int64_t O, int64_t C, int64_t I) {
  const double n = (double)(O * I);
  // One pass: sums of d = x - k and d^2 with k a value of the channel (its first element). As k
  // is a sample, (mean - k)^2 <= n * var, so var = E[d^2] - E[d]^2 in double loses at most
  // n * 2^-52 relative: nothing at float precision, however large the mean against the spread.
  std::vector<double> k((size_t)C), s1((size_t)C), s2((size_t)C);
  for (int64_t c = 0; c < C; ++c) {
    const float f = x[c * I];
    k[c] = std::isfinite(f) ? (double)f : 0.0;  // an infinite offset would turn inf into NaN
  }
  channel_sums<false>(s1.data(), s2.data(), x, nullptr, k.data(), O, C, I);
  for (int64_t c = 0; c < C; ++c) {
    const double d = s1[c] / n;
    mean[c] = (float)(k[c] + d);
    const double v = s2[c] / n - d * d;
    var[c] = (float)(v < 0.0 ? 0.0 : v);  // rounding may dip below 0; NaN passes
  }
}

void batch_norm_forward(float* y, const float* x, const float* mean, const float* var, const float* gamma,
                        const float* beta, int64_t O, int64_t C, int64_t I, float eps) {
  std::vector<float> scale((size_t)C), shift((size_t)C);
  for (int64_t c = 0; c < C; ++c) {
    const float inv = inv_std(var[c], eps) * (gamma ? gamma[c] : 1.0f);
    scale[c] = inv;
    shift[c] = (beta ? beta[c] : 0.0f) - mean[c] * inv;
  }
  channel_affine(y, x, scale.data(), shift.data(), nullptr, nullptr, nullptr, O, C, I);
}

void batch_norm_backward(float* dx, float* dgamma, float* dbeta, const float* dy, const float* x,
                         const float* mean, const float* var, const float* gamma, int64_t O, int64_t C,
                         int64_t I, float eps, bool training) {
  const double n = (double)(O * I);
  std::vector<double> sdy((size_t)C, 0.0), sdyx((size_t)C, 0.0), m((size_t)C);
  for (int64_t c = 0; c < C; ++c) m[c] = (double)mean[c];
  // sum(dy) and sum(dy * (x - mean)) in one pass; dx in a second
  if (training || dgamma || dbeta) channel_sums<true>(sdy.data(), sdyx.data(), x, dy, m.data(), O, C, I);
  std::vector<float> k1((size_t)C), k2((size_t)C), k3((size_t)C);
  for (int64_t c = 0; c < C; ++c) {
    const double inv = 1.0 / std::sqrt((double)var[c] + (double)eps), gm = gamma ? gamma[c] : 1.0;
    if (dgamma) dgamma[c] = (float)(sdyx[c] * inv);
    if (dbeta) dbeta[c] = (float)sdy[c];
    k1[c] = (float)(gm * inv);
    if (training) {
      // dx = gamma * inv * (dy - mean(dy) - xhat * mean(dy * xhat)) as dy * k1 + (x - mean) * k2 + k3
      k2[c] = (float)(-gm * inv * inv * inv * sdyx[c] / n);
      k3[c] = (float)(-gm * inv * sdy[c] / n);
    } else {
      k2[c] = 0.0f;
      k3[c] = 0.0f;
    }
  }
  if (training)
    channel_affine(dx, dy, k1.data(), k3.data(), x, mean, k2.data(), O, C, I);
  else
    channel_affine(dx, dy, k1.data(), k3.data(), nullptr, nullptr, nullptr, O, C, I);
}

void layer_norm_forward(float* y, float* mean, float* rstd, const float* x, const float* gamma, const float* beta,
                        int64_t R, int64_t D, float eps) {
  parallel_for(R, std::max<int64_t>(1, kWork / std::max<int64_t>(D, 1)), [&](int64_t b, int64_t e) {
    for (int64_t r = b; r < e; ++r) {
      const float* xr = x + r * D;
      double s = 0.0;
      for (int64_t d = 0; d < D; ++d) s += xr[d];
      const double m = s / (double)D;
      double v = 0.0;
      for (int64_t d = 0; d < D; ++d) {
        const double t = (double)xr[d] - m;
        v += t * t;
      }
      const float mf = (float)m, rs = (float)(1.0 / std::sqrt(v / (double)D + (double)eps));
      mean[r] = mf;
      rstd[r] = rs;
      float* yr = y + r * D;
      for (int64_t d = 0; d < D; ++d) {
        const float xh = (xr[d] - mf) * rs;
        yr[d] = xh * (gamma ? gamma[d] : 1.0f) + (beta ? beta[d] : 0.0f);
      }
    }
  });
}

void layer_norm_backward(float* dx, float* dgamma, float* dbeta, const float* dy, const float* x,
                         const float* mean, const float* rstd, const float* gamma, int64_t R, int64_t D) {
  parallel_for(R, std::max<int64_t>(1, kWork / std::max<int64_t>(D, 1)), [&](int64_t b, int64_t e) {
    for (int64_t r = b; r < e; ++r) {
      const float *xr = x + r * D, *gr = dy + r * D;
      const float m = mean[r], rs = rstd[r];
      double s1 = 0.0, s2 = 0.0;
      for (int64_t d = 0; d < D; ++d) {
        const double gd = (double)gr[d] * (gamma ? gamma[d] : 1.0f);
        s1 += gd;
        s2 += gd * ((double)(xr[d] - m) * rs);
      }
      const float a = (float)(s1 / (double)D), c = (float)(s2 / (double)D);
      float* dr = dx + r * D;
      for (int64_t d = 0; d < D; ++d) {
        const float gd = gr[d] * (gamma ? gamma[d] : 1.0f), xh = (xr[d] - m) * rs;
        dr[d] = rs * (gd - a - xh * c);
      }
    }
  });
  if (!dgamma && !dbeta) return;
  // Column sums over rows in fixed blocks of rows, added in order.
  const int64_t rows = std::max<int64_t>(1, kWork / std::max<int64_t>(D, 1)), nb = (R + rows - 1) / rows;
  std::vector<double> part((size_t)(nb * 2 * D), 0.0);
  parallel_for(nb, 1, [&](int64_t b, int64_t e) {
    for (int64_t blk = b; blk < e; ++blk) {
      double *pg = part.data() + blk * 2 * D, *pb = pg + D;
      for (int64_t r = blk * rows, r1 = std::min(R, (blk + 1) * rows); r < r1; ++r) {
        const float *xr = x + r * D, *gr = dy + r * D;
        const float m = mean[r], rs = rstd[r];
        for (int64_t d = 0; d < D; ++d) {
          pg[d] += (double)gr[d] * (double)((xr[d] - m) * rs);
          pb[d] += gr[d];
        }
      }
    }
  });
  for (int64_t d = 0; d < D; ++d) {
    double sg = 0.0, sb = 0.0;
    for (int64_t blk = 0; blk < nb; ++blk) {
      sg += part[blk * 2 * D + d];
      sb += part[blk * 2 * D + D + d];
    }
    if (dgamma) dgamma[d] = (float)sg;
    if (dbeta) dbeta[d] = (float)sb;
  }
}

}  // namespace fastnn::cpu
