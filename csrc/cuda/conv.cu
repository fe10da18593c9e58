// 2-D convolution on CUDA: im2col / col2im kernels around the tiled GEMM of cuda/gemm.cu, the
// same geometry and matrix shapes as csrc/cpu/conv.cpp. The batch runs in chunks whose im2col
// matrices share one scratch buffer laid out [group][image][matrix], so that a group's matrices
// for the whole chunk are one operand: the forward and backward-data products are batched GEMMs
// over the images, backward-weight (channels_last) one GEMM over every pixel of the chunk.
// col2im gathers (each input element sums its taps in a fixed order): no atomics, so results
// are deterministic. Bias and activation run as a separate pass over the output.
#include "cuda/common.cuh"
#include "kernels/conv.h"
#include "kernels/gemm.h"

namespace fastnn::cuda {

namespace {
// At most this many floats of im2col scratch per chunk of images (256 MiB).
constexpr int64_t kColFloats = int64_t(64) << 20;

int64_t chunk_images(const ConvGeom& g) {
  const int64_t per = std::max<int64_t>(g.groups * g.P() * g.Kc(), 1);
  return std::max<int64_t>(1, std::min<int64_t>(g.N, kColFloats / per));
}
}  // namespace

// col[gi][n][...] for images n0 .. n0 + nb: channels_last P x Kc, channels_first Kc x P.
__global__ void im2col_kernel(float* col, const float* x, ConvGeom g, int64_t n0, int64_t nb) {
  const int64_t Cg = g.C / g.groups, P = g.OH * g.OW, Kc = g.KH * g.KW * Cg;
  const int64_t per = P * Kc, total = g.groups * nb * per;
  FASTNN_KERNEL_LOOP(i, total) {
    const int64_t gi = i / (nb * per), n = (i / per) % nb, e = i % per;
    int64_t p, k;
    if (g.channels_last) p = e / Kc, k = e % Kc;
    else k = e / P, p = e % P;
    const int64_t c = k % Cg, kw = (k / Cg) % g.KW, kh = k / (Cg * g.KW);
    const int64_t oh = p / g.OW, ow = p % g.OW;
    const int64_t ih = oh * g.sh - g.pt + kh * g.dh, iw = ow * g.sw - g.pl + kw * g.dw;
    float v = 0.f;
    if (ih >= 0 && ih < g.H && iw >= 0 && iw < g.W) {
      const float* xi = x + (n0 + n) * g.H * g.W * g.C;
      const int64_t ch = gi * Cg + c;
      v = g.channels_last ? xi[(ih * g.W + iw) * g.C + ch] : xi[(ch * g.H + ih) * g.W + iw];
    }
    col[i] = v;
  }
}

// dx of images n0 .. n0 + nb (overwritten) = the sum of the im2col gradient entries of each
// input element, plus bias per channel when given.
__global__ void col2im_kernel(float* dx, const float* col, const float* bias, ConvGeom g, int64_t n0,
                              int64_t nb) {
  const int64_t Cg = g.C / g.groups, P = g.OH * g.OW, Kc = g.KH * g.KW * Cg;
  const int64_t xs = g.H * g.W * g.C, total = nb * xs;
  FASTNN_KERNEL_LOOP(i, total) {
    const int64_t n = i / xs, e = i % xs;
    int64_t ch, ih, iw;
    if (g.channels_last) ch = e % g.C, iw = (e / g.C) % g.W, ih = e / (g.C * g.W);
    else iw = e % g.W, ih = (e / g.W) % g.H, ch = e / (g.W * g.H);
    const int64_t gi = ch / Cg, c = ch % Cg;
    const float* cb = col + (gi * nb + n) * P * Kc;
    float acc = 0.f;
    for (int64_t kh = 0; kh < g.KH; ++kh) {
      const int64_t th = ih + g.pt - kh * g.dh;
      if (th < 0 || th % g.sh) continue;
      const int64_t oh = th / g.sh;
      if (oh >= g.OH) continue;
      for (int64_t kw = 0; kw < g.KW; ++kw) {
        const int64_t tw = iw + g.pl - kw * g.dw;
        if (tw < 0 || tw % g.sw) continue;
        const int64_t ow = tw / g.sw;
        if (ow >= g.OW) continue;
        const int64_t p = oh * g.OW + ow, k = (kh * g.KW + kw) * Cg + c;
        acc += g.channels_last ? cb[p * Kc + k] : cb[k * P + p];
      }
    }
    if (bias) acc += bias[ch];
    dx[(n0 + n) * xs + e] = acc;
  }
}

// y = act(y + bias[channel]) over n elements whose channel is (i / inner) % C.
__global__ void bias_act_kernel(float* y, const float* bias, Activation act, int64_t n, int64_t C,
                                int64_t inner) {
  FASTNN_KERNEL_LOOP(i, n) {
    float v = y[i];
    if (bias) v += bias[(i / inner) % C];
    if (act == Activation::Relu) v = v < 0.f ? 0.f : v;  // NaN passes
    else if (act == Activation::Sigmoid) v = 1.f / (1.f + expf(-v));
    else if (act == Activation::Tanh) v = tanhf(v);
    y[i] = v;
  }
}

// One block per channel: db[c] = the sum of dy over the batch and the pixels.
__global__ void conv_bias_grad_kernel(float* db, const float* dy, int64_t N, int64_t P, int64_t C,
                                 bool channels_last) {
  const int64_t c = blockIdx.x;
  float acc = 0.f;
  for (int64_t r = threadIdx.x; r < N * P; r += blockDim.x) {
    const int64_t n = r / P, p = r % P;
    acc += channels_last ? dy[r * C + c] : dy[(n * C + c) * P + p];
  }
  acc = block_sum(acc);
  if (threadIdx.x == 0) db[c] = acc;
}

void conv_bias_grad(float* db, const float* dy, int64_t N, int64_t P, int64_t C,
                    bool channels_last) {
  if (C == 0) return;
  conv_bias_grad_kernel<<<(unsigned)C, kThreads>>>(db, dy, N, P, C, channels_last);
  FASTNN_CUDA_CHECK_LAUNCH();
}

static void bias_act(float* y, const float* bias, Activation act, const ConvGeom& g, int64_t C,
                     int64_t pixels) {
  const int64_t n = g.N * pixels * C;
  if (n == 0 || (!bias && act == Activation::None)) return;
  bias_act_kernel<<<grid_for(n), kThreads>>>(y, bias, act, n, C, g.channels_last ? 1 : pixels);
  FASTNN_CUDA_CHECK_LAUNCH();
}

void conv2d_forward(float* y, const float* x, const float* w, const float* bias, Activation act,
                    const ConvGeom& g) {
  const int64_t P = g.P(), Kc = g.Kc(), Cg = g.cg(), OCg = g.ocg();
  const int64_t xs = g.H * g.W * g.C, ys = P * g.OC;
  if (g.N == 0 || ys == 0) return;
  const bool direct = g.direct();
  const int64_t chunk = direct ? g.N : chunk_images(g);
  Scratch col(direct ? 0 : chunk * g.groups * P * Kc * (int64_t)sizeof(float));
  for (int64_t n0 = 0; n0 < g.N; n0 += chunk) {
    const int64_t nb = std::min(chunk, g.N - n0);
    if (!direct) {
      const int64_t total = g.groups * nb * P * Kc;
      if (total) {
        im2col_kernel<<<grid_for(total), kThreads>>>(col.f32(), x, g, n0, nb);
        FASTNN_CUDA_CHECK_LAUNCH();
      }
    }
    for (int64_t gi = 0; gi < g.groups; ++gi) {
      const float* wg = w + gi * OCg;
      const float* A;
      int64_t ld, stride;
      if (direct) {
        A = x + n0 * xs + gi * Cg * (g.channels_last ? 1 : P), ld = g.channels_last ? g.C : P, stride = xs;
      } else {
        A = col.f32() + gi * nb * P * Kc, ld = g.channels_last ? Kc : P, stride = P * Kc;
      }
      if (g.channels_last)
        sgemm_batched(false, false, nb, P, OCg, Kc, 1.f, A, ld, stride, wg, g.OC, 0, 0.f,
                      y + n0 * ys + gi * OCg, g.OC, ys);
      else
        sgemm_batched(true, false, nb, OCg, P, Kc, 1.f, wg, g.OC, 0, A, ld, stride, 0.f,
                      y + n0 * ys + gi * OCg * P, P, ys);
    }
  }
  bias_act(y, bias, act, g, g.OC, P);
}

void conv2d_backward_data(float* dx, const float* dy, const float* w, const float* bias,
                          const ConvGeom& g) {
  const int64_t P = g.P(), Kc = g.Kc(), Cg = g.cg(), OCg = g.ocg();
  const int64_t xs = g.H * g.W * g.C, ys = P * g.OC;
  if (g.N == 0 || xs == 0) return;
  const bool direct = g.direct();
  const int64_t chunk = direct ? g.N : chunk_images(g);
  Scratch col(direct ? 0 : chunk * g.groups * P * Kc * (int64_t)sizeof(float));
  for (int64_t n0 = 0; n0 < g.N; n0 += chunk) {
    const int64_t nb = std::min(chunk, g.N - n0);
    for (int64_t gi = 0; gi < g.groups; ++gi) {
      const float* wg = w + gi * OCg;
      float* T;
      int64_t ld, stride;
      if (direct) {
        T = dx + n0 * xs + gi * Cg * (g.channels_last ? 1 : P), ld = g.channels_last ? g.C : P, stride = xs;
      } else {
        T = col.f32() + gi * nb * P * Kc, ld = g.channels_last ? Kc : P, stride = P * Kc;
      }
      if (g.channels_last)  // (P x Kc) = dy_g (P x OCg) @ Wg^T
        sgemm_batched(false, true, nb, P, Kc, OCg, 1.f, dy + n0 * ys + gi * OCg, g.OC, ys, wg, g.OC,
                      0, 0.f, T, ld, stride);
      else  // (Kc x P) = Wg (Kc x OCg) @ dy_g (OCg x P)
        sgemm_batched(false, false, nb, Kc, P, OCg, 1.f, wg, g.OC, 0, dy + n0 * ys + gi * OCg * P, P,
                      ys, 0.f, T, ld, stride);
    }
    if (!direct) {
      const int64_t total = nb * xs;
      col2im_kernel<<<grid_for(total), kThreads>>>(dx, col.f32(), bias, g, n0, nb);
      FASTNN_CUDA_CHECK_LAUNCH();
    }
  }
  if (direct) bias_act(dx, bias, Activation::None, g, g.C, g.H * g.W);
}

void conv2d_backward_weight(float* dw, float* db, const float* dy, const float* x,
                            const ConvGeom& g) {
  const int64_t P = g.P(), Kc = g.Kc(), Cg = g.cg(), OCg = g.ocg();
  const int64_t xs = g.H * g.W * g.C, ys = P * g.OC;
  if (db) conv_bias_grad(db, dy, g.N, P, g.OC, g.channels_last);
  if (Kc * g.OC == 0) return;
  if (g.N == 0 || P == 0) {
    fill_f32(dw, 0.f, Kc * g.OC);
    return;
  }
  const bool direct = g.direct();
  const int64_t chunk = direct ? g.N : chunk_images(g);
  Scratch col(direct ? 0 : chunk * g.groups * P * Kc * (int64_t)sizeof(float));
  for (int64_t n0 = 0; n0 < g.N; n0 += chunk) {
    const int64_t nb = std::min(chunk, g.N - n0);
    if (!direct) {
      const int64_t total = g.groups * nb * P * Kc;
      im2col_kernel<<<grid_for(total), kThreads>>>(col.f32(), x, g, n0, nb);
      FASTNN_CUDA_CHECK_LAUNCH();
    }
    for (int64_t gi = 0; gi < g.groups; ++gi) {
      float* dwg = dw + gi * OCg;
      if (g.channels_last) {  // dW_g = col^T (Kc x nb P) @ dy_g (nb P x OCg)
        const float* A = direct ? x + n0 * xs + gi * Cg : col.f32() + gi * nb * P * Kc;
        sgemm(true, false, Kc, OCg, nb * P, 1.f, A, direct ? g.C : Kc, dy + n0 * ys + gi * OCg, g.OC,
              n0 == 0 ? 0.f : 1.f, dwg, g.OC);
        continue;
      }
      for (int64_t n = 0; n < nb; ++n) {  // dW_g += col_n (Kc x P) @ dy_n^T (P x OCg)
        const float* A = direct ? x + (n0 + n) * xs + gi * Cg * P : col.f32() + (gi * nb + n) * P * Kc;
        sgemm(false, true, Kc, OCg, P, 1.f, A, P, dy + (n0 + n) * ys + gi * OCg * P, P,
              n0 + n == 0 ? 0.f : 1.f, dwg, g.OC);
      }
    }
  }
}

}  // namespace fastnn::cuda
