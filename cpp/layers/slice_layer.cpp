// Slice along `axis` (or the legacy slice_dim) at slice_point (tops - 1 increasing points), or into
// equal parts when none are given. With one top the top shares the bottom's data, as in Caffe.
#include <cstring>

#include "core/layer.h"

namespace recaffe {

class SliceLayer : public Layer {
 public:
  using Layer::Layer;
  void reshape(const TensorVec& bottom, const TensorVec& top) override {
    const Params& p = params().msg("slice_param");
    RC_CHECK(!(p.has("axis") && p.has("slice_dim")), "slice_param: give either axis or slice_dim, not both");
    const Tensor& b = *bottom[0];
    if (p.has("slice_dim")) {
      axis_ = static_cast<int>(p.i("slice_dim"));
      RC_CHECK(axis_ < b.num_axes(), "slice_param.slice_dim ", axis_, " is out of range for input shape ",
               b.shape_string());
    } else {
      axis_ = axis_index(b, p.i("axis", 1), "slice_param.axis");
    }
    const int64_t dim = b.shape(axis_);
    const std::vector<int64_t> points = p.ints("slice_point");
    const int64_t n = static_cast<int64_t>(top.size());
    std::vector<int64_t> sizes;
    if (!points.empty()) {
      RC_CHECK(static_cast<int64_t>(points.size()) == n - 1, "slice_param.slice_point has ", points.size(),
               " points for ", n, " tops (needs ", n - 1, ")");
      int64_t prev = 0;
      for (int64_t pt : points) {
        RC_CHECK(pt > prev, "slice_param.slice_point must be increasing and positive, got ", pt, " after ", prev);
        sizes.push_back(pt - prev);
        prev = pt;
      }
      RC_CHECK(dim > prev, "slice_param.slice_point ", prev, " is not inside axis ", axis_, " of size ", dim);
      sizes.push_back(dim - prev);
    } else {
      RC_CHECK(dim % n == 0, "axis ", axis_, " of size ", dim, " cannot be sliced into ", n, " equal parts");
      sizes.assign(static_cast<size_t>(n), dim / n);
    }
    for (size_t i = 0; i < top.size(); ++i) {
      std::vector<int64_t> shape = b.shape();
      shape[axis_] = sizes[i];
      top[i]->reshape(shape);
    }
    if (top.size() == 1) top[0]->share_data(b);
  }
  void forward(const TensorVec& bottom, const TensorVec& top) override {
    if (top.size() == 1) {
      top[0]->share_data(*bottom[0]);
      return;
    }
    const Tensor& b = *bottom[0];
    const int64_t outer = b.count(0, axis_), bottom_width = b.count(axis_);
    const float* x = b.data();
    int64_t offset = 0;
    for (Tensor* t : top) {
      const int64_t width = t->count(axis_);
      float* y = t->data();
#pragma omp parallel for schedule(static) if (outer * width > 65536 && outer > 1)
      for (int64_t o = 0; o < outer; ++o)
        std::memcpy(y + o * width, x + o * bottom_width + offset, sizeof(float) * width);
      offset += width;
    }
  }
  int exact_bottoms() const override { return 1; }
  int min_tops() const override { return 1; }

 private:
  int axis_ = 1;
};

RECAFFE_REGISTER_LAYER("Slice", SliceLayer);

}  // namespace recaffe
