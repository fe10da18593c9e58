// 2-D convolution by im2col / col2im and the GEMM of kernels/gemm.h: forward (bias and
// activation fused in the GEMM epilogue for channels_last), backward to the input (GEMM, then
// col2im) and backward to the kernel and bias. Conv1D is a convolution of height 1 and
// Conv2DTranspose is the backward-to-input kernel (its backward the forward one).
//
// Layouts: x (N, H, W, C) channels_last or (N, C, H, W) channels_first; y likewise with
// (OH, OW, OC); the kernel is always Keras's (KH, KW, C / groups, OC), i.e. a row-major matrix
// of Kc = KH * KW * C/groups rows by OC columns whose columns [g * OC/groups, (g + 1) * OC/groups)
// belong to group g. Padding is explicit (top, left; bottom and right only fix OH and OW and may
// be negative for the transposed convolution's output_padding), so TensorFlow's 'same' (the
// extra pixel bottom/right) and 'valid' are two choices of the caller.
#pragma once
#include <cstdint>

#include "core/common.h"
#include "kernels/gemm.h"

namespace fastnn {

struct ConvGeom {
  int64_t N = 0, H = 0, W = 0, C = 0;  // input
  int64_t OH = 0, OW = 0, OC = 0;      // output
  int64_t KH = 1, KW = 1;
  int64_t sh = 1, sw = 1;              // strides
  int64_t pt = 0, pb = 0, pl = 0, pr = 0;  // padding top, bottom, left, right
  int64_t dh = 1, dw = 1;              // dilation
  int64_t groups = 1;
  bool channels_last = true;

  int64_t cg() const { return C / groups; }   // input channels per group
  int64_t ocg() const { return OC / groups; } // output channels per group
  int64_t P() const { return OH * OW; }       // output pixels per image
  int64_t Kc() const { return KH * KW * cg(); }  // rows of the kernel matrix
  // a 1x1 convolution reading every pixel once: the input itself is the im2col matrix
  bool direct() const {
    return KH == 1 && KW == 1 && sh == 1 && sw == 1 && pt == 0 && pl == 0 && OH == H && OW == W;
  }
};

#define FASTNN_DECLARE_CONV_KERNELS                                                               \
  /* y = act(conv(x, w) + bias); bias: OC values or null; y is overwritten */                      \
  void conv2d_forward(float* y, const float* x, const float* w, const float* bias, Activation act, \
                      const ConvGeom& g);                                                          \
  /* dx = the gradient of the input from dy (overwritten); bias (C values) or null is added to */  \
  /* every pixel of dx: the transposed convolution's bias */                                       \
  void conv2d_backward_data(float* dx, const float* dy, const float* w, const float* bias,         \
                            const ConvGeom& g);                                                    \
  /* dw (KH, KW, C/groups, OC) and db (OC, or null) from dy and x; both overwritten */             \
  void conv2d_backward_weight(float* dw, float* db, const float* dy, const float* x,               \
                              const ConvGeom& g);                                                  \
  /* db[c] = sum of dy over the batch and pixels for channel c (N, P, C) or (N, C, P) */           \
  void conv_bias_grad(float* db, const float* dy, int64_t N, int64_t P, int64_t C,                 \
                      bool channels_last);

namespace cpu { FASTNN_DECLARE_CONV_KERNELS }
namespace cuda { FASTNN_DECLARE_CONV_KERNELS }

}  // namespace fastnn
