#pragma once
// Element-wise activations. Every element goes through the same code path whatever its position
// (vector tails use masks or a padded block, never a different scalar formula), so applying an
// activation before or after max pooling gives bit-identical results: the reorder transform's
// exactness rests on this. Large arrays are split across the OpenMP threads.
#include <cstdint>

namespace recaffe {

enum class Activation { None = 0, ReLU, Sigmoid, TanH, Clip, AbsVal };

struct ActivationParams {
  Activation kind = Activation::None;
  float negative_slope = 0.f;  // ReLU
  float lo = 0.f, hi = 0.f;    // Clip
};

// out may equal in (in place).
void apply_activation(const ActivationParams& a, const float* in, float* out, int64_t n);
// Single-threaded variant for callers already inside a parallel region (fused kernels).
void apply_activation_serial(const ActivationParams& a, const float* in, float* out, int64_t n);

// Is f non-decreasing, so that max(f(x_i)) == f(max(x_i)) exactly?
bool activation_is_monotone(const ActivationParams& a);

Activation activation_from_type(const char* type);  // "ReLU" -> ReLU; None if not an activation

namespace detail {
// ISA variants (activation_avx512.cpp, activation_avx2.cpp, activation.cpp): serial, any n.
void activation_scalar(const ActivationParams& a, const float* in, float* out, int64_t n);
void activation_avx2(const ActivationParams& a, const float* in, float* out, int64_t n);
void activation_avx512(const ActivationParams& a, const float* in, float* out, int64_t n);
// Scalar twins of the vector formulas (same operations, same order) for the scalar build.
float sigmoid_ref(float x);
float tanh_ref(float x);
}  // namespace detail

}  // namespace recaffe
