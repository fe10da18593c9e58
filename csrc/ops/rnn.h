// Device-neutral recurrent layers (kernels/rnn.h): the whole sequence loop of one layer, forward
// and backpropagation through time, on either device (the loop calls the device's GEMM and
// gate kernels). Shapes are checked here: ValueError / TypeError naming the argument and the
// shapes. The caller allocates the outputs, the workspace the forward fills and the backward
// reads (rnn_workspace_size floats), and the backward's scratch (rnn_scratch_size floats).
#pragma once
#include "core/common.h"
#include "kernels/rnn.h"

namespace fastnn::ops {

// Gru: reset_after=True (bias (2, 3U): input and recurrent); GruV1: reset_after=False (bias (3U,)).
enum class RnnCell : int { Simple = 0, Lstm = 1, Gru = 2, GruV1 = 3 };

struct RnnOptions {
  RnnCell cell = RnnCell::Lstm;
  RnnAct act = RnnAct::Tanh, ract = RnnAct::Sigmoid;
  bool go_backwards = false;
  bool zero_output = false;       // masked steps output zeros instead of the previous output
  bool return_sequences = false;  // y is (B, T, U) in step order, else the last output (B, U)
};

// k, the number of U-wide gate blocks: 1, 4, 3, 3
inline int rnn_gates(RnnCell cell) {
  return cell == RnnCell::Simple ? 1 : cell == RnnCell::Lstm ? 4 : 3;
}
inline int64_t rnn_workspace_size(RnnCell cell, int64_t B, int64_t T, int64_t U) {
  const int64_t n = B * T * U;
  switch (cell) {
    case RnnCell::Simple: return 2 * n;            // G, Hp
    case RnnCell::Lstm: return 4 * n + 3 * n;      // G (4U), Hp, Cp, TC
    case RnnCell::Gru: return 3 * n + n + 3 * n;   // G (3U), Hp, R (3U)
    case RnnCell::GruV1: return 3 * n + n + n;     // G (3U), Hp, RH
  }
  return 0;
}

inline int64_t rnn_scratch_size(RnnCell cell, int64_t B, int64_t T, int64_t U) {
  const int64_t n = B * T * U;
  const int64_t carries = 3 * B * U;  // dc (when no dc0 is kept), dcarry, drh
  return rnn_gates(cell) * n + (cell == RnnCell::Gru ? 3 * n : 0) + carries;
}


// x (B, T, I); W (I, kU); Ur (U, kU); bias (kU,) or (2, 3U) for Gru, or null; h0, c0 (B, U) or
// null (zeros); mask (B, T) float (nonzero: processed) or null. Writes y, hT, cT (Lstm) and ws.
void rnn_forward(const RnnOptions& o, const View& x, const View& W, const View& Ur, const View* bias,
                 const View* h0, const View* c0, const View* mask, const View& y, const View& hT,
                 const View* cT, const View& ws);

// Gradients of one layer from dy (y's shape), dhT, dcT (any may be null: zeros). dx may be
// null (not needed); db is null exactly when bias is; dc0 is null unless Lstm.
void rnn_backward(const RnnOptions& o, const View& x, const View& W, const View& Ur, bool has_bias,
                  const View* mask, const View& ws, const View* dy, const View* dhT, const View* dcT,
                  const View* dx, const View& dW, const View& dU, const View* db, const View& dh0,
                  const View* dc0, const View& scratch);

}  // namespace fastnn::ops
