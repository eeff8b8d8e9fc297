// Scale: y = x * gamma (+ beta). gamma is blobs[0] (shape bottom.shape[axis : axis + num_axes]) or
// bottom[1]; with bias_term the bias is the next blob, shaped like gamma (Caffe's scale_layer.cpp).
#include "layers/channel_broadcast.h"

namespace recaffe {

void broadcast_scale_bias(const BroadcastShape& s, const float* x, const float* scale, const float* bias, float* y) {
  const int64_t rows = s.outer * s.dim, inner = s.inner;
#pragma omp parallel for schedule(static) if (rows * inner > 65536)
  for (int64_t r = 0; r < rows; ++r) {
    const int64_t d = r % s.dim;
    const float* xp = x + r * inner;
    float* yp = y + r * inner;
    if (scale && bias) {
      const float a = scale[d], b = bias[d];
      for (int64_t i = 0; i < inner; ++i) yp[i] = xp[i] * a + b;
    } else if (scale) {
      const float a = scale[d];
      for (int64_t i = 0; i < inner; ++i) yp[i] = xp[i] * a;
    } else {
      const float b = bias[d];
      for (int64_t i = 0; i < inner; ++i) yp[i] = xp[i] + b;
    }
  }
}

class ScaleLayer : public Layer {
 public:
  using Layer::Layer;
  void setup(const TensorVec& bottom, const TensorVec&) override {
    const Params& p = params().msg("scale_param");
    axis_param_ = p.i("axis", 1);
    num_axes_ = p.i("num_axes", 1);
    bias_term_ = p.b("bias_term", false);
  }
  void reshape(const TensorVec& bottom, const TensorVec& top) override {
    const Tensor& b = *bottom[0];
    const int axis = axis_index(b, axis_param_, "scale_param.axis");
    const Tensor* scale;
    if (bottom.size() > 1) {
      scale = bottom[1];
    } else {
      scale = ensure_blob(0, operand_shape(name(), b, axis, num_axes_, "scale_param"));
    }
    shape_ = broadcast_shape(name(), b, *scale, axis);
    if (bias_term_) ensure_blob(bottom.size() > 1 ? 0 : 1, scale->shape());
    top[0]->reshape_like(b);
  }
  void forward(const TensorVec& bottom, const TensorVec& top) override {
    const float* scale = bottom.size() > 1 ? bottom[1]->data() : blobs_[0]->data();
    const float* bias = bias_term_ ? blobs_[bottom.size() > 1 ? 0 : 1]->data() : nullptr;
    broadcast_scale_bias(shape_, bottom[0]->data(), scale, bias, top[0]->data());
  }
  int min_bottoms() const override { return 1; }
  int max_bottoms() const override { return 2; }
  int exact_tops() const override { return 1; }
  bool allows_in_place() const override { return true; }

 private:
  int64_t axis_param_ = 1, num_axes_ = 1;
  bool bias_term_ = false;
  BroadcastShape shape_;
};

RECAFFE_REGISTER_LAYER("Scale", ScaleLayer);

}  // namespace recaffe
