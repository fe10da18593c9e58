// Device-neutral entries for the elementwise kernels (see kernels/elementwise.h): dtype and
// shape checks with messages naming the op and the shapes, the broadcast index map, dispatch.
#pragma once
#include "core/common.h"
#include "kernels/elementwise.h"

namespace fastnn::ops {

const char* unary_name(UnaryOp op);    // "sigmoid", "leaky_relu", ... (kUnaryOpNames)
const char* binary_name(BinaryOp op);  // "add", "sub", ...

// Which forward arrays unary_backward reads; the kernels of both devices read exactly these
// (the others may be null):
//   x (input):  Abs Log Square Relu LeakyRelu Elu Selu Gelu GeluTanh Softplus Swish HardSigmoid Clip
//   y (output): Exp Sqrt Sigmoid Tanh
//   neither:    Neg Step
bool unary_backward_reads_x(UnaryOp op);
bool unary_backward_reads_y(UnaryOp op);
// binary_backward reads `out` only for Pow (its db is out * log(a)).
bool binary_backward_reads_out(BinaryOp op);

// NumPy broadcast of two shapes; ValueError naming both shapes (and the op) otherwise.
Shape broadcast_shape(const char* op, const Shape& a, const Shape& b);
// The index map of out = op(a, b) over broadcast_shape(a, b), coalesced: size-1 dims dropped and
// adjacent dims merged where both operands allow, so the last dim has strides 0 or 1 and the
// common cases reduce to 1-d (same shape, scalar operand) or 2-d (row / column broadcast).
Broadcast make_broadcast(const Shape& a, const Shape& b);

void unary_forward(UnaryOp op, const View& y, const View& x, float alpha, float beta);
// x and y may be null where unary_backward_reads_x / _y say they are not read.
void unary_backward(UnaryOp op, const View& dx, const View& dy, const View* x, const View* y,
                    float alpha, float beta);
void binary_forward(BinaryOp op, const View& out, const View& a, const View& b);
// da / db (null when not wanted) and dout have the broadcast shape; out may be null unless Pow.
void binary_backward(BinaryOp op, const View* da, const View* db, const View& dout, const View& a,
                     const View& b, const View* out);
// All of one shape; cond is float32 (nonzero selects a).
void where_forward(const View& out, const View& cond, const View& a, const View& b);
void where_backward(const View* da, const View* db, const View& dout, const View& cond);

}  // namespace fastnn::ops
