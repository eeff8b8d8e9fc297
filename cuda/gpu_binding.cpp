#include "gpu_binding.h"

#include <pybind11/stl.h>

#include "cublas_dyn.h"
#include "gpu_net.h"

namespace py = pybind11;

namespace recaffe {

void bind_cuda(py::module_& m) {
  py::module_ c = m.def_submodule("cuda", "the CUDA backend");
  c.def("available", []() {
    std::string why;
    bool ok = cuda::device_available(&why);
    return py::make_tuple(ok, why);
  });
  c.def("cublas_library", &cuda::cublas_library);
  py::class_<cuda::GpuNet>(c, "GpuNet")
      .def(py::init<Net&, int>(), py::keep_alive<1, 2>(), py::arg("net"), py::arg("device") = 0)
      .def("forward", &cuda::GpuNet::forward, py::call_guard<py::gil_scoped_release>())
      .def("forward_timed",
           [](cuda::GpuNet& g, int s, int e) {
             std::vector<double> t;
             {
               py::gil_scoped_release r;
               g.forward_timed(s, e, &t);
             }
             return t;
           })
      .def("download", [](cuda::GpuNet& g, std::shared_ptr<Tensor> t) { g.download(*t); })
      .def("synchronize", &cuda::GpuNet::synchronize)
      .def("layer_kind", &cuda::GpuNet::layer_kind)
      .def("device_name", &cuda::GpuNet::device_name);
}

}  // namespace recaffe
