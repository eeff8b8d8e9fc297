// SoftmaxWithLoss (Caffe's softmax_loss_layer.cpp), forward only: softmax over softmax_param.axis,
// loss = -sum log(max(p[label], FLT_MIN)) over the non-ignored positions, divided by the
// loss_param normalisation (VALID by default; the legacy `normalize` bool picks VALID or
// BATCH_SIZE), at least 1. Top 0 is the scalar loss; an optional top 1 holds the probabilities.
#include <algorithm>
#include <cfloat>
#include <cmath>
#include <vector>

#include "core/layer.h"
#include "kernels/softmax.h"

namespace recaffe {

class SoftmaxWithLossLayer : public Layer {
 public:
  using Layer::Layer;
  enum Norm { kFull = 0, kValid = 1, kBatchSize = 2, kNone = 3 };
  void setup(const TensorVec&, const TensorVec&) override {
    const Params& lp = params().msg("loss_param");
    has_ignore_ = lp.has("ignore_label");
    ignore_ = has_ignore_ ? lp.i("ignore_label") : 0;
    norm_ = lp.has("normalize") ? (lp.b("normalize") ? kValid : kBatchSize) : static_cast<int>(lp.i("normalization", kValid));
    RC_CHECK(norm_ >= kFull && norm_ <= kNone, "loss_param.normalization: unknown value ", norm_);
    axis_param_ = params().msg("softmax_param").i("axis", 1);
  }
  void reshape(const TensorVec& bottom, const TensorVec& top) override {
    const Tensor& b = *bottom[0];
    axis_ = axis_index(b, axis_param_, "softmax_param.axis");
    outer_ = b.count(0, axis_);
    channels_ = b.shape(axis_);
    inner_ = b.count(axis_ + 1);
    RC_CHECK(outer_ * inner_ == bottom[1]->count(), "the label blob has ", bottom[1]->count(), " entries but the ",
             "predictions ", b.shape_string(), " need ", outer_ * inner_, " (one per position outside axis ", axis_, ")");
    top[0]->reshape({});
    if (top.size() > 1) top[1]->reshape_like(b);
    prob_.reshape_like(b);
  }
  void forward(const TensorVec& bottom, const TensorVec& top) override {
    const float* x = bottom[0]->data();
    const float* label = bottom[1]->data();
    float* p = top.size() > 1 ? top[1]->data() : prob_.data();
    const int64_t C = channels_, I = inner_;
    double loss = 0;
    int64_t valid = 0;
    for (int64_t o = 0; o < outer_; ++o) {
      for (int64_t i = 0; i < I; ++i) {
        float* pp = p + o * C * I + i;
        softmax_strided(x + o * C * I + i, pp, C, I);
        const int64_t l = static_cast<int64_t>(label[o * I + i]);
        if (has_ignore_ && l == ignore_) continue;
        RC_CHECK(l >= 0 && l < C, "label ", l, " at position ", o * I + i, " is outside [0, ", C, ")");
        loss -= std::log(std::max(pp[l * I], FLT_MIN));
        ++valid;
      }
    }
    double normalizer = norm_ == kFull ? double(outer_ * inner_) : norm_ == kValid ? double(valid)
                        : norm_ == kBatchSize ? double(outer_) : 1.0;
    top[0]->data()[0] = static_cast<float>(loss / std::max(1.0, normalizer));
  }
  int exact_bottoms() const override { return 2; }
  int min_tops() const override { return 1; }
  int max_tops() const override { return 2; }

 private:
  bool has_ignore_ = false;
  int64_t ignore_ = 0, axis_param_ = 1, outer_ = 0, channels_ = 0, inner_ = 0;
  int norm_ = kValid, axis_ = 1;
  Tensor prob_;
};

RECAFFE_REGISTER_LAYER("SoftmaxWithLoss", SoftmaxWithLossLayer);

}  // namespace recaffe
