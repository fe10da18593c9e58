#include "bindings/common.h"

namespace fastnn::bind {

void bind_loss(py::module_& m) {}

}  // namespace fastnn::bind
