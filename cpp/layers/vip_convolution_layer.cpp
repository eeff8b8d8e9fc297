// ViPConvolution (beyond the ViP paper): a Convolution whose bottom is the reduced map a ViP layer
// would interpolate; vip_param gives the interpolated size (as for ViP). It builds its column
// matrix straight from the reduced map (kernels/vip_im2col.h), so the full-size map is never
// written, then runs the GEMM engine's sgemm schedule: same chunking, same calls, so its output is
// bit-identical to ViP followed by a gemm Convolution, and timings isolate the interpolation.
#include <omp.h>

#include <algorithm>

#include "core/blas.h"
#include "engines/conv_gemm_plan.h"
#include "kernels/vip_im2col.h"
#include "layers/convolution_layer.h"
#include "layers/vip_layer.h"

namespace recaffe {

class ViPConvolutionLayer : public ConvolutionLayer {
 public:
  using ConvolutionLayer::ConvolutionLayer;

  void reshape(const TensorVec& bottom, const TensorVec& top) override {
    const Tensor& b = *bottom[0];
    RC_CHECK(b.num_axes() == 4, "input must be 4-D (N, C, H, W), got shape ", b.shape_string());
    int64_t Hv, Wv;
    vip_output_size(name(), params().msg("vip_param"), b.shape(2), b.shape(3), &Hv, &Wv);
    compute_geometry(Tensor({b.shape(0), b.shape(1), Hv, Wv}));  // shapes only: nothing is allocated
    RC_CHECK(geom_.group == 1, "ViPConvolution supports group 1 only, got group ", geom_.group);
    ensure_blob(0, {geom_.K, geom_.Cg(), geom_.kh, geom_.kw});
    if (geom_.bias) ensure_blob(1, {geom_.K});
    top[0]->reshape({geom_.N, geom_.K, geom_.Ho, geom_.Wo});
    s_.C = geom_.C; s_.Hr = b.shape(2); s_.Wr = b.shape(3); s_.Hv = Hv; s_.Wv = Wv;
    s_.kh = geom_.kh; s_.kw = geom_.kw; s_.ph = geom_.ph; s_.pw = geom_.pw; s_.sh = geom_.sh; s_.sw = geom_.sw;
    s_.dh = geom_.dh; s_.dw = geom_.dw; s_.Ho = geom_.Ho; s_.Wo = geom_.Wo;
    const int T = omp_get_max_threads();
    plan_ = gemm_plan(geom_, T);
    const int64_t rows = geom_.col_rows();
    if (plan_.whole) {
      scratch_ = vip_im2col_scratch_floats(s_, geom_.out_hw());
      workspace_.reshape({rows * geom_.out_hw() + int64_t(T) * int64_t(scratch_)});
    } else {
      scratch_ = vip_im2col_scratch_floats(s_, plan_.nb);
      workspace_.reshape({int64_t(T) * (rows * plan_.nb + int64_t(scratch_))});
    }
  }

  void forward(const TensorVec& bottom, const TensorVec& top) override {
    const ConvGeometry& g = geom_;
    const float* w = blobs_[0]->data();
    const float* bias = g.bias ? blobs_[1]->data() : nullptr;
    const float* in = bottom[0]->data();
    float* out = top[0]->data();
    float* ws = workspace_.data();
    const int64_t M = g.K, Kd = g.col_rows(), Nd = g.out_hw(), in_count = s_.C * s_.Hr * s_.Wr;
    if (plan_.whole) {  // per image: the column matrix split by channels across threads, one parallel sgemm
      float* col = ws;
      float* scratch = ws + Kd * Nd;
      for (int64_t n = 0; n < g.N; ++n) {
#pragma omp parallel
        {
          const int t = omp_get_thread_num(), T = omp_get_num_threads();
          const int64_t cb = s_.C * t / T, ce = s_.C * (t + 1) / T;
          if (ce > cb)
            vip_im2col_columns(in + n * in_count, s_, 0, Nd, cb, ce, col, Nd, scratch + size_t(t) * scratch_);
        }
        float* y = out + n * g.K * Nd;
        const float beta = bias_as_gemm_init(y, bias, g.K, Nd, Nd);
        sgemm_parallel(false, false, int(M), int(Nd), int(Kd), 1.f, w, int(Kd), col, int(Nd), beta, y, int(Nd));
      }
      return;
    }
    const int64_t nb = plan_.nb, chunks = plan_.chunks, items = g.N * chunks;
    const size_t per_thread = size_t(Kd * nb) + scratch_;
    const bool par = items > 1 && g.macs() > 2e5;
#pragma omp parallel for schedule(static) if (par)
    for (int64_t it = 0; it < items; ++it) {
      const int64_t n = it / chunks, c0 = (it % chunks) * nb, c1 = std::min(Nd, c0 + nb), wd = c1 - c0;
      float* col = ws + size_t(omp_get_thread_num()) * per_thread;
      vip_im2col_columns(in + n * in_count, s_, c0, c1, 0, s_.C, col, wd, col + Kd * nb);
      float* y = out + n * g.K * Nd;
      const float beta = bias_as_gemm_init(y + c0, bias, g.K, wd, Nd);
      sgemm_ld(false, false, int(M), int(wd), int(Kd), 1.f, w, int(Kd), col, int(wd), beta, y + c0, int(Nd));
    }
  }

  std::string describe() const override { return "implicit ViP + gemm"; }

 private:
  VipIm2colShape s_;
  GemmPlan plan_;
  size_t scratch_ = 0;
};

RECAFFE_REGISTER_LAYER("ViPConvolution", ViPConvolutionLayer);

}  // namespace recaffe
