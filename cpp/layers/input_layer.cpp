// Input: its tops are the net's inputs. Shapes come from input_param.shape (one for all tops or
// one per top); reshape leaves them alone so a user can reshape the inputs, as in Caffe.
#include "core/layer.h"

namespace recaffe {

class InputLayer : public Layer {
 public:
  using Layer::Layer;
  void setup(const TensorVec&, const TensorVec& top) override {
    auto shapes = params().msg("input_param").msgs("shape");
    RC_CHECK(shapes.size() == 0 || shapes.size() == 1 || shapes.size() == top.size(),
             "input_param: give one shape for all ", top.size(), " tops or one per top, got ", shapes.size());
    for (size_t i = 0; i < top.size() && !shapes.empty(); ++i) {
      auto dims = shapes[shapes.size() == 1 ? 0 : i].ints("dim");
      for (int64_t d : dims) RC_CHECK(d >= 0, "input_param.shape: negative dimension ", d);
      top[i]->reshape(dims);
    }
  }
  void reshape(const TensorVec&, const TensorVec&) override {}
  void forward(const TensorVec&, const TensorVec&) override {}
  int exact_bottoms() const override { return 0; }
  int min_tops() const override { return 1; }
};

RECAFFE_REGISTER_LAYER("Input", InputLayer);

}  // namespace recaffe
