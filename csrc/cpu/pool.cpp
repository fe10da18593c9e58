// Max / average pooling and bilinear resizing on the CPU (geometry and conventions in
// kernels/pool.h). channels_last loops run over the channels innermost, contiguous, so each
// window is a few vector max / add operations; work is split over the batch (backward) or over
// output rows (forward), and no sum crosses a thread boundary, so every thread count gives the
// same bits.
#include "kernels/pool.h"

#include <algorithm>
#include <cstring>
#include <vector>

#include "core/parallel.h"

namespace fastnn::cpu {
namespace {

constexpr int64_t kChanBlock = 64;  // channels per pass in channels_last windows
constexpr int64_t kFewChannels = 16;  // below this, channels_last windows run inline, scalar
constexpr int64_t kWork = 32768;    // elements touched per thread at least

// Branch-free select of the NaN-propagating max (torch's rule: v wins when v > m or v is NaN):
// random data makes a branch here mispredict about every other window.
inline void max_step(float v, int32_t k, float& m, int32_t& id) {
  const int32_t t = -(int32_t)((v > m) | (v != v));
  uint32_t vb, mb;
  std::memcpy(&vb, &v, 4);
  std::memcpy(&mb, &m, 4);
  mb = (mb & ~(uint32_t)t) | (vb & (uint32_t)t);
  std::memcpy(&m, &mb, 4);
  id = (id & ~t) | (k & t);
}

inline int64_t grain_for(int64_t per_item) { return std::max<int64_t>(1, kWork / std::max<int64_t>(per_item, 1)); }

// The most pixels one window covers once clipped to the image (what a window costs): a pool_size
// beyond the image costs no more than the image.
inline int64_t taps(const PoolGeom& g) { return std::min(g.KH, g.H) * std::min(g.KW, g.W); }

// Window [hs, he) x [ws, we) of output (oh, ow), clipped to the image.
struct Window {
  int64_t hs, he, ws, we;
};
inline Window window(const PoolGeom& g, int64_t oh, int64_t ow) {
  int64_t h0 = oh * g.SH - g.PT, w0 = ow * g.SW - g.PL;
  return {std::max<int64_t>(h0, 0), std::min(h0 + g.KH, g.H), std::max<int64_t>(w0, 0), std::min(w0 + g.KW, g.W)};
}

// Max over one window for cc <= kChanBlock channels (stride C between pixels). Bit selects instead
// of branches so that the clones vectorise; int32 indices keep the select lanes as wide as the
// floats (the entry checks H * W < 2^31).
FASTNN_SIMD void max_window_cl(float* y, int64_t* am, const float* xs, int64_t C, int64_t W, Window wd, int64_t cc) {
  float m[kChanBlock];
  int32_t id[kChanBlock];
  const int32_t k0 = (int32_t)(wd.hs * W + wd.ws);
  const float* p0 = xs + (int64_t)k0 * C;
  for (int64_t c = 0; c < cc; ++c) {
    m[c] = p0[c];
    id[c] = k0;
  }
  for (int64_t h = wd.hs; h < wd.he; ++h)
    for (int64_t w = wd.ws; w < wd.we; ++w) {
      const int32_t k = (int32_t)(h * W + w);
      const float* p = xs + (int64_t)k * C;
      for (int64_t c = 0; c < cc; ++c) max_step(p[c], k, m[c], id[c]);
    }
  for (int64_t c = 0; c < cc; ++c) {
    y[c] = m[c];
    am[c] = id[c];
  }
}

// Visits the window pixels of output row oh as f(h, w, ow): window offsets (kh, kw) outermost,
// then every output column ow whose window has that offset inside the image (the others see it
// as padding). The inner loops so run over a whole output row, whose elements are independent,
// and each output still sees its own pixels in h-major order, as a per-window loop would.
// Only the offsets that land in the image for some output are visited, so a window far wider
// than the image costs no more than one that covers it.
template <class F>
inline void for_each_row_tap(const PoolGeom& g, int64_t oh, F&& f) {
  const int64_t h0 = oh * g.SH - g.PT;
  const int64_t kh0 = std::max<int64_t>(0, -h0), kh1 = std::min<int64_t>(g.KH, g.H - h0);
  const int64_t kw0 = std::max<int64_t>(0, g.PL - (g.OW - 1) * g.SW), kw1 = std::min<int64_t>(g.KW, g.W + g.PL);
  for (int64_t kh = kh0; kh < kh1; ++kh) {
    const int64_t h = h0 + kh;
    for (int64_t kw = kw0; kw < kw1; ++kw) {
      const int64_t off = kw - g.PL;  // w = ow * SW + off must lie in [0, W)
      const int64_t o0 = off >= 0 ? 0 : (-off + g.SW - 1) / g.SW;
      const int64_t o1 = g.W - 1 - off < 0 ? 0 : std::min(g.OW, (g.W - 1 - off) / g.SW + 1);
      for (int64_t ow = o0; ow < o1; ++ow) f(h, ow * g.SW + off, ow);
    }
  }
}

// channels_last max pooling of output rows [b, e) (of N * OH) when C < kFewChannels. A window of
// so few channels is too small for a vector call, and a scalar window loop is one long dependency
// chain per output; so the loop runs over window offsets outermost and, for each, over the whole
// output row, whose elements are independent. Every output still sees its window in h-major
// order, so maxima and argmaxes (ties, NaN) are those of the per-window loop.
void max_pool_rows_few_channels(float* __restrict y, int64_t* __restrict argmax, const float* __restrict x,
                                const PoolGeom g, int64_t b, int64_t e) {
  const int64_t C = g.C, H = g.H, W = g.W, OH = g.OH, OW = g.OW, RC = OW * C;
  std::vector<int32_t> best((size_t)RC);
  for (int64_t r = b; r < e; ++r) {
    const int64_t n = r / OH, oh = r % OH;
    const float* xs = x + n * H * W * C;
    float* yo = y + r * RC;
    int32_t* id = best.data();
    for (int64_t j = 0; j < RC; ++j) {
      yo[j] = 0.0f;
      id[j] = -1;  // no element seen yet: the first one wins whatever its value
    }
    for_each_row_tap(g, oh, [&](int64_t h, int64_t w, int64_t ow) {
      const int32_t k = (int32_t)(h * W + w);
      const float* p = xs + (h * W + w) * C;
      float* m = yo + ow * C;
      int32_t* ix = id + ow * C;
      for (int64_t c = 0; c < C; ++c) {
        const float v = p[c];
        const bool take = (v > m[c]) | (v != v) | (ix[c] < 0);
        m[c] = take ? v : m[c];
        ix[c] = take ? k : ix[c];
      }
    });
    int64_t* ao = argmax + r * RC;
    for (int64_t j = 0; j < RC; ++j) ao[j] = id[j];
  }
}

// channels_last average pooling of output rows [b, e) when C < kFewChannels, ordered like
// max_pool_rows_few_channels: each output's window is summed in h-major order, as per window.
void avg_pool_rows_few_channels(float* __restrict y, const float* __restrict x, const PoolGeom g, int64_t b,
                                int64_t e) {
  const int64_t C = g.C, H = g.H, W = g.W, OH = g.OH, OW = g.OW, RC = OW * C;
  for (int64_t r = b; r < e; ++r) {
    const int64_t n = r / OH, oh = r % OH;
    const float* xs = x + n * H * W * C;
    float* yo = y + r * RC;
    for (int64_t j = 0; j < RC; ++j) yo[j] = 0.0f;
    for_each_row_tap(g, oh, [&](int64_t h, int64_t w, int64_t ow) {
      const float* p = xs + (h * W + w) * C;
      float* acc = yo + ow * C;
      for (int64_t c = 0; c < C; ++c) acc[c] += p[c];
    });
    for (int64_t ow = 0; ow < OW; ++ow) {
      const Window wd = window(g, oh, ow);
      const float cnt = (float)((wd.he - wd.hs) * (wd.we - wd.ws));
      for (int64_t c = 0; c < C; ++c) yo[ow * C + c] /= cnt;
    }
  }
}

// channels_last average-pooling gradient of samples [b, e): dy / count spread over each window,
// window offsets outermost so the inner loops run over a whole output row.
void avg_pool_backward_samples(float* __restrict dx, const float* __restrict dy, const PoolGeom g, int64_t b,
                               int64_t e) {
  const int64_t C = g.C, H = g.H, W = g.W, OH = g.OH, OW = g.OW;
  std::vector<float> scaled((size_t)(OW * C));
  for (int64_t n = b; n < e; ++n) {
    float* dxs = dx + n * H * W * C;
    std::memset(dxs, 0, sizeof(float) * H * W * C);
    for (int64_t oh = 0; oh < OH; ++oh) {
      const float* gr = dy + (n * OH + oh) * OW * C;
      for (int64_t ow = 0; ow < OW; ++ow) {
        const Window wd = window(g, oh, ow);
        const float cnt = (float)((wd.he - wd.hs) * (wd.we - wd.ws));
        for (int64_t c = 0; c < C; ++c) scaled[ow * C + c] = gr[ow * C + c] / cnt;
      }
      const float* sc = scaled.data();
      for_each_row_tap(g, oh, [&](int64_t h, int64_t w, int64_t ow) {
        float* p = dxs + (h * W + w) * C;
        const float* v = sc + ow * C;
        for (int64_t c = 0; c < C; ++c) p[c] += v[c];
      });
    }
  }
}

FASTNN_SIMD void sum_window_cl(float* y, const float* xs, int64_t C, int64_t W, Window wd, int64_t cc) {
  float acc[kChanBlock];
  for (int64_t c = 0; c < cc; ++c) acc[c] = 0.0f;
  for (int64_t h = wd.hs; h < wd.he; ++h)
    for (int64_t w = wd.ws; w < wd.we; ++w) {
      const float* p = xs + (h * W + w) * C;
      for (int64_t c = 0; c < cc; ++c) acc[c] += p[c];
    }
  const float cnt = (float)((wd.he - wd.hs) * (wd.we - wd.ws));
  for (int64_t c = 0; c < cc; ++c) y[c] = acc[c] / cnt;
}

// Half-pixel source coordinate of output index d: neighbours i0, i1 and the weight l1 of i1.
inline void src_index(int64_t d, float scale, int64_t in, int64_t& i0, int64_t& i1, float& l1) {
  float s = scale * ((float)d + 0.5f) - 0.5f;
  if (s < 0.0f) s = 0.0f;
  i0 = std::min<int64_t>((int64_t)s, in - 1);
  i1 = i0 + (i0 < in - 1 ? 1 : 0);
  l1 = std::min(std::max(s - (float)i0, 0.0f), 1.0f);
}

FASTNN_SIMD void lerp4_cl(float* y, const float* a, const float* b, const float* c, const float* d, float wa,
                          float wb, float wc, float wd, int64_t C) {
  for (int64_t k = 0; k < C; ++k) y[k] = wa * a[k] + wb * b[k] + (wc * c[k] + wd * d[k]);
}

}  // namespace

void max_pool2d_forward(float* y, int64_t* argmax, const float* x, const PoolGeom& g) {
  const int64_t C = g.C, H = g.H, W = g.W, OH = g.OH, OW = g.OW;
  if (g.channels_last && C < kFewChannels) {
    parallel_for(g.N * OH, grain_for(OW * taps(g) * C),
                 [&](int64_t b, int64_t e) { max_pool_rows_few_channels(y, argmax, x, g, b, e); });
    return;
  }
  if (g.channels_last) {
    parallel_for(g.N * OH, grain_for(OW * taps(g) * C), [&](int64_t b, int64_t e) {
      for (int64_t r = b; r < e; ++r) {
        const int64_t n = r / OH, oh = r % OH;
        const float* xs = x + n * H * W * C;
        for (int64_t ow = 0; ow < OW; ++ow) {
          const Window wd = window(g, oh, ow);
          const int64_t o = (r * OW + ow) * C;
          for (int64_t c0 = 0; c0 < C; c0 += kChanBlock)
            max_window_cl(y + o + c0, argmax + o + c0, xs + c0, C, W, wd, std::min(kChanBlock, C - c0));
        }
      }
    });
    return;
  }
  parallel_for(g.N * C, grain_for(OH * OW * taps(g)), [&](int64_t b, int64_t e) {
    for (int64_t pl = b; pl < e; ++pl) {
      const float* xs = x + pl * H * W;
      float* yp = y + pl * OH * OW;
      int64_t* ap = argmax + pl * OH * OW;
      for (int64_t oh = 0; oh < OH; ++oh)
        for (int64_t ow = 0; ow < OW; ++ow) {
          const Window wd = window(g, oh, ow);
          int32_t best = (int32_t)(wd.hs * W + wd.ws);
          float m = xs[best];
          for (int64_t h = wd.hs; h < wd.he; ++h)
            for (int64_t w = wd.ws; w < wd.we; ++w) max_step(xs[h * W + w], (int32_t)(h * W + w), m, best);
          yp[oh * OW + ow] = m;
          ap[oh * OW + ow] = best;
        }
    }
  });
}

// Each thread owns whole images of dx (a sample for channels_last, a plane for channels_first)
// and adds their windows' gradients in output order.
void max_pool2d_backward(float* dx, const float* dy, const int64_t* argmax, const PoolGeom& g) {
  const int64_t C = g.C, HW = g.H * g.W, OHW = g.OH * g.OW;
  if (g.channels_last) {
    parallel_for(g.N, grain_for(OHW * C + HW * C), [&](int64_t b, int64_t e) {
      for (int64_t n = b; n < e; ++n) {
        float* dxs = dx + n * HW * C;
        std::memset(dxs, 0, sizeof(float) * HW * C);
        const float* gp = dy + n * OHW * C;
        const int64_t* ap = argmax + n * OHW * C;
        for (int64_t j = 0; j < OHW; ++j, gp += C, ap += C)
          for (int64_t c = 0; c < C; ++c) dxs[ap[c] * C + c] += gp[c];
      }
    });
    return;
  }
  parallel_for(g.N * C, grain_for(OHW + HW), [&](int64_t b, int64_t e) {
    for (int64_t pl = b; pl < e; ++pl) {
      float* dxs = dx + pl * HW;
      std::memset(dxs, 0, sizeof(float) * HW);
      const float* gp = dy + pl * OHW;
      const int64_t* ap = argmax + pl * OHW;
      for (int64_t j = 0; j < OHW; ++j) dxs[ap[j]] += gp[j];
    }
  });
}

void avg_pool2d_forward(float* y, const float* x, const PoolGeom& g) {
  const int64_t C = g.C, H = g.H, W = g.W, OH = g.OH, OW = g.OW;
  if (g.channels_last && C < kFewChannels) {
    parallel_for(g.N * OH, grain_for(OW * taps(g) * C),
                 [&](int64_t b, int64_t e) { avg_pool_rows_few_channels(y, x, g, b, e); });
    return;
  }
  if (g.channels_last) {
    parallel_for(g.N * OH, grain_for(OW * taps(g) * C), [&](int64_t b, int64_t e) {
      for (int64_t r = b; r < e; ++r) {
        const int64_t n = r / OH, oh = r % OH;
        const float* xs = x + n * H * W * C;
        for (int64_t ow = 0; ow < OW; ++ow) {
          const Window wd = window(g, oh, ow);
          const int64_t o = (r * OW + ow) * C;
          for (int64_t c0 = 0; c0 < C; c0 += kChanBlock)
            sum_window_cl(y + o + c0, xs + c0, C, W, wd, std::min(kChanBlock, C - c0));
        }
      }
    });
    return;
  }
  parallel_for(g.N * C, grain_for(OH * OW * taps(g)), [&](int64_t b, int64_t e) {
    for (int64_t pl = b; pl < e; ++pl) {
      const float* xs = x + pl * H * W;
      float* yp = y + pl * OH * OW;
      for (int64_t oh = 0; oh < OH; ++oh)
        for (int64_t ow = 0; ow < OW; ++ow) {
          const Window wd = window(g, oh, ow);
          float s = 0.0f;
          for (int64_t h = wd.hs; h < wd.he; ++h)
            for (int64_t w = wd.ws; w < wd.we; ++w) s += xs[h * W + w];
          yp[oh * OW + ow] = s / (float)((wd.he - wd.hs) * (wd.we - wd.ws));
        }
    }
  });
}

void avg_pool2d_backward(float* dx, const float* dy, const PoolGeom& g) {
  const int64_t C = g.C, H = g.H, W = g.W, OH = g.OH, OW = g.OW;
  if (g.channels_last) {
    parallel_for(g.N, grain_for(OH * OW * taps(g) * C),
                 [&](int64_t b, int64_t e) { avg_pool_backward_samples(dx, dy, g, b, e); });
    return;
  }
  parallel_for(g.N * C, grain_for(OH * OW * taps(g)), [&](int64_t b, int64_t e) {
    for (int64_t pl = b; pl < e; ++pl) {
      float* dxs = dx + pl * H * W;
      std::memset(dxs, 0, sizeof(float) * H * W);
      const float* gp = dy + pl * OH * OW;
      for (int64_t oh = 0; oh < OH; ++oh)
        for (int64_t ow = 0; ow < OW; ++ow) {
          const Window wd = window(g, oh, ow);
          const float v = gp[oh * OW + ow] / (float)((wd.he - wd.hs) * (wd.we - wd.ws));
          for (int64_t h = wd.hs; h < wd.he; ++h)
            for (int64_t w = wd.ws; w < wd.we; ++w) dxs[h * W + w] += v;
        }
    }
  });
}

void resize_bilinear_forward(float* y, const float* x, const PoolGeom& g) {
  const int64_t C = g.C, H = g.H, W = g.W, OH = g.OH, OW = g.OW;
  const float sh = (float)H / (float)OH, sw = (float)W / (float)OW;
  if (g.channels_last) {
    parallel_for(g.N * OH, grain_for(OW * C * 4), [&](int64_t b, int64_t e) {
      for (int64_t r = b; r < e; ++r) {
        const int64_t n = r / OH, oh = r % OH;
        int64_t h0, h1, w0, w1;
        float lh, lw;
        src_index(oh, sh, H, h0, h1, lh);
        const float* xs = x + n * H * W * C;
        for (int64_t ow = 0; ow < OW; ++ow) {
          src_index(ow, sw, W, w0, w1, lw);
          const float a = (1.0f - lh) * (1.0f - lw), bb = (1.0f - lh) * lw, c = lh * (1.0f - lw), d = lh * lw;
          lerp4_cl(y + (r * OW + ow) * C, xs + (h0 * W + w0) * C, xs + (h0 * W + w1) * C, xs + (h1 * W + w0) * C,
                   xs + (h1 * W + w1) * C, a, bb, c, d, C);
        }
      }
    });
    return;
  }
  parallel_for(g.N * C, grain_for(OH * OW * 4), [&](int64_t b, int64_t e) {
    for (int64_t pl = b; pl < e; ++pl) {
      const float* xs = x + pl * H * W;
      float* yp = y + pl * OH * OW;
      for (int64_t oh = 0; oh < OH; ++oh) {
        int64_t h0, h1, w0, w1;
        float lh, lw;
        src_index(oh, sh, H, h0, h1, lh);
        for (int64_t ow = 0; ow < OW; ++ow) {
          src_index(ow, sw, W, w0, w1, lw);
          yp[oh * OW + ow] = (1.0f - lh) * (1.0f - lw) * xs[h0 * W + w0] + (1.0f - lh) * lw * xs[h0 * W + w1] +
                             (lh * (1.0f - lw) * xs[h1 * W + w0] + lh * lw * xs[h1 * W + w1]);
        }
      }
    }
  });
}

void resize_bilinear_backward(float* dx, const float* dy, const PoolGeom& g) {
  const int64_t C = g.C, H = g.H, W = g.W, OH = g.OH, OW = g.OW;
  const float sh = (float)H / (float)OH, sw = (float)W / (float)OW;
  const bool cl = g.channels_last;
  // channels_last: one image of C channels per item; channels_first: one plane per item.
  const int64_t items = cl ? g.N : g.N * C, CC = cl ? C : 1;
  parallel_for(items, grain_for(OH * OW * CC * 4), [&](int64_t b, int64_t e) {
    for (int64_t it = b; it < e; ++it) {
      float* dxs = dx + it * H * W * CC;
      std::memset(dxs, 0, sizeof(float) * H * W * CC);
      const float* gp = dy + it * OH * OW * CC;
      for (int64_t oh = 0; oh < OH; ++oh) {
        int64_t h0, h1, w0, w1;
        float lh, lw;
        src_index(oh, sh, H, h0, h1, lh);
        for (int64_t ow = 0; ow < OW; ++ow) {
          src_index(ow, sw, W, w0, w1, lw);
          const float a = (1.0f - lh) * (1.0f - lw), bb = (1.0f - lh) * lw, c = lh * (1.0f - lw), d = lh * lw;
          const float* gv = gp + (oh * OW + ow) * CC;
          float *p00 = dxs + (h0 * W + w0) * CC, *p01 = dxs + (h0 * W + w1) * CC;
          float *p10 = dxs + (h1 * W + w0) * CC, *p11 = dxs + (h1 * W + w1) * CC;
          for (int64_t k = 0; k < CC; ++k) {
            p00[k] += a * gv[k];
            p01[k] += bb * gv[k];
            p10[k] += c * gv[k];
            p11[k] += d * gv[k];
          }
        }
      }
    }
  });
}

}  // namespace fastnn::cpu
