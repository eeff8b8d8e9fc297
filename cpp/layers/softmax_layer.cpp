// Softmax over `axis` for every (outer, inner) index: subtract the max, exp, divide by the sum.
#include "core/layer.h"
#include "kernels/softmax.h"

namespace recaffe {

class SoftmaxLayer : public Layer {
 public:
  using Layer::Layer;
  void setup(const TensorVec&, const TensorVec&) override {
    axis_ = static_cast<int>(params().msg("softmax_param").i("axis", 1));
  }
  void reshape(const TensorVec& bottom, const TensorVec& top) override {
    const Tensor& b = *bottom[0];
    int axis = b.canonical_axis(axis_);
    outer_ = b.count(0, axis);
    channels_ = b.shape(axis);
    inner_ = b.count(axis + 1);
    top[0]->reshape_like(b);
  }
  void forward(const TensorVec& bottom, const TensorVec& top) override {
    const float* x = bottom[0]->data();
    float* y = top[0]->data();
    const int64_t C = channels_, I = inner_;
#pragma omp parallel for schedule(static) if (outer_ * C * I > 65536)
    for (int64_t o = 0; o < outer_; ++o)
      for (int64_t i = 0; i < I; ++i) softmax_strided(x + o * C * I + i, y + o * C * I + i, C, I);
  }
  int exact_bottoms() const override { return 1; }
  int exact_tops() const override { return 1; }
  bool allows_in_place() const override { return true; }

 private:
  int axis_ = 1;
  int64_t outer_ = 0, channels_ = 0, inner_ = 0;
};

RECAFFE_REGISTER_LAYER("Softmax", SoftmaxLayer);

}  // namespace recaffe
