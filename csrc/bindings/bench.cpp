#include "bindings/common.h"

namespace fastnn::bind {

void bind_bench(py::module_& m) {}

}  // namespace fastnn::bind
