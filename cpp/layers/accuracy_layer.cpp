// Accuracy (Caffe's accuracy_layer.cpp): the fraction of non-ignored positions whose label's score
// is among the top_k along `axis` (a score tied with the label's counts as better, as in Caffe).
// Top 0 is the scalar accuracy; an optional top 1 holds the accuracy per class.
#include <vector>

#include "core/layer.h"

namespace recaffe {

class AccuracyLayer : public Layer {
 public:
  using Layer::Layer;
  void setup(const TensorVec&, const TensorVec&) override {
    const Params& p = params().msg("accuracy_param");
    top_k_ = p.i("top_k", 1);
    axis_param_ = p.i("axis", 1);
    has_ignore_ = p.has("ignore_label");
    ignore_ = has_ignore_ ? p.i("ignore_label") : 0;
  }
  void reshape(const TensorVec& bottom, const TensorVec& top) override {
    const Tensor& b = *bottom[0];
    axis_ = axis_index(b, axis_param_, "accuracy_param.axis");
    outer_ = b.count(0, axis_);
    classes_ = b.shape(axis_);
    inner_ = b.count(axis_ + 1);
    RC_CHECK(top_k_ >= 1 && top_k_ <= classes_, "accuracy_param.top_k ", top_k_, " must be in 1..", classes_);
    RC_CHECK(outer_ * inner_ == bottom[1]->count(), "the label blob has ", bottom[1]->count(), " entries but the ",
             "predictions ", b.shape_string(), " need ", outer_ * inner_);
    top[0]->reshape({});
    if (top.size() > 1) top[1]->reshape({classes_});
  }
  void forward(const TensorVec& bottom, const TensorVec& top) override {
    const float* x = bottom[0]->data();
    const float* label = bottom[1]->data();
    const int64_t C = classes_, I = inner_;
    std::vector<int64_t> per_class_hits(C, 0), per_class_count(C, 0);
    int64_t hits = 0, count = 0;
    for (int64_t o = 0; o < outer_; ++o) {
      for (int64_t i = 0; i < I; ++i) {
        const int64_t l = static_cast<int64_t>(label[o * I + i]);
        if (has_ignore_ && l == ignore_) continue;
        RC_CHECK(l >= 0 && l < C, "label ", l, " at position ", o * I + i, " is outside [0, ", C, ")");
        ++per_class_count[l];
        const float truth = x[(o * C + l) * I + i];
        int64_t better = -1;  // the true class counts itself
        for (int64_t c = 0; c < C && better < top_k_; ++c) better += x[(o * C + c) * I + i] >= truth;
        if (better < top_k_) {
          ++hits;
          ++per_class_hits[l];
        }
        ++count;
      }
    }
    top[0]->data()[0] = count == 0 ? 0.f : static_cast<float>(double(hits) / double(count));
    if (top.size() > 1) {
      float* pc = top[1]->data();
      for (int64_t c = 0; c < C; ++c)
        pc[c] = per_class_count[c] == 0 ? 0.f : static_cast<float>(double(per_class_hits[c]) / per_class_count[c]);
    }
  }
  int exact_bottoms() const override { return 2; }
  int min_tops() const override { return 1; }
  int max_tops() const override { return 2; }

 private:
  int64_t top_k_ = 1, axis_param_ = 1, ignore_ = 0, outer_ = 0, classes_ = 0, inner_ = 0;
  bool has_ignore_ = false;
  int axis_ = 1;
};

RECAFFE_REGISTER_LAYER("Accuracy", AccuracyLayer);

}  // namespace recaffe
