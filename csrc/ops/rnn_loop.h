// The sequence loops of one recurrent layer (forward and backpropagation through time) on raw
// pointers, templated on the kernel set K: ops/rnn.cpp runs them with the device picked at run
// time, tools/cuda_emu with the CUDA kernels compiled for the host. K provides gemm (C = op(A)
// op(B) + beta C), gemm_bias (C = A B + bias), copy_rows, bias_grad and the step kernels of
// kernels/rnn.h, pack_b / gemm_packed (the recurrent kernel, or a block of it, prepared once per
// sequence for the per-step products: packed on the CPU), and batch_rows(B, f), which runs the
// recurrence f(b0, b1) over row ranges (one per thread on the CPU). Arguments as in ops/rnn.h,
// already checked.
#pragma once
#include <cstdint>

#include "ops/rnn.h"

namespace fastnn::ops {

// The time index processed at step s.
inline int64_t rnn_time_of(const RnnOptions& o, int64_t s, int64_t T) { return o.go_backwards ? T - 1 - s : s; }

template <class K>
void rnn_forward_loop(const K& k, const RnnOptions& o, int64_t B, int64_t T, int64_t I, int64_t U, const float* x,
                      const float* W, const float* Ur, const float* bias, const float* h0, const float* c0,
                      const float* mask, float* y, float* hT, float* cT, float* ws) {
  if (B == 0) return;
  const int64_t kU = rnn_gates(o.cell) * U;
  const bool lstm = o.cell == RnnCell::Lstm;
  // workspace: G (B, T, kU), Hp (B, T, U), then Lstm: Cp, TC (B, T, U); Gru: R (B, T, kU);
  // GruV1: RH (B, T, U)
  const int64_t B_all = B;
  float* const hT_all = hT;
  float* const cT_all = cT;
  const float* b_in = bias;
  const float* b_rec = (bias && o.cell == RnnCell::Gru) ? bias + kU : nullptr;

  // The input projection of every time step: one GEMM over the B*T rows.
  k.gemm_bias(B * T, kU, I, x, I, W, kU, ws, kU, b_in);
  // The recurrent kernel (GruV1: its z, r columns, then its h columns apart), prepared once.
  const bool v1 = o.cell == RnnCell::GruV1;
  const auto rk = k.pack_b(false, U, v1 ? 2 * U : kU, Ur, kU);
  const auto rk_h = k.pack_b(false, v1 ? U : 0, v1 ? U : 0, Ur + 2 * U, kU);

  // The recurrence, on rows [b0, b1) of the batch: the rows are independent, so the kernel set
  // may hand disjoint row ranges to threads for the whole sequence (no synchronisation per
  // step); every per-step product and gate kernel then runs on the caller's thread.
  const float* mask_all = mask;
  float* y_all = y;
  k.batch_rows(B, [&](int64_t b0, int64_t b1) {
    const int64_t B = b1 - b0;  // the rows of this range, with every buffer below offset to b0
    float* G = ws + b0 * T * kU;
    float* Hp = ws + B_all * T * kU + b0 * T * U;
    float* Cp = Hp + B_all * T * U;
    float* TC = Cp + B_all * T * U;
    float* R = ws + B_all * T * kU + B_all * T * U + b0 * T * kU;
    float* RH = Hp + B_all * T * U;
    const float* h0r = h0 ? h0 + b0 * U : nullptr;
    const float* c0r = c0 ? c0 + b0 * U : nullptr;
    const float* mask = mask_all ? mask_all + b0 * T : nullptr;
    float* y = y_all + b0 * (o.return_sequences ? T * U : U);
    float* hT = hT_all + b0 * U;
    float* cT = cT_all ? cT_all + b0 * U : nullptr;
    const int64_t t0 = rnn_time_of(o, 0, T);
    k.copy_rows(Hp + t0 * U, T * U, h0r, U, B, U);
    if (lstm) k.copy_rows(Cp + t0 * U, T * U, c0r, U, B, U);

    for (int64_t s = 0; s < T; ++s) {
      const int64_t t = rnn_time_of(o, s, T);
      const bool last = s == T - 1;
      const int64_t tn = o.go_backwards ? t - 1 : t + 1;
      RnnStep st;
      st.B = B;
      st.U = U;
      st.act = o.act;
      st.ract = o.ract;
      st.g = G + t * kU;
      st.ldg = T * kU;
      st.h_prev = Hp + t * U;
      st.ldp = T * U;
      st.h_next = last ? hT : Hp + tn * U;
      st.ldn = last ? U : T * U;
      if (lstm) {
        st.c_prev = Cp + t * U;
        st.c_next = last ? cT : Cp + tn * U;
        st.tc = TC + t * U;
        st.ldt = T * U;
      }
      if (o.return_sequences) {
        st.y = y + s * U;
        st.y_prev = s > 0 ? st.y - U : nullptr;
        st.ldy = T * U;
      } else {
        st.y = y;
        st.y_prev = s > 0 ? st.y : nullptr;
        st.ldy = U;
      }
      if (mask) {
        st.mask = mask + t;
        st.ldm = T;
      }
      st.zero_output = o.zero_output;
      switch (o.cell) {
        case RnnCell::Simple:
          k.gemm_packed(rk, B, st.h_prev, T * U, 1.0f, st.g, T * kU);
          k.simple_rnn_step_forward(st);
          break;
        case RnnCell::Lstm:
          k.gemm_packed(rk, B, st.h_prev, T * U, 1.0f, st.g, T * kU);
          k.lstm_step_forward(st);
          break;
        case RnnCell::Gru:
          st.r = R + t * kU;
          st.ldr = T * kU;
          k.gemm_packed(rk, B, st.h_prev, T * U, 0.0f, R + t * kU, T * kU, b_rec);
          k.gru_step_forward(st);
          break;
        case RnnCell::GruV1:
          st.tc = RH + t * U;
          st.ldt = T * U;
          k.gemm_packed(rk, B, st.h_prev, T * U, 1.0f, st.g, T * kU);
          k.gru_v1_step_forward_a(st);
          k.gemm_packed(rk_h, B, st.tc, T * U, 1.0f, st.g + 2 * U, T * kU);
          k.gru_v1_step_forward_b(st);
          break;
      }
    }
  });
}

template <class K>
void rnn_backward_loop(const K& k, const RnnOptions& o, int64_t B, int64_t T, int64_t I, int64_t U, const float* x,
                       const float* W, const float* Ur, const float* mask, const float* ws, const float* dy,
                       const float* dhT, const float* dcT, float* dx, float* dW, float* dU, float* db, float* dh0,
                       float* dc0, float* scratch) {
  const int64_t kU = rnn_gates(o.cell) * U;
  const bool lstm = o.cell == RnnCell::Lstm;
  const int64_t B_all = B;
  const float* const Hp_all = ws + B * T * kU;
  const float* const RH_all = Hp_all + B * T * U;
  float* const dG_all = scratch;
  float* const dGr_all = scratch + B * T * kU;  // Gru only
  float* const rest = scratch + B * T * kU + (o.cell == RnnCell::Gru ? B * T * kU : 0);
  float* const dc_all = dc0 ? dc0 : rest;  // the carries: dh and dc run in the outputs' buffers

  if (B == 0) {
    k.copy_rows(dW, 0, nullptr, 0, 1, I * kU);
    k.copy_rows(dU, 0, nullptr, 0, 1, U * kU);
    if (db) k.copy_rows(db, 0, nullptr, 0, 1, (o.cell == RnnCell::Gru ? 2 : 1) * kU);
    return;
  }
  // Ur^T (GruV1: the rows of its z, r columns, then those of its h columns apart), prepared once.
  const bool v1 = o.cell == RnnCell::GruV1;
  const auto rkT = k.pack_b(true, v1 ? 2 * U : kU, U, Ur, kU);
  const auto rkT_h = k.pack_b(true, v1 ? U : 0, v1 ? U : 0, Ur + 2 * U, kU);

  // Backpropagation through time on rows [b0, b1), as the forward (rows are independent).
  const float* mask_all = mask;
  const float* dy_all = dy;
  k.batch_rows(B, [&](int64_t b0, int64_t b1) {
    const int64_t B = b1 - b0;  // the rows of this range, with every buffer below offset to b0
    const float* G = ws + b0 * T * kU;
    const float* Hp = Hp_all + b0 * T * U;
    const float* Cp = Hp_all + B_all * T * U + b0 * T * U;
    const float* TC = Cp + B_all * T * U;
    const float* R = Hp_all + B_all * T * U + b0 * T * kU;
    float* dG = dG_all + b0 * T * kU;
    float* dGr = dGr_all + b0 * T * kU;
    float* dc = dc_all + b0 * U;
    float* dcarry = rest + B_all * U + b0 * U;
    float* drh = rest + 2 * B_all * U + b0 * U;
    float* dh = dh0 + b0 * U;
    const float* mask = mask_all ? mask_all + b0 * T : nullptr;
    const float* dy = dy_all ? dy_all + b0 * (o.return_sequences ? T * U : U) : nullptr;
    k.copy_rows(dh, U, dhT ? dhT + b0 * U : nullptr, U, B, U);
    if (lstm) k.copy_rows(dc, U, dcT ? dcT + b0 * U : nullptr, U, B, U);
    k.copy_rows(dcarry, U, nullptr, U, B, U);

    for (int64_t s = T - 1; s >= 0; --s) {
      const int64_t t = rnn_time_of(o, s, T);
      RnnStepGrad st;
      st.B = B;
      st.U = U;
      st.act = o.act;
      st.ract = o.ract;
      st.g = G + t * kU;
      st.ldg = T * kU;
      st.h_prev = Hp + t * U;
      st.ldp = T * U;
      if (dy) {
        if (o.return_sequences) {
          st.dy = dy + s * U;
          st.ldy = T * U;
        } else if (s == T - 1) {
          st.dy = dy;
          st.ldy = U;
        }
      }
      st.dcarry = dcarry;
      st.dh = dh;
      st.dg = dG + t * kU;
      st.lddg = T * kU;
      if (mask) {
        st.mask = mask + t;
        st.ldm = T;
      }
      st.zero_output = o.zero_output;
      switch (o.cell) {
        case RnnCell::Simple:
          k.simple_rnn_step_backward(st);
          k.gemm_packed(rkT, B, st.dg, T * kU, 1.0f, dh, U);
          break;
        case RnnCell::Lstm:
          st.c_prev = Cp + t * U;
          st.tc = TC + t * U;
          st.ldt = T * U;
          st.dc = dc;
          k.lstm_step_backward(st);
          k.gemm_packed(rkT, B, st.dg, T * kU, 1.0f, dh, U);
          break;
        case RnnCell::Gru:
          st.r = R + t * kU;
          st.ldr = T * kU;
          st.dgr = dGr + t * kU;
          st.lddgr = T * kU;
          k.gru_step_backward(st);
          k.gemm_packed(rkT, B, st.dgr, T * kU, 1.0f, dh, U);
          break;
        case RnnCell::GruV1:
          k.gru_v1_step_backward_b(st);
          k.gemm_packed(rkT_h, B, st.dg + 2 * U, T * kU, 0.0f, drh, U);
          st.tc = drh;
          st.ldt = U;
          k.gru_v1_step_backward_a(st);
          k.gemm_packed(rkT, B, st.dg, T * kU, 1.0f, dh, U);
          break;
      }
    }
  });

  // Weight gradients: one GEMM each over all B*T rows.
  const float* Hp = Hp_all;
  const float* RH = RH_all;
  const float* dG = dG_all;
  const float* dGr = dGr_all;
  const int64_t N = B * T;
  k.gemm(true, false, I, kU, N, x, I, dG, kU, 0.0f, dW, kU);
  switch (o.cell) {
    case RnnCell::Simple:
    case RnnCell::Lstm:
      k.gemm(true, false, U, kU, N, Hp, U, dG, kU, 0.0f, dU, kU);
      break;
    case RnnCell::Gru:
      k.gemm(true, false, U, kU, N, Hp, U, dGr, kU, 0.0f, dU, kU);
      break;
    case RnnCell::GruV1:
      k.gemm(true, false, U, 2 * U, N, Hp, U, dG, kU, 0.0f, dU, kU);
      k.gemm(true, false, U, U, N, RH, U, dG + 2 * U, kU, 0.0f, dU + 2 * U, kU);
      break;
  }
  if (db) {
    k.bias_grad(db, dG, kU, N, kU);
    if (o.cell == RnnCell::Gru) k.bias_grad(db + kU, dGr, kU, N, kU);
  }
  if (dx) k.gemm(false, true, N, I, kU, dG, kU, W, kU, 0.0f, dx, I);
}

}  // namespace fastnn::ops
