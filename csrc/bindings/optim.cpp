#include "bindings/common.h"

namespace fastnn::bind {

void bind_optim(py::module_& m) {}

}  // namespace fastnn::bind
