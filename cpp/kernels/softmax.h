#pragma once
// Softmax of one position: C values `stride` floats apart (the softmax axis of an (outer, C, inner)
// blob), written to y with the same stride: subtract the max, exp, divide by the sum (Caffe's order,
// so the float results match its softmax_layer.cpp). y may alias x.
#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstdint>

namespace recaffe {

inline void softmax_strided(const float* x, float* y, int64_t C, int64_t stride) {
  float m = -FLT_MAX;
  for (int64_t c = 0; c < C; ++c) m = std::max(m, x[c * stride]);
  float sum = 0.f;
  for (int64_t c = 0; c < C; ++c) sum += (y[c * stride] = std::exp(x[c * stride] - m));
  for (int64_t c = 0; c < C; ++c) y[c * stride] /= sum;
}

}  // namespace recaffe
