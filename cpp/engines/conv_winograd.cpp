// The winograd engine: 2-D kernels by nesting 1-D Toom-Cook tiles, F(m x m, kh x kw) (Lavin's
// F(2x2,3x3) and F(4x4,3x3): 2.25x and 4x fewer multiplications), with the ay*ax products in the
// transform domain as batched GEMMs through BLAS. Options: tile=m (default 4), points=...
#include "engines/conv_tiled.h"

namespace recaffe {

class WinogradConvEngine : public TiledConvEngine {
 public:
  explicit WinogradConvEngine(const ConvEngineOptions& o) : TiledConvEngine(o, 4) {}
  const char* name() const override { return "winograd"; }

 protected:
  std::string shape_unsupported(const ConvGeometry& g) const override {
    if (g.kh < 2 || g.kw < 2)
      return "kernel " + std::to_string(g.kh) + "x" + std::to_string(g.kw) +
             ": winograd runs 2-D kernels (use toomcook1d for k x 1 / 1 x k, gemm for 1 x 1)";
    return "";
  }
  std::pair<ToomCookMatrices, ToomCookMatrices> tiles(const ConvGeometry& g) const override {
    return {toomcook_matrices(tile_, g.kh, points_), toomcook_matrices(tile_, g.kw, points_)};
  }
};

RECAFFE_REGISTER_CONV_ENGINE("winograd", WinogradConvEngine);

}  // namespace recaffe
