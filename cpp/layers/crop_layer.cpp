// Crop (Caffe's crop_layer.cpp): bottom[0] cropped to bottom[1]'s shape on the axes from `axis` on,
// starting at `offset` (none: 0; one value: every cropped axis; else one per cropped axis).
#include <cstring>

#include "core/layer.h"

namespace recaffe {

class CropLayer : public Layer {
 public:
  using Layer::Layer;
  void reshape(const TensorVec& bottom, const TensorVec& top) override {
    const Params& p = params().msg("crop_param");
    const Tensor& b = *bottom[0];
    const Tensor& ref = *bottom[1];
    RC_CHECK(b.num_axes() == ref.num_axes(), "bottoms have ", b.num_axes(), " and ", ref.num_axes(),
             " axes; Crop needs the same number");
    const int start = axis_index(b, p.i("axis", 2), "crop_param.axis");
    const std::vector<int64_t> off = p.ints("offset");
    const int64_t ncrop = b.num_axes() - start;
    RC_CHECK(off.size() <= 1 || int64_t(off.size()) == ncrop, "crop_param.offset has ", off.size(),
             " values; give 0, 1 or ", ncrop, " (one per cropped axis)");
    offsets_.assign(b.num_axes(), 0);
    std::vector<int64_t> shape = b.shape();
    for (int a = start; a < b.num_axes(); ++a) {
      const int64_t o = off.empty() ? 0 : off.size() == 1 ? off[0] : off[a - start];
      RC_CHECK(b.shape(a) - o >= ref.shape(a), "crop_param: axis ", a, " of size ", b.shape(a), " cannot give ",
               ref.shape(a), " from offset ", o);
      offsets_[a] = o;
      shape[a] = ref.shape(a);
    }
    top[0]->reshape(shape);
  }
  void forward(const TensorVec& bottom, const TensorVec& top) override {
    const Tensor& b = *bottom[0];
    const Tensor& t = *top[0];
    const int n = t.num_axes();
    const int64_t rows = n == 0 ? 1 : t.count() / t.shape(n - 1), width = n == 0 ? 1 : t.shape(n - 1);
    const float* x = b.data();
    float* y = top[0]->data();
#pragma omp parallel for schedule(static) if (t.count() > 65536)
    for (int64_t r = 0; r < rows; ++r) {
      // the bottom index of this row: unravel r over the top's leading axes, add the offsets
      int64_t rem = r, src = 0, stride = b.shape(n - 1);
      for (int a = n - 2; a >= 0; --a) {
        const int64_t idx = rem % t.shape(a);
        rem /= t.shape(a);
        src += (idx + offsets_[a]) * stride;
        stride *= b.shape(a);
      }
      std::memcpy(y + r * width, x + src + offsets_[n - 1], sizeof(float) * width);
    }
  }
  int exact_bottoms() const override { return 2; }
  int exact_tops() const override { return 1; }

 private:
  std::vector<int64_t> offsets_;
};

RECAFFE_REGISTER_LAYER("Crop", CropLayer);

}  // namespace recaffe
