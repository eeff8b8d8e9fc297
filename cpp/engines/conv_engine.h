#pragma once
// One convolution layer, many engines. An engine is a small object the Convolution layer owns:
// it may re-lay out the weights once (prepare), asks for scratch space, and runs the forward for
// a whole batch. A new engine is one file ending in RECAFFE_REGISTER_CONV_ENGINE("name", Class).
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "kernels/conv_geometry.h"

namespace recaffe {

class ConvEngine {
 public:
  virtual ~ConvEngine() = default;
  virtual const char* name() const = 0;
  // "" when the engine can run this geometry, else the reason it cannot.
  virtual std::string unsupported(const ConvGeometry& g) const { return ""; }
  // Called when the geometry or the weights changed: re-lay out the weights here.
  virtual void prepare(const ConvGeometry& g, const float* weights, const float* bias) {}
  // Scratch floats forward() needs.
  virtual size_t workspace_floats(const ConvGeometry& g) const { return 0; }
  // weights: [K, C/group, kh, kw]; bias: [K] or null; in: [N, C, H, W]; out: [N, K, Ho, Wo].
  virtual void forward(const ConvGeometry& g, const float* in, const float* weights, const float* bias, float* out,
                       float* workspace) = 0;
};

using ConvEngineOptions = std::map<std::string, std::string>;
using ConvEngineCreator = std::function<std::unique_ptr<ConvEngine>(const ConvEngineOptions&)>;

class ConvEngineRegistry {
 public:
  static void add(const std::string& name, ConvEngineCreator creator);
  static bool has(const std::string& name);
  // Throws std::invalid_argument listing the known engines.
  static std::unique_ptr<ConvEngine> create(const std::string& name, const ConvEngineOptions& options);
  static std::vector<std::string> names();

 private:
  static std::map<std::string, ConvEngineCreator>& table();
};

struct ConvEngineRegistrar {
  ConvEngineRegistrar(const std::string& name, ConvEngineCreator c) { ConvEngineRegistry::add(name, std::move(c)); }
};

// Parse "key=value" strings into options.
ConvEngineOptions parse_engine_options(const std::vector<std::string>& items);

// Adds bias[k] to every output of channel k: Caffe's rank-1 update bias * ones^T, for one image.
void add_bias(float* out, const float* bias, int64_t K, int64_t hw);

// The bias placed before the GEMM instead of added after it: out[k * ld + i] = bias[k] for i < cols,
// and the caller's sgemm accumulates onto it (beta = 1). OpenBLAS skips its beta pass when beta is
// 1 but runs a zeroing pass when it is 0, so this saves two passes over the output (the zeroing and
// the separate bias pass): most of the overhead of thin GEMMs such as VGG16's conv1_1 (K = 27).
// Returns the beta to use: 1 with a bias, 0 without (nothing is written then).
float bias_as_gemm_init(float* out, const float* bias, int64_t K, int64_t cols, int64_t ld);

}  // namespace recaffe

#define RECAFFE_REGISTER_CONV_ENGINE(NAME, CLASS)                                                   \
  static ::recaffe::ConvEngineRegistrar RC_CONCAT(rc_engine_registrar_, __LINE__)(                 \
      NAME, [](const ::recaffe::ConvEngineOptions& o) -> std::unique_ptr<::recaffe::ConvEngine> { \
        return std::make_unique<CLASS>(o);                                                        \
      })
#ifndef RC_CONCAT
#define RC_CONCAT_INNER(a, b) a##b
#define RC_CONCAT(a, b) RC_CONCAT_INNER(a, b)
#endif
