// MonochromaticConvolution (recaffe layer): Denton et al.'s monochromatic first layer in one pass.
// Blobs: colors [C', C, 1, 1] (the shared colour transforms), filters [F, 1, kh, kw], bias [F];
// convolution_param as Caffe's with group = C' (filter f reads colour channel f / (F / C')). It computes
// exactly a 1x1 convolution C -> C' followed by a Convolution with group C', but projects one colour at a
// time into a cache-resident buffer (kernels/conv_mono.h) instead of writing C' full planes to memory.
#include <omp.h>

#include <algorithm>

#include "core/layer.h"
#include "kernels/conv_mono.h"
#include "layers/conv_params.h"

namespace recaffe {

class MonochromaticConvolutionLayer : public Layer {
 public:
  using Layer::Layer;
  int exact_bottoms() const override { return 1; }
  int exact_tops() const override { return 1; }
  std::string describe() const override { return "mono (fused colour transform)"; }

  void setup(const TensorVec&, const TensorVec&) override {
    sp_ = parse_conv_params(name(), params().msg("convolution_param"));
    RC_CHECK(sp_.group >= 1 && sp_.num_output % sp_.group == 0, "num_output ", sp_.num_output,
             " is not divisible by the number of colours (group) ", sp_.group);
  }

  void reshape(const TensorVec& bottom, const TensorVec& top) override {
    const Tensor& b = *bottom[0];
    RC_CHECK(b.num_axes() == 4, "input must be 4-D (N, C, H, W), got shape ", b.shape_string());
    N_ = b.shape(0);
    C_ = b.shape(1);
    p_.H = b.shape(2); p_.W = b.shape(3);
    p_.kh = sp_.kh; p_.kw = sp_.kw; p_.sh = sp_.sh; p_.sw = sp_.sw; p_.ph = sp_.ph; p_.pw = sp_.pw;
    p_.dh = sp_.dh; p_.dw = sp_.dw;
    const int64_t ekh = int64_t(p_.dh) * (p_.kh - 1) + 1, ekw = int64_t(p_.dw) * (p_.kw - 1) + 1;
    RC_CHECK(p_.H + 2 * p_.ph >= ekh && p_.W + 2 * p_.pw >= ekw, "kernel is larger than the padded input");
    p_.Ho = (p_.H + 2 * p_.ph - ekh) / p_.sh + 1;
    p_.Wo = (p_.W + 2 * p_.pw - ekw) / p_.sw + 1;
    ensure_blob(0, {int64_t(sp_.group), C_, 1, 1});
    ensure_blob(1, {sp_.num_output, 1, sp_.kh, sp_.kw});
    if (sp_.bias_term) ensure_blob(2, {sp_.num_output});
    top[0]->reshape({N_, sp_.num_output, p_.Ho, p_.Wo});
    ws_.reshape({int64_t(omp_get_max_threads()) * int64_t(p_.phase_floats())});
  }

  size_t workspace_bytes() const override { return ws_.bytes(); }

  void forward(const TensorVec& bottom, const TensorVec& top) override {
    const int64_t Cp = sp_.group, Kg = sp_.num_output / Cp, T = int64_t(p_.kh) * p_.kw, HWo = p_.Ho * p_.Wo;
    const float* colors = blobs_[0]->data();
    const float* w = blobs_[1]->data();
    const float* bias = sp_.bias_term ? blobs_[2]->data() : nullptr;
    const size_t pf = p_.phase_floats();
    const int threads = omp_get_max_threads();
    const int64_t blocks = std::min<int64_t>(p_.Ho, std::max<int64_t>(1, (2 * threads + Cp - 1) / Cp));
    const int64_t rows = (p_.Ho + blocks - 1) / blocks;
    const int64_t items = N_ * Cp * blocks;
    float* ws = ws_.data();
    const float* in = bottom[0]->data();
    float* out = top[0]->data();
#pragma omp parallel for schedule(static) if (items > 1)
    for (int64_t it = 0; it < items; ++it) {
      const int64_t n = it / (Cp * blocks), c = (it / blocks) % Cp, y0 = (it % blocks) * rows;
      const int64_t y1 = std::min<int64_t>(p_.Ho, y0 + rows);
      if (y0 >= y1) continue;
      float* phases = ws + size_t(omp_get_thread_num()) * pf;
      mono_split_phases_color(p_, in + n * C_ * p_.H * p_.W, C_, colors + c * C_, phases, y0 * p_.sh,
                              (y1 - 1) * p_.sh + int64_t(p_.kh - 1) * p_.dh + 1);
      mono_conv_rows(p_, phases, w + c * Kg * T, Kg, bias ? bias + c * Kg : nullptr,
                     out + (n * sp_.num_output + c * Kg) * HWo, y0, y1);
    }
  }

 private:
  ConvSpatialParams sp_;
  PlaneConv p_;
  int64_t N_ = 0, C_ = 0;
  Tensor ws_;
};

RECAFFE_REGISTER_LAYER("MonochromaticConvolution", MonochromaticConvolutionLayer);

}  // namespace recaffe
