// ISC with AVX2 + FMA: 8 output channels per vector, up to 12 vectors (96 channels) held in
// registers per output pixel (16 ymm registers in all); the accumulator transposed in 8x8 blocks.
#include <immintrin.h>

#include <algorithm>

#include "kernels/isc.h"
#include "kernels/isc_tile_impl.h"

namespace recaffe {
namespace {
struct V256 {
  using F = __m256;
  static constexpr int kWidth = 8;
  static F load(const float* p) { return _mm256_loadu_ps(p); }
  static void store(float* p, F v) { _mm256_storeu_ps(p, v); }
  static F set1(float v) { return _mm256_set1_ps(v); }
  static F fmadd(F a, F b, F c) { return _mm256_fmadd_ps(a, b, c); }
};

void gather_order(const IscTile& t) {
  int nblocks, units;
  isc_impl::plan_blocks(t.kpad, 6, &nblocks, &units);
  for (int b = 0; b < nblocks; ++b) {
    const int64_t k0 = int64_t(b) * units * 16;
    const int nu = static_cast<int>(std::min<int64_t>(units, t.kpad / 16 - int64_t(b) * units));
    switch (nu) {  // units of 16 channels = 2 vectors
      case 1: isc_impl::gather_block<V256, 2>(t, k0); break;
      case 2: isc_impl::gather_block<V256, 4>(t, k0); break;
      case 3: isc_impl::gather_block<V256, 6>(t, k0); break;
      case 4: isc_impl::gather_block<V256, 8>(t, k0); break;
      case 5: isc_impl::gather_block<V256, 10>(t, k0); break;
      default: isc_impl::gather_block<V256, 12>(t, k0); break;
    }
  }
}

inline void transpose8(__m256 r[8]) {
  __m256 t[8];
  for (int i = 0; i < 4; ++i) {
    t[2 * i] = _mm256_unpacklo_ps(r[2 * i], r[2 * i + 1]);
    t[2 * i + 1] = _mm256_unpackhi_ps(r[2 * i], r[2 * i + 1]);
  }
  __m256 u[8];
  for (int i = 0; i < 2; ++i) {
    u[4 * i + 0] = _mm256_shuffle_ps(t[4 * i], t[4 * i + 2], _MM_SHUFFLE(1, 0, 1, 0));
    u[4 * i + 1] = _mm256_shuffle_ps(t[4 * i], t[4 * i + 2], _MM_SHUFFLE(3, 2, 3, 2));
    u[4 * i + 2] = _mm256_shuffle_ps(t[4 * i + 1], t[4 * i + 3], _MM_SHUFFLE(1, 0, 1, 0));
    u[4 * i + 3] = _mm256_shuffle_ps(t[4 * i + 1], t[4 * i + 3], _MM_SHUFFLE(3, 2, 3, 2));
  }
  // u[4i+j], 128-bit lane L, holds rows 4i..4i+3 of column 4L+j
  for (int j = 0; j < 4; ++j) {
    r[j] = _mm256_permute2f128_ps(u[j], u[4 + j], 0x20);
    r[4 + j] = _mm256_permute2f128_ps(u[j], u[4 + j], 0x31);
  }
}

void transpose_out(const IscTile& t) {
  const int64_t Kg = t.g->Kg(), HW = t.g->out_hw(), cnt = t.q1 - t.q0;
  __m256 r[8];
  for (int64_t j0 = 0; j0 < cnt; j0 += 8) {
    const int64_t nj = std::min<int64_t>(8, cnt - j0);
    const __m256i m = _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(nj)), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
    for (int64_t k0 = 0; k0 < Kg; k0 += 8) {
      for (int i = 0; i < 8; ++i) r[i] = _mm256_loadu_ps(t.acc + (j0 + i) * t.kpad + k0);
      transpose8(r);
      const int kn = static_cast<int>(std::min<int64_t>(8, Kg - k0));
      float* o = t.out + k0 * HW + t.q0 + j0;
      if (nj == 8)
        for (int i = 0; i < kn; ++i) _mm256_storeu_ps(o + i * HW, r[i]);
      else
        for (int i = 0; i < kn; ++i) _mm256_maskstore_ps(o + i * HW, m, r[i]);
    }
  }
}
}  // namespace

namespace detail {

void isc_gather_avx2(const float* x, int64_t Cg, int64_t HW, int64_t p0, int64_t p1, int64_t kpad,
                     IscEntry* lists, int32_t* counts) {
  std::fill(counts + p0, counts + p1, 0);
  const __m256 zero = _mm256_setzero_ps();
  for (int64_t c = 0; c < Cg; ++c) {
    const float* xr = x + c * HW;
    const int32_t off = static_cast<int32_t>(c * kpad);
    int64_t p = p0;
    for (; p + 8 <= p1; p += 8) {
      uint32_t m = static_cast<uint32_t>(_mm256_movemask_ps(_mm256_cmp_ps(_mm256_loadu_ps(xr + p), zero, _CMP_NEQ_UQ)));
      while (m) {
        const int64_t pp = p + __builtin_ctz(m);
        lists[pp * Cg + counts[pp]++] = IscEntry{off, xr[pp]};
        m &= m - 1;
      }
    }
    for (; p < p1; ++p)
      if (xr[p] != 0.f) lists[p * Cg + counts[p]++] = IscEntry{off, xr[p]};
  }
}

void isc_tile_avx2(const IscTile& t, IscOrder order) {
  if (order == IscOrder::Scatter)
    isc_impl::scatter_tile<V256>(t);
  else
    gather_order(t);
  transpose_out(t);
}

}  // namespace detail
}  // namespace recaffe
