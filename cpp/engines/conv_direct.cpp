// The direct engine: the convolution sum written straight from its definition. Slow; it is the
// reference every other engine is tested against.
#include "engines/conv_engine.h"

namespace recaffe {

class DirectConvEngine : public ConvEngine {
 public:
  explicit DirectConvEngine(const ConvEngineOptions&) {}
  const char* name() const override { return "direct"; }

  void forward(const ConvGeometry& g, const float* in, const float* weights, const float* bias, float* out,
               float*) override {
    const int64_t Cg = g.Cg(), Kg = g.Kg();
#pragma omp parallel for collapse(2) schedule(static)
    for (int64_t n = 0; n < g.N; ++n) {
      for (int64_t k = 0; k < g.K; ++k) {
        const int64_t gi = k / Kg;
        const float* w = weights + k * Cg * g.kh * g.kw;
        float* y = out + (n * g.K + k) * g.out_hw();
        for (int64_t oh = 0; oh < g.Ho; ++oh) {
          for (int64_t ow = 0; ow < g.Wo; ++ow) {
            float acc = (g.bias && bias) ? bias[k] : 0.f;
            for (int64_t c = 0; c < Cg; ++c) {
              const float* x = in + (n * g.C + gi * Cg + c) * g.in_hw();
              for (int i = 0; i < g.kh; ++i) {
                const int64_t ih = oh * g.sh - g.ph + i * g.dh;
                if (ih < 0 || ih >= g.H) continue;
                for (int j = 0; j < g.kw; ++j) {
                  const int64_t iw = ow * g.sw - g.pw + j * g.dw;
                  if (iw < 0 || iw >= g.W) continue;
                  acc += w[(c * g.kh + i) * g.kw + j] * x[ih * g.W + iw];
                }
              }
            }
            y[oh * g.Wo + ow] = acc;
          }
        }
      }
    }
  }
};

RECAFFE_REGISTER_CONV_ENGINE("direct", DirectConvEngine);

}  // namespace recaffe
