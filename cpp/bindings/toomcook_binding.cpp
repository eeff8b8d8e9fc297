#include "bindings/toomcook_binding.h"

#include <pybind11/numpy.h>
#include <pybind11/stl.h>

#include "kernels/toomcook_matrices.h"

namespace py = pybind11;

namespace recaffe {

void bind_toomcook(py::module_& m) {
  m.def(
      "toomcook_matrices",
      [](int m_, int r, std::vector<std::string> points) {
        ToomCookMatrices t = toomcook_matrices(m_, r, points);
        auto arr = [](const std::vector<double>& v, int rows, int cols) {
          py::array_t<double> a({rows, cols});
          std::copy(v.begin(), v.end(), a.mutable_data());
          return a;
        };
        py::dict d;
        d["AT"] = arr(t.AT, t.m, t.alpha);
        d["G"] = arr(t.G, t.alpha, t.r);
        d["BT"] = arr(t.BT, t.alpha, t.alpha);
        d["points"] = t.points;
        return d;
      },
      py::arg("m"), py::arg("r"), py::arg("points") = std::vector<std::string>{},
      "Toom-Cook F(m, r) as the C++ engines build it: {AT, G, BT, points}.");
}

}  // namespace recaffe
