#pragma once
// Stride-1 convolution by nested Toom-Cook tiles: F(my, ry) along the rows (H) and F(mx, rx) along
// the columns (W); F(1,1) is the identity, so F(m,r) x F(1,1) is a 1-D r x 1 convolution (the
// vertical FALCON stage), F(1,1) x F(m,r) a 1 x r one, F(m,r) x F(m,r) Winograd's 2-D F(mxm, rxr).
// Per chunk of tile rows: input transform V = BT_y d BT_x^T (row combinations, SIMD), ay*ax
// independent GEMMs in the transform domain M[e] (K x P) = U[e] (K x C) * V[e] (C x P) through
// BLAS, inverse transform Y = AT_y M AT_x^T (+ bias). Each phase splits across the OpenMP threads
// by channel / GEMM / output channel, and each GEMM runs on one thread, so 1 and N threads give
// identical outputs.
#include <cstdint>
#include <vector>

#include "kernels/conv_geometry.h"
#include "kernels/toomcook_matrices.h"

namespace recaffe {

struct TiledConvPlan {
  ToomCookMatrices fy, fx;   // along H and along W
  int64_t K = 0, C = 0;
  std::vector<float> U;      // [ay*ax][K][C] transformed filters
  std::vector<float> ATy, BTy, ATx, BTx;
};

// The identity F(1,1).
ToomCookMatrices identity_transform();

// U = G_y w G_x^T per (k, c) in double, rounded once to float; weights [K][C][ry][rx].
void tiled_conv_prepare(TiledConvPlan& p, const float* weights, int64_t K, int64_t C);
size_t tiled_conv_workspace_floats(const TiledConvPlan& p, const ConvGeometry& g, int threads);
// g must be stride 1, dilation 1, group 1 with kh == fy.r and kw == fx.r (the engines check).
void tiled_conv_forward(const TiledConvPlan& p, const ConvGeometry& g, const float* in, const float* bias, float* out,
                        float* ws);

}  // namespace recaffe
