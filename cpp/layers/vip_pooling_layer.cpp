// ViPPooling (beyond the ViP paper): a Pooling whose bottom is the reduced map a ViP layer would
// interpolate; vip_param gives the interpolated size (as for ViP), pooling_param the pooling (any
// method and window, Caffe's rounding). Each plane is interpolated into a per-thread scratch plane
// that stays in cache and pooled from there, so the full-size map never goes to memory. The same
// interpolation and pooling functions run, so the output is bit-identical to ViP then Pooling.
#include <omp.h>

#include "kernels/vip_interp.h"
#include "layers/pooling_layer.h"
#include "layers/vip_layer.h"

namespace recaffe {

class ViPPoolingLayer : public PoolingLayer {
 public:
  using PoolingLayer::PoolingLayer;

  void reshape(const TensorVec& bottom, const TensorVec& top) override {
    const Tensor& b = *bottom[0];
    RC_CHECK(b.num_axes() == 4, "input must be 4-D (N, C, H, W), got shape ", b.shape_string());
    RC_CHECK(b.shape(2) > 0 && b.shape(3) > 0, "empty input of shape ", b.shape_string());
    H_ = b.shape(2);
    W_ = b.shape(3);
    int64_t Hv, Wv;
    vip_output_size(name(), params().msg("vip_param"), H_, W_, &Hv, &Wv);
    Tensor virtual_map({b.shape(0), b.shape(1), Hv, Wv});  // shapes only: nothing is allocated
    PoolingLayer::reshape({&virtual_map}, top);
    // the interpolated plane, pooling's column scratch (Wv), the interpolation's row scratch (W)
    const int64_t per_thread = Hv * Wv + Wv + W_;
    workspace_.reshape({int64_t(omp_get_max_threads()) * per_thread});
  }

  void forward(const TensorVec& bottom, const TensorVec& top) override {
    const PoolGeometry& g = g_;
    const float* in = bottom[0]->data();
    float* out = top[0]->data();
    float* ws = workspace_.data();
    const int64_t in_plane = H_ * W_, vplane = g.H * g.W, out_plane = g.Ho * g.Wo;
    const bool par = g.planes > 1 && g.planes * vplane >= (1 << 17) && !omp_in_parallel();
#pragma omp parallel for schedule(static) if (par)
    for (int64_t p = 0; p < g.planes; ++p) {
      float* v = ws + size_t(omp_get_thread_num()) * size_t(vplane + g.W + W_);
      float* y = out + p * out_plane;
      vip_interpolate_plane(in + p * in_plane, v, H_, W_, g.H, g.W, v + vplane + g.W);
      pool_plane(method_, g, v, y, v + vplane);
      if (act_.kind != Activation::None) apply_activation_serial(act_, y, y, out_plane);
    }
  }

  size_t workspace_bytes() const override { return workspace_.count() * sizeof(float); }
  std::string describe() const override { return "implicit ViP + pooling"; }

 private:
  int64_t H_ = 0, W_ = 0;
  Tensor workspace_;
};

RECAFFE_REGISTER_LAYER("ViPPooling", ViPPoolingLayer);

}  // namespace recaffe
