#pragma once
// The vector body of mono_conv_rows, shared by the AVX2 and AVX-512 files (each compiles it with
// its own ISA flags and vector type V). A register tile is R filters x NV vectors of one output
// row; each filter tap loads NV vectors of a phase row once and feeds R FMAs with them.
#include <algorithm>
#include <cstring>

#include "kernels/conv_mono.h"

namespace recaffe {
namespace mono_impl {

// Offsets into the phase planes, computed once per call so the tile loops do no integer division:
// tap t = (i, j) of output row oy reads phases + oy * sh * Wq + tap[t] + x0, and column j of input
// row r reads phases + r * Wq + col[j] + x0.
struct Taps {
  static constexpr int kMax = 256;   // kernels up to 16x16 (larger ones take the scalar path)
  int64_t tap[kMax], col[kMax];
  Taps(const PlaneConv& p, int64_t Hp, int64_t Wq) {
    for (int j = 0; j < p.kw; ++j) {
      const int64_t jd = int64_t(j) * p.dw;
      col[j] = (jd % p.sw) * Hp * Wq + jd / p.sw;
    }
    for (int i = 0; i < p.kh; ++i)
      for (int j = 0; j < p.kw; ++j) tap[i * p.kw + j] = int64_t(i) * p.dh * Wq + col[j];
  }
};

template <class V, int R, int NV>
inline void tile(const PlaneConv& p, const Taps& tp, const float* phases, const float* w, const float* bias,
                 float* out, int64_t oy, int64_t x0, int64_t HWo, int64_t Wq) {
  typename V::F acc[R][NV];
  for (int r = 0; r < R; ++r) {
    const auto b = V::set1(bias ? bias[r] : 0.f);
    for (int v = 0; v < NV; ++v) acc[r][v] = b;
  }
  const int T = p.kh * p.kw;
  const float* base = phases + oy * p.sh * Wq + x0;
  for (int t = 0; t < T; ++t) {
    const float* src = base + tp.tap[t];
    typename V::F x[NV];
    for (int v = 0; v < NV; ++v) x[v] = V::load(src + v * V::L);
    for (int r = 0; r < R; ++r) {
      const auto wt = V::set1(w[r * T + t]);
      for (int v = 0; v < NV; ++v) acc[r][v] = V::fmadd(wt, x[v], acc[r][v]);
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

// Few filters a plane (K <= 2: C' close to F, depthwise): a tile of R filters x RO output rows x NV
// vectors, walking the input rows the RO output rows share, so each loaded vector feeds every
// (output row, tap row) pair that reads it, instead of one FMA per load.
template <class V, int R, int RO, int NV>
inline void tile_rows(const PlaneConv& p, const Taps& tp, const float* phases, const float* w, const float* bias,
                      float* out, int64_t oy0, int64_t nrows, int64_t x0, int64_t HWo, int64_t Wq) {
  typename V::F acc[R][RO][NV];
  for (int r = 0; r < R; ++r) {
    const auto b = V::set1(bias ? bias[r] : 0.f);
    for (int o = 0; o < RO; ++o)
      for (int v = 0; v < NV; ++v) acc[r][o][v] = b;
  }
  const int T = p.kh * p.kw;
  const int64_t span = (nrows - 1) * p.sh + int64_t(p.kh - 1) * p.dh + 1;
  for (int64_t dr = 0; dr < span; ++dr) {
    const float* rowp = phases + (oy0 * p.sh + dr) * Wq + x0;
    int tap[RO];  // kernel row used by output row o for this input row, or -1
    bool any = false;
    for (int o = 0; o < RO; ++o) {
      const int64_t d = dr - int64_t(o) * p.sh;
      if (p.dh == 1) tap[o] = (o < nrows && d >= 0 && d < p.kh) ? int(d) : -1;
      else tap[o] = (o < nrows && d >= 0 && d % p.dh == 0 && d / p.dh < p.kh) ? int(d / p.dh) : -1;
      any |= tap[o] >= 0;
    }
    if (!any) continue;
    for (int j = 0; j < p.kw; ++j) {
      const float* src = rowp + tp.col[j];
      typename V::F x[NV];
      for (int v = 0; v < NV; ++v) x[v] = V::load(src + v * V::L);
#pragma GCC unroll 8
      for (int o = 0; o < RO; ++o) {
        if (tap[o] < 0) continue;
        const int t = tap[o] * p.kw + j;
        for (int r = 0; r < R; ++r) {
          const auto wt = V::set1(w[r * T + t]);
          for (int v = 0; v < NV; ++v) acc[r][o][v] = V::fmadd(wt, x[v], acc[r][o][v]);
        }
      }
    }
  }
  const int64_t n = std::min<int64_t>(NV * V::L, p.Wo - x0);
  for (int r = 0; r < R; ++r)
    for (int o = 0; o < nrows && o < RO; ++o) {
      float* dst = out + r * HWo + (oy0 + o) * p.Wo + x0;
      if (n == NV * V::L) {
        for (int v = 0; v < NV; ++v) V::store(dst + v * V::L, acc[r][o][v]);
      } else {
        alignas(64) float tmp[NV * V::L];
        for (int v = 0; v < NV; ++v) V::store(tmp + v * V::L, acc[r][o][v]);
        std::memcpy(dst, tmp, size_t(n) * sizeof(float));
      }
    }
}

template <class V, int NV, int RMAX, int RO>
void rows_nv(const PlaneConv& p, const float* phases, const float* w, int64_t K, const float* bias, float* out,
             int64_t y0, int64_t y1) {
  const int64_t Hp = p.padded_rows(), Wq = p.phase_cols(), HWo = p.Ho * p.Wo;
  const int T = p.kh * p.kw;
  const Taps tp(p, Hp, Wq);
  if (K <= 2) {
    for (int64_t oy = y0; oy < y1; oy += RO) {
      const int64_t nr = std::min<int64_t>(RO, y1 - oy);
      for (int64_t x0 = 0; x0 < p.Wo; x0 += NV * V::L) {
        if (K == 1) tile_rows<V, 1, RO, NV>(p, tp, phases, w, bias, out, oy, nr, x0, HWo, Wq);
        else tile_rows<V, 2, RO, NV>(p, tp, phases, w, bias, out, oy, nr, x0, HWo, Wq);
      }
    }
    return;
  }
  for (int64_t oy = y0; oy < y1; ++oy)
    for (int64_t x0 = 0; x0 < p.Wo; x0 += NV * V::L)
      for (int64_t k = 0; k < K; k += RMAX) {
        const int64_t r = std::min<int64_t>(RMAX, K - k);
        const float* wk = w + k * T;
        const float* bk = bias ? bias + k : nullptr;
        float* ok = out + k * HWo;
        switch (r) {
#define RC_MONO_CASE(N) \
  case N: if constexpr (N <= RMAX) tile<V, N, NV>(p, tp, phases, wk, bk, ok, oy, x0, HWo, Wq); break;
          RC_MONO_CASE(1) RC_MONO_CASE(2) RC_MONO_CASE(3) RC_MONO_CASE(4) RC_MONO_CASE(5) RC_MONO_CASE(6)
          RC_MONO_CASE(7) RC_MONO_CASE(8) RC_MONO_CASE(9) RC_MONO_CASE(10) RC_MONO_CASE(11) RC_MONO_CASE(12)
#undef RC_MONO_CASE
          default: break;
        }
      }
}

// NV vectors per output row where the row needs them; narrower rows (the 8x8 and 16x16 maps of
// CIFAR-sized nets) take as few vectors as cover them, so no lanes past the row end are computed,
// with correspondingly more filters per register tile (RMAX * NV accumulators either way).
template <class V, int NV, int RMAX, int RO>
void rows(const PlaneConv& p, const float* phases, const float* w, int64_t K, const float* bias, float* out,
          int64_t y0, int64_t y1) {
  static_assert(RMAX * NV <= 12, "the tile switch covers up to 12 filters");
  if (p.Wo <= V::L) {
    rows_nv<V, 1, RMAX * NV, RO>(p, phases, w, K, bias, out, y0, y1);
    return;
  }
  if constexpr (NV > 2) {
    if (p.Wo <= 2 * V::L) {
      rows_nv<V, 2, RMAX * NV / 2, RO>(p, phases, w, K, bias, out, y0, y1);
      return;
    }
  }
  rows_nv<V, NV, RMAX, RO>(p, phases, w, K, bias, out, y0, y1);
}

}  // namespace mono_impl
}  // namespace recaffe
