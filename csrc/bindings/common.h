// The only place in csrc/ that knows Python. Converts Python storage objects (NumPy arrays on
// the CPU, DeviceArray on CUDA) into Views, checks them with messages that name the argument
// and the shapes, allocates results, and releases the GIL around kernels.
#pragma once
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include "core/common.h"
#include "core/device_array.h"

namespace fastnn::bind {
namespace py = pybind11;

// A View of a NumPy array or a DeviceArray. TypeError for anything else, for dtypes other than
// float32 / int64 and for non-contiguous arrays.
// True when `dt` is the dtype `want`: the identity test is the fast path; equality catches the
// distinct but equal dtype objects that pickle and np.load create (a byte-swapped dtype is unequal)
inline bool is_dtype(const py::dtype& dt, const py::dtype& want) { return dt.is(want) || dt.equal(want); }

View to_view(py::handle obj, const char* arg);
// The same, requiring a dtype.
View to_view(py::handle obj, const char* arg, DType want);
// A destination the call writes in place: the same, and ValueError for a read-only NumPy array
// (np.frombuffer of bytes, np.load(mmap_mode='r'), setflags(write=False)).
View to_out_view(py::handle obj, const char* arg, DType want);
View to_out_view(py::handle obj, const char* arg);  // either dtype
// A named array an in-place call reads or writes, for check_disjoint.
struct Named {
  const View* view;
  const char* name;
};
// ValueError when the memory of a destination overlaps another destination or an input (inputs may
// share memory with each other): an in-place kernel whose destination aliases one of its inputs
// reads values it has already overwritten. A null view (an absent optional argument) is skipped.
void check_disjoint(const char* op, std::initializer_list<Named> outputs, std::initializer_list<Named> inputs);
bool overlaps(const View& a, const View& b);
// A new uninitialised array on `device` (a NumPy array on the CPU).
py::object empty(Device device, DType dtype, const Shape& shape);
// Bytes of physical memory (INT64_MAX where the system does not say): the largest result empty()
// makes, and _C.PHYSICAL_MEMORY_BYTES for the Python layer's own limits.
int64_t physical_memory_bytes();
py::object empty_like(const View& v);
// Raises ValueError unless all views are on the same device.
void check_same_device(const char* op, std::initializer_list<const View*> views);
// Raises ValueError unless the two views have the same shape.
void check_same_shape(const char* op, const View& a, const char* an, const View& b, const char* bn);
// A shape given by the caller: ValueError for negative dimensions, more than kMaxDims of them, or
// more elements than int64 counts.
Shape to_shape(py::handle seq, const char* arg = "shape");
// A sequence of integers of any sign (strides), at most kMaxDims of them.
Shape to_ints(py::handle seq, const char* arg);

// Each family of bindings registers its functions in its own file.
void bind_core(py::module_& m);
void bind_elementwise(py::module_& m);
void bind_reduce(py::module_& m);
void bind_loss(py::module_& m);
void bind_gemm(py::module_& m);
void bind_random(py::module_& m);
void bind_index(py::module_& m);
void bind_bench(py::module_& m);  // machine probes for the benchmarks (FMA peak)
void bind_optim(py::module_& m);  // fused optimizer updates
void bind_conv(py::module_& m);   // convolutions (im2col + GEMM)
void bind_rnn(py::module_& m);    // recurrent layers (whole-sequence forward and backward)
void bind_pool(py::module_& m);   // pooling and resizing
void bind_norm(py::module_& m);   // batch and layer normalization
void bind_image(py::module_& m);  // image resampling (augmentation layers)

}  // namespace fastnn::bind
