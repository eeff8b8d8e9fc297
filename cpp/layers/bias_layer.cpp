// Bias: y = x + beta, beta is blobs[0] (shape bottom.shape[axis : axis + num_axes]) or bottom[1]
// (Caffe's bias_layer.cpp).
#include "layers/channel_broadcast.h"

namespace recaffe {

class BiasLayer : public Layer {
 public:
  using Layer::Layer;
  void setup(const TensorVec&, const TensorVec&) override {
    const Params& p = params().msg("bias_param");
    axis_param_ = p.i("axis", 1);
    num_axes_ = p.i("num_axes", 1);
  }
  void reshape(const TensorVec& bottom, const TensorVec& top) override {
    const Tensor& b = *bottom[0];
    const int axis = axis_index(b, axis_param_, "bias_param.axis");
    const Tensor* bias =
        bottom.size() > 1 ? bottom[1] : ensure_blob(0, operand_shape(name(), b, axis, num_axes_, "bias_param"));
    shape_ = broadcast_shape(name(), b, *bias, axis);
    top[0]->reshape_like(b);
  }
  void forward(const TensorVec& bottom, const TensorVec& top) override {
    const float* bias = bottom.size() > 1 ? bottom[1]->data() : blobs_[0]->data();
    broadcast_scale_bias(shape_, bottom[0]->data(), nullptr, bias, top[0]->data());
  }
  int min_bottoms() const override { return 1; }
  int max_bottoms() const override { return 2; }
  int exact_tops() const override { return 1; }
  bool allows_in_place() const override { return true; }

 private:
  int64_t axis_param_ = 1, num_axes_ = 1;
  BroadcastShape shape_;
};

RECAFFE_REGISTER_LAYER("Bias", BiasLayer);

}  // namespace recaffe
