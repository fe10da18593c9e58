// Recurrent layers (SimpleRNN, LSTM, GRU in both reset_after forms): the fused per-step gate
// kernels of the forward pass and of backpropagation through time, and two helpers. The
// sequence loop (ops/rnn.cpp) runs one GEMM for the input projection of all time steps, then
// per step one recurrent GEMM (two for GRU reset_after=False) and the gate kernel(s) here.
//
// Layouts (Keras's): x (B, T, I); kernel W (I, k*U); recurrent kernel Ur (U, k*U); gates in the
// order i, f, c, o (LSTM) and z, r, h (GRU), each U wide. Every per-time buffer of the
// workspace is (B, T, width) row-major, indexed by the input time t (not by the step number),
// so that gradient GEMMs pair rows of x with rows of the gate gradients directly; a step's
// (B, width) block starts at buf + t * width with row stride ld = T * width.
//
// Per step, with a = activation, s = recurrent_activation, m = mask of the row at time t:
//   SimpleRNN  h = a(g),  g = x W + b + h_prev Ur
//   LSTM       i, f, o = s(g_i), s(g_f), s(g_o);  cc = a(g_c);  c = f c_prev + i cc;  h = o a(c)
//   GRU (reset_after)   rz = h_prev Ur + b_rec (3U wide, kept in `r`)
//              z, r = s(g_z + rz_z), s(g_r + rz_r);  hh = a(g_h + r * rz_h);  h = z h_prev + (1-z) hh
//   GRU (reset_after=False), two kernels around the second GEMM:
//              (a) z, r = s(g_z), s(g_r) (g already holds h_prev Ur_zr);  rh = r * h_prev
//              (b) hh = a(g_h) (g_h already holds rh Ur_h);  h = z h_prev + (1-z) hh
// Masks (Keras 3): a masked row keeps its state (h_next = h_prev, c_next = c_prev) and outputs
// the previous step's output (zeros before the first step), or zeros when zero_output is set.
// Gate buffers hold the activations after the forward kernel; the derivatives are taken from
// the activations (tanh: 1-y^2, sigmoid: y(1-y), relu: y>0, hard_sigmoid: 1/6 inside (0, 1)).
//
// Backward per step: `dh` holds dL/dh_next on entry; the kernel writes the gate gradients and
// leaves in `dh` the part of dL/dh_prev that does not go through the recurrent kernel (masked
// rows: all of it; GRU: dh * z); the loop then adds dG Ur^T with a GEMM. `dc` (LSTM) goes from
// dL/dc_next to dL/dc_prev in place. `dcarry` is dL/d(previous output) (mask semantics).
// Every element is computed alone, so results do not depend on the thread count.
#pragma once
#include <cstdint>

#include "core/common.h"

namespace fastnn {

// Activations the fused kernels know (others take the generic cell path in Python).
enum class RnnAct : int { Linear = 0, Tanh = 1, Sigmoid = 2, Relu = 3, HardSigmoid = 4 };
// Keras names of the codes, in enum order (_C.RNN_ACTIVATIONS).
inline constexpr const char* kRnnActNames[] = {"linear", "tanh", "sigmoid", "relu", "hard_sigmoid"};
static_assert(sizeof(kRnnActNames) / sizeof(kRnnActNames[0]) == (int)RnnAct::HardSigmoid + 1);

// One forward step over B rows of U units. Null pointers are absent inputs (see each kernel).
struct RnnStep {
  int64_t B = 0, U = 0;
  float* g = nullptr;            // gates at time t, in: pre-activations, out: activations
  int64_t ldg = 0;
  const float* r = nullptr;      // GRU reset_after: h_prev Ur + b_rec (3U wide)
  int64_t ldr = 0;
  const float* h_prev = nullptr;  // state entering the step
  const float* c_prev = nullptr;
  int64_t ldp = 0;
  float* h_next = nullptr;       // state leaving the step
  float* c_next = nullptr;
  int64_t ldn = 0;
  float* tc = nullptr;           // LSTM: a(c) of this step;  GRU reset_after=False: rh = r * h_prev
  int64_t ldt = 0;
  float* y = nullptr;            // the step's output
  const float* y_prev = nullptr;  // the previous step's output (null: zeros); may equal y
  int64_t ldy = 0;
  const float* mask = nullptr;   // mask[b * ldm] != 0: the row is processed; null: all rows
  int64_t ldm = 0;
  bool zero_output = false;
  RnnAct act = RnnAct::Tanh, ract = RnnAct::Sigmoid;
};

// One backward step (same buffers as the forward step, plus the gradients).
struct RnnStepGrad {
  int64_t B = 0, U = 0;
  const float* g = nullptr;       // activations of the step
  int64_t ldg = 0;
  const float* r = nullptr;       // GRU reset_after: the recurrent projection
  int64_t ldr = 0;
  const float* h_prev = nullptr;
  const float* c_prev = nullptr;
  int64_t ldp = 0;
  const float* tc = nullptr;      // LSTM a(c); GRU reset_after=False: dL/d(rh) (after the GEMM)
  int64_t ldt = 0;
  const float* dy = nullptr;      // dL/d(output of the step); null: zeros
  int64_t ldy = 0;
  float* dcarry = nullptr;        // (B, U) dL/d(previous output), in and out
  float* dh = nullptr;            // (B, U) see above
  float* dc = nullptr;            // (B, U) LSTM
  float* dg = nullptr;            // gradients of the gate pre-activations (input side)
  int64_t lddg = 0;
  float* dgr = nullptr;           // GRU reset_after: gradients of the recurrent projection
  int64_t lddgr = 0;
  const float* mask = nullptr;
  int64_t ldm = 0;
  bool zero_output = false;
  RnnAct act = RnnAct::Tanh, ract = RnnAct::Sigmoid;
};

#define FASTNN_DECLARE_RNN_KERNELS                                                               \
  void simple_rnn_step_forward(const RnnStep& s);                                                \
  void simple_rnn_step_backward(const RnnStepGrad& s);                                           \
  void lstm_step_forward(const RnnStep& s);                                                      \
  void lstm_step_backward(const RnnStepGrad& s);                                                 \
  void gru_step_forward(const RnnStep& s);                                                       \
  void gru_step_backward(const RnnStepGrad& s);                                                  \
  /* reset_after=False: (a) before and (b) after the GEMM of r * h_prev; backward (b) then (a) */ \
  void gru_v1_step_forward_a(const RnnStep& s);                                                  \
  void gru_v1_step_forward_b(const RnnStep& s);                                                  \
  void gru_v1_step_backward_b(const RnnStepGrad& s);                                             \
  void gru_v1_step_backward_a(const RnnStepGrad& s);                                             \
  /* dst rows (ld ldd) = src rows (ld lds); src null writes zeros */                              \
  void rnn_copy_rows(float* dst, int64_t ldd, const float* src, int64_t lds, int64_t rows,       \
                     int64_t cols);                                                              \
  /* db[j] (+)= sum over rows of dg[row * ld + j], rows summed in order */                        \
  void rnn_bias_grad(float* db, const float* dg, int64_t ld, int64_t rows, int64_t cols,         \
                     bool accumulate);

namespace cpu { FASTNN_DECLARE_RNN_KERNELS }
namespace cuda { FASTNN_DECLARE_RNN_KERNELS }

}  // namespace fastnn
