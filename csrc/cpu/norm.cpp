// Batch and layer normalization on the CPU (formulas in kernels/norm.h). Per-channel sums are
// taken in double over fixed blocks of rows (the block size depends on the shape only) and the
// blocks are added in order, so every thread count gives the same bits.
#include "kernels/norm.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "core/parallel.h"

namespace fastnn::cpu {
namespace {

constexpr int64_t kWork = 32768;  // elements per block / per thread at least

// out1[c] (and out2[c]) = sum over (o, i) of the terms f adds for element j = (o * C + c) * I + i.
// f(j, c, s1, s2) adds its terms to s1 and s2.
template <class F>
void channel_sums(double* out1, double* out2, int64_t O, int64_t C, int64_t I, F&& f) {
  const int64_t rows = std::max<int64_t>(1, kWork / std::max<int64_t>(C * I, 1));
  const int64_t nb = (O + rows - 1) / rows;
  std::vector<double> part((size_t)(nb * 2 * C), 0.0);
  parallel_for(nb, 1, [&](int64_t b, int64_t e) {
    for (int64_t blk = b; blk < e; ++blk) {
      double* p1 = part.data() + blk * 2 * C;
      double* p2 = p1 + C;
      const int64_t o1 = std::min(O, (blk + 1) * rows);
      for (int64_t o = blk * rows; o < o1; ++o) {
        if (I == 1) {
          for (int64_t c = 0; c < C; ++c) f(o * C + c, c, p1[c], p2[c]);
        } else {
          for (int64_t c = 0; c < C; ++c) {
            double s1 = 0.0, s2 = 0.0;
            const int64_t j0 = (o * C + c) * I;
            for (int64_t i = 0; i < I; ++i) f(j0 + i, c, s1, s2);
            p1[c] += s1;
            p2[c] += s2;
          }
        }
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
    if (out2) out2[c] = s2;
  }
}

// y[j] = x[j] * a[c] + b[c] (+ (z[j] - zc[c]) * k[c] when z is given) over (O, C, I).
void channel_affine(float* y, const float* x, const float* a, const float* b, const float* z, const float* zc,
                    const float* k, int64_t O, int64_t C, int64_t I) {
  parallel_for(O, std::max<int64_t>(1, kWork / std::max<int64_t>(C * I, 1)), [&](int64_t ob, int64_t oe) {
    if (I == 1) {  // channels_last: the channel loop is the contiguous, vectorisable one
      for (int64_t o = ob; o < oe; ++o) {
        const float* xr = x + o * C;
        float* yr = y + o * C;
        if (z) {
          const float* zr = z + o * C;
          for (int64_t c = 0; c < C; ++c) yr[c] = xr[c] * a[c] + ((zr[c] - zc[c]) * k[c] + b[c]);
        } else {
          for (int64_t c = 0; c < C; ++c) yr[c] = xr[c] * a[c] + b[c];
        }
      }
      return;
    }
    for (int64_t o = ob; o < oe; ++o)
      for (int64_t c = 0; c < C; ++c) {
        const int64_t j0 = (o * C + c) * I;
        const float ac = a[c], bc = b[c], kc = k ? k[c] : 0.0f, zm = zc ? zc[c] : 0.0f;
        if (z)
          for (int64_t i = 0; i < I; ++i) y[j0 + i] = x[j0 + i] * ac + ((z[j0 + i] - zm) * kc + bc);
        else
          for (int64_t i = 0; i < I; ++i) y[j0 + i] = x[j0 + i] * ac + bc;
      }
  });
}

inline float inv_std(float var, float eps) { return 1.0f / std::sqrt(var + eps); }

}  // namespace

void batch_norm_stats(float* mean, float* var, const float* x, int64_t O, int64_t C, int64_t I) {
  const double n = (double)(O * I);
  std::vector<double> s((size_t)C), m((size_t)C);
  channel_sums(s.data(), nullptr, O, C, I, [&](int64_t j, int64_t, double& a, double&) { a += x[j]; });
  for (int64_t c = 0; c < C; ++c) m[c] = s[c] / n;
  // Centred second pass: no cancellation when the mean is large against the spread.
  channel_sums(s.data(), nullptr, O, C, I, [&](int64_t j, int64_t c, double& a, double&) {
    const double d = (double)x[j] - m[c];
    a += d * d;
  });
  for (int64_t c = 0; c < C; ++c) {
    mean[c] = (float)m[c];
    var[c] = (float)(s[c] / n);
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
  std::vector<double> sdy((size_t)C, 0.0), sdyx((size_t)C, 0.0);
  if (training || dgamma || dbeta)
    channel_sums(sdy.data(), sdyx.data(), O, C, I, [&](int64_t j, int64_t c, double& a, double& b) {
      a += dy[j];
      b += (double)dy[j] * ((double)x[j] - (double)mean[c]);
    });
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
