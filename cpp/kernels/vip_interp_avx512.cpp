// AVX-512 rows of the ViP interpolation: 16 input pixels give 32 output pixels per step; the
// tail of the row runs the same ops under a mask.
#include <immintrin.h>

#include "kernels/vip_interp.h"

namespace recaffe {
namespace detail {

void vip_interp_row_avx512(const float* in, int64_t W, float* out, int64_t Wo) {
  const __m512 half = _mm512_set1_ps(0.5f);
  // a0 m0 a1 m1 ... : indices < 16 pick from a, >= 16 from m
  const __m512i idx_lo = _mm512_set_epi32(23, 7, 22, 6, 21, 5, 20, 4, 19, 3, 18, 2, 17, 1, 16, 0);
  const __m512i idx_hi = _mm512_set_epi32(31, 15, 30, 14, 29, 13, 28, 12, 27, 11, 26, 10, 25, 9, 24, 8);
  int64_t j = 0;
  for (; j + 16 < W; j += 16) {  // in[j + 16] is the last neighbour read
    const __m512 a = _mm512_loadu_ps(in + j), b = _mm512_loadu_ps(in + j + 1);
    const __m512 m = _mm512_mul_ps(half, _mm512_add_ps(a, b));
    _mm512_storeu_ps(out + 2 * j, _mm512_permutex2var_ps(a, idx_lo, m));
    _mm512_storeu_ps(out + 2 * j + 16, _mm512_permutex2var_ps(a, idx_hi, m));
  }
  for (; j + 1 < W; ++j) {
    out[2 * j] = in[j];
    out[2 * j + 1] = 0.5f * (in[j] + in[j + 1]);
  }
  out[2 * (W - 1)] = in[W - 1];
  if (Wo == 2 * W) out[2 * W - 1] = in[W - 1];
}

void vip_mean_rows_avx512(const float* a, const float* b, float* v, int64_t n) {
  const __m512 half = _mm512_set1_ps(0.5f);
  int64_t j = 0;
  for (; j + 16 <= n; j += 16)
    _mm512_storeu_ps(v + j, _mm512_mul_ps(half, _mm512_add_ps(_mm512_loadu_ps(a + j), _mm512_loadu_ps(b + j))));
  if (j < n) {
    const __mmask16 k = static_cast<__mmask16>((1u << (n - j)) - 1);
    _mm512_mask_storeu_ps(v + j, k,
                          _mm512_mul_ps(half, _mm512_add_ps(_mm512_maskz_loadu_ps(k, a + j), _mm512_maskz_loadu_ps(k, b + j))));
  }
}

}  // namespace detail
}  // namespace recaffe
