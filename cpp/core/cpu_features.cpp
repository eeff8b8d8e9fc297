#include "core/cpu_features.h"

#include <cstdlib>
#include <cstring>

namespace recaffe {

namespace {
Isa detect() {
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
      __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl"))
    return Isa::Avx512;
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return Isa::Avx2;
  return Isa::Scalar;
}

Isa initial_cap() {
  const char* env = std::getenv("RECAFFE_ISA");
  if (!env) return Isa::Avx512;
  if (!std::strcmp(env, "scalar")) return Isa::Scalar;
  if (!std::strcmp(env, "avx2")) return Isa::Avx2;
  return Isa::Avx512;
}

Isa g_cap = initial_cap();
}  // namespace

Isa best_isa() {
  static const Isa hw = detect();
  return hw < g_cap ? hw : g_cap;
}

void set_max_isa(Isa isa) { g_cap = isa; }

const char* isa_name(Isa isa) {
  switch (isa) {
    case Isa::Avx512: return "avx512";
    case Isa::Avx2: return "avx2";
    default: return "scalar";
  }
}

}  // namespace recaffe
