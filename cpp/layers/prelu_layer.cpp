// PReLU (Caffe's prelu_layer.cpp): y = max(x, 0) + a_c * min(x, 0), one slope per channel (axis 1)
// or one for all with channel_shared. The slope blob is [C] (or [1]).
#include <algorithm>

#include "core/layer.h"

namespace recaffe {

class PReLULayer : public Layer {
 public:
  using Layer::Layer;
  void setup(const TensorVec&, const TensorVec&) override {
    shared_ = params().msg("prelu_param").b("channel_shared", false);
  }
  void reshape(const TensorVec& bottom, const TensorVec& top) override {
    const Tensor& b = *bottom[0];
    RC_CHECK(b.num_axes() >= 2, "PReLU needs an input with at least 2 axes, got ", b.shape_string());
    channels_ = b.shape(1);
    ensure_blob(0, {shared_ ? 1 : channels_});
    top[0]->reshape_like(b);
  }
  void forward(const TensorVec& bottom, const TensorVec& top) override {
    const Tensor& b = *bottom[0];
    const int64_t C = channels_, dim = b.count(2), rows = b.count() / std::max<int64_t>(dim, 1);
    const float* x = b.data();
    const float* a = blobs_[0]->data();
    float* y = top[0]->data();
#pragma omp parallel for schedule(static) if (b.count() > 65536)
    for (int64_t r = 0; r < rows; ++r) {
      const float s = a[shared_ ? 0 : r % C];
      for (int64_t i = 0; i < dim; ++i) {
        const float v = x[r * dim + i];
        y[r * dim + i] = std::max(v, 0.f) + s * std::min(v, 0.f);
      }
    }
  }
  int exact_bottoms() const override { return 1; }
  int exact_tops() const override { return 1; }
  bool allows_in_place() const override { return true; }

 private:
  bool shared_ = false;
  int64_t channels_ = 0;
};

RECAFFE_REGISTER_LAYER("PReLU", PReLULayer);

}  // namespace recaffe
