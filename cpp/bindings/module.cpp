// recaffe._core: the Python face of the C++ engine. Arrays cross without copies where the layout
// allows (blob and parameter views share the tensor's buffer).
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cstring>
#include <set>

#include "core/blas.h"
#include "core/cpu_features.h"
#include "core/layer.h"
#include "core/net.h"
#include "core/parallel.h"
#include "engines/conv_engine.h"
#include "layers/convolution_layer.h"
#include "bindings/python_layer.h"
#include "bindings/kernels_binding.h"
#include "bindings/toomcook_binding.h"
#include "bindings/vip_binding.h"
#ifdef RECAFFE_WITH_CUDA
#include "gpu_binding.h"
#endif

namespace py = pybind11;
using namespace recaffe;

namespace recaffe {

Params params_from_dict(const py::dict& d, const std::string& owner) {
  Params p(owner);
  std::set<std::string> explicit_set;
  if (d.contains("__set__"))
    for (auto item : d["__set__"]) explicit_set.insert(py::cast<std::string>(item));
  for (auto kv : d) {
    std::string key = py::cast<std::string>(kv.first);
    if (key == "__set__") continue;
    py::handle v = kv.second;
    bool is_set = explicit_set.count(key) > 0;
    if (py::isinstance<py::bool_>(v)) {
      p.set(key, py::cast<bool>(v), is_set);
    } else if (py::isinstance<py::int_>(v)) {
      p.set(key, py::cast<int64_t>(v), is_set);
    } else if (py::isinstance<py::float_>(v)) {
      p.set(key, py::cast<double>(v), is_set);
    } else if (py::isinstance<py::str>(v)) {
      p.set(key, py::cast<std::string>(v), is_set);
    } else if (py::isinstance<py::dict>(v)) {
      p.set(key, std::vector<Params>{params_from_dict(py::reinterpret_borrow<py::dict>(v), owner)}, true);
    } else if (py::isinstance<py::list>(v) || py::isinstance<py::tuple>(v)) {
      py::sequence seq = py::reinterpret_borrow<py::sequence>(v);
      if (seq.size() == 0) {
        p.set(key, std::vector<int64_t>{}, false);
        continue;
      }
      py::handle first = seq[0];
      if (py::isinstance<py::dict>(first)) {
        std::vector<Params> items;
        for (auto item : seq) items.push_back(params_from_dict(py::reinterpret_borrow<py::dict>(item), owner));
        p.set(key, std::move(items), true);
      } else if (py::isinstance<py::str>(first)) {
        p.set(key, py::cast<std::vector<std::string>>(seq), true);
      } else if (py::isinstance<py::float_>(first)) {
        p.set(key, py::cast<std::vector<double>>(seq), true);
      } else {
        bool any_float = false;
        for (auto item : seq) any_float |= py::isinstance<py::float_>(item);
        if (any_float) p.set(key, py::cast<std::vector<double>>(seq), true);
        else p.set(key, py::cast<std::vector<int64_t>>(seq), true);
      }
    } else if (v.is_none()) {
      continue;
    } else {
      throw LayerError(owner, "parameter '" + key + "' has an unsupported Python type");
    }
  }
  return p;
}

py::array tensor_view(const std::shared_ptr<Tensor>& t) {
  std::vector<py::ssize_t> shape(t->shape().begin(), t->shape().end());
  std::vector<py::ssize_t> strides(shape.size());
  py::ssize_t s = sizeof(float);
  for (int i = static_cast<int>(shape.size()) - 1; i >= 0; --i) {
    strides[i] = s;
    s *= std::max<py::ssize_t>(shape[i], 1);
  }
  auto buf = new std::shared_ptr<Buffer>(t->buffer());
  py::capsule owner(buf, [](void* p) { delete static_cast<std::shared_ptr<Buffer>*>(p); });
  return py::array(py::dtype::of<float>(), shape, strides, (*buf)->ptr, owner);
}

void tensor_set(Tensor& t, py::array_t<float, py::array::c_style | py::array::forcecast> a) {
  std::vector<int64_t> shape(a.shape(), a.shape() + a.ndim());
  if (shape != t.shape())
    throw LayerError("", "cannot copy an array of shape " + shape_to_string(shape) + " into a tensor of shape " +
                             t.shape_string());
  std::memcpy(t.data(), a.data(), sizeof(float) * t.count());
  t.bump_version();
}

}  // namespace recaffe

PYBIND11_MODULE(_core, m) {
  m.doc() = "recaffe C++ core";
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const LayerError& e) {
      py::object cls = py::module_::import("recaffe.errors").attr("LayerError");
      py::object err = cls(e.what(), py::arg("layer") = e.layer());
      PyErr_SetObject(cls.ptr(), err.ptr());
    } catch (const ResourceError& e) {
      PyErr_SetString(py::module_::import("recaffe.errors").attr("ResourceError").ptr(), e.what());
    }
  });

  py::class_<Tensor, std::shared_ptr<Tensor>>(m, "Tensor")
      .def(py::init<>())
      .def(py::init<const std::vector<int64_t>&>())
      .def_property_readonly("shape", [](const Tensor& t) { return py::tuple(py::cast(t.shape())); })
      .def_property_readonly("count", [](const Tensor& t) { return t.count(); })
      .def("view", &tensor_view, "A numpy view of the tensor's memory (no copy).")
      .def("set", &tensor_set, "Copy an array of the same shape in.")
      .def("reshape", &Tensor::reshape)
      .def("bump_version", &Tensor::bump_version)
      .def_property_readonly("version", &Tensor::version)
      .def("shares_data_with", &Tensor::shares_data_with);

  py::class_<Net>(m, "Net")
      .def(py::init<>())
      .def("add_layer",
           [](Net& net, const std::string& name, const std::string& type, const py::dict& params,
              const std::vector<std::string>& bottoms, const std::vector<std::string>& tops, const std::string& phase) {
             LayerSpec spec{name, type, params_from_dict(params, name), bottoms, tops, phase};
             net.add_layer(spec);
           })
      .def("add_python_layer",
           [](Net& net, const std::string& name, const std::string& type, const py::dict& params,
              const std::vector<std::string>& bottoms, const std::vector<std::string>& tops, const std::string& phase,
              py::object impl) {
             LayerSpec spec{name, type, params_from_dict(params, name), bottoms, tops, phase};
             net.add_layer(spec, make_python_layer(spec, impl));
           })
      .def("init", &Net::init, py::arg("memory_cap"))
      .def("reshape", &Net::reshape, py::call_guard<py::gil_scoped_release>())
      .def("forward", &Net::forward, py::call_guard<py::gil_scoped_release>())
      .def("forward_timed",
           [](Net& net, int start, int end) {
             std::vector<double> times;
             {
               py::gil_scoped_release release;
               net.forward_timed(start, end, &times);
             }
             return times;
           })
      .def("memory_bytes", &Net::memory_bytes)
      .def("num_layers", &Net::num_layers)
      .def("layer_index", &Net::layer_index)
      .def("layer_name", [](Net& n, int i) { return n.layer(i).name(); })
      .def("layer_type", [](Net& n, int i) { return n.layer(i).type(); })
      .def("layer_describe", [](Net& n, int i) { return n.layer(i).describe(); })
      .def("layer_blobs", [](Net& n, int i) { return n.layer(i).blobs(); })
      .def("bottom_names", &Net::bottom_names)
      .def("top_names", &Net::top_names)
      .def("blob_names", &Net::blob_names)
      .def("has_blob", &Net::has_blob)
      .def("blob", &Net::blob)
      .def("set_conv_engine",
           [](Net& n, int i, const std::string& engine, const std::vector<std::string>& options) {
             auto* conv = dynamic_cast<ConvolutionLayer*>(&n.layer(i));
             if (!conv) throw LayerError(n.layer(i).name(), "is not a convolution layer; it has no engine");
             conv->set_engine(engine, parse_engine_options(options));
           })
      .def("conv_engine", [](Net& n, int i) -> std::string {
        auto* conv = dynamic_cast<ConvolutionLayer*>(&n.layer(i));
        return conv ? conv->engine_name() : "";
      });

  m.def("set_num_threads", &set_num_threads, "Threads for recaffe's kernels and for BLAS (0 = all cores).");
  m.def("num_threads", &num_threads);
  m.def("default_num_threads", &default_num_threads);
  m.def("blas_name", &blas_name);
  m.def("isa", []() { return std::string(isa_name(best_isa())); });
  m.def("set_max_isa", [](const std::string& name) {
    if (name == "scalar") set_max_isa(Isa::Scalar);
    else if (name == "avx2") set_max_isa(Isa::Avx2);
    else if (name == "avx512") set_max_isa(Isa::Avx512);
    else throw std::invalid_argument("ISA must be scalar, avx2 or avx512");
  });
  m.def("layer_types", &LayerRegistry::types);
  m.def("conv_engines", &ConvEngineRegistry::names);
  m.def("blas_set_own_threads", &blas_set_num_threads,
        "Set OpenBLAS's own thread pool (benchmarks only; recaffe keeps it at 1 and splits work itself).");
  m.def("sgemm_parallel",
        [](py::array_t<float, py::array::c_style | py::array::forcecast> a,
           py::array_t<float, py::array::c_style | py::array::forcecast> b, py::object out) {
          if (a.ndim() != 2 || b.ndim() != 2 || a.shape(1) != b.shape(0))
            throw std::invalid_argument("sgemm needs A[M,K] and B[K,N]");
          // a preallocated `out` keeps page faults of a fresh result out of benchmark timings
          if (!out.is_none() && !py::isinstance<py::array_t<float>>(out))
            throw std::invalid_argument("sgemm: out must be a float32 array");
          py::array_t<float> c = out.is_none() ? py::array_t<float>({a.shape(0), b.shape(1)})
                                               : out.cast<py::array_t<float>>();
          if (c.ndim() != 2 || c.shape(0) != a.shape(0) || c.shape(1) != b.shape(1) ||
              !(c.flags() & py::array::c_style))
            throw std::invalid_argument("sgemm: out must be a C-contiguous float32 [M, N] array");
          int M = static_cast<int>(a.shape(0)), N = static_cast<int>(b.shape(1)), K = static_cast<int>(a.shape(1));
          const float* pa = a.data();
          const float* pb = b.data();
          float* pc = c.mutable_data();
          {
            py::gil_scoped_release r;
            sgemm_parallel(false, false, M, N, K, 1.f, pa, K, pb, N, 0.f, pc, N);
          }
          return c;
        },
        "C = A @ B split across recaffe's threads, each calling single-threaded BLAS.", py::arg("a"), py::arg("b"),
        py::arg("out") = py::none());
  m.def("sgemm",
        [](py::array_t<float, py::array::c_style | py::array::forcecast> a,
           py::array_t<float, py::array::c_style | py::array::forcecast> b) {
          if (a.ndim() != 2 || b.ndim() != 2 || a.shape(1) != b.shape(0))
            throw std::invalid_argument("sgemm needs A[M,K] and B[K,N]");
          py::array_t<float> c({a.shape(0), b.shape(1)});
          const float* pa = a.data();
          const float* pb = b.data();
          float* pc = c.mutable_data();
          int M = static_cast<int>(a.shape(0)), N = static_cast<int>(b.shape(1)), K = static_cast<int>(a.shape(1));
          {
            py::gil_scoped_release r;
            sgemm(false, false, M, N, K, 1.f, pa, pb, 0.f, pc);
          }
          return c;
        },
        "C = A @ B through the BLAS recaffe uses (for benchmarks).");
  bind_kernels(m);
  bind_toomcook(m);
  bind_vip(m);
#ifdef RECAFFE_WITH_CUDA
  bind_cuda(m);
  m.attr("cuda_built") = true;
#else
  m.attr("cuda_built") = false;
#endif
}
