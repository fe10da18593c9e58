#include "bindings/common.h"

namespace fastnn::bind {

void bind_random(py::module_& m) {}

}  // namespace fastnn::bind
