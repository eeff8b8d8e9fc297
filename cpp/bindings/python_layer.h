#pragma once
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <memory>

#include "core/layer.h"

namespace recaffe {
// A layer whose reshape/forward are Python methods (recaffe.register_layer).
std::unique_ptr<Layer> make_python_layer(const LayerSpec& spec, pybind11::object impl);
pybind11::array tensor_view(const std::shared_ptr<Tensor>& t);
}  // namespace recaffe
