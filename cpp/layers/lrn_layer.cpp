// LRN (ACROSS_CHANNELS / WITHIN_CHANNEL) with Caffe's parameters and checks; kernels/lrn.h computes.
#include "core/layer.h"
#include "kernels/lrn.h"

namespace recaffe {

class LRNLayer : public Layer {
 public:
  using Layer::Layer;
  void setup(const TensorVec&, const TensorVec&) override {
    const Params& p = params().msg("lrn_param");
    size_ = static_cast<int>(p.i("local_size", 5));
    RC_CHECK(size_ > 0 && size_ % 2 == 1, "lrn_param.local_size must be a positive odd number, got ", size_);
    alpha_ = static_cast<float>(p.f("alpha", 1.0));
    beta_ = static_cast<float>(p.f("beta", 0.75));
    k_ = static_cast<float>(p.f("k", 1.0));
    region_ = static_cast<int>(p.i("norm_region", 0));
    RC_CHECK(region_ == 0 || region_ == 1, "lrn_param.norm_region: unknown value ", region_);
  }
  void reshape(const TensorVec& bottom, const TensorVec& top) override {
    RC_CHECK(bottom[0]->num_axes() == 4, "LRN needs a 4-D input (N, C, H, W), got shape ",
             bottom[0]->shape_string());
    top[0]->reshape_like(*bottom[0]);
  }
  void forward(const TensorVec& bottom, const TensorVec& top) override {
    const Tensor& b = *bottom[0];
    if (region_ == 0)
      lrn_across_channels(b.data(), top[0]->data(), b.shape(0), b.shape(1), b.count(2), size_, alpha_, beta_, k_);
    else
      lrn_within_channel(b.data(), top[0]->data(), b.shape(0) * b.shape(1), b.shape(2), b.shape(3), size_, alpha_,
                         beta_);
  }
  int exact_bottoms() const override { return 1; }
  int exact_tops() const override { return 1; }
  bool allows_in_place() const override { return true; }

 private:
  int size_ = 5, region_ = 0;
  float alpha_ = 1.f, beta_ = 0.75f, k_ = 1.f;
};

RECAFFE_REGISTER_LAYER("LRN", LRNLayer);

}  // namespace recaffe
