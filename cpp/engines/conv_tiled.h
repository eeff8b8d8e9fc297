#pragma once
// Shared shell of the Toom-Cook engines (toomcook1d, winograd): option parsing, the stride-1 /
// dilation-1 / group-1 checks, and the plan the tiled kernel runs. The engines differ only in how
// a kernel shape maps to the pair of 1-D transforms (tiles()).
#include <omp.h>

#include <stdexcept>
#include <string>
#include <utility>

#include "engines/conv_engine.h"
#include "kernels/tiled_conv.h"

namespace recaffe {

class TiledConvEngine : public ConvEngine {
 public:
  explicit TiledConvEngine(const ConvEngineOptions& o, int default_tile) : tile_(default_tile) {
    for (auto& kv : o) {
      if (kv.first == "tile") {
        try {
          tile_ = std::stoi(kv.second);
        } catch (const std::exception&) {
          tile_ = 0;
        }
        if (tile_ < 1 || tile_ > 14) throw std::invalid_argument("engine option tile=" + kv.second + " must be 1..14");
      } else if (kv.first == "points") {
        points_ = split_points(kv.second);
      } else {
        throw std::invalid_argument("unknown engine option '" + kv.first + "' (known: tile, points)");
      }
    }
  }

  std::string unsupported(const ConvGeometry& g) const override {
    if (g.sh != 1 || g.sw != 1)
      return "stride " + std::to_string(g.sh) + "x" + std::to_string(g.sw) + ": Toom-Cook tiles need stride 1";
    if (g.dh != 1 || g.dw != 1) return "dilation must be 1";
    if (g.group != 1) return "group must be 1";
    std::string why = shape_unsupported(g);
    if (!why.empty()) return why;
    try {
      cached_tiles(g);
    } catch (const std::invalid_argument& e) {
      return e.what();
    }
    return "";
  }

  void prepare(const ConvGeometry& g, const float* weights, const float*) override {
    const auto& t = cached_tiles(g);
    plan_.fy = t.first;
    plan_.fx = t.second;
    tiled_conv_prepare(plan_, weights, g.K, g.C);
  }

  size_t workspace_floats(const ConvGeometry& g) const override {
    TiledConvPlan shape;
    const auto& t = cached_tiles(g);
    shape.fy = t.first;
    shape.fx = t.second;
    return tiled_conv_workspace_floats(shape, g, omp_get_max_threads());
  }

  void forward(const ConvGeometry& g, const float* in, const float*, const float* bias, float* out,
               float* ws) override {
    tiled_conv_forward(plan_, g, in, bias, out, ws);
  }

 protected:
  // "" when the kernel shape suits this engine.
  virtual std::string shape_unsupported(const ConvGeometry& g) const = 0;
  // (transform along H, transform along W) for this geometry; throws std::invalid_argument.
  virtual std::pair<ToomCookMatrices, ToomCookMatrices> tiles(const ConvGeometry& g) const = 0;

  // tiles() for this kernel shape, built once (reshape asks on every forward)
  const std::pair<ToomCookMatrices, ToomCookMatrices>& cached_tiles(const ConvGeometry& g) const {
    if (g.kh != cached_kh_ || g.kw != cached_kw_) {
      cached_ = tiles(g);
      cached_kh_ = g.kh;
      cached_kw_ = g.kw;
    }
    return cached_;
  }

  int tile_;
  mutable int cached_kh_ = -1, cached_kw_ = -1;
  mutable std::pair<ToomCookMatrices, ToomCookMatrices> cached_;
  std::vector<std::string> points_;
  TiledConvPlan plan_;
};

}  // namespace recaffe
