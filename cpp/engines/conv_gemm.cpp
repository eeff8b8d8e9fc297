// The GEMM engine: Caffe's CPU algorithm, the fair baseline every paper compares against: im2col,
// then sgemm W_g[K/g, C/g*kh*kw] x col_g per image and group onto the bias (Caffe's rank-1 bias
// update, placed first: see bias_as_gemm_init);
// the 1x1/stride-1/pad-0 case skips im2col as Caffe does.
// One change for speed on several cores: the output columns (Ho*Wo) are cut into fixed-size
// chunks and each (image, chunk) pair is a work item for one thread, which im2col's just its
// chunk into a private buffer that stays in cache and calls the single-threaded BLAS on it.
// The chunking does not depend on the thread count, so 1 and N threads give identical outputs.
#include <omp.h>

#include <algorithm>

#include "core/blas.h"
#include "engines/conv_engine.h"
#include "engines/conv_gemm_plan.h"
#include "kernels/im2col.h"

namespace recaffe {

class GemmConvEngine : public ConvEngine {
 public:
  explicit GemmConvEngine(const ConvEngineOptions&) {}
  const char* name() const override { return "gemm"; }

  size_t workspace_floats(const ConvGeometry& g) const override {
    if (g.is_1x1()) return 0;
    const int T = omp_get_max_threads();
    GemmPlan p = gemm_plan(g, T);
    const int64_t rows = g.C * g.kh * g.kw;
    return static_cast<size_t>(p.whole ? rows * g.out_hw() : int64_t(T) * rows * p.nb);
  }

  void forward(const ConvGeometry& g, const float* in, const float* weights, const float* bias, float* out,
               float* ws) override {
    const int T = omp_get_max_threads();
    const GemmPlan p = gemm_plan(g, T);
    if (p.whole) {
      forward_whole(g, in, weights, bias, out, ws);
      return;
    }
    const int64_t M = g.Kg(), Kd = g.col_rows(), Nd = g.out_hw();
    const int64_t nb = p.nb, chunks = p.chunks;
    const int64_t items = g.N * chunks;
    const int64_t col_rows = g.C * g.kh * g.kw;
    const bool one = g.is_1x1();
    const bool par = items > 1 && g.macs() > 2e5;
#pragma omp parallel for schedule(static) if (par)
    for (int64_t it = 0; it < items; ++it) {
      const int64_t n = it / chunks, c0 = (it % chunks) * nb, c1 = std::min(Nd, c0 + nb);
      const int64_t w = c1 - c0;
      const float* x = in + n * g.C * g.in_hw();
      float* y = out + n * g.K * Nd;
      const float* cols;
      int64_t ldb;
      if (one) {
        cols = x + c0;
        ldb = Nd;
      } else {
        float* col = ws + static_cast<size_t>(omp_get_thread_num()) * col_rows * nb;
        im2col_columns(x, g.C, g.H, g.W, g.kh, g.kw, g.ph, g.pw, g.sh, g.sw, g.dh, g.dw, g.Ho, g.Wo, c0, c1, col, w);
        cols = col;
        ldb = w;
      }
      const float beta = bias_as_gemm_init(y + c0, g.bias ? bias : nullptr, g.K, w, Nd);
      for (int gi = 0; gi < g.group; ++gi) {
        sgemm_ld(false, false, static_cast<int>(M), static_cast<int>(w), static_cast<int>(Kd), 1.f,
                 weights + gi * M * Kd, static_cast<int>(Kd), cols + gi * Kd * ldb, static_cast<int>(ldb), beta,
                 y + gi * M * Nd + c0, static_cast<int>(Nd));
      }
    }
  }

 private:
  // Caffe's loop as written: per image, im2col (rows split across threads), then one sgemm per
  // group split across threads, then the bias.
  void forward_whole(const ConvGeometry& g, const float* in, const float* weights, const float* bias, float* out,
                     float* col) {
    const int64_t M = g.Kg(), Kd = g.col_rows(), Nd = g.out_hw();
    for (int64_t n = 0; n < g.N; ++n) {
      const float* x = in + n * g.C * g.in_hw();
      float* y = out + n * g.K * Nd;
      im2col(x, g.C, g.H, g.W, g.kh, g.kw, g.ph, g.pw, g.sh, g.sw, g.dh, g.dw, g.Ho, g.Wo, col);
      const float beta = bias_as_gemm_init(y, g.bias ? bias : nullptr, g.K, Nd, Nd);
      for (int gi = 0; gi < g.group; ++gi)
        sgemm_parallel(false, false, static_cast<int>(M), static_cast<int>(Nd), static_cast<int>(Kd), 1.f,
                       weights + gi * M * Kd, static_cast<int>(Kd), col + gi * Kd * Nd, static_cast<int>(Nd), beta,
                       y + gi * M * Nd, static_cast<int>(Nd));
    }
  }
};

RECAFFE_REGISTER_CONV_ENGINE("gemm", GemmConvEngine);

}  // namespace recaffe
