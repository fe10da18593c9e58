// Device-neutral entries for pooling and resizing (see kernels/pool.h): geometry from Keras's
// arguments (TensorFlow's 'valid' / 'same' convention), shape and device checks, dispatch.
#pragma once
#include "core/common.h"
#include "kernels/pool.h"

namespace fastnn::ops {

// Geometry of pooling a 4-D input of `shape` ((N, H, W, C) or (N, C, H, W)). 'valid': OH =
// (H - KH) / SH + 1 (the window must fit); 'same': OH = ceil(H / SH) and the padding
// max((OH - 1) * SH + KH - H, 0) split with the extra row at the bottom (and column at the
// right), as TensorFlow does. ValueError for bad sizes, quoting them and the input shape.
PoolGeom pool_geometry(const char* op, const Shape& shape, int64_t KH, int64_t KW, int64_t SH, int64_t SW,
                       const std::string& padding, bool channels_last);
// Geometry of resizing a 4-D input to OH x OW.
PoolGeom resize_geometry(const char* op, const Shape& shape, int64_t OH, int64_t OW, bool channels_last);
// The output shape of g, in g's layout.
Shape pool_output_shape(const PoolGeom& g);

void max_pool2d_forward(const View& y, const View& argmax, const View& x, const PoolGeom& g);
void max_pool2d_backward(const View& dx, const View& dy, const View& argmax, const PoolGeom& g);
void avg_pool2d_forward(const View& y, const View& x, const PoolGeom& g);
void avg_pool2d_backward(const View& dx, const View& dy, const PoolGeom& g);
void resize_bilinear_forward(const View& y, const View& x, const PoolGeom& g);
void resize_bilinear_backward(const View& dx, const View& dy, const PoolGeom& g);

}  // namespace fastnn::ops
