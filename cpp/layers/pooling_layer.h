#pragma once
// Pooling with Caffe's semantics (see kernels/pooling.h). recaffe_param.fused_activation makes the
// layer apply a monotone activation to its output as it writes it (the reorder experiment's --fuse).
#include "core/layer.h"
#include "kernels/pooling.h"

namespace recaffe {

class PoolingLayer : public Layer {
 public:
  using Layer::Layer;

  void setup(const TensorVec&, const TensorVec&) override {
    const Params& p = params().msg("pooling_param");
    method_ = static_cast<PoolMethod>(p.i("pool", 0));
    RC_CHECK(method_ != PoolMethod::Stochastic, "pooling_param.pool: STOCHASTIC pooling is not implemented (Caffe has no CPU test-phase version either)");
    RC_CHECK(method_ == PoolMethod::Max || method_ == PoolMethod::Ave, "pooling_param.pool: unknown method ", int(method_));
    global_ = p.b("global_pooling", false);
    if (global_) {
      RC_CHECK(!(p.has("kernel_size") || p.has("kernel_h") || p.has("kernel_w")),
               "pooling_param: with global_pooling: true the kernel size cannot be given");
    } else if (p.has("kernel_size")) {
      RC_CHECK(!(p.has("kernel_h") || p.has("kernel_w")), "pooling_param: give either kernel_size or kernel_h/kernel_w, not both");
      kh_ = kw_ = static_cast<int>(p.i("kernel_size"));
    } else {
      RC_CHECK(p.has("kernel_h") && p.has("kernel_w"), "pooling_param: kernel_size (or kernel_h and kernel_w) is required");
      kh_ = static_cast<int>(p.i("kernel_h"));
      kw_ = static_cast<int>(p.i("kernel_w"));
    }
    if (!global_) RC_CHECK(kh_ > 0 && kw_ > 0, "pooling_param: kernel size must be positive, got ", kh_, "x", kw_);
    if (p.has("pad_h") || p.has("pad_w")) {
      RC_CHECK(!p.has("pad"), "pooling_param: give either pad or pad_h/pad_w, not both");
      ph_ = static_cast<int>(p.i("pad_h", 0));
      pw_ = static_cast<int>(p.i("pad_w", 0));
    } else {
      ph_ = pw_ = static_cast<int>(p.i("pad", 0));
    }
    if (p.has("stride_h") || p.has("stride_w")) {
      RC_CHECK(!p.has("stride"), "pooling_param: give either stride or stride_h/stride_w, not both");
      sh_ = static_cast<int>(p.i("stride_h", 1));
      sw_ = static_cast<int>(p.i("stride_w", 1));
    } else {
      sh_ = sw_ = static_cast<int>(p.i("stride", 1));
    }
    RC_CHECK(sh_ > 0 && sw_ > 0, "pooling_param: stride must be positive, got ", sh_, "x", sw_);
    if (global_) RC_CHECK(ph_ == 0 && pw_ == 0 && sh_ == 1 && sw_ == 1, "pooling_param: global pooling needs pad 0 and stride 1");
    if (ph_ || pw_) {
      RC_CHECK(ph_ < kh_ || global_, "pooling_param: pad_h ", ph_, " must be smaller than kernel_h ", kh_);
      RC_CHECK(pw_ < kw_ || global_, "pooling_param: pad_w ", pw_, " must be smaller than kernel_w ", kw_);
    }
    ceil_ = p.i("round_mode", 0) == 0;
    const Params& rp = params().msg("recaffe_param");
    std::string fused = rp.s("fused_activation", "");
    if (!fused.empty()) {
      act_.kind = activation_from_type(fused.c_str());
      RC_CHECK(act_.kind != Activation::None, "recaffe_param.fused_activation: unknown activation '", fused, "'");
      act_.negative_slope = static_cast<float>(rp.f("fused_negative_slope", 0.0));
      RC_CHECK(method_ == PoolMethod::Max && activation_is_monotone(act_),
               "recaffe_param.fused_activation: only a monotone activation after MAX pooling can be fused exactly");
    }
  }

  void reshape(const TensorVec& bottom, const TensorVec& top) override {
    const Tensor& b = *bottom[0];
    RC_CHECK(b.num_axes() == 4, "input must be 4-D (N, C, H, W), got shape ", b.shape_string());
    g_.planes = b.shape(0) * b.shape(1);
    g_.H = b.shape(2);
    g_.W = b.shape(3);
    if (global_) {
      kh_ = static_cast<int>(g_.H);
      kw_ = static_cast<int>(g_.W);
    }
    g_.kh = kh_; g_.kw = kw_; g_.sh = sh_; g_.sw = sw_; g_.ph = ph_; g_.pw = pw_;
    if (global_) {
      g_.Ho = g_.Wo = 1;
    } else {
      g_.Ho = pooled_size(g_.H, kh_, sh_, ph_, ceil_);
      g_.Wo = pooled_size(g_.W, kw_, sw_, pw_, ceil_);
    }
    RC_CHECK(g_.Ho > 0 && g_.Wo > 0, "pooling a ", g_.H, "x", g_.W, " input with kernel ", kh_, "x", kw_,
             " gives an empty output");
    top[0]->reshape({b.shape(0), b.shape(1), g_.Ho, g_.Wo});
  }

  void forward(const TensorVec& bottom, const TensorVec& top) override {
    pool_forward(method_, g_, bottom[0]->data(), top[0]->data(), act_);
  }

  // what the CUDA backend needs to run the same pooling
  PoolMethod method() const { return method_; }
  const PoolGeometry& geometry() const { return g_; }
  const ActivationParams& fused_activation() const { return act_; }

  int exact_bottoms() const override { return 1; }
  int min_tops() const override { return 1; }
  int max_tops() const override { return 1; }
  std::string describe() const override {
    return act_.kind == Activation::None ? "" : "fused activation";
  }

 protected:
  PoolMethod method_ = PoolMethod::Max;
  bool global_ = false, ceil_ = true;
  int kh_ = 0, kw_ = 0, sh_ = 1, sw_ = 1, ph_ = 0, pw_ = 0;
  PoolGeometry g_;
  ActivationParams act_;
};


}  // namespace recaffe
