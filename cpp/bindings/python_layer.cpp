#include "bindings/python_layer.h"

#include <pybind11/numpy.h>
#include <pybind11/stl.h>

namespace py = pybind11;

namespace recaffe {

namespace {
class PythonLayer : public Layer {
 public:
  PythonLayer(const LayerSpec& spec, py::object impl) : Layer(spec), impl_(std::move(impl)) {}
  ~PythonLayer() override {
    py::gil_scoped_acquire gil;
    impl_ = py::object();
  }

  void reshape(const TensorVec& bottom, const TensorVec& top) override {
    py::gil_scoped_acquire gil;
    py::list shapes;
    for (Tensor* b : bottom) shapes.append(py::tuple(py::cast(b->shape())));
    py::object result;
    try {
      result = impl_.attr("reshape")(shapes);
    } catch (py::error_already_set& e) {
      throw LayerError(name(), std::string("Python layer reshape failed: ") + e.what());
    }
    auto tops = py::cast<std::vector<std::vector<int64_t>>>(result);
    RC_CHECK(tops.size() == top.size(), "Python layer reshape returned ", tops.size(), " shapes for ", top.size(), " tops");
    for (size_t i = 0; i < top.size(); ++i) top[i]->reshape(tops[i]);
  }

  void forward(const TensorVec& bottom, const TensorVec& top) override {
    // Views need shared_ptrs; wrap the raw tensors without ownership.
    py::gil_scoped_acquire gil;
    py::list bs, ts;
    for (Tensor* b : bottom) bs.append(tensor_view(std::shared_ptr<Tensor>(b, [](Tensor*) {})));
    for (Tensor* t : top) ts.append(tensor_view(std::shared_ptr<Tensor>(t, [](Tensor*) {})));
    try {
      impl_.attr("forward")(bs, ts);
    } catch (py::error_already_set& e) {
      throw LayerError(name(), std::string("Python layer forward failed: ") + e.what());
    }
  }

  bool allows_in_place() const override { return true; }

 private:
  py::object impl_;
};
}  // namespace

std::unique_ptr<Layer> make_python_layer(const LayerSpec& spec, py::object impl) {
  return std::make_unique<PythonLayer>(spec, std::move(impl));
}

}  // namespace recaffe
