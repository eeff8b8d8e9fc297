// Deconvolution (Caffe's deconv_layer.cpp): the transpose of Convolution. Weights [C, K/group, kh, kw],
// out = s(H-1) + d(k-1) + 1 - 2p. Per image and group: col = W_g^T x_g (sgemm), then col2im into
// the output; bias as in Convolution. A 1x1/stride-1/pad-0 kernel writes the sgemm straight out.
#include <algorithm>
#include <cstring>

#include "core/blas.h"
#include "core/layer.h"
#include "engines/conv_engine.h"
#include "kernels/im2col.h"
#include "layers/conv_params.h"

namespace recaffe {

class DeconvolutionLayer : public Layer {
 public:
  using Layer::Layer;
  void setup(const TensorVec&, const TensorVec&) override {
    sp_ = parse_conv_params(name(), params().msg("convolution_param"));
  }
  void reshape(const TensorVec& bottom, const TensorVec& top) override {
    const Tensor& b = *bottom[0];
    RC_CHECK(b.num_axes() == 4, "input must be 4-D (N, C, H, W), got shape ", b.shape_string());
    N_ = b.shape(0); C_ = b.shape(1); H_ = b.shape(2); W_ = b.shape(3);
    K_ = sp_.num_output;
    RC_CHECK(C_ % sp_.group == 0, "input channels ", C_, " are not divisible by group ", sp_.group);
    RC_CHECK(K_ % sp_.group == 0, "num_output ", K_, " is not divisible by group ", sp_.group);
    Ho_ = int64_t(sp_.sh) * (H_ - 1) + int64_t(sp_.dh) * (sp_.kh - 1) + 1 - 2 * sp_.ph;
    Wo_ = int64_t(sp_.sw) * (W_ - 1) + int64_t(sp_.dw) * (sp_.kw - 1) + 1 - 2 * sp_.pw;
    RC_CHECK(Ho_ > 0 && Wo_ > 0, "output size ", Ho_, "x", Wo_, " is not positive (pad too large)");
    ensure_blob(0, {C_, K_ / sp_.group, sp_.kh, sp_.kw});
    if (sp_.bias_term) ensure_blob(1, {K_});
    top[0]->reshape({N_, K_, Ho_, Wo_});
  }
  size_t workspace_bytes() const override { return sizeof(float) * size_t(K_ * sp_.kh * sp_.kw * H_ * W_); }
  void forward(const TensorVec& bottom, const TensorVec& top) override {
    const int g = sp_.group;
    const int64_t Cg = C_ / g, Kg = K_ / g, kk = int64_t(sp_.kh) * sp_.kw, hw = H_ * W_, ohw = Ho_ * Wo_;
    const bool one = kk == 1 && sp_.sh == 1 && sp_.sw == 1 && sp_.ph == 0 && sp_.pw == 0;
    col_.reshape({K_ * kk * hw});
    float* col = col_.data();
    const float* w = blobs_[0]->data();
    const float* x = bottom[0]->data();
    float* y = top[0]->data();
    for (int64_t n = 0; n < N_; ++n) {
      float* yn = y + n * K_ * ohw;
      float* out = one ? yn : col;
      for (int gi = 0; gi < g; ++gi)
        sgemm_parallel(true, false, int(Kg * kk), int(hw), int(Cg), 1.f, w + gi * Cg * Kg * kk, int(Kg * kk),
                       x + (n * C_ + gi * Cg) * hw, int(hw), 0.f, out + gi * Kg * kk * hw, int(hw));
      if (!one) {
        std::memset(yn, 0, sizeof(float) * K_ * ohw);
        col2im(col, K_, Ho_, Wo_, sp_.kh, sp_.kw, sp_.ph, sp_.pw, sp_.sh, sp_.sw, sp_.dh, sp_.dw, H_, W_, yn);
      }
      if (sp_.bias_term) add_bias(yn, blobs_[1]->data(), K_, ohw);
    }
  }
  int exact_bottoms() const override { return 1; }
  int exact_tops() const override { return 1; }

 private:
  ConvSpatialParams sp_;
  int64_t N_ = 0, C_ = 0, H_ = 0, W_ = 0, K_ = 0, Ho_ = 0, Wo_ = 0;
  Tensor col_;
};

RECAFFE_REGISTER_LAYER("Deconvolution", DeconvolutionLayer);

}  // namespace recaffe
