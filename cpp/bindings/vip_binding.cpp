#include "bindings/vip_binding.h"

#include <pybind11/numpy.h>

#include <stdexcept>

#include "kernels/vip_interp.h"

namespace py = pybind11;

namespace recaffe {

void bind_vip(py::module_& m) {
  py::module_ v = m.def_submodule("vip", "virtual pooling kernels");
  v.def(
      "interpolate",
      [](py::array_t<float, py::array::c_style | py::array::forcecast> x, int64_t Ho, int64_t Wo) {
        if (x.ndim() != 4) throw std::invalid_argument("vip.interpolate takes an (N, C, H, W) array");
        const int64_t N = x.shape(0), C = x.shape(1), H = x.shape(2), W = x.shape(3);
        if (Ho <= 0) Ho = 2 * H;
        if (Wo <= 0) Wo = 2 * W;
        if (!vip_size_ok(H, Ho) || !vip_size_ok(W, Wo))
          throw std::invalid_argument("vip.interpolate: output size must be 2H-1 or 2H on each axis");
        py::array_t<float> out({N, C, Ho, Wo});
        {
          py::gil_scoped_release r;
          vip_interpolate(x.data(), out.mutable_data(), N * C, H, W, Ho, Wo);
        }
        return out;
      },
      py::arg("x"), py::arg("height") = 0, py::arg("width") = 0);
}

}  // namespace recaffe
