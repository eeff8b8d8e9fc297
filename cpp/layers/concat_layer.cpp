// Concat along `axis` (or the legacy concat_dim; both is an error); every other dim must match.
// With one bottom the top shares its data, as in Caffe.
#include <cstring>

#include "core/layer.h"

namespace recaffe {

class ConcatLayer : public Layer {
 public:
  using Layer::Layer;
  void reshape(const TensorVec& bottom, const TensorVec& top) override {
    const Params& p = params().msg("concat_param");
    RC_CHECK(!(p.has("axis") && p.has("concat_dim")), "concat_param: give either axis or concat_dim, not both");
    const Tensor& b0 = *bottom[0];
    if (p.has("concat_dim")) {
      axis_ = static_cast<int>(p.i("concat_dim"));
      RC_CHECK(axis_ < b0.num_axes(), "concat_param.concat_dim ", axis_, " is out of range for input shape ",
               b0.shape_string());
    } else {
      axis_ = axis_index(b0, p.i("axis", 1), "concat_param.axis");
    }
    std::vector<int64_t> shape = b0.shape();
    for (size_t i = 1; i < bottom.size(); ++i) {
      const Tensor& b = *bottom[i];
      RC_CHECK(b.num_axes() == b0.num_axes(), "bottom ", i, " has shape ", b.shape_string(), " but bottom 0 has ",
               b0.shape_string(), " (all inputs need the same number of axes)");
      for (int a = 0; a < b0.num_axes(); ++a) {
        if (a == axis_) continue;
        RC_CHECK(b.shape(a) == b0.shape(a), "bottom ", i, " has shape ", b.shape_string(), " but bottom 0 has ",
                 b0.shape_string(), " (all dims but the concat axis ", axis_, " must match)");
      }
      shape[axis_] += b.shape(axis_);
    }
    top[0]->reshape(shape);
    if (bottom.size() == 1) top[0]->share_data(b0);
  }
  void forward(const TensorVec& bottom, const TensorVec& top) override {
    if (bottom.size() == 1) {
      top[0]->share_data(*bottom[0]);
      return;
    }
    const Tensor& t = *top[0];
    const int64_t outer = t.count(0, axis_), top_width = t.count(axis_);
    float* y = top[0]->data();
    int64_t offset = 0;
    for (Tensor* b : bottom) {
      const int64_t width = b->count(axis_);
      const float* x = b->data();
#pragma omp parallel for schedule(static) if (outer * width > 65536 && outer > 1)
      for (int64_t o = 0; o < outer; ++o)
        std::memcpy(y + o * top_width + offset, x + o * width, sizeof(float) * width);
      offset += width;
    }
  }
  int min_bottoms() const override { return 1; }
  int exact_tops() const override { return 1; }

 private:
  int axis_ = 1;
};

RECAFFE_REGISTER_LAYER("Concat", ConcatLayer);

}  // namespace recaffe
