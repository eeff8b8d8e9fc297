#include "engines/conv_engine.h"

#include <omp.h>

#include <algorithm>
#include <stdexcept>

namespace recaffe {

std::map<std::string, ConvEngineCreator>& ConvEngineRegistry::table() {
  static std::map<std::string, ConvEngineCreator> t;
  return t;
}

void ConvEngineRegistry::add(const std::string& name, ConvEngineCreator c) { table()[name] = std::move(c); }

bool ConvEngineRegistry::has(const std::string& name) { return table().count(name) > 0; }

std::unique_ptr<ConvEngine> ConvEngineRegistry::create(const std::string& name, const ConvEngineOptions& options) {
  auto it = table().find(name);
  if (it == table().end()) {
    std::string known;
    for (auto& kv : table()) known += (known.empty() ? "" : ", ") + kv.first;
    throw std::invalid_argument("unknown convolution engine '" + name + "' (known engines: " + known + ")");
  }
  return it->second(options);
}

std::vector<std::string> ConvEngineRegistry::names() {
  std::vector<std::string> out;
  for (auto& kv : table()) out.push_back(kv.first);
  return out;
}

ConvEngineOptions parse_engine_options(const std::vector<std::string>& items) {
  ConvEngineOptions out;
  for (const auto& item : items) {
    auto eq = item.find('=');
    if (eq == std::string::npos) throw std::invalid_argument("engine option '" + item + "' is not key=value");
    out[item.substr(0, eq)] = item.substr(eq + 1);
  }
  return out;
}

void add_bias(float* out, const float* bias, int64_t K, int64_t hw) {
#pragma omp parallel for schedule(static) if (K * hw > 32768)
  for (int64_t k = 0; k < K; ++k) {
    float* o = out + k * hw;
    const float b = bias[k];
    for (int64_t i = 0; i < hw; ++i) o[i] += b;
  }
}

float bias_as_gemm_init(float* out, const float* bias, int64_t K, int64_t cols, int64_t ld) {
  if (!bias) return 0.f;
#pragma omp parallel for schedule(static) if (K * cols > 32768 && !omp_in_parallel())
  for (int64_t k = 0; k < K; ++k) std::fill_n(out + k * ld, cols, bias[k]);
  return 1.f;
}

}  // namespace recaffe
