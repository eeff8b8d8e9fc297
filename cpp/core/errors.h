#pragma once
// Errors raised by the core. pybind11 maps them to recaffe.errors classes (see bindings), so a
// user sees a Python exception naming the layer and the offending field or value.
#include <sstream>
#include <stdexcept>
#include <string>

namespace recaffe {

// A problem with a network definition, a layer's parameters, weights or input shapes.
class LayerError : public std::runtime_error {
 public:
  LayerError(const std::string& layer, const std::string& what)
      : std::runtime_error(layer.empty() ? what : "layer '" + layer + "': " + what), layer_(layer) {}
  const std::string& layer() const { return layer_; }

 private:
  std::string layer_;
};

// A request the engine refuses for resource reasons (memory cap, absurd dimension).
class ResourceError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

template <typename... Args>
std::string str_cat(const Args&... args) {
  std::ostringstream os;
  (os << ... << args);
  return os.str();
}

}  // namespace recaffe

// Check a condition inside a layer; on failure throw a LayerError naming this layer.
#define RC_CHECK(cond, ...)                                                   \
  do {                                                                        \
    if (!(cond)) throw ::recaffe::LayerError(name(), ::recaffe::str_cat(__VA_ARGS__)); \
  } while (0)
