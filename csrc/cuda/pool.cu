// Max / average pooling and bilinear resizing on CUDA (geometry and conventions in
// kernels/pool.h, shared with csrc/cpu/pool.cpp). Forward: one thread per output element,
// channels fastest for channels_last (coalesced). Pooling backward gathers: one thread per
// input element sums, in output order, the windows that cover it (no atomics: the same bits
// as the CPU kernels). Bilinear backward scatters with atomicAdd (the order of the adds, and
// so the last bits, can vary between runs).
#include "cuda/common.cuh"
#include "kernels/pool.h"

namespace fastnn::cuda {
namespace {

// Element t of an output (or input, with sizes OH = H) as (image base, pixel stride, oh, ow).
struct Pos {
  int64_t base, stride, oh, ow, img;
};
__device__ __forceinline__ Pos locate(int64_t t, int64_t C, int64_t OH, int64_t OW, int64_t H, int64_t W, bool cl) {
  Pos p;
  if (cl) {
    const int64_t c = t % C, q = t / C;
    p.ow = q % OW;
    p.oh = (q / OW) % OH;
    const int64_t n = q / (OW * OH);
    p.base = n * H * W * C + c;
    p.stride = C;
    p.img = n * OH * OW * C + c;  // output image base of this (n, c)
  } else {
    p.ow = t % OW;
    p.oh = (t / OW) % OH;
    const int64_t pl = t / (OW * OH);
    p.base = pl * H * W;
    p.stride = 1;
    p.img = pl * OH * OW;
  }
  return p;
}

__device__ __forceinline__ void window(const PoolGeom& g, int64_t oh, int64_t ow, int64_t& hs, int64_t& he,
                                       int64_t& ws, int64_t& we) {
  const int64_t h0 = oh * g.SH - g.PT, w0 = ow * g.SW - g.PL;
  hs = h0 > 0 ? h0 : 0;
  he = h0 + g.KH < g.H ? h0 + g.KH : g.H;
  ws = w0 > 0 ? w0 : 0;
  we = w0 + g.KW < g.W ? w0 + g.KW : g.W;
}

__global__ void max_pool_forward_kernel(float* y, int64_t* am, const float* x, PoolGeom g, int64_t n) {
  FASTNN_KERNEL_LOOP(t, n) {
    const Pos p = locate(t, g.C, g.OH, g.OW, g.H, g.W, g.channels_last);
    int64_t hs, he, ws, we;
    window(g, p.oh, p.ow, hs, he, ws, we);
    int64_t best = hs * g.W + ws;
    float m = x[p.base + best * p.stride];
    for (int64_t h = hs; h < he; ++h)
      for (int64_t w = ws; w < we; ++w) {
        const float v = x[p.base + (h * g.W + w) * p.stride];
        if (v > m || v != v) {
          m = v;
          best = h * g.W + w;
        }
      }
    y[t] = m;
    am[t] = best;
  }
}

__global__ void avg_pool_forward_kernel(float* y, const float* x, PoolGeom g, int64_t n) {
  FASTNN_KERNEL_LOOP(t, n) {
    const Pos p = locate(t, g.C, g.OH, g.OW, g.H, g.W, g.channels_last);
    int64_t hs, he, ws, we;
    window(g, p.oh, p.ow, hs, he, ws, we);
    float s = 0.f;
    for (int64_t h = hs; h < he; ++h)
      for (int64_t w = ws; w < we; ++w) s += x[p.base + (h * g.W + w) * p.stride];
    y[t] = s / (float)((he - hs) * (we - ws));
  }
}

// Output rows whose windows cover input row h: oh * S - P <= h <= oh * S - P + K - 1.
__device__ __forceinline__ void covering(int64_t h, int64_t S, int64_t P, int64_t K, int64_t O, int64_t& lo,
                                         int64_t& hi) {
  const int64_t a = h + P - K + 1;  // oh >= ceil(a / S)
  lo = a <= 0 ? 0 : (a + S - 1) / S;
  hi = (h + P) / S;  // h + P >= 0
  if (hi > O - 1) hi = O - 1;
}

// avg = false: max pooling (dy where argmax hits this pixel); true: average pooling.
__global__ void pool_backward_kernel(float* dx, const float* dy, const int64_t* am, PoolGeom g, int64_t n, bool avg) {
  FASTNN_KERNEL_LOOP(t, n) {
    const Pos p = locate(t, g.C, g.H, g.W, g.H, g.W, g.channels_last);  // p.oh, p.ow = input h, w
    const int64_t h = p.oh, w = p.ow, k = h * g.W + w;
    // Output image base of this sample / channel: p.base indexes the input image.
    const int64_t obase = g.channels_last ? (p.base / (g.H * g.W * g.C)) * g.OH * g.OW * g.C + (p.base % g.C)
                                          : (p.base / (g.H * g.W)) * g.OH * g.OW;
    int64_t oh0, oh1, ow0, ow1;
    covering(h, g.SH, g.PT, g.KH, g.OH, oh0, oh1);
    covering(w, g.SW, g.PL, g.KW, g.OW, ow0, ow1);
    float s = 0.f;
    for (int64_t oh = oh0; oh <= oh1; ++oh)
      for (int64_t ow = ow0; ow <= ow1; ++ow) {
        const int64_t o = obase + (oh * g.OW + ow) * p.stride;
        if (avg) {
          int64_t hs, he, ws, we;
          window(g, oh, ow, hs, he, ws, we);
          s += dy[o] / (float)((he - hs) * (we - ws));
        } else if (am[o] == k) {
          s += dy[o];
        }
      }
    dx[t] = s;
  }
}

__device__ __forceinline__ void src_index(int64_t d, float scale, int64_t in, int64_t& i0, int64_t& i1, float& l1) {
  float s = scale * ((float)d + 0.5f) - 0.5f;
  if (s < 0.f) s = 0.f;
  i0 = (int64_t)s;
  if (i0 > in - 1) i0 = in - 1;
  i1 = i0 + (i0 < in - 1 ? 1 : 0);
  l1 = fminf(fmaxf(s - (float)i0, 0.f), 1.f);
}

__global__ void resize_forward_kernel(float* y, const float* x, PoolGeom g, float sh, float sw, int64_t n) {
  FASTNN_KERNEL_LOOP(t, n) {
    const Pos p = locate(t, g.C, g.OH, g.OW, g.H, g.W, g.channels_last);
    int64_t h0, h1, w0, w1;
    float lh, lw;
    src_index(p.oh, sh, g.H, h0, h1, lh);
    src_index(p.ow, sw, g.W, w0, w1, lw);
    const float* b = x + p.base;
    const int64_t s = p.stride;
    y[t] = (1.f - lh) * (1.f - lw) * b[(h0 * g.W + w0) * s] + (1.f - lh) * lw * b[(h0 * g.W + w1) * s] +
           (lh * (1.f - lw) * b[(h1 * g.W + w0) * s] + lh * lw * b[(h1 * g.W + w1) * s]);
  }
}

__global__ void resize_backward_kernel(float* dx, const float* dy, PoolGeom g, float sh, float sw, int64_t n) {
  FASTNN_KERNEL_LOOP(t, n) {
    const Pos p = locate(t, g.C, g.OH, g.OW, g.H, g.W, g.channels_last);
    int64_t h0, h1, w0, w1;
    float lh, lw;
    src_index(p.oh, sh, g.H, h0, h1, lh);
    src_index(p.ow, sw, g.W, w0, w1, lw);
    float* b = dx + p.base;
    const int64_t s = p.stride;
    const float v = dy[t];
    atomicAdd(b + (h0 * g.W + w0) * s, (1.f - lh) * (1.f - lw) * v);
    atomicAdd(b + (h0 * g.W + w1) * s, (1.f - lh) * lw * v);
    atomicAdd(b + (h1 * g.W + w0) * s, lh * (1.f - lw) * v);
    atomicAdd(b + (h1 * g.W + w1) * s, lh * lw * v);
  }
}

}  // namespace

void max_pool2d_forward(float* y, int64_t* argmax, const float* x, const PoolGeom& g) {
  const int64_t n = g.N * g.C * g.OH * g.OW;
  if (n <= 0) return;
  max_pool_forward_kernel<<<grid_for(n), kThreads>>>(y, argmax, x, g, n);
  FASTNN_CUDA_CHECK_LAUNCH();
}

void max_pool2d_backward(float* dx, const float* dy, const int64_t* argmax, const PoolGeom& g) {
  const int64_t n = g.N * g.C * g.H * g.W;
  if (n <= 0) return;
  pool_backward_kernel<<<grid_for(n), kThreads>>>(dx, dy, argmax, g, n, false);
  FASTNN_CUDA_CHECK_LAUNCH();
}

void avg_pool2d_forward(float* y, const float* x, const PoolGeom& g) {
  const int64_t n = g.N * g.C * g.OH * g.OW;
  if (n <= 0) return;
  avg_pool_forward_kernel<<<grid_for(n), kThreads>>>(y, x, g, n);
  FASTNN_CUDA_CHECK_LAUNCH();
}

void avg_pool2d_backward(float* dx, const float* dy, const PoolGeom& g) {
  const int64_t n = g.N * g.C * g.H * g.W;
  if (n <= 0) return;
  pool_backward_kernel<<<grid_for(n), kThreads>>>(dx, dy, nullptr, g, n, true);
  FASTNN_CUDA_CHECK_LAUNCH();
}

void resize_bilinear_forward(float* y, const float* x, const PoolGeom& g) {
  const int64_t n = g.N * g.C * g.OH * g.OW;
  if (n <= 0) return;
  const float sh = (float)g.H / (float)g.OH, sw = (float)g.W / (float)g.OW;
  resize_forward_kernel<<<grid_for(n), kThreads>>>(y, x, g, sh, sw, n);
  FASTNN_CUDA_CHECK_LAUNCH();
}

void resize_bilinear_backward(float* dx, const float* dy, const PoolGeom& g) {
  const int64_t nin = g.N * g.C * g.H * g.W, n = g.N * g.C * g.OH * g.OW;
  if (nin <= 0) return;
  fill_f32(dx, 0.f, nin);
  if (n <= 0) return;
  const float sh = (float)g.H / (float)g.OH, sw = (float)g.W / (float)g.OW;
  resize_backward_kernel<<<grid_for(n), kThreads>>>(dx, dy, g, sh, sw, n);
  FASTNN_CUDA_CHECK_LAUNCH();
}

}  // namespace fastnn::cuda
