// Device-neutral convolution entries (see kernels/conv.h): geometry and shape checks with
// messages that quote the shapes, then dispatch to the device of the arrays.
#pragma once
#include "core/common.h"
#include "kernels/conv.h"

namespace fastnn::ops {

// The hyper-parameters of a convolution, as the caller gives them.
struct ConvArgs {
  int64_t sh = 1, sw = 1;
  int64_t pt = 0, pb = 0, pl = 0, pr = 0;
  int64_t dh = 1, dw = 1;
  int64_t groups = 1;
  bool channels_last = true;
};

// The geometry of a convolution of an input of shape x_shape (4-D, in the layout of
// args.channels_last) with a kernel of shape (KH, KW, C / groups, OC). ValueError naming the
// shapes and arguments when they do not fit together or the output would be empty.
ConvGeom conv_geom(const Shape& x_shape, const Shape& kernel_shape, const ConvArgs& args);
// The output shape of that geometry, in its layout.
Shape conv_output_shape(const ConvGeom& g);

// y = act(conv(x, kernel) + bias); y of conv_output_shape.
void conv2d_forward(const View& y, const View& x, const View& kernel, const View* bias,
                    Activation act, const ConvArgs& args);
// dx (the input's shape) from dy (the output's shape); bias (C,) is added to dx (the transposed
// convolution's bias) when given.
void conv2d_backward_data(const View& dx, const View& dy, const View& kernel, const View* bias,
                          const ConvArgs& args);
// dw (the kernel's shape) and db ((OC,) or null) from dy and x.
void conv2d_backward_weight(const View& dw, const View* db, const View& dy, const View& x,
                            const ConvArgs& args);
// db (C,) = sums of a 4-D dy over every axis but its channel axis.
void conv_bias_grad(const View& db, const View& dy, bool channels_last);

}  // namespace fastnn::ops
