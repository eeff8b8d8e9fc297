// Element-wise layers beyond the monotone activations, each with Caffe's formula and parameters:
// Power (shift + scale x)^power, Exp base^(shift + scale x), Log log_base(shift + scale x),
// BNLL log(1 + e^x), Threshold (x > t), ELU. All may run in place.
#include <cmath>
#include <functional>

#include "core/layer.h"

namespace recaffe {

class ElementwiseMathLayer : public Layer {
 public:
  using Layer::Layer;
  void reshape(const TensorVec& bottom, const TensorVec& top) override { top[0]->reshape_like(*bottom[0]); }
  void forward(const TensorVec& bottom, const TensorVec& top) override {
    const float* x = bottom[0]->data();
    float* y = top[0]->data();
    const int64_t n = bottom[0]->count();
    if (constant_) {
      for (int64_t i = 0; i < n; ++i) y[i] = value_;
      return;
    }
#pragma omp parallel for schedule(static) if (n > 32768)
    for (int64_t i = 0; i < n; ++i) y[i] = f_(x[i]);
  }
  int exact_bottoms() const override { return 1; }
  int exact_tops() const override { return 1; }
  bool allows_in_place() const override { return true; }

 protected:
  std::function<float(float)> f_;
  bool constant_ = false;  // Power with scale or power 0 ignores its input
  float value_ = 0.f;
};

class PowerLayer : public ElementwiseMathLayer {
 public:
  using ElementwiseMathLayer::ElementwiseMathLayer;
  void setup(const TensorVec&, const TensorVec&) override {
    const Params& p = params().msg("power_param");
    const float power = float(p.f("power", 1.0)), scale = float(p.f("scale", 1.0)), shift = float(p.f("shift", 0.0));
    if (power * scale == 0.f) {  // Caffe's special case: the output is constant
      constant_ = true;
      value_ = power == 0.f ? 1.f : std::pow(shift, power);
      return;
    }
    f_ = [=](float x) {
      float v = x;
      if (scale != 1.f) v *= scale;
      if (shift != 0.f) v += shift;
      return power != 1.f ? std::pow(v, power) : v;
    };
  }
};

class ExpLayer : public ElementwiseMathLayer {
 public:
  using ElementwiseMathLayer::ElementwiseMathLayer;
  void setup(const TensorVec&, const TensorVec&) override {
    const Params& p = params().msg("exp_param");
    const float base = float(p.f("base", -1.0)), scale = float(p.f("scale", 1.0)), shift = float(p.f("shift", 0.0));
    RC_CHECK(base == -1.f || base > 0.f, "exp_param.base must be -1 (e) or positive, got ", base);
    const float log_base = base == -1.f ? 1.f : std::log(base);
    const float inner = log_base * scale;
    const float outer = shift == 0.f ? 1.f : (base == -1.f ? std::exp(shift) : std::pow(base, shift));
    f_ = [=](float x) { return outer * std::exp(inner * x); };
  }
};

class LogLayer : public ElementwiseMathLayer {
 public:
  using ElementwiseMathLayer::ElementwiseMathLayer;
  void setup(const TensorVec&, const TensorVec&) override {
    const Params& p = params().msg("log_param");
    const float base = float(p.f("base", -1.0)), scale = float(p.f("scale", 1.0)), shift = float(p.f("shift", 0.0));
    RC_CHECK(base == -1.f || base > 0.f, "log_param.base must be -1 (e) or positive, got ", base);
    const float base_scale = base == -1.f ? 1.f : 1.f / std::log(base);
    f_ = [=](float x) {
      float v = x;
      if (scale != 1.f) v *= scale;
      if (shift != 0.f) v += shift;
      v = std::log(v);
      return base_scale != 1.f ? v * base_scale : v;
    };
  }
};

class BNLLLayer : public ElementwiseMathLayer {
 public:
  using ElementwiseMathLayer::ElementwiseMathLayer;
  void setup(const TensorVec&, const TensorVec&) override {
    f_ = [](float x) { return x > 0 ? x + std::log(1.f + std::exp(-x)) : std::log(1.f + std::exp(x)); };
  }
};

class ThresholdLayer : public ElementwiseMathLayer {
 public:
  using ElementwiseMathLayer::ElementwiseMathLayer;
  void setup(const TensorVec&, const TensorVec&) override {
    const float t = float(params().msg("threshold_param").f("threshold", 0.0));
    f_ = [t](float x) { return x > t ? 1.f : 0.f; };
  }
};

class ELULayer : public ElementwiseMathLayer {
 public:
  using ElementwiseMathLayer::ElementwiseMathLayer;
  void setup(const TensorVec&, const TensorVec&) override {
    const float alpha = float(params().msg("elu_param").f("alpha", 1.0));
    f_ = [alpha](float x) { return std::max(x, 0.f) + alpha * (std::exp(std::min(x, 0.f)) - 1.f); };
  }
};

RECAFFE_REGISTER_LAYER("Power", PowerLayer);
RECAFFE_REGISTER_LAYER("Exp", ExpLayer);
RECAFFE_REGISTER_LAYER("Log", LogLayer);
RECAFFE_REGISTER_LAYER("BNLL", BNLLLayer);
RECAFFE_REGISTER_LAYER("Threshold", ThresholdLayer);
RECAFFE_REGISTER_LAYER("ELU", ELULayer);

}  // namespace recaffe
