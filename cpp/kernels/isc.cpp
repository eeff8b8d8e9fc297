// ISC: weight packing, run-time dispatch and the scalar variants (see isc.h).
#include "kernels/isc.h"

#include <algorithm>
#include <cstring>

#include "core/cpu_features.h"
#include "kernels/isc_tile_impl.h"

namespace recaffe {

int64_t isc_tile_pixels(int64_t kpad, int64_t out_hw) {
  const int64_t blocks = std::clamp<int64_t>(8192 / (16 * kpad), 1, 16);
  return std::min<int64_t>(16 * blocks, (out_hw + 15) / 16 * 16);
}

int64_t isc_packed_floats(const ConvGeometry& g) {
  const int64_t kpad = isc_kpad(g.Kg());
  return int64_t(g.group) * g.kh * g.kw * g.Cg() * kpad + int64_t(g.group) * kpad;
}

void isc_pack_weights(const ConvGeometry& g, const float* weights, const float* bias, float* packed) {
  const int64_t Cg = g.Cg(), Kg = g.Kg(), kpad = isc_kpad(Kg), khw = int64_t(g.kh) * g.kw;
  std::memset(packed, 0, sizeof(float) * isc_packed_floats(g));
  for (int gi = 0; gi < g.group; ++gi) {
    float* pg = packed + gi * khw * Cg * kpad;
    for (int64_t k = 0; k < Kg; ++k) {
      const float* src = weights + (gi * Kg + k) * Cg * khw;  // Caffe's [K][Cg][kh][kw]
      for (int64_t c = 0; c < Cg; ++c)
        for (int64_t rs = 0; rs < khw; ++rs) pg[(rs * Cg + c) * kpad + k] = src[c * khw + rs];
    }
  }
  float* pb = packed + int64_t(g.group) * khw * Cg * kpad;
  if (g.bias && bias)
    for (int gi = 0; gi < g.group; ++gi)
      for (int64_t k = 0; k < Kg; ++k) pb[gi * kpad + k] = bias[gi * Kg + k];
}

void isc_gather(const float* x, int64_t Cg, int64_t HW, int64_t p0, int64_t p1, int64_t kpad, IscEntry* lists,
                int32_t* counts) {
  switch (best_isa()) {
    case Isa::Avx512: return detail::isc_gather_avx512(x, Cg, HW, p0, p1, kpad, lists, counts);
    case Isa::Avx2: return detail::isc_gather_avx2(x, Cg, HW, p0, p1, kpad, lists, counts);
    default: return detail::isc_gather_scalar(x, Cg, HW, p0, p1, kpad, lists, counts);
  }
}

void isc_tile(const IscTile& t, IscOrder order) {
  switch (best_isa()) {
    case Isa::Avx512: return detail::isc_tile_avx512(t, order);
    case Isa::Avx2: return detail::isc_tile_avx2(t, order);
    default: return detail::isc_tile_scalar(t, order);
  }
}

namespace {
struct ScalarV {
  using F = float;
  static constexpr int kWidth = 1;
  static F load(const float* p) { return *p; }
  static void store(float* p, F v) { *p = v; }
  static F set1(float v) { return v; }
  static F fmadd(F a, F b, F c) { return a * b + c; }
};
}  // namespace

namespace detail {

void isc_gather_scalar(const float* x, int64_t Cg, int64_t HW, int64_t p0, int64_t p1, int64_t kpad,
                       IscEntry* lists, int32_t* counts) {
  std::fill(counts + p0, counts + p1, 0);
  for (int64_t c = 0; c < Cg; ++c) {
    const float* xr = x + c * HW;
    const int32_t off = static_cast<int32_t>(c * kpad);
    for (int64_t p = p0; p < p1; ++p)
      if (xr[p] != 0.f) lists[p * Cg + counts[p]++] = IscEntry{off, xr[p]};
  }
}

void isc_tile_scalar(const IscTile& t, IscOrder order) {
  if (order == IscOrder::Scatter) {
    isc_impl::scatter_tile<ScalarV>(t);
  } else {
    for (int64_t k0 = 0; k0 < t.kpad; k0 += 16) isc_impl::gather_block<ScalarV, 16>(t, k0);
  }
  // transpose the [pixel][kpad] accumulator into the [Kg][Ho*Wo] output
  const int64_t Kg = t.g->Kg(), HW = t.g->out_hw(), cnt = t.q1 - t.q0;
  for (int64_t k = 0; k < Kg; ++k) {
    float* o = t.out + k * HW + t.q0;
    for (int64_t j = 0; j < cnt; ++j) o[j] = t.acc[j * t.kpad + k];
  }
}

}  // namespace detail
}  // namespace recaffe
