#pragma once
// The ISA-independent body of the ISC tile kernel, written over a small vector-traits type V
// (F, kWidth, load, store, set1, fmadd) and instantiated once per ISA file (isc.cpp,
// isc_avx2.cpp, isc_avx512.cpp), so that the three variants are one algorithm.
#include <algorithm>

#include "kernels/isc.h"

namespace recaffe {
namespace isc_impl {

// Gather order, one block of NV vectors of output channels starting at k0: for every output pixel
// of the tile the block's accumulators stay in registers while the non-zeros of its receptive
// field stream by; each non-zero costs NV weight loads and NV FMAs, no accumulator traffic.
template <class V, int NV>
void gather_block(const IscTile& t, int64_t k0) {
  using F = typename V::F;
  constexpr int L = V::kWidth;
  const ConvGeometry& g = *t.g;
  const int64_t Cg = g.Cg(), kpad = t.kpad, Wo = g.Wo;
  for (int64_t q = t.q0; q < t.q1; ++q) {
    const int64_t oh = q / Wo, ow = q % Wo;
    F acc[NV];
    for (int v = 0; v < NV; ++v) acc[v] = V::load(t.bias + k0 + v * L);
    for (int r = 0; r < g.kh; ++r) {
      const int64_t h = oh * g.sh - g.ph + int64_t(r) * g.dh;
      if (h < 0 || h >= g.H) continue;
      for (int s = 0; s < g.kw; ++s) {
        const int64_t w = ow * g.sw - g.pw + int64_t(s) * g.dw;
        if (w < 0 || w >= g.W) continue;
        const int64_t p = h * g.W + w;
        const IscEntry* e = t.lists + p * Cg;
        const int32_t n = t.counts[p];
        const float* wrs = t.w + (int64_t(r) * g.kw + s) * Cg * kpad + k0;
        for (int32_t i = 0; i < n; ++i) {
          const F x = V::set1(e[i].v);
          const float* wp = wrs + e[i].woff;
          for (int v = 0; v < NV; ++v) acc[v] = V::fmadd(x, V::load(wp + v * L), acc[v]);
        }
      }
    }
    float* a = t.acc + (q - t.q0) * kpad + k0;
    for (int v = 0; v < NV; ++v) V::store(a + v * L, acc[v]);
  }
}

// The paper's literal order: each non-zero input of the rows the tile needs adds its products
// into every output pixel of the tile it reaches; the accumulator row is loaded and stored for
// every non-zero and kernel offset.
template <class V>
void scatter_tile(const IscTile& t) {
  using F = typename V::F;
  constexpr int L = V::kWidth;
  const ConvGeometry& g = *t.g;
  const int64_t Cg = g.Cg(), kpad = t.kpad, Wo = g.Wo, nv = kpad / L;
  for (int64_t j = 0; j < t.q1 - t.q0; ++j)
    for (int64_t v = 0; v < nv; ++v) V::store(t.acc + j * kpad + v * L, V::load(t.bias + v * L));
  const int64_t oh0 = t.q0 / Wo, oh1 = (t.q1 - 1) / Wo;
  const int64_t hlo = std::max<int64_t>(0, oh0 * g.sh - g.ph);
  const int64_t hhi = std::min<int64_t>(g.H - 1, oh1 * g.sh - g.ph + int64_t(g.kh - 1) * g.dh);
  for (int64_t h = hlo; h <= hhi; ++h) {
    for (int64_t w = 0; w < g.W; ++w) {
      const int64_t p = h * g.W + w;
      const int32_t n = t.counts[p];
      const IscEntry* e = t.lists + p * Cg;
      for (int32_t i = 0; i < n; ++i) {
        const F x = V::set1(e[i].v);
        for (int r = 0; r < g.kh; ++r) {
          const int64_t th = h + g.ph - int64_t(r) * g.dh;
          if (th < 0 || th % g.sh) continue;
          const int64_t oh = th / g.sh;
          if (oh < oh0 || oh > oh1 || oh >= g.Ho) continue;
          for (int s = 0; s < g.kw; ++s) {
            const int64_t tw = w + g.pw - int64_t(s) * g.dw;
            if (tw < 0 || tw % g.sw) continue;
            const int64_t ow = tw / g.sw;
            if (ow >= Wo) continue;
            const int64_t q = oh * Wo + ow;
            if (q < t.q0 || q >= t.q1) continue;
            float* a = t.acc + (q - t.q0) * kpad;
            const float* wp = t.w + (int64_t(r) * g.kw + s) * Cg * kpad + e[i].woff;
            for (int64_t v = 0; v < nv; ++v) V::store(a + v * L, V::fmadd(x, V::load(wp + v * L), V::load(a + v * L)));
          }
        }
      }
    }
  }
}

// Split kpad/16 units of 16 channels into equal blocks of at most max_units each.
inline void plan_blocks(int64_t kpad, int max_units, int* nblocks, int* units) {
  const int total = static_cast<int>(kpad / 16);
  *nblocks = (total + max_units - 1) / max_units;
  *units = (total + *nblocks - 1) / *nblocks;
}

}  // namespace isc_impl
}  // namespace recaffe
