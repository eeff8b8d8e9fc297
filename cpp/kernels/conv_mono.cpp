#include "kernels/conv_mono.h"

#include <algorithm>
#include <cstring>

#include "core/cpu_features.h"

namespace recaffe {

void mono_split_phases(const PlaneConv& p, const float* plane, float* phases) {
  const int64_t Hp = p.padded_rows(), Wq = p.phase_cols();
  // a small plane (CIFAR-sized maps) is zeroed with one call: there the per-row memsets cost more
  // in calls than in bytes
  const bool zero_all = p.phase_floats() <= 4096;
  if (zero_all) std::memset(phases, 0, p.phase_floats() * sizeof(float));
  for (int s = 0; s < p.sw; ++s) {
    float* base = phases + int64_t(s) * Hp * Wq;
    // padded column x*sw + s holds input column ix = x*sw + s - pw: valid for x in [x0, x1)
    const int64_t x0 = std::max<int64_t>(0, (p.pw - s + p.sw - 1) / p.sw);
    const int64_t x1 = std::min<int64_t>(Wq, std::max<int64_t>(x0, (p.W - 1 + p.pw - s) / p.sw + 1));
    if (!zero_all) {
      std::memset(base, 0, size_t(p.ph) * Wq * sizeof(float));
      std::memset(base + (p.ph + p.H) * Wq, 0, size_t(Hp - p.ph - p.H) * Wq * sizeof(float));
    }
    for (int64_t y = 0; y < p.H; ++y) {
      const float* src = plane + y * p.W + (x0 * p.sw + s - p.pw);
      float* dst = base + (y + p.ph) * Wq;
      if (!zero_all) {
        std::memset(dst, 0, size_t(x0) * sizeof(float));
        std::memset(dst + x1, 0, size_t(Wq - x1) * sizeof(float));
      }
      if (p.sw == 1) {
        std::memcpy(dst + x0, src, size_t(x1 - x0) * sizeof(float));
      } else {
        for (int64_t x = x0; x < x1; ++x) dst[x] = src[(x - x0) * p.sw];
      }
    }
  }
}

void mono_split_phases_color(const PlaneConv& p, const float* planes, int64_t C, const float* color, float* phases,
                             int64_t row0, int64_t row1) {
  const int64_t Hp = p.padded_rows(), Wq = p.phase_cols(), HW = p.H * p.W;
  row0 = std::max<int64_t>(0, row0);
  row1 = std::min<int64_t>(Hp, row1);
  for (int s = 0; s < p.sw; ++s) {
    float* base = phases + int64_t(s) * Hp * Wq;
    const int64_t x0 = std::max<int64_t>(0, (p.pw - s + p.sw - 1) / p.sw);
    const int64_t x1 = std::min<int64_t>(Wq, std::max<int64_t>(x0, (p.W - 1 + p.pw - s) / p.sw + 1));
    for (int64_t y = row0; y < row1; ++y) {
      float* dst = base + y * Wq;
      const int64_t iy = y - p.ph;
      if (iy < 0 || iy >= p.H) {
        std::memset(dst, 0, size_t(Wq) * sizeof(float));
        continue;
      }
      std::memset(dst, 0, size_t(x0) * sizeof(float));
      std::memset(dst + x1, 0, size_t(Wq - x1) * sizeof(float));
      const int64_t off = iy * p.W + (x0 * p.sw + s - p.pw);
      float* d = dst + x0;
      const int64_t n = x1 - x0;
      {
        const float* src = planes + off;
        const float c0 = color[0];
        for (int64_t x = 0; x < n; ++x) d[x] = c0 * src[x * p.sw];
      }
      for (int64_t c = 1; c < C; ++c) {
        const float* src = planes + c * HW + off;
        const float cc = color[c];
        for (int64_t x = 0; x < n; ++x) d[x] += cc * src[x * p.sw];
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
  if (int64_t(p.kh) * p.kw > 256) {   // beyond the vector bodies' tap tables (conv_mono_impl.h)
    detail::mono_conv_rows_scalar(p, phases, w, K, bias, out, y0, y1);
    return;
  }
  switch (best_isa()) {
    case Isa::Avx512:
      // rows of at most 8 columns fill an 8-lane vector, but only half of a 16-lane one
      if (p.Wo <= 8) detail::mono_conv_rows_avx2(p, phases, w, K, bias, out, y0, y1);
      else detail::mono_conv_rows_avx512(p, phases, w, K, bias, out, y0, y1);
      break;
    case Isa::Avx2: detail::mono_conv_rows_avx2(p, phases, w, K, bias, out, y0, y1); break;
    default: detail::mono_conv_rows_scalar(p, phases, w, K, bias, out, y0, y1);
  }
}

}  // namespace recaffe
