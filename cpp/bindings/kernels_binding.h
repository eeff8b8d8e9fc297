#pragma once
#include <pybind11/pybind11.h>
namespace recaffe {
// Kernel-level entry points for tests and micro-benchmarks (recaffe._core.kernels).
void bind_kernels(pybind11::module_& m);
}
