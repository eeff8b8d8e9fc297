#pragma once
// ViP (virtual pooling) interpolation layer: restores a map halved by a stride-2 convolution to
// the size the stride-1 convolution would give (kernels/vip_interp.h, the paper's Eq. 5).
// vip_param { height width } gives the output size (each 2H-1 or 2H); unset, it is 2H x 2W, or
// (2H-1) x (2W-1) when H == 4, as the authors' Interp layer does (ResNet-50's 7x7 stage). The
// authors' files name the type "Interp"; both names build this layer. Dims are read on every
// reshape (the reference caches them at setup).
#include "core/layer.h"

namespace recaffe {

// The output size of ViP for an input of H x W under vip_param (throws LayerError on a bad size).
void vip_output_size(const std::string& layer, const Params& vip_param, int64_t H, int64_t W, int64_t* Ho,
                     int64_t* Wo);

class ViPLayer : public Layer {
 public:
  using Layer::Layer;
  void reshape(const TensorVec& bottom, const TensorVec& top) override;
  void forward(const TensorVec& bottom, const TensorVec& top) override;
  int exact_bottoms() const override { return 1; }
  int exact_tops() const override { return 1; }

  // what the CUDA backend needs
  int64_t planes() const { return planes_; }
  int64_t H() const { return H_; }
  int64_t W() const { return W_; }
  int64_t Ho() const { return Ho_; }
  int64_t Wo() const { return Wo_; }

 private:
  int64_t planes_ = 0, H_ = 0, W_ = 0, Ho_ = 0, Wo_ = 0;
};

}  // namespace recaffe
