// Reshape (Caffe's reshape_layer.cpp): reshape_param.shape replaces the bottom axes
// [axis, axis + num_axes); 0 copies the bottom dim at that place, one -1 is inferred. Shares data.
#include "core/layer.h"

namespace recaffe {

class ReshapeLayer : public Layer {
 public:
  using Layer::Layer;
  void setup(const TensorVec&, const TensorVec&) override {
    const Params& p = params().msg("reshape_param");
    dims_ = p.msg("shape").ints("dim");
    axis_ = p.i("axis", 0);
    num_axes_ = p.i("num_axes", -1);
    RC_CHECK(num_axes_ >= -1, "reshape_param.num_axes must be -1 or more, got ", num_axes_);
    int inferred = 0;
    for (int64_t d : dims_) {
      RC_CHECK(d >= -1, "reshape_param.shape: dim ", d, " is invalid (use -1 to infer, 0 to copy)");
      inferred += d == -1;
    }
    RC_CHECK(inferred <= 1, "reshape_param.shape: at most one dim may be -1, got ", inferred);
  }
  void reshape(const TensorVec& bottom, const TensorVec& top) override {
    const Tensor& b = *bottom[0];
    const int64_t n = b.num_axes();
    // axis may be -(n+1)..n: an insertion point, not an axis (Caffe's rule)
    RC_CHECK(axis_ >= -(n + 1) && axis_ <= n, "reshape_param.axis ", axis_, " is out of range for input ",
             b.shape_string());
    const int64_t start = axis_ < 0 ? axis_ + n + 1 : axis_;
    const int64_t end = num_axes_ == -1 ? n : start + num_axes_;
    RC_CHECK(end <= n, "reshape_param: axis ", start, " + num_axes ", num_axes_, " passes the ", n,
             " axes of input ", b.shape_string());
    std::vector<int64_t> shape(b.shape().begin(), b.shape().begin() + start);
    int64_t infer_at = -1;
    for (size_t i = 0; i < dims_.size(); ++i) {
      int64_t d = dims_[i];
      if (d == 0) {
        RC_CHECK(start + int64_t(i) < n, "reshape_param.shape: dim ", i, " is 0 (copy) but the input ",
                 b.shape_string(), " has no axis ", start + i);
        d = b.shape(static_cast<int>(start + i));
      } else if (d == -1) {
        infer_at = static_cast<int64_t>(shape.size());
        d = 1;
      }
      shape.push_back(d);
    }
    shape.insert(shape.end(), b.shape().begin() + end, b.shape().end());
    int64_t known = 1;
    for (int64_t d : shape) known *= d;
    if (infer_at >= 0) {
      RC_CHECK(known > 0 && b.count() % known == 0, "reshape_param.shape: cannot infer a dim for ",
               b.count(), " elements from ", shape_to_string(shape));
      shape[infer_at] = b.count() / known;
    }
    Tensor probe(shape);
    RC_CHECK(probe.count() == b.count(), "reshape_param.shape gives ", shape_to_string(shape), " (", probe.count(),
             " elements) for an input of shape ", b.shape_string(), " (", b.count(), ")");
    top[0]->reshape(shape);
    top[0]->share_data(b);
  }
  void forward(const TensorVec& bottom, const TensorVec& top) override { top[0]->share_data(*bottom[0]); }
  int exact_bottoms() const override { return 1; }
  int exact_tops() const override { return 1; }

 private:
  std::vector<int64_t> dims_;
  int64_t axis_ = 0, num_axes_ = -1;
};

RECAFFE_REGISTER_LAYER("Reshape", ReshapeLayer);

}  // namespace recaffe
