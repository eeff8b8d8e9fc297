#pragma once
#include <pybind11/pybind11.h>
namespace recaffe {
// recaffe._core.toomcook_matrices(m, r, points): the C++ engines' transform matrices, for the tests
// that check them against python/recaffe/toomcook.py.
void bind_toomcook(pybind11::module_& m);
}
