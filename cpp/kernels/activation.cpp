#include "kernels/activation.h"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>

#include "core/cpu_features.h"
#include "kernels/activation_math.h"

namespace recaffe {

namespace {
struct ScalarV {
  using F = float;
  static F set1(float v) { return v; }
  static F add(F a, F b) { return a + b; }
  static F sub(F a, F b) { return a - b; }
  static F mul(F a, F b) { return a * b; }
  static F div(F a, F b) { return a / b; }
  static F fmadd(F a, F b, F c) { return std::fma(a, b, c); }
  static F min(F a, F b) { return a < b ? a : b; }  // same NaN/operand rules as vminps
  static F max(F a, F b) { return a > b ? a : b; }
  static F round_nearest(F a) { return std::nearbyint(a); }
  static F pow2n(F n) {
    int32_t bits = (static_cast<int32_t>(n) + 127) << 23;
    float out;
    std::memcpy(&out, &bits, 4);
    return out;
  }
  static F abs(F a) { return std::fabs(a); }
  static F copysign(F mag, F sign) { return std::copysign(mag, sign); }
  static F select_lt(F a, F b, F x, F y) { return a < b ? x : y; }
};
}  // namespace

namespace detail {

float sigmoid_ref(float x) { return actmath::sigmoid<ScalarV>(x); }
float tanh_ref(float x) { return actmath::tanh<ScalarV>(x); }

void activation_scalar(const ActivationParams& a, const float* in, float* out, int64_t n) {
  switch (a.kind) {
    case Activation::ReLU: {
      const float s = a.negative_slope;
      if (s == 0.f) {
        for (int64_t i = 0; i < n; ++i) out[i] = in[i] > 0.f ? in[i] : 0.f;
      } else {
        for (int64_t i = 0; i < n; ++i) out[i] = in[i] > 0.f ? in[i] : in[i] * s;
      }
      break;
    }
    case Activation::Sigmoid:
      for (int64_t i = 0; i < n; ++i) out[i] = sigmoid_ref(in[i]);
      break;
    case Activation::TanH:
      for (int64_t i = 0; i < n; ++i) out[i] = tanh_ref(in[i]);
      break;
    case Activation::Clip:
      for (int64_t i = 0; i < n; ++i) {
        const float m = in[i] > a.lo ? in[i] : a.lo;  // operand order of the vector code
        out[i] = m < a.hi ? m : a.hi;
      }
      break;
    case Activation::AbsVal:
      for (int64_t i = 0; i < n; ++i) out[i] = std::fabs(in[i]);
      break;
    case Activation::None:
      if (out != in) std::memcpy(out, in, sizeof(float) * n);
      break;
  }
}

}  // namespace detail

void apply_activation_serial(const ActivationParams& a, const float* in, float* out, int64_t n) {
  switch (best_isa()) {
    case Isa::Avx512: detail::activation_avx512(a, in, out, n); break;
    case Isa::Avx2: detail::activation_avx2(a, in, out, n); break;
    default: detail::activation_scalar(a, in, out, n); break;
  }
}

void apply_activation(const ActivationParams& a, const float* in, float* out, int64_t n) {
  // A parallel region costs more than it saves on a short memory-bound loop: waking the sleeping
  // OpenMP worker (OMP_WAIT_POLICY=PASSIVE) took ~50 us, the time of a serial ReLU over ~0.5M floats.
  // Sigmoid/TanH do more arithmetic per element, so they split earlier.
  const bool cheap = a.kind == Activation::ReLU || a.kind == Activation::Clip || a.kind == Activation::AbsVal;
  const int64_t kParallelMin = cheap ? (int64_t(1) << 20) : (int64_t(1) << 18);
  int nt = omp_get_max_threads();
  if (n < kParallelMin || nt <= 1 || omp_in_parallel()) {
    apply_activation_serial(a, in, out, n);
    return;
  }
#pragma omp parallel
  {
    int t = omp_get_thread_num(), T = omp_get_num_threads();
    // 64-byte aligned chunks
    int64_t chunk = ((n + T - 1) / T + 15) / 16 * 16;
    int64_t b = std::min<int64_t>(n, t * chunk), e = std::min<int64_t>(n, b + chunk);
    if (e > b) apply_activation_serial(a, in + b, out + b, e - b);
  }
}

bool activation_is_monotone(const ActivationParams& a) {
  switch (a.kind) {
    case Activation::ReLU: return a.negative_slope >= 0.f;
    case Activation::Sigmoid:
    case Activation::TanH:
    case Activation::Clip:
    case Activation::None: return true;
    default: return false;
  }
}

Activation activation_from_type(const char* type) {
  std::string t(type);
  if (t == "ReLU") return Activation::ReLU;
  if (t == "Sigmoid") return Activation::Sigmoid;
  if (t == "TanH") return Activation::TanH;
  if (t == "Clip") return Activation::Clip;
  if (t == "AbsVal") return Activation::AbsVal;
  return Activation::None;
}

}  // namespace recaffe
