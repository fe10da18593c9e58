// Recurrent gate kernels on the CPU (formulas in kernels/rnn.h). Each kernel splits the batch
// rows among threads; within a row, activations and their derivatives run as separate
// vectorised passes over contiguous U-wide spans (the switch on the activation sits outside the
// loops), and the gate arithmetic is a plain loop between them. Every element is computed
// alone, so the thread count never changes a bit.
#include "kernels/rnn.h"

#include <algorithm>

#include "core/parallel.h"
#include "cpu/vec_math.h"

namespace fastnn::cpu {
namespace {

// Rows per thread at least, so that a step of a small layer stays on one thread.
int64_t row_grain(int64_t U) { return std::max<int64_t>(1, 8192 / std::max<int64_t>(U, 1)); }

FASTNN_SIMD void tanh_span(float* y, const float* x, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = vm::tanh(x[i]);
}
FASTNN_SIMD void sigmoid_span(float* y, const float* x, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = vm::sigmoid(x[i]);
}
FASTNN_SIMD void relu_span(float* y, const float* x, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = x[i] > 0.0f ? x[i] : (x[i] != x[i] ? x[i] : 0.0f);
}
FASTNN_SIMD void hard_sigmoid_span(float* y, const float* x, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    float v = x[i] * (1.0f / 6.0f) + 0.5f;
    v = v < 0.0f ? 0.0f : v;
    y[i] = v > 1.0f ? 1.0f : v;
  }
}

// y = act(x) over n contiguous values (y may equal x).
void act_span(RnnAct a, float* y, const float* x, int64_t n) {
  switch (a) {
    case RnnAct::Tanh: tanh_span(y, x, n); break;
    case RnnAct::Sigmoid: sigmoid_span(y, x, n); break;
    case RnnAct::Relu: relu_span(y, x, n); break;
    case RnnAct::HardSigmoid: hard_sigmoid_span(y, x, n); break;
    case RnnAct::Linear:
      if (y != x) std::copy(x, x + n, y);
      break;
  }
}

FASTNN_SIMD void tanh_grad_span(float* d, const float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) d[i] *= 1.0f - y[i] * y[i];
}
FASTNN_SIMD void sigmoid_grad_span(float* d, const float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) d[i] *= y[i] * (1.0f - y[i]);
}
FASTNN_SIMD void relu_grad_span(float* d, const float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) d[i] = y[i] > 0.0f ? d[i] : 0.0f;
}
FASTNN_SIMD void hard_sigmoid_grad_span(float* d, const float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) d[i] = (y[i] > 0.0f && y[i] < 1.0f) ? d[i] * (1.0f / 6.0f) : 0.0f;
}

// d *= act'(y), the derivative written in terms of the activation's output y.
void act_grad_span(RnnAct a, float* d, const float* y, int64_t n) {
  switch (a) {
    case RnnAct::Tanh: tanh_grad_span(d, y, n); break;
    case RnnAct::Sigmoid: sigmoid_grad_span(d, y, n); break;
    case RnnAct::Relu: relu_grad_span(d, y, n); break;
    case RnnAct::HardSigmoid: hard_sigmoid_grad_span(d, y, n); break;
    case RnnAct::Linear: break;
  }
}

bool row_on(const float* mask, int64_t ldm, int64_t b) { return !mask || mask[b * ldm] != 0.0f; }

// A masked row: the state passes through; the output repeats the previous one (or is zero).
void masked_forward_row(const RnnStep& s, int64_t b, bool has_c) {
  const int64_t U = s.U;
  std::copy(s.h_prev + b * s.ldp, s.h_prev + b * s.ldp + U, s.h_next + b * s.ldn);
  if (has_c) std::copy(s.c_prev + b * s.ldp, s.c_prev + b * s.ldp + U, s.c_next + b * s.ldn);
  float* y = s.y + b * s.ldy;
  if (s.zero_output || !s.y_prev)
    std::fill(y, y + U, 0.0f);
  else if (s.y_prev != s.y)
    std::copy(s.y_prev + b * s.ldy, s.y_prev + b * s.ldy + U, y);
}

// The output of a processed row is h (written to the state and to the output).
void output_row(const RnnStep& s, int64_t b, const float* h) {
  std::copy(h, h + s.U, s.h_next + b * s.ldn);
  std::copy(h, h + s.U, s.y + b * s.ldy);
}

// dL/dh_next of a row, with the output gradient folded in per the mask semantics; returns
// whether the row was processed. `dht` receives the total; dcarry is updated.
bool total_dh_row(const RnnStepGrad& s, int64_t b, float* dht) {
  const int64_t U = s.U;
  const bool on = row_on(s.mask, s.ldm, b);
  float* dh = s.dh + b * U;
  float* carry = s.dcarry + b * U;
  const float* dy = s.dy ? s.dy + b * s.ldy : nullptr;
  for (int64_t j = 0; j < U; ++j) {
    // with zero_output a masked step's output is a constant: its gradient stops there
    const float go = (dy ? dy[j] : 0.0f) + carry[j];
    if (on) {
      dht[j] = dh[j] + go;
      carry[j] = 0.0f;
    } else {
      dht[j] = dh[j];
      carry[j] = s.zero_output ? 0.0f : go;
    }
  }
  return on;
}

}  // namespace

// ---------------------------------------------------------------------------- SimpleRNN
void simple_rnn_step_forward(const RnnStep& s) {
  parallel_for(s.B, row_grain(s.U), [&](int64_t b0, int64_t b1) {
    for (int64_t b = b0; b < b1; ++b) {
      float* g = s.g + b * s.ldg;
      act_span(s.act, g, g, s.U);
      if (row_on(s.mask, s.ldm, b))
        output_row(s, b, g);
      else
        masked_forward_row(s, b, false);
    }
  });
}

void simple_rnn_step_backward(const RnnStepGrad& s) {
  const int64_t U = s.U;
  parallel_for(s.B, row_grain(U), [&](int64_t b0, int64_t b1) {
    for (int64_t b = b0; b < b1; ++b) {
      float* dg = s.dg + b * s.lddg;
      float* dh = s.dh + b * U;
      const bool on = total_dh_row(s, b, dg);
      if (on) {
        act_grad_span(s.act, dg, s.g + b * s.ldg, U);
        std::fill(dh, dh + U, 0.0f);
      } else {
        std::copy(dg, dg + U, dh);
        std::fill(dg, dg + U, 0.0f);
      }
    }
  });
}

// ---------------------------------------------------------------------------- LSTM
namespace {
FASTNN_SIMD void lstm_cell_row(float* c, const float* gi, const float* gf, const float* gc, const float* cp,
                               int64_t n) {
  for (int64_t j = 0; j < n; ++j) c[j] = gf[j] * cp[j] + gi[j] * gc[j];
}
FASTNN_SIMD void mul_row(float* y, const float* a, const float* b, int64_t n) {
  for (int64_t j = 0; j < n; ++j) y[j] = a[j] * b[j];
}
}  // namespace

namespace {
// The default activations (tanh, sigmoid) in one pass over a processed row: gates, carry, a(c)
// and output together, instead of eight passes over U-wide spans.
FASTNN_SIMD void lstm_forward_row_ts(float* __restrict g, const float* __restrict cp, float* __restrict c,
                                     float* __restrict tc, float* __restrict h, float* __restrict y, int64_t U) {
  for (int64_t j = 0; j < U; ++j) {
    const float i = vm::sigmoid(g[j]), f = vm::sigmoid(g[U + j]);
    const float cc = vm::tanh(g[2 * U + j]), o = vm::sigmoid(g[3 * U + j]);
    g[j] = i;
    g[U + j] = f;
    g[2 * U + j] = cc;
    g[3 * U + j] = o;
    const float cn = f * cp[j] + i * cc;
    c[j] = cn;
    const float t = vm::tanh(cn);
    tc[j] = t;
    h[j] = o * t;
    y[j] = o * t;
  }
}
}  // namespace

void lstm_step_forward(const RnnStep& s) {
  const int64_t U = s.U;
  const bool ts = s.act == RnnAct::Tanh && s.ract == RnnAct::Sigmoid;
  parallel_for(s.B, row_grain(4 * U), [&](int64_t b0, int64_t b1) {
    for (int64_t b = b0; b < b1; ++b) {
      float* g = s.g + b * s.ldg;
      if (ts && row_on(s.mask, s.ldm, b)) {
        lstm_forward_row_ts(g, s.c_prev + b * s.ldp, s.c_next + b * s.ldn, s.tc + b * s.ldt, s.h_next + b * s.ldn,
                            s.y + b * s.ldy, U);
        continue;
      }
      act_span(s.ract, g, g, 2 * U);  // i, f
      act_span(s.act, g + 2 * U, g + 2 * U, U);
      act_span(s.ract, g + 3 * U, g + 3 * U, U);
      float* tc = s.tc + b * s.ldt;
      if (!row_on(s.mask, s.ldm, b)) {
        std::fill(tc, tc + U, 0.0f);
        masked_forward_row(s, b, true);
        continue;
      }
      float* c = s.c_next + b * s.ldn;
      lstm_cell_row(c, g, g + U, g + 2 * U, s.c_prev + b * s.ldp, U);
      act_span(s.act, tc, c, U);
      float* h = s.h_next + b * s.ldn;
      mul_row(h, g + 3 * U, tc, U);
      std::copy(h, h + U, s.y + b * s.ldy);
    }
  });
}

namespace {
FASTNN_SIMD void add_row(float* y, const float* a, int64_t n) {
  for (int64_t j = 0; j < n; ++j) y[j] += a[j];
}
}  // namespace

namespace {
// A processed row with the default activations in one pass: the total dL/dh (dh + dy + carry,
// the carry then cleared), dL/dc through a(c), every gate gradient, dc to the previous step, and
// dh cleared for the recurrent GEMM. dy null: no output gradient at this step.
template <bool HasDy>
FASTNN_SIMD void lstm_backward_row_ts(float* __restrict dg, float* __restrict dh, float* __restrict dc,
                                      float* __restrict carry, const float* __restrict dy,
                                      const float* __restrict g, const float* __restrict tc,
                                      const float* __restrict cp, int64_t U) {
  for (int64_t j = 0; j < U; ++j) {
    const float go = (HasDy ? dy[j] : 0.0f) + carry[j];
    const float dht = dh[j] + go;
    carry[j] = 0.0f;
    dh[j] = 0.0f;
    const float i = g[j], f = g[U + j], cc = g[2 * U + j], o = g[3 * U + j], t = tc[j];
    const float d = dht * o * (1.0f - t * t) + dc[j];
    dg[3 * U + j] = dht * t * (o * (1.0f - o));
    dg[j] = d * cc * (i * (1.0f - i));
    dg[2 * U + j] = d * i * (1.0f - cc * cc);
    dg[U + j] = d * cp[j] * (f * (1.0f - f));
    dc[j] = d * f;
  }
}
}  // namespace

void lstm_step_backward(const RnnStepGrad& s) {
  const int64_t U = s.U;
  const bool ts = s.act == RnnAct::Tanh && s.ract == RnnAct::Sigmoid;
  parallel_for(s.B, row_grain(4 * U), [&](int64_t b0, int64_t b1) {
    for (int64_t b = b0; b < b1; ++b) {
      float* dg = s.dg + b * s.lddg;
      float* dh = s.dh + b * U;
      float* dc = s.dc + b * U;
      if (ts && row_on(s.mask, s.ldm, b)) {
        const float* g = s.g + b * s.ldg;
        const float* tc = s.tc + b * s.ldt;
        const float* cp = s.c_prev + b * s.ldp;
        float* carry = s.dcarry + b * U;
        if (s.dy)
          lstm_backward_row_ts<true>(dg, dh, dc, carry, s.dy + b * s.ldy, g, tc, cp, U);
        else
          lstm_backward_row_ts<false>(dg, dh, dc, carry, nullptr, g, tc, cp, U);
        continue;
      }
      // scratch in the gate slots: the total dL/dh in the o slot (its gradient, dht a(c), is
      // computed in place), dcv = dL/dc in the f slot (read before dg_f overwrites it)
      float* dht = dg + 3 * U;
      float* dcv = dg + U;
      const bool on = total_dh_row(s, b, dht);
      if (!on) {
        std::copy(dht, dht + U, dh);
        std::fill(dg, dg + 4 * U, 0.0f);
        continue;
      }
      const float* g = s.g + b * s.ldg;
      const float* tc = s.tc + b * s.ldt;
      // dcv = dc + dht * o * a'(c)
      mul_row(dcv, dht, g + 3 * U, U);
      act_grad_span(s.act, dcv, tc, U);
      add_row(dcv, dc, U);
      mul_row(dg + 3 * U, dht, tc, U);
      const float* cp = s.c_prev + b * s.ldp;
      for (int64_t j = 0; j < U; ++j) {
        const float d = dcv[j];
        dg[j] = d * g[2 * U + j];
        dg[2 * U + j] = d * g[j];
        dc[j] = d * g[U + j];
        dg[U + j] = d * cp[j];
      }
      act_grad_span(s.ract, dg, g, 2 * U);
      act_grad_span(s.act, dg + 2 * U, g + 2 * U, U);
      act_grad_span(s.ract, dg + 3 * U, g + 3 * U, U);
      std::fill(dh, dh + U, 0.0f);
    }
  });
}

// ---------------------------------------------------------------------------- GRU
namespace {
FASTNN_SIMD void add2_row(float* y, const float* a, const float* b, int64_t n) {
  for (int64_t j = 0; j < n; ++j) y[j] = a[j] + b[j];
}
FASTNN_SIMD void fma_row(float* y, const float* a, const float* b, const float* c, int64_t n) {
  for (int64_t j = 0; j < n; ++j) y[j] = a[j] + b[j] * c[j];
}
// h = z h_prev + (1 - z) hh
FASTNN_SIMD void gru_mix_row(float* h, const float* z, const float* hp, const float* hh, int64_t n) {
  for (int64_t j = 0; j < n; ++j) h[j] = z[j] * hp[j] + (1.0f - z[j]) * hh[j];
}
// From dht: dz = dht (h_prev - hh) (before s'), dhh = dht (1 - z) (before a'), dh_out = dht z.
FASTNN_SIMD void gru_grad_row(float* dz, float* dhh, float* dh, const float* dht, const float* z,
                              const float* hh, const float* hp, int64_t n) {
  for (int64_t j = 0; j < n; ++j) {
    const float d = dht[j];
    dz[j] = d * (hp[j] - hh[j]);
    dhh[j] = d * (1.0f - z[j]);
    dh[j] = d * z[j];
  }
}

// The default activations in one pass over a processed row (reset_after).
FASTNN_SIMD void gru_forward_row_ts(float* __restrict g, const float* __restrict r, const float* __restrict hp,
                                    float* __restrict h, float* __restrict y, int64_t U) {
  for (int64_t j = 0; j < U; ++j) {
    const float z = vm::sigmoid(g[j] + r[j]), rr = vm::sigmoid(g[U + j] + r[U + j]);
    const float hh = vm::tanh(g[2 * U + j] + rr * r[2 * U + j]);
    g[j] = z;
    g[U + j] = rr;
    g[2 * U + j] = hh;
    const float v = z * hp[j] + (1.0f - z) * hh;
    h[j] = v;
    y[j] = v;
  }
}

// Its backward on a processed row: total dL/dh as for the LSTM, then the gate gradients of both
// projections and the part of dL/dh_prev that skips the recurrent kernel (dht z).
template <bool HasDy>
FASTNN_SIMD void gru_backward_row_ts(float* __restrict dg, float* __restrict dgr, float* __restrict dh,
                                     float* __restrict carry, const float* __restrict dy, const float* __restrict g,
                                     const float* __restrict r, const float* __restrict hp, int64_t U) {
  for (int64_t j = 0; j < U; ++j) {
    const float go = (HasDy ? dy[j] : 0.0f) + carry[j];
    const float dht = dh[j] + go;
    carry[j] = 0.0f;
    const float z = g[j], rr = g[U + j], hh = g[2 * U + j];
    const float dz = dht * (hp[j] - hh) * (z * (1.0f - z));
    const float dah = dht * (1.0f - z) * (1.0f - hh * hh);
    const float dr = dah * r[2 * U + j] * (rr * (1.0f - rr));
    dh[j] = dht * z;
    dg[j] = dz;
    dg[U + j] = dr;
    dg[2 * U + j] = dah;
    dgr[j] = dz;
    dgr[U + j] = dr;
    dgr[2 * U + j] = dah * rr;
  }
}
}  // namespace

void gru_step_forward(const RnnStep& s) {
  const int64_t U = s.U;
  const bool ts = s.act == RnnAct::Tanh && s.ract == RnnAct::Sigmoid;
  parallel_for(s.B, row_grain(3 * U), [&](int64_t b0, int64_t b1) {
    for (int64_t b = b0; b < b1; ++b) {
      float* g = s.g + b * s.ldg;
      const float* r = s.r + b * s.ldr;
      if (ts && row_on(s.mask, s.ldm, b)) {
        gru_forward_row_ts(g, r, s.h_prev + b * s.ldp, s.h_next + b * s.ldn, s.y + b * s.ldy, U);
        continue;
      }
      add2_row(g, g, r, 2 * U);
      act_span(s.ract, g, g, 2 * U);
      fma_row(g + 2 * U, g + 2 * U, g + U, r + 2 * U, U);
      act_span(s.act, g + 2 * U, g + 2 * U, U);
      if (!row_on(s.mask, s.ldm, b)) {
        masked_forward_row(s, b, false);
        continue;
      }
      float* h = s.h_next + b * s.ldn;
      gru_mix_row(h, g, s.h_prev + b * s.ldp, g + 2 * U, U);
      std::copy(h, h + U, s.y + b * s.ldy);
    }
  });
}

void gru_step_backward(const RnnStepGrad& s) {
  const int64_t U = s.U;
  const bool ts = s.act == RnnAct::Tanh && s.ract == RnnAct::Sigmoid;
  parallel_for(s.B, row_grain(3 * U), [&](int64_t b0, int64_t b1) {
    for (int64_t b = b0; b < b1; ++b) {
      float* dg = s.dg + b * s.lddg;
      float* dgr = s.dgr + b * s.lddgr;
      float* dh = s.dh + b * U;
      if (ts && row_on(s.mask, s.ldm, b)) {
        const float* g = s.g + b * s.ldg;
        const float* r = s.r + b * s.ldr;
        const float* hp = s.h_prev + b * s.ldp;
        float* carry = s.dcarry + b * U;
        if (s.dy)
          gru_backward_row_ts<true>(dg, dgr, dh, carry, s.dy + b * s.ldy, g, r, hp, U);
        else
          gru_backward_row_ts<false>(dg, dgr, dh, carry, nullptr, g, r, hp, U);
        continue;
      }
      float* dht = dgr + 2 * U;  // scratch until the h slot is written
      const bool on = total_dh_row(s, b, dht);
      if (!on) {
        std::copy(dht, dht + U, dh);
        std::fill(dg, dg + 3 * U, 0.0f);
        std::fill(dgr, dgr + 3 * U, 0.0f);
        continue;
      }
      const float* g = s.g + b * s.ldg;
      const float* r = s.r + b * s.ldr;
      gru_grad_row(dg, dg + 2 * U, dh, dht, g, g + 2 * U, s.h_prev + b * s.ldp, U);
      act_grad_span(s.ract, dg, g, U);
      act_grad_span(s.act, dg + 2 * U, g + 2 * U, U);
      // dr = dah * rz_h (before s'); the recurrent side of h is dah * r
      mul_row(dg + U, dg + 2 * U, r + 2 * U, U);
      act_grad_span(s.ract, dg + U, g + U, U);
      mul_row(dgr + 2 * U, dg + 2 * U, g + U, U);
      std::copy(dg, dg + 2 * U, dgr);
    }
  });
}

void gru_v1_step_forward_a(const RnnStep& s) {
  const int64_t U = s.U;
  parallel_for(s.B, row_grain(3 * U), [&](int64_t b0, int64_t b1) {
    for (int64_t b = b0; b < b1; ++b) {
      float* g = s.g + b * s.ldg;
      act_span(s.ract, g, g, 2 * U);
      mul_row(s.tc + b * s.ldt, g + U, s.h_prev + b * s.ldp, U);
    }
  });
}

void gru_v1_step_forward_b(const RnnStep& s) {
  const int64_t U = s.U;
  parallel_for(s.B, row_grain(3 * U), [&](int64_t b0, int64_t b1) {
    for (int64_t b = b0; b < b1; ++b) {
      float* g = s.g + b * s.ldg;
      act_span(s.act, g + 2 * U, g + 2 * U, U);
      if (!row_on(s.mask, s.ldm, b)) {
        masked_forward_row(s, b, false);
        continue;
      }
      float* h = s.h_next + b * s.ldn;
      gru_mix_row(h, g, s.h_prev + b * s.ldp, g + 2 * U, U);
      std::copy(h, h + U, s.y + b * s.ldy);
    }
  });
}

void gru_v1_step_backward_b(const RnnStepGrad& s) {
  const int64_t U = s.U;
  parallel_for(s.B, row_grain(3 * U), [&](int64_t b0, int64_t b1) {
    for (int64_t b = b0; b < b1; ++b) {
      float* dg = s.dg + b * s.lddg;
      float* dh = s.dh + b * U;
      float* dht = dg + U;  // scratch: the r slot is written by backward_a
      const bool on = total_dh_row(s, b, dht);
      if (!on) {
        std::copy(dht, dht + U, dh);
        std::fill(dg, dg + 3 * U, 0.0f);
        continue;
      }
      const float* g = s.g + b * s.ldg;
      gru_grad_row(dg, dg + 2 * U, dh, dht, g, g + 2 * U, s.h_prev + b * s.ldp, U);
      act_grad_span(s.ract, dg, g, U);
      act_grad_span(s.act, dg + 2 * U, g + 2 * U, U);
      std::fill(dg + U, dg + 2 * U, 0.0f);
    }
  });
}

void gru_v1_step_backward_a(const RnnStepGrad& s) {
  const int64_t U = s.U;
  parallel_for(s.B, row_grain(3 * U), [&](int64_t b0, int64_t b1) {
    for (int64_t b = b0; b < b1; ++b) {
      // drh = dL/d(r * h_prev) (masked rows: zero, since their dah is zero)
      const float* drh = s.tc + b * s.ldt;
      const float* g = s.g + b * s.ldg;
      const float* hp = s.h_prev + b * s.ldp;
      float* dg = s.dg + b * s.lddg;
      float* dh = s.dh + b * U;
      for (int64_t j = 0; j < U; ++j) {
        dg[U + j] = drh[j] * hp[j];
        dh[j] += drh[j] * g[U + j];
      }
      act_grad_span(s.ract, dg + U, g + U, U);
    }
  });
}

// ---------------------------------------------------------------------------- helpers
void rnn_copy_rows(float* dst, int64_t ldd, const float* src, int64_t lds, int64_t rows, int64_t cols) {
  for (int64_t i = 0; i < rows; ++i) {
    if (src)
      std::copy(src + i * lds, src + i * lds + cols, dst + i * ldd);
    else
      std::fill(dst + i * ldd, dst + i * ldd + cols, 0.0f);
  }
}

namespace {
FASTNN_SIMD void add_into(float* acc, const float* x, int64_t n) {
  for (int64_t j = 0; j < n; ++j) acc[j] += x[j];
}
}  // namespace

void rnn_bias_grad(float* db, const float* dg, int64_t ld, int64_t rows, int64_t cols, bool accumulate) {
  // Columns split among threads; each column sums its rows in order (thread-count independent).
  constexpr int64_t kCols = 64;
  const int64_t nblk = (cols + kCols - 1) / kCols;
  parallel_for(nblk, std::max<int64_t>(1, 65536 / std::max<int64_t>(rows * kCols, 1)), [&](int64_t k0, int64_t k1) {
    for (int64_t k = k0; k < k1; ++k) {
      const int64_t c0 = k * kCols, n = std::min(kCols, cols - c0);
      float acc[kCols];
      std::fill(acc, acc + n, 0.0f);
      for (int64_t i = 0; i < rows; ++i) add_into(acc, dg + i * ld + c0, n);
      for (int64_t j = 0; j < n; ++j) db[c0 + j] = accumulate ? db[c0 + j] + acc[j] : acc[j];
    }
  });
}

}  // namespace fastnn::cpu
