// ArgMax (Caffe's argmax_layer.cpp): the top_k indices (or values, with out_max_val and an axis) of
// the largest entries, per image over everything from axis 1, or along `axis`. Ties go to the
// larger index, as Caffe's partial_sort over (value, index) pairs with std::greater does.
#include <algorithm>
#include <utility>
#include <vector>

#include "core/layer.h"

namespace recaffe {

class ArgMaxLayer : public Layer {
 public:
  using Layer::Layer;
  void setup(const TensorVec&, const TensorVec&) override {
    const Params& p = params().msg("argmax_param");
    out_max_val_ = p.b("out_max_val", false);
    top_k_ = p.i("top_k", 1);
    has_axis_ = p.has("axis");
    axis_param_ = p.i("axis", 0);
    RC_CHECK(top_k_ >= 1, "argmax_param.top_k must be at least 1, got ", top_k_);
  }
  void reshape(const TensorVec& bottom, const TensorVec& top) override {
    const Tensor& b = *bottom[0];
    std::vector<int64_t> shape(std::max(3, b.num_axes()), 1);
    if (has_axis_) {
      axis_ = axis_index(b, axis_param_, "argmax_param.axis");
      RC_CHECK(top_k_ <= b.shape(axis_), "argmax_param.top_k ", top_k_, " is larger than axis ", axis_, " (size ",
               b.shape(axis_), ")");
      shape = b.shape();
      shape[axis_] = top_k_;
    } else {
      RC_CHECK(top_k_ <= b.count(1), "argmax_param.top_k ", top_k_, " is larger than the ", b.count(1),
               " entries per image");
      shape[0] = b.shape(0);
      shape[2] = top_k_;
      if (out_max_val_) shape[1] = 2;
    }
    top[0]->reshape(shape);
  }
  void forward(const TensorVec& bottom, const TensorVec& top) override {
    const Tensor& b = *bottom[0];
    int64_t dim, axis_dist;
    if (has_axis_) {
      dim = b.shape(axis_);
      axis_dist = b.count(axis_) / dim;
    } else {
      dim = b.count(1);
      axis_dist = 1;
    }
    const int64_t num = b.count() / dim, K = top_k_;
    const float* x = b.data();
    float* y = top[0]->data();
    std::vector<std::pair<float, int64_t>> v(dim);
    for (int64_t i = 0; i < num; ++i) {
      const int64_t base = (i / axis_dist) * dim * axis_dist + i % axis_dist;
      for (int64_t j = 0; j < dim; ++j) v[j] = {x[base + j * axis_dist], j};
      std::partial_sort(v.begin(), v.begin() + K, v.end(), std::greater<std::pair<float, int64_t>>());
      for (int64_t j = 0; j < K; ++j) {
        const int64_t at = (i / axis_dist * K + j) * axis_dist + i % axis_dist;
        if (has_axis_) {
          y[at] = out_max_val_ ? v[j].first : static_cast<float>(v[j].second);
        } else if (out_max_val_) {
          y[2 * i * K + j] = static_cast<float>(v[j].second);
          y[2 * i * K + K + j] = v[j].first;
        } else {
          y[at] = static_cast<float>(v[j].second);
        }
      }
    }
  }
  int exact_bottoms() const override { return 1; }
  int exact_tops() const override { return 1; }

 private:
  bool out_max_val_ = false, has_axis_ = false;
  int64_t top_k_ = 1, axis_param_ = 0;
  int axis_ = 0;
};

RECAFFE_REGISTER_LAYER("ArgMax", ArgMaxLayer);

}  // namespace recaffe
