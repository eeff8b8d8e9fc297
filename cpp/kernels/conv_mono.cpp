#include "kernels/conv_mono.h"

#include <algorithm>
#include <cstring>

#include "core/cpu_features.h"

namespace recaffe {

void mono_split_phases(const PlaneConv& p, const float* plane, float* phases) {
  const int64_t Hp = p.padded_rows(), Wq = p.phase_cols();
  std::memset(phases, 0, p.phase_floats() * sizeof(float));
  for (int s = 0; s < p.sw; ++s) {
    float* ph_base = phases + int64_t(s) * Hp * Wq;
    for (int64_t y = 0; y < p.H; ++y) {
      const float* src = plane + y * p.W;
      float* dst = ph_base + (y + p.ph) * Wq;
      // padded column x*sw + s holds input column x*sw + s - pw
      for (int64_t x = 0; x < Wq; ++x) {
        const int64_t ix = x * p.sw + s - p.pw;
        if (ix >= 0 && ix < p.W) dst[x] = src[ix];
      }
    }
  }
}

namespace detail {
void mono_conv_rows_scalar(const PlaneConv& p, const float* phases, const float* w, int64_t K, const float* bias,
                           float* out, int64_t y0, int64_t y1) {
  const int64_t Hp = p.padded_rows(), Wq = p.phase_cols(), HWo = p.Ho * p.Wo;
  const int T = p.kh * p.kw;
  for (int64_t k = 0; k < K; ++k) {
    const float b = bias ? bias[k] : 0.f;
    for (int64_t oy = y0; oy < y1; ++oy) {
      float* o = out + k * HWo + oy * p.Wo;
      for (int64_t ox = 0; ox < p.Wo; ++ox) o[ox] = b;
      for (int i = 0; i < p.kh; ++i)
        for (int j = 0; j < p.kw; ++j) {
          const int64_t jd = int64_t(j) * p.dw;
          const float* src = phases + ((jd % p.sw) * Hp + oy * p.sh + int64_t(i) * p.dh) * Wq + jd / p.sw;
          const float wt = w[k * T + i * p.kw + j];
          for (int64_t ox = 0; ox < p.Wo; ++ox) o[ox] += wt * src[ox];
        }
    }
  }
}
}  // namespace detail

void mono_conv_rows(const PlaneConv& p, const float* phases, const float* w, int64_t K, const float* bias, float* out,
                    int64_t y0, int64_t y1) {
  switch (best_isa()) {
    case Isa::Avx512: detail::mono_conv_rows_avx512(p, phases, w, K, bias, out, y0, y1); break;
    case Isa::Avx2: detail::mono_conv_rows_avx2(p, phases, w, K, bias, out, y0, y1); break;
    default: detail::mono_conv_rows_scalar(p, phases, w, K, bias, out, y0, y1);
  }
}

}  // namespace recaffe
