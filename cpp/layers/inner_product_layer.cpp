// InnerProduct: everything from `axis` on is flattened into K; top = bottom[M, K] * W^T + bias,
// with W stored [N, K] (or [K, N] when transpose: true), as in Caffe's inner_product_layer.cpp.
#include "core/blas.h"
#include "core/layer.h"

namespace recaffe {

class InnerProductLayer : public Layer {
 public:
  using Layer::Layer;
  void setup(const TensorVec& bottom, const TensorVec&) override {
    const Params& p = params().msg("inner_product_param");
    RC_CHECK(p.has("num_output"), "inner_product_param.num_output is required");
    N_ = p.i("num_output");
    RC_CHECK(N_ > 0 && N_ <= (1 << 24), "inner_product_param.num_output must be in 1..2^24, got ", N_);
    bias_ = p.b("bias_term", true);
    transpose_ = p.b("transpose", false);
    axis_ = static_cast<int>(p.i("axis", 1));
  }
  void reshape(const TensorVec& bottom, const TensorVec& top) override {
    const Tensor& b = *bottom[0];
    int axis = b.canonical_axis(axis_);
    const int64_t K = b.count(axis);
    M_ = b.count(0, axis);
    if (K_ != 0 && K != K_ && !blobs_.empty() && blobs_[0])
      RC_CHECK(false, "input has ", K, " features from axis ", axis, " on (shape ", b.shape_string(),
               "), but the weights expect ", K_);
    K_ = K;
    if (transpose_) ensure_blob(0, {K_, N_});
    else ensure_blob(0, {N_, K_});
    if (bias_) ensure_blob(1, {N_});
    std::vector<int64_t> shape(b.shape().begin(), b.shape().begin() + axis);
    shape.push_back(N_);
    top[0]->reshape(shape);
  }
  void forward(const TensorVec& bottom, const TensorVec& top) override {
    float* y = top[0]->data();
    const int M = static_cast<int>(M_), N = static_cast<int>(N_), K = static_cast<int>(K_);
    sgemm_parallel(false, !transpose_, M, N, K, 1.f, bottom[0]->data(), K, blobs_[0]->data(), transpose_ ? N : K,
                   0.f, y, N);
    if (bias_) {
      const float* b = blobs_[1]->data();
      for (int64_t m = 0; m < M_; ++m)
        for (int64_t n = 0; n < N_; ++n) y[m * N_ + n] += b[n];
    }
  }
  int exact_bottoms() const override { return 1; }
  int exact_tops() const override { return 1; }

 private:
  int64_t N_ = 0, K_ = 0, M_ = 0;
  int axis_ = 1;
  bool bias_ = true, transpose_ = false;
};

RECAFFE_REGISTER_LAYER("InnerProduct", InnerProductLayer);

}  // namespace recaffe
