#pragma once
// Caffe's pooling (pooling_layer.cpp) as plain functions over NCHW planes.
// MAX: window [p*s - pad, p*s - pad + k) clipped to the image; padded cells are skipped; strict >
//   from -FLT_MAX, so ties keep the first element in row-major order.
// AVE: the divisor is the window size clipped to [-pad, H + pad) *before* clipping to the image.
#include <cstdint>

#include "kernels/activation.h"

namespace recaffe {

enum class PoolMethod { Max = 0, Ave = 1, Stochastic = 2 };

struct PoolGeometry {
  int64_t planes = 0;  // N * C
  int64_t H = 0, W = 0, Ho = 0, Wo = 0;
  int kh = 1, kw = 1, sh = 1, sw = 1, ph = 0, pw = 0;
};

// Caffe's output size: ceil (or floor) of (H + 2p - k) / s, computed in float as Caffe does, plus
// one; then, with padding, the last window must start inside the image plus its leading pad.
int64_t pooled_size(int64_t H, int k, int s, int p, bool ceil_mode);

// Pools one H x W plane of g (g.planes is ignored); serial. colmax: g.W floats of scratch.
void pool_plane(PoolMethod method, const PoolGeometry& g, const float* x, float* y, float* colmax);

// Pools every plane; when act.kind != None applies the activation to each output plane while it
// is still in cache (the fused pool+activation of the reorder experiment).
void pool_forward(PoolMethod method, const PoolGeometry& g, const float* in, float* out,
                  const ActivationParams& act);

}  // namespace recaffe
