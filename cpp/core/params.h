#pragma once
// Params: a layer's protobuf parameters as Python hands them over (recaffe/net.py converts the
// LayerParameter message generically, defaults filled in). Nested messages are Params too, so a
// layer reads `p.msg("convolution_param").uints("pad")` exactly as Caffe reads its proto.
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <variant>
#include <vector>

namespace recaffe {

class Params;
using ParamValue = std::variant<bool, int64_t, double, std::string, std::vector<int64_t>,
                                std::vector<double>, std::vector<std::string>, std::vector<Params>>;

class Params {
 public:
  // `owner` names the layer (and message) in error messages.
  explicit Params(std::string owner = "") : owner_(std::move(owner)) {}

  void set(const std::string& key, ParamValue value, bool explicitly_set);

  // Was the field given explicitly in the file (proto2 has-ness)?
  bool has(const std::string& key) const { return set_.count(key) > 0; }
  // Is the field known at all (set or defaulted)?
  bool contains(const std::string& key) const { return values_.count(key) > 0; }

  int64_t i(const std::string& key) const;
  int64_t i(const std::string& key, int64_t fallback) const;
  double f(const std::string& key) const;
  double f(const std::string& key, double fallback) const;
  bool b(const std::string& key) const;
  bool b(const std::string& key, bool fallback) const;
  std::string s(const std::string& key) const;
  std::string s(const std::string& key, const std::string& fallback) const;
  std::vector<int64_t> ints(const std::string& key) const;     // repeated integers (empty if absent)
  std::vector<double> floats(const std::string& key) const;    // repeated floats (empty if absent)
  std::vector<std::string> strings(const std::string& key) const;
  // A nested message; an empty Params when absent.
  const Params& msg(const std::string& key) const;
  std::vector<Params> msgs(const std::string& key) const;

  const std::string& owner() const { return owner_; }
  const std::map<std::string, ParamValue>& values() const { return values_; }

 private:
  const ParamValue& get(const std::string& key) const;
  [[noreturn]] void type_error(const std::string& key, const char* want) const;
  std::string owner_;
  std::map<std::string, ParamValue> values_;
  std::set<std::string> set_;
};

}  // namespace recaffe
