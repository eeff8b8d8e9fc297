#pragma once
#include <pybind11/pybind11.h>
namespace recaffe {
// recaffe._core.cuda: the GPU executor (only in builds with RECAFFE_CUDA=ON).
void bind_cuda(pybind11::module_& m);
}
