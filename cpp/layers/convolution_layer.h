#pragma once
#include <memory>

#include "core/layer.h"
#include "engines/conv_engine.h"
#include "layers/conv_params.h"

namespace recaffe {

// Convolution: weights [K, C/group, kh, kw], bias [K]; the engine is chosen per layer through
// recaffe_param.engine (default "gemm").
class ConvolutionLayer : public Layer {
 public:
  using Layer::Layer;
  void setup(const TensorVec& bottom, const TensorVec& top) override;
  void reshape(const TensorVec& bottom, const TensorVec& top) override;
  void forward(const TensorVec& bottom, const TensorVec& top) override;
  int exact_bottoms() const override { return 1; }
  int exact_tops() const override { return 1; }
  size_t workspace_bytes() const override;
  std::string describe() const override;
  const ConvGeometry& geometry() const { return geom_; }
  // Replace the engine (Python's net.set_engine); checks it supports the geometry.
  void set_engine(const std::string& name, const ConvEngineOptions& options);
  const char* engine_name() const { return engine_ ? engine_->name() : ""; }

 protected:
  void compute_geometry(const Tensor& bottom);
  ConvSpatialParams sp_;
  ConvGeometry geom_;
  std::unique_ptr<ConvEngine> engine_;
  std::string engine_request_;
  ConvEngineOptions engine_options_;
  Tensor workspace_;
  // what the engine last prepared for
  ConvGeometry prepared_geom_;
  uint64_t prepared_w_version_ = ~0ull, prepared_b_version_ = ~0ull;
  const float* prepared_w_ptr_ = nullptr;
};

}  // namespace recaffe
