#pragma once
// The vector body of mono_conv_rows, shared by the AVX2 and AVX-512 files (each compiles it with
// its own ISA flags and vector type V). A register tile is R filters x NV vectors of one output
// row; each filter tap loads NV vectors of a phase row once and feeds R FMAs with them.
#include <algorithm>
#include <cstring>

#include "kernels/conv_mono.h"

namespace recaffe {
namespace mono_impl {

template <class V, int R, int NV>
inline void tile(const PlaneConv& p, const float* phases, const float* w, const float* bias, float* out, int64_t oy,
                 int64_t x0, int64_t HWo, int64_t Hp, int64_t Wq) {
  typename V::F acc[R][NV];
  for (int r = 0; r < R; ++r) {
    const auto b = V::set1(bias ? bias[r] : 0.f);
    for (int v = 0; v < NV; ++v) acc[r][v] = b;
  }
  const int T = p.kh * p.kw;
  for (int i = 0; i < p.kh; ++i) {
    const int64_t row = oy * p.sh + int64_t(i) * p.dh;
    for (int j = 0; j < p.kw; ++j) {
      const int64_t jd = int64_t(j) * p.dw;
      const float* src = phases + ((jd % p.sw) * Hp + row) * Wq + jd / p.sw + x0;
      typename V::F x[NV];
      for (int v = 0; v < NV; ++v) x[v] = V::load(src + v * V::L);
      const int t = i * p.kw + j;
      for (int r = 0; r < R; ++r) {
        const auto wt = V::set1(w[r * T + t]);
        for (int v = 0; v < NV; ++v) acc[r][v] = V::fmadd(wt, x[v], acc[r][v]);
      }
    }
  }
  const int64_t n = std::min<int64_t>(NV * V::L, p.Wo - x0);
  for (int r = 0; r < R; ++r) {
    float* o = out + r * HWo + oy * p.Wo + x0;
    if (n == NV * V::L) {
      for (int v = 0; v < NV; ++v) V::store(o + v * V::L, acc[r][v]);
    } else {
      alignas(64) float tmp[NV * V::L];
      for (int v = 0; v < NV; ++v) V::store(tmp + v * V::L, acc[r][v]);
      std::memcpy(o, tmp, size_t(n) * sizeof(float));
    }
  }
}

template <class V, int NV, int RMAX>
void rows(const PlaneConv& p, const float* phases, const float* w, int64_t K, const float* bias, float* out,
          int64_t y0, int64_t y1) {
  const int64_t Hp = p.padded_rows(), Wq = p.phase_cols(), HWo = p.Ho * p.Wo;
  const int T = p.kh * p.kw;
  for (int64_t oy = y0; oy < y1; ++oy)
    for (int64_t x0 = 0; x0 < p.Wo; x0 += NV * V::L)
      for (int64_t k = 0; k < K; k += RMAX) {
        const int64_t r = std::min<int64_t>(RMAX, K - k);
        const float* wk = w + k * T;
        const float* bk = bias ? bias + k : nullptr;
        float* ok = out + k * HWo;
        switch (r) {
#define RC_MONO_CASE(N) \
  case N: if constexpr (N <= RMAX) tile<V, N, NV>(p, phases, wk, bk, ok, oy, x0, HWo, Hp, Wq); break;
          RC_MONO_CASE(1) RC_MONO_CASE(2) RC_MONO_CASE(3) RC_MONO_CASE(4) RC_MONO_CASE(5) RC_MONO_CASE(6)
#undef RC_MONO_CASE
          default: break;
        }
      }
}

}  // namespace mono_impl
}  // namespace recaffe
