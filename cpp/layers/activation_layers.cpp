// The monotone element-wise activations: ReLU (negative_slope), Sigmoid, TanH, Clip (min, max),
// and AbsVal. They share one layer class; only their parameters differ. All may run in place.
#include "core/layer.h"
#include "kernels/activation.h"

namespace recaffe {

class ActivationLayer : public Layer {
 public:
  using Layer::Layer;
  void setup(const TensorVec&, const TensorVec&) override {
    act_.kind = activation_from_type(type().c_str());
    if (act_.kind == Activation::ReLU) {
      act_.negative_slope = static_cast<float>(params().msg("relu_param").f("negative_slope", 0.0));
    } else if (act_.kind == Activation::Clip) {
      const Params& cp = params().msg("clip_param");
      RC_CHECK(cp.has("min") && cp.has("max"), "clip_param: min and max are required");
      act_.lo = static_cast<float>(cp.f("min"));
      act_.hi = static_cast<float>(cp.f("max"));
      RC_CHECK(act_.lo <= act_.hi, "clip_param: min ", act_.lo, " is greater than max ", act_.hi);
    }
  }
  void reshape(const TensorVec& bottom, const TensorVec& top) override { top[0]->reshape_like(*bottom[0]); }
  void forward(const TensorVec& bottom, const TensorVec& top) override {
    apply_activation(act_, bottom[0]->data(), top[0]->data(), bottom[0]->count());
  }
  int exact_bottoms() const override { return 1; }
  int exact_tops() const override { return 1; }
  bool allows_in_place() const override { return true; }

 private:
  ActivationParams act_;
};

RECAFFE_REGISTER_LAYER("ReLU", ActivationLayer);
RECAFFE_REGISTER_LAYER("Sigmoid", ActivationLayer);
RECAFFE_REGISTER_LAYER("TanH", ActivationLayer);
RECAFFE_REGISTER_LAYER("Clip", ActivationLayer);
RECAFFE_REGISTER_LAYER("AbsVal", ActivationLayer);

}  // namespace recaffe
