#include "bindings/common.h"

namespace fastnn::bind {

void bind_elementwise(py::module_& m) {}

}  // namespace fastnn::bind
