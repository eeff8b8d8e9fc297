#pragma once
#include <pybind11/pybind11.h>
namespace recaffe {
// ViP kernels for tests and micro-benchmarks (recaffe._core.vip).
void bind_vip(pybind11::module_& m);
}
