#include "core/params.h"

#include "core/errors.h"

namespace recaffe {

void Params::set(const std::string& key, ParamValue value, bool explicitly_set) {
  values_[key] = std::move(value);
  if (explicitly_set) set_.insert(key);
}

const ParamValue& Params::get(const std::string& key) const {
  auto it = values_.find(key);
  if (it == values_.end()) throw LayerError(owner_, str_cat("missing parameter '", key, "'"));
  return it->second;
}

void Params::type_error(const std::string& key, const char* want) const {
  throw LayerError(owner_, str_cat("parameter '", key, "' is not ", want));
}

int64_t Params::i(const std::string& key) const {
  const ParamValue& v = get(key);
  if (auto p = std::get_if<int64_t>(&v)) return *p;
  if (auto p = std::get_if<bool>(&v)) return *p ? 1 : 0;
  type_error(key, "an integer");
}

int64_t Params::i(const std::string& key, int64_t fallback) const { return contains(key) ? i(key) : fallback; }

double Params::f(const std::string& key) const {
  const ParamValue& v = get(key);
  if (auto p = std::get_if<double>(&v)) return *p;
  if (auto p = std::get_if<int64_t>(&v)) return static_cast<double>(*p);
  type_error(key, "a number");
}

double Params::f(const std::string& key, double fallback) const { return contains(key) ? f(key) : fallback; }

bool Params::b(const std::string& key) const {
  const ParamValue& v = get(key);
  if (auto p = std::get_if<bool>(&v)) return *p;
  if (auto p = std::get_if<int64_t>(&v)) return *p != 0;
  type_error(key, "a boolean");
}

bool Params::b(const std::string& key, bool fallback) const { return contains(key) ? b(key) : fallback; }

std::string Params::s(const std::string& key) const {
  const ParamValue& v = get(key);
  if (auto p = std::get_if<std::string>(&v)) return *p;
  type_error(key, "a string");
}

std::string Params::s(const std::string& key, const std::string& fallback) const {
  return contains(key) ? s(key) : fallback;
}

std::vector<int64_t> Params::ints(const std::string& key) const {
  if (!contains(key)) return {};
  const ParamValue& v = get(key);
  if (auto p = std::get_if<std::vector<int64_t>>(&v)) return *p;
  if (auto p = std::get_if<int64_t>(&v)) return {*p};
  if (auto p = std::get_if<std::vector<double>>(&v)) {
    if (p->empty()) return {};
  }
  type_error(key, "a list of integers");
}

std::vector<double> Params::floats(const std::string& key) const {
  if (!contains(key)) return {};
  const ParamValue& v = get(key);
  if (auto p = std::get_if<std::vector<double>>(&v)) return *p;
  if (auto p = std::get_if<std::vector<int64_t>>(&v)) return std::vector<double>(p->begin(), p->end());
  if (auto p = std::get_if<double>(&v)) return {*p};
  type_error(key, "a list of numbers");
}

std::vector<std::string> Params::strings(const std::string& key) const {
  if (!contains(key)) return {};
  const ParamValue& v = get(key);
  if (auto p = std::get_if<std::vector<std::string>>(&v)) return *p;
  if (auto p = std::get_if<std::string>(&v)) return {*p};
  if (auto p = std::get_if<std::vector<int64_t>>(&v)) {
    if (p->empty()) return {};
  }
  type_error(key, "a list of strings");
}

const Params& Params::msg(const std::string& key) const {
  static const Params empty;
  if (!contains(key)) return empty;
  const ParamValue& v = get(key);
  if (auto p = std::get_if<std::vector<Params>>(&v)) {
    if (p->empty()) return empty;
    return p->front();
  }
  type_error(key, "a message");
}

std::vector<Params> Params::msgs(const std::string& key) const {
  if (!contains(key)) return {};
  const ParamValue& v = get(key);
  if (auto p = std::get_if<std::vector<Params>>(&v)) return *p;
  if (auto p = std::get_if<std::vector<int64_t>>(&v)) {
    if (p->empty()) return {};
  }
  type_error(key, "a list of messages");
}

}  // namespace recaffe
