// Flatten: axes [axis, end_axis] become one; the top shares the bottom's data (Caffe's
// flatten_layer.cpp, which also refuses to run in place).
#include "core/layer.h"

namespace recaffe {

class FlattenLayer : public Layer {
 public:
  using Layer::Layer;
  void reshape(const TensorVec& bottom, const TensorVec& top) override {
    const Params& p = params().msg("flatten_param");
    const Tensor& b = *bottom[0];
    const int start = axis_index(b, p.i("axis", 1), "flatten_param.axis");
    const int end = axis_index(b, p.i("end_axis", -1), "flatten_param.end_axis");
    RC_CHECK(start <= end, "flatten_param: axis ", start, " comes after end_axis ", end);
    std::vector<int64_t> shape(b.shape().begin(), b.shape().begin() + start);
    shape.push_back(b.count(start, end + 1));
    shape.insert(shape.end(), b.shape().begin() + end + 1, b.shape().end());
    top[0]->reshape(shape);
    top[0]->share_data(b);
  }
  void forward(const TensorVec& bottom, const TensorVec& top) override { top[0]->share_data(*bottom[0]); }
  int exact_bottoms() const override { return 1; }
  int exact_tops() const override { return 1; }
};

RECAFFE_REGISTER_LAYER("Flatten", FlattenLayer);

}  // namespace recaffe
