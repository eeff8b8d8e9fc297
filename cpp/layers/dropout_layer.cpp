// Dropout: a plain copy in the TEST phase (no scaling); in TRAIN, inverted dropout with a seeded
// Bernoulli mask, kept units scaled by 1 / (1 - ratio).
#include <cstring>
#include <random>

#include "core/layer.h"

namespace recaffe {

class DropoutLayer : public Layer {
 public:
  using Layer::Layer;
  void setup(const TensorVec&, const TensorVec&) override {
    ratio_ = static_cast<float>(params().msg("dropout_param").f("dropout_ratio", 0.5));
    RC_CHECK(ratio_ >= 0.f && ratio_ < 1.f, "dropout_param.dropout_ratio must be in [0, 1), got ", ratio_);
  }
  void reshape(const TensorVec& bottom, const TensorVec& top) override { top[0]->reshape_like(*bottom[0]); }
  void forward(const TensorVec& bottom, const TensorVec& top) override {
    const float* x = bottom[0]->data();
    float* y = top[0]->data();
    const int64_t n = bottom[0]->count();
    if (is_test_phase()) {
      if (x != y) std::memcpy(y, x, sizeof(float) * n);
      return;
    }
    std::bernoulli_distribution keep(1.0 - ratio_);
    const float scale = 1.f / (1.f - ratio_);
    for (int64_t i = 0; i < n; ++i) y[i] = keep(rng_) ? x[i] * scale : 0.f;
  }
  int exact_bottoms() const override { return 1; }
  int exact_tops() const override { return 1; }
  bool allows_in_place() const override { return true; }

 private:
  float ratio_ = 0.5f;
  std::mt19937 rng_{1701};
};

RECAFFE_REGISTER_LAYER("Dropout", DropoutLayer);

}  // namespace recaffe
