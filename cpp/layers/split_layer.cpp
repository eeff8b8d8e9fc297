// Split: every top shares the bottom's memory (no copy), as Caffe's SplitLayer does. The Python
// net builder inserts these for blobs with several consumers, named as Caffe names them.
#include "core/layer.h"

namespace recaffe {

class SplitLayer : public Layer {
 public:
  using Layer::Layer;
  void reshape(const TensorVec& bottom, const TensorVec& top) override {
    for (Tensor* t : top) {
      t->reshape_like(*bottom[0]);
      t->share_data(*bottom[0]);
    }
  }
  void forward(const TensorVec& bottom, const TensorVec& top) override {
    for (Tensor* t : top) t->share_data(*bottom[0]);
  }
  int exact_bottoms() const override { return 1; }
  int min_tops() const override { return 1; }
};

RECAFFE_REGISTER_LAYER("Split", SplitLayer);

}  // namespace recaffe
