// Eltwise: PROD, SUM (with one coeff per bottom) or MAX over bottoms of identical shape (Caffe's
// eltwise_layer.cpp; no broadcasting).
#include <algorithm>

#include "core/layer.h"

namespace recaffe {

class EltwiseLayer : public Layer {
 public:
  using Layer::Layer;
  enum Op { kProd = 0, kSum = 1, kMax = 2 };
  void setup(const TensorVec& bottom, const TensorVec&) override {
    const Params& p = params().msg("eltwise_param");
    op_ = static_cast<int>(p.i("operation", 1));
    RC_CHECK(op_ == kProd || op_ == kSum || op_ == kMax, "eltwise_param.operation: unknown value ", op_);
    std::vector<double> c = p.floats("coeff");
    RC_CHECK(c.empty() || op_ == kSum, "eltwise_param.coeff is only allowed with operation SUM");
    RC_CHECK(c.empty() || c.size() == bottom.size(), "eltwise_param.coeff has ", c.size(), " values for ",
             bottom.size(), " bottoms");
    coeff_.assign(bottom.size(), 1.f);
    for (size_t i = 0; i < c.size(); ++i) coeff_[i] = static_cast<float>(c[i]);
  }
  void reshape(const TensorVec& bottom, const TensorVec& top) override {
    for (size_t i = 1; i < bottom.size(); ++i)
      RC_CHECK(bottom[i]->shape() == bottom[0]->shape(), "bottom ", i, " has shape ", bottom[i]->shape_string(),
               " but bottom 0 has ", bottom[0]->shape_string(), " (Eltwise needs identical shapes)");
    top[0]->reshape_like(*bottom[0]);
  }
  void forward(const TensorVec& bottom, const TensorVec& top) override {
    const int64_t n = top[0]->count();
    float* y = top[0]->data();
    std::vector<const float*> x;
    for (Tensor* b : bottom) x.push_back(b->data());
    const size_t nb = x.size();
    const int op = op_;
    const float* c = coeff_.data();
    // each element in one pass over all bottoms (y may be bottom 0: it is read before written)
    if (op == kSum) {
#pragma omp parallel for schedule(static) if (n > 65536)
      for (int64_t i = 0; i < n; ++i) {
        float v = c[0] * x[0][i];
        for (size_t b = 1; b < nb; ++b) v += c[b] * x[b][i];
        y[i] = v;
      }
    } else if (op == kProd) {
#pragma omp parallel for schedule(static) if (n > 65536)
      for (int64_t i = 0; i < n; ++i) {
        float v = x[0][i];
        for (size_t b = 1; b < nb; ++b) v *= x[b][i];
        y[i] = v;
      }
    } else {
      // the first pair resolves ties to bottom 1, later bottoms replace only when strictly greater
#pragma omp parallel for schedule(static) if (n > 65536)
      for (int64_t i = 0; i < n; ++i) {
        float v = x[0][i] > x[1][i] ? x[0][i] : x[1][i];
        for (size_t b = 2; b < nb; ++b) v = x[b][i] > v ? x[b][i] : v;
        y[i] = v;
      }
    }
  }
  int min_bottoms() const override { return 2; }
  int exact_tops() const override { return 1; }
  bool allows_in_place() const override { return true; }

 private:
  int op_ = kSum;
  std::vector<float> coeff_;
};

RECAFFE_REGISTER_LAYER("Eltwise", EltwiseLayer);

}  // namespace recaffe
