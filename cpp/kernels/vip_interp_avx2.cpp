// AVX2 rows of the ViP interpolation: 8 input pixels give 16 output pixels per step (a and the
// right-neighbour mean m interleaved); tails use the scalar formula, which is the same IEEE ops.
#include <immintrin.h>

#include "kernels/vip_interp.h"

namespace recaffe {
namespace detail {

void vip_interp_row_avx2(const float* in, int64_t W, float* out, int64_t Wo) {
  const __m256 half = _mm256_set1_ps(0.5f);
  int64_t j = 0;
  for (; j + 8 < W; j += 8) {  // in[j + 8] is the last neighbour read
    const __m256 a = _mm256_loadu_ps(in + j), b = _mm256_loadu_ps(in + j + 1);
    const __m256 m = _mm256_mul_ps(half, _mm256_add_ps(a, b));
    const __m256 lo = _mm256_unpacklo_ps(a, m), hi = _mm256_unpackhi_ps(a, m);  // per 128-bit lane
    _mm256_storeu_ps(out + 2 * j, _mm256_permute2f128_ps(lo, hi, 0x20));
    _mm256_storeu_ps(out + 2 * j + 8, _mm256_permute2f128_ps(lo, hi, 0x31));
  }
  for (; j + 1 < W; ++j) {
    out[2 * j] = in[j];
    out[2 * j + 1] = 0.5f * (in[j] + in[j + 1]);
  }
  out[2 * (W - 1)] = in[W - 1];
  if (Wo == 2 * W) out[2 * W - 1] = in[W - 1];
}

void vip_mean_rows_avx2(const float* a, const float* b, float* v, int64_t n) {
  const __m256 half = _mm256_set1_ps(0.5f);
  int64_t j = 0;
  for (; j + 8 <= n; j += 8)
    _mm256_storeu_ps(v + j, _mm256_mul_ps(half, _mm256_add_ps(_mm256_loadu_ps(a + j), _mm256_loadu_ps(b + j))));
  for (; j < n; ++j) v[j] = 0.5f * (a[j] + b[j]);
}

}  // namespace detail
}  // namespace recaffe
