// The "mono" engine: grouped convolutions whose groups each read ONE input channel (group ==
// channels): Denton et al.'s monochromatic first layer (C' colour channels, F/C' filters each) and
// depthwise convolutions (the rank-1 cores of the biclustered outer-product form). Per image, each
// input plane is split into stride phases once (kernels/conv_mono.h); then (group, row block) work
// items run the register-tiled kernel, so there is no im2col and no small-matrix BLAS call.
#include <omp.h>

#include <algorithm>

#include "engines/conv_engine.h"
#include "kernels/conv_mono.h"

namespace recaffe {

namespace {
PlaneConv plane_of(const ConvGeometry& g) {
  PlaneConv p;
  p.H = g.H; p.W = g.W; p.Ho = g.Ho; p.Wo = g.Wo;
  p.kh = g.kh; p.kw = g.kw; p.sh = g.sh; p.sw = g.sw; p.ph = g.ph; p.pw = g.pw; p.dh = g.dh; p.dw = g.dw;
  return p;
}

// Whole images per thread when the batch has at least one image per thread.
bool image_parallel(const ConvGeometry& g) {
  const int threads = omp_get_max_threads();
  return threads > 1 && g.N >= threads && !omp_in_parallel();
}
}  // namespace

class MonoConvEngine : public ConvEngine {
 public:
  explicit MonoConvEngine(const ConvEngineOptions&) {}
  const char* name() const override { return "mono"; }

  std::string unsupported(const ConvGeometry& g) const override {
    if (g.Cg() != 1)
      return "the mono engine needs one input channel per group (group == channels), got " + std::to_string(g.Cg()) +
             " channels per group";
    return "";
  }

  size_t workspace_floats(const ConvGeometry& g) const override {
    return size_t(g.C) * plane_of(g).phase_floats() * size_t(image_parallel(g) ? omp_get_max_threads() : 1);
  }

  void forward(const ConvGeometry& g, const float* in, const float* weights, const float* bias, float* out,
               float* ws) override {
    const PlaneConv p = plane_of(g);
    const size_t pf = p.phase_floats();
    const int64_t Kg = g.Kg(), T = int64_t(g.kh) * g.kw, HWo = g.out_hw();
    const int threads = omp_get_max_threads();
    if (image_parallel(g)) {
      // a batch of at least one image per thread: whole images per thread, one parallel region. A
      // region per image (below) paid a wake-up of the sleeping workers per image: at batch 100 on
      // CIFAR's 32x32 maps that made 2 threads 3.8x slower than 1.
#pragma omp parallel for schedule(static)
      for (int64_t n = 0; n < g.N; ++n) {
        const float* x = in + n * g.C * g.in_hw();
        float* y = out + n * g.K * HWo;
        float* wt = ws + size_t(omp_get_thread_num()) * size_t(g.C) * pf;
        for (int64_t c = 0; c < g.C; ++c) {
          mono_split_phases(p, x + c * g.in_hw(), wt + c * pf);
          mono_conv_rows(p, wt + c * pf, weights + c * Kg * T, Kg, (g.bias && bias) ? bias + c * Kg : nullptr,
                         y + c * Kg * HWo, 0, g.Ho);
        }
      }
      return;
    }
    // row blocks: enough work items for every thread, rows of one block share cache lines
    const int64_t blocks_per_group = std::min<int64_t>(g.Ho, std::max<int64_t>(1, (4 * threads + g.C - 1) / g.C));
    const int64_t rows = (g.Ho + blocks_per_group - 1) / blocks_per_group;
    const int64_t items = g.C * blocks_per_group;
    const bool par = g.macs() / std::max<int64_t>(g.N, 1) > 1e5;
    for (int64_t n = 0; n < g.N; ++n) {
      const float* x = in + n * g.C * g.in_hw();
      float* y = out + n * g.K * HWo;
#pragma omp parallel if (par)
      {
#pragma omp for schedule(static)
        for (int64_t c = 0; c < g.C; ++c) mono_split_phases(p, x + c * g.in_hw(), ws + c * pf);
#pragma omp for schedule(static)
        for (int64_t it = 0; it < items; ++it) {
          const int64_t c = it / blocks_per_group, y0 = (it % blocks_per_group) * rows;
          const int64_t y1 = std::min<int64_t>(g.Ho, y0 + rows);
          if (y0 >= y1) continue;
          mono_conv_rows(p, ws + c * pf, weights + c * Kg * T, Kg, (g.bias && bias) ? bias + c * Kg : nullptr,
                         y + c * Kg * HWo, y0, y1);
        }
      }
    }
  }
};

RECAFFE_REGISTER_CONV_ENGINE("mono", MonoConvEngine);

}  // namespace recaffe
