// Device-neutral entries for counter-based random numbers and dropout (see kernels/random.h).
#pragma once
#include "core/common.h"

namespace fastnn::ops {

void uniform_fill(const View& out, uint64_t seed, uint64_t offset, float low, float high);
void normal_fill(const View& out, uint64_t seed, uint64_t offset, float mean, float std);
// y = keep ? x / (1 - rate) : 0 with keep = unit(seed, offset + i) >= rate; rate in [0, 1).
void dropout_forward(const View& y, const View& x, float rate, uint64_t seed, uint64_t offset);
void dropout_backward(const View& dx, const View& dy, float rate, uint64_t seed, uint64_t offset);

}  // namespace fastnn::ops
