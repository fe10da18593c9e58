// Recurrent gate kernels on CUDA (formulas in kernels/rnn.h): one thread per (row, unit) of a
// step, grid-stride over B * U; the sequence loop and the GEMMs are in ops/rnn.cpp.
#include "cuda/common.cuh"
#include "kernels/rnn.h"

namespace fastnn::cuda {
namespace {

__device__ __forceinline__ float act_f(RnnAct a, float x) {
  switch (a) {
    case RnnAct::Tanh: return tanhf(x);
    case RnnAct::Sigmoid: return 1.0f / (1.0f + expf(-x));
    case RnnAct::Relu: return x > 0.0f ? x : (x != x ? x : 0.0f);
    case RnnAct::HardSigmoid: return fminf(fmaxf(x * (1.0f / 6.0f) + 0.5f, 0.0f), 1.0f);
    default: return x;
  }
}

// d * act'(.) in terms of the activation's output y.
__device__ __forceinline__ float act_g(RnnAct a, float d, float y) {
  switch (a) {
    case RnnAct::Tanh: return d * (1.0f - y * y);
    case RnnAct::Sigmoid: return d * (y * (1.0f - y));
    case RnnAct::Relu: return y > 0.0f ? d : 0.0f;
    case RnnAct::HardSigmoid: return (y > 0.0f && y < 1.0f) ? d * (1.0f / 6.0f) : 0.0f;
    default: return d;
  }
}

__device__ __forceinline__ bool row_on(const float* mask, int64_t ldm, int64_t b) {
  return !mask || mask[b * ldm] != 0.0f;
}

// A masked element: the state passes through; the output repeats the previous one (or is 0).
__device__ __forceinline__ void masked_fwd(const RnnStep& s, int64_t b, int64_t j, bool has_c) {
  s.h_next[b * s.ldn + j] = s.h_prev[b * s.ldp + j];
  if (has_c) s.c_next[b * s.ldn + j] = s.c_prev[b * s.ldp + j];
  s.y[b * s.ldy + j] = (s.zero_output || !s.y_prev) ? 0.0f : s.y_prev[b * s.ldy + j];
}

__device__ __forceinline__ void out_fwd(const RnnStep& s, int64_t b, int64_t j, float h) {
  s.h_next[b * s.ldn + j] = h;
  s.y[b * s.ldy + j] = h;
}

// dL/dh_next of one element with the output gradient folded in; updates dcarry.
__device__ __forceinline__ float total_dh(const RnnStepGrad& s, int64_t b, int64_t j, bool on) {
  const int64_t i = b * s.U + j;
  const float go = (s.dy ? s.dy[b * s.ldy + j] : 0.0f) + s.dcarry[i];
  if (on) {
    s.dcarry[i] = 0.0f;
    return s.dh[i] + go;
  }
  s.dcarry[i] = s.zero_output ? 0.0f : go;
  return s.dh[i];
}

__global__ void simple_fwd_kernel(RnnStep s) {
  FASTNN_KERNEL_LOOP(i, s.B * s.U) {
    const int64_t b = i / s.U, j = i % s.U;
    float* g = s.g + b * s.ldg;
    const float h = act_f(s.act, g[j]);
    g[j] = h;
    if (row_on(s.mask, s.ldm, b))
      out_fwd(s, b, j, h);
    else
      masked_fwd(s, b, j, false);
  }
}

__global__ void simple_bwd_kernel(RnnStepGrad s) {
  FASTNN_KERNEL_LOOP(i, s.B * s.U) {
    const int64_t b = i / s.U, j = i % s.U;
    const bool on = row_on(s.mask, s.ldm, b);
    const float d = total_dh(s, b, j, on);
    s.dg[b * s.lddg + j] = on ? act_g(s.act, d, s.g[b * s.ldg + j]) : 0.0f;
    s.dh[i] = on ? 0.0f : d;
  }
}

__global__ void lstm_fwd_kernel(RnnStep s) {
  const int64_t U = s.U;
  FASTNN_KERNEL_LOOP(i, s.B * U) {
    const int64_t b = i / U, j = i % U;
    float* g = s.g + b * s.ldg;
    const float gi = act_f(s.ract, g[j]), gf = act_f(s.ract, g[U + j]);
    const float gc = act_f(s.act, g[2 * U + j]), go = act_f(s.ract, g[3 * U + j]);
    g[j] = gi;
    g[U + j] = gf;
    g[2 * U + j] = gc;
    g[3 * U + j] = go;
    if (!row_on(s.mask, s.ldm, b)) {
      s.tc[b * s.ldt + j] = 0.0f;
      masked_fwd(s, b, j, true);
      continue;
    }
    const float c = gf * s.c_prev[b * s.ldp + j] + gi * gc;
    const float tc = act_f(s.act, c);
    s.c_next[b * s.ldn + j] = c;
    s.tc[b * s.ldt + j] = tc;
    out_fwd(s, b, j, go * tc);
  }
}

__global__ void lstm_bwd_kernel(RnnStepGrad s) {
  const int64_t U = s.U;
  FASTNN_KERNEL_LOOP(i, s.B * U) {
    const int64_t b = i / U, j = i % U;
    const bool on = row_on(s.mask, s.ldm, b);
    const float dht = total_dh(s, b, j, on);
    float* dg = s.dg + b * s.lddg;
    if (!on) {
      dg[j] = dg[U + j] = dg[2 * U + j] = dg[3 * U + j] = 0.0f;
      s.dh[i] = dht;
      continue;
    }
    const float* g = s.g + b * s.ldg;
    const float gi = g[j], gf = g[U + j], gc = g[2 * U + j], go = g[3 * U + j];
    const float tc = s.tc[b * s.ldt + j];
    const float dcv = s.dc[i] + act_g(s.act, dht * go, tc);
    dg[j] = act_g(s.ract, dcv * gc, gi);
    dg[U + j] = act_g(s.ract, dcv * s.c_prev[b * s.ldp + j], gf);
    dg[2 * U + j] = act_g(s.act, dcv * gi, gc);
    dg[3 * U + j] = act_g(s.ract, dht * tc, go);
    s.dc[i] = dcv * gf;
    s.dh[i] = 0.0f;
  }
}

__global__ void gru_fwd_kernel(RnnStep s) {
  const int64_t U = s.U;
  FASTNN_KERNEL_LOOP(i, s.B * U) {
    const int64_t b = i / U, j = i % U;
    float* g = s.g + b * s.ldg;
    const float* r = s.r + b * s.ldr;
    const float z = act_f(s.ract, g[j] + r[j]);
    const float rr = act_f(s.ract, g[U + j] + r[U + j]);
    const float hh = act_f(s.act, g[2 * U + j] + rr * r[2 * U + j]);
    g[j] = z;
    g[U + j] = rr;
    g[2 * U + j] = hh;
    if (!row_on(s.mask, s.ldm, b)) {
      masked_fwd(s, b, j, false);
      continue;
    }
    out_fwd(s, b, j, z * s.h_prev[b * s.ldp + j] + (1.0f - z) * hh);
  }
}

__global__ void gru_bwd_kernel(RnnStepGrad s) {
  const int64_t U = s.U;
  FASTNN_KERNEL_LOOP(i, s.B * U) {
    const int64_t b = i / U, j = i % U;
    const bool on = row_on(s.mask, s.ldm, b);
    const float dht = total_dh(s, b, j, on);
    float* dg = s.dg + b * s.lddg;
    float* dgr = s.dgr + b * s.lddgr;
    if (!on) {
      dg[j] = dg[U + j] = dg[2 * U + j] = 0.0f;
      dgr[j] = dgr[U + j] = dgr[2 * U + j] = 0.0f;
      s.dh[i] = dht;
      continue;
    }
    const float* g = s.g + b * s.ldg;
    const float z = g[j], rr = g[U + j], hh = g[2 * U + j];
    const float dz = act_g(s.ract, dht * (s.h_prev[b * s.ldp + j] - hh), z);
    const float dah = act_g(s.act, dht * (1.0f - z), hh);
    const float dr = act_g(s.ract, dah * s.r[b * s.ldr + 2 * U + j], rr);
    dg[j] = dgr[j] = dz;
    dg[U + j] = dgr[U + j] = dr;
    dg[2 * U + j] = dah;
    dgr[2 * U + j] = dah * rr;
    s.dh[i] = dht * z;
  }
}

__global__ void gru_v1_fwd_a_kernel(RnnStep s) {
  const int64_t U = s.U;
  FASTNN_KERNEL_LOOP(i, s.B * U) {
    const int64_t b = i / U, j = i % U;
    float* g = s.g + b * s.ldg;
    g[j] = act_f(s.ract, g[j]);
    const float rr = act_f(s.ract, g[U + j]);
    g[U + j] = rr;
    s.tc[b * s.ldt + j] = rr * s.h_prev[b * s.ldp + j];
  }
}

__global__ void gru_v1_fwd_b_kernel(RnnStep s) {
  const int64_t U = s.U;
  FASTNN_KERNEL_LOOP(i, s.B * U) {
    const int64_t b = i / U, j = i % U;
    float* g = s.g + b * s.ldg;
    const float hh = act_f(s.act, g[2 * U + j]);
    g[2 * U + j] = hh;
    if (!row_on(s.mask, s.ldm, b)) {
      masked_fwd(s, b, j, false);
      continue;
    }
    const float z = g[j];
    out_fwd(s, b, j, z * s.h_prev[b * s.ldp + j] + (1.0f - z) * hh);
  }
}

__global__ void gru_v1_bwd_b_kernel(RnnStepGrad s) {
  const int64_t U = s.U;
  FASTNN_KERNEL_LOOP(i, s.B * U) {
    const int64_t b = i / U, j = i % U;
    const bool on = row_on(s.mask, s.ldm, b);
    const float dht = total_dh(s, b, j, on);
    float* dg = s.dg + b * s.lddg;
    dg[U + j] = 0.0f;  // written by backward_a
    if (!on) {
      dg[j] = dg[2 * U + j] = 0.0f;
      s.dh[i] = dht;
      continue;
    }
    const float* g = s.g + b * s.ldg;
    const float z = g[j], hh = g[2 * U + j];
    dg[j] = act_g(s.ract, dht * (s.h_prev[b * s.ldp + j] - hh), z);
    dg[2 * U + j] = act_g(s.act, dht * (1.0f - z), hh);
    s.dh[i] = dht * z;
  }
}

__global__ void gru_v1_bwd_a_kernel(RnnStepGrad s) {
  const int64_t U = s.U;
  FASTNN_KERNEL_LOOP(i, s.B * U) {
    const int64_t b = i / U, j = i % U;
    const float drh = s.tc[b * s.ldt + j];
    const float rr = s.g[b * s.ldg + U + j];
    s.dg[b * s.lddg + U + j] = act_g(s.ract, drh * s.h_prev[b * s.ldp + j], rr);
    s.dh[i] += drh * rr;
  }
}

__global__ void copy_rows_kernel(float* dst, int64_t ldd, const float* src, int64_t lds, int64_t rows,
                                 int64_t cols) {
  FASTNN_KERNEL_LOOP(i, rows * cols) {
    const int64_t r = i / cols, c = i % cols;
    dst[r * ldd + c] = src ? src[r * lds + c] : 0.0f;
  }
}

// One thread per column, rows summed in order (the CPU kernel's order).
__global__ void rnn_bias_grad_kernel(float* db, const float* dg, int64_t ld, int64_t rows, int64_t cols,
                                 bool accumulate) {
  FASTNN_KERNEL_LOOP(c, cols) {
    float acc = 0.0f;
    for (int64_t r = 0; r < rows; ++r) acc += dg[r * ld + c];
    db[c] = accumulate ? db[c] + acc : acc;
  }
}

}  // namespace

#define FASTNN_RNN_LAUNCH(fn, kernel, S)                                    \
  void fn(const S& s) {                                                     \
    if (s.B * s.U == 0) return;                                             \
    kernel<<<grid_for(s.B * s.U), kThreads>>>(s);                           \
    FASTNN_CUDA_CHECK_LAUNCH();                                             \
  }

FASTNN_RNN_LAUNCH(simple_rnn_step_forward, simple_fwd_kernel, RnnStep)
FASTNN_RNN_LAUNCH(simple_rnn_step_backward, simple_bwd_kernel, RnnStepGrad)
FASTNN_RNN_LAUNCH(lstm_step_forward, lstm_fwd_kernel, RnnStep)
FASTNN_RNN_LAUNCH(lstm_step_backward, lstm_bwd_kernel, RnnStepGrad)
FASTNN_RNN_LAUNCH(gru_step_forward, gru_fwd_kernel, RnnStep)
FASTNN_RNN_LAUNCH(gru_step_backward, gru_bwd_kernel, RnnStepGrad)
FASTNN_RNN_LAUNCH(gru_v1_step_forward_a, gru_v1_fwd_a_kernel, RnnStep)
FASTNN_RNN_LAUNCH(gru_v1_step_forward_b, gru_v1_fwd_b_kernel, RnnStep)
FASTNN_RNN_LAUNCH(gru_v1_step_backward_b, gru_v1_bwd_b_kernel, RnnStepGrad)
FASTNN_RNN_LAUNCH(gru_v1_step_backward_a, gru_v1_bwd_a_kernel, RnnStepGrad)
#undef FASTNN_RNN_LAUNCH

void rnn_copy_rows(float* dst, int64_t ldd, const float* src, int64_t lds, int64_t rows, int64_t cols) {
  if (rows * cols == 0) return;
  copy_rows_kernel<<<grid_for(rows * cols), kThreads>>>(dst, ldd, src, lds, rows, cols);
  FASTNN_CUDA_CHECK_LAUNCH();
}

void rnn_bias_grad(float* db, const float* dg, int64_t ld, int64_t rows, int64_t cols, bool accumulate) {
  if (cols == 0) return;
  rnn_bias_grad_kernel<<<grid_for(cols), kThreads>>>(db, dg, ld, rows, cols, accumulate);
  FASTNN_CUDA_CHECK_LAUNCH();
}

}  // namespace fastnn::cuda
