#include "bindings/common.h"

namespace fastnn::bind {

void bind_gemm(py::module_& m) {}

}  // namespace fastnn::bind
