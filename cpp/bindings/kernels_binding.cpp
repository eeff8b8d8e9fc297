#include "bindings/kernels_binding.h"

#include <pybind11/numpy.h>
#include <pybind11/stl.h>

#include "kernels/activation.h"
#include "kernels/im2col.h"
#include "kernels/pooling.h"

namespace py = pybind11;

namespace recaffe {

using FArray = py::array_t<float, py::array::c_style | py::array::forcecast>;

void bind_kernels(py::module_& m) {
  py::module_ k = m.def_submodule("kernels", "kernel entry points for tests and benchmarks");
  k.def("activation",
        [](const std::string& type, FArray x, float slope, float lo, float hi) {
          ActivationParams a;
          a.kind = activation_from_type(type.c_str());
          if (a.kind == Activation::None) throw std::invalid_argument("unknown activation " + type);
          a.negative_slope = slope;
          a.lo = lo;
          a.hi = hi;
          py::array_t<float> out(x.request().shape);
          apply_activation(a, x.data(), out.mutable_data(), x.size());
          return out;
        },
        py::arg("type"), py::arg("x"), py::arg("negative_slope") = 0.f, py::arg("lo") = 0.f, py::arg("hi") = 0.f);
  k.def("pooled_size", &pooled_size);
  k.def("im2col", [](FArray x, int kh, int kw, int ph, int pw, int sh, int sw, int dh, int dw) {
    if (x.ndim() != 3) throw std::invalid_argument("im2col takes a (C, H, W) array");
    int64_t C = x.shape(0), H = x.shape(1), W = x.shape(2);
    int64_t Ho = (H + 2 * ph - (dh * (kh - 1) + 1)) / sh + 1, Wo = (W + 2 * pw - (dw * (kw - 1) + 1)) / sw + 1;
    py::array_t<float> col({C * kh * kw, Ho * Wo});
    im2col(x.data(), C, H, W, kh, kw, ph, pw, sh, sw, dh, dw, Ho, Wo, col.mutable_data());
    return col;
  });
}

}  // namespace recaffe
