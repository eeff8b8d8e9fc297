// lincomb_rows with AVX-512 intrinsics: 16 floats a step and a masked tail, so the short rows of
// small feature maps (14 wide) stay vectorized; the strided row copies are compiled with -mavx512.
#include <immintrin.h>

#include "kernels/lincomb_rows.h"

namespace recaffe {
namespace detail {

void lincomb_rows_avx512(int n, const float* const* src, const float* coef, float bias, float* dst, int64_t len) {
  int nz = 0;
  const float* rows[64];
  __m512 cs[64];
  for (int i = 0; i < n && nz < 64; ++i)
    if (coef[i] != 0.f) {
      rows[nz] = src[i];
      cs[nz++] = _mm512_set1_ps(coef[i]);
    }
  const __m512 vb = _mm512_set1_ps(bias);
  int64_t x = 0;
  for (; x + 32 <= len; x += 32) {  // two vectors in flight
    __m512 a0 = vb, a1 = vb;
    for (int i = 0; i < nz; ++i) {
      a0 = _mm512_fmadd_ps(cs[i], _mm512_loadu_ps(rows[i] + x), a0);
      a1 = _mm512_fmadd_ps(cs[i], _mm512_loadu_ps(rows[i] + x + 16), a1);
    }
    _mm512_storeu_ps(dst + x, a0);
    _mm512_storeu_ps(dst + x + 16, a1);
  }
  for (; x < len; x += 16) {
    const int64_t left = len - x;
    const __mmask16 m = left >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << left) - 1);
    __m512 a = vb;
    for (int i = 0; i < nz; ++i) a = _mm512_fmadd_ps(cs[i], _mm512_maskz_loadu_ps(m, rows[i] + x), a);
    _mm512_mask_storeu_ps(dst + x, m, a);
  }
}

#define RC_SUFFIX avx512
#include "kernels/strided_rows_body.h"
#undef RC_SUFFIX

}  // namespace detail
}  // namespace recaffe
