// The toomcook1d engine: k x 1 and 1 x k convolutions (the two stages of 1D-FALCON) with the 1-D
// Toom-Cook F(m, k) along the kernel's long axis. Options: tile=m (outputs per tile, default 4:
// F(4,3) saves 2x multiplications per stage, the paper's claim; F(2,3) 1.5x, F(6,3) 2.25x),
// points=0,1,-1,1/2,-2 (alpha - 1 finite points; default REFERENCE_NOTES C's most accurate).
#include "engines/conv_tiled.h"

namespace recaffe {

class ToomCook1dConvEngine : public TiledConvEngine {
 public:
  explicit ToomCook1dConvEngine(const ConvEngineOptions& o) : TiledConvEngine(o, 4) {}
  const char* name() const override { return "toomcook1d"; }

 protected:
  std::string shape_unsupported(const ConvGeometry& g) const override {
    if ((g.kh == 1) == (g.kw == 1))
      return "kernel " + std::to_string(g.kh) + "x" + std::to_string(g.kw) +
             ": toomcook1d runs k x 1 or 1 x k kernels (use winograd for k x k)";
    return "";
  }
  std::pair<ToomCookMatrices, ToomCookMatrices> tiles(const ConvGeometry& g) const override {
    if (g.kw == 1) return {toomcook_matrices(tile_, g.kh, points_), identity_transform()};
    return {identity_transform(), toomcook_matrices(tile_, g.kw, points_)};
  }
};

RECAFFE_REGISTER_CONV_ENGINE("toomcook1d", ToomCook1dConvEngine);

}  // namespace recaffe
