// AVX-512 activations: 16 floats a step, the tail through a masked load/store of the same code.
#include <immintrin.h>

#include "kernels/activation.h"
#include "kernels/activation_math.h"

namespace recaffe {
namespace {
struct V512 {
  using F = __m512;
  static F set1(float v) { return _mm512_set1_ps(v); }
  static F add(F a, F b) { return _mm512_add_ps(a, b); }
  static F sub(F a, F b) { return _mm512_sub_ps(a, b); }
  static F mul(F a, F b) { return _mm512_mul_ps(a, b); }
  static F div(F a, F b) { return _mm512_div_ps(a, b); }
  static F fmadd(F a, F b, F c) { return _mm512_fmadd_ps(a, b, c); }
  // vminps/vmaxps return the second operand when the comparison fails, like a<b?a:b
  static F min(F a, F b) { return _mm512_min_ps(a, b); }
  static F max(F a, F b) { return _mm512_max_ps(a, b); }
  static F round_nearest(F a) { return _mm512_roundscale_ps(a, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); }
  static F pow2n(F n) {
    __m512i i = _mm512_slli_epi32(_mm512_add_epi32(_mm512_cvtps_epi32(n), _mm512_set1_epi32(127)), 23);
    return _mm512_castsi512_ps(i);
  }
  static F abs(F a) { return _mm512_castsi512_ps(_mm512_and_si512(_mm512_castps_si512(a), _mm512_set1_epi32(0x7fffffff))); }
  static F copysign(F mag, F sign) {
    __m512i m = _mm512_and_si512(_mm512_castps_si512(mag), _mm512_set1_epi32(0x7fffffff));
    __m512i s = _mm512_and_si512(_mm512_castps_si512(sign), _mm512_set1_epi32(int(0x80000000)));
    return _mm512_castsi512_ps(_mm512_or_si512(m, s));
  }
  static F select_lt(F a, F b, F x, F y) {
    __mmask16 k = _mm512_cmp_ps_mask(a, b, _CMP_LT_OQ);
    return _mm512_mask_blend_ps(k, y, x);
  }
};

template <class Op>
inline void run(const float* in, float* out, int64_t n, Op op) {
  int64_t i = 0;
  for (; i + 64 <= n; i += 64) {
    __m512 a = _mm512_loadu_ps(in + i), b = _mm512_loadu_ps(in + i + 16);
    __m512 c = _mm512_loadu_ps(in + i + 32), d = _mm512_loadu_ps(in + i + 48);
    _mm512_storeu_ps(out + i, op(a));
    _mm512_storeu_ps(out + i + 16, op(b));
    _mm512_storeu_ps(out + i + 32, op(c));
    _mm512_storeu_ps(out + i + 48, op(d));
  }
  for (; i + 16 <= n; i += 16) _mm512_storeu_ps(out + i, op(_mm512_loadu_ps(in + i)));
  if (i < n) {
    __mmask16 m = static_cast<__mmask16>((1u << (n - i)) - 1);
    _mm512_mask_storeu_ps(out + i, m, op(_mm512_maskz_loadu_ps(m, in + i)));
  }
}
}  // namespace

namespace detail {
void activation_avx512(const ActivationParams& a, const float* in, float* out, int64_t n) {
  switch (a.kind) {
    case Activation::ReLU: {
      const __m512 zero = _mm512_setzero_ps();
      if (a.negative_slope == 0.f) {
        // x > 0 ? x : 0, as the scalar loop
        run(in, out, n, [&](__m512 x) { return _mm512_maskz_mov_ps(_mm512_cmp_ps_mask(x, zero, _CMP_GT_OQ), x); });
      } else {
        const __m512 s = _mm512_set1_ps(a.negative_slope);
        run(in, out, n, [&](__m512 x) {
          return _mm512_mask_blend_ps(_mm512_cmp_ps_mask(x, zero, _CMP_GT_OQ), _mm512_mul_ps(x, s), x);
        });
      }
      break;
    }
    case Activation::Sigmoid: run(in, out, n, [](__m512 x) { return actmath::sigmoid<V512>(x); }); break;
    case Activation::TanH: run(in, out, n, [](__m512 x) { return actmath::tanh<V512>(x); }); break;
    case Activation::Clip: {
      const __m512 lo = _mm512_set1_ps(a.lo), hi = _mm512_set1_ps(a.hi);
      // min(max(x, lo), hi) with the scalar operand order
      run(in, out, n, [&](__m512 x) {
        __m512 m = _mm512_mask_blend_ps(_mm512_cmp_ps_mask(x, lo, _CMP_GT_OQ), lo, x);
        return _mm512_mask_blend_ps(_mm512_cmp_ps_mask(m, hi, _CMP_LT_OQ), hi, m);
      });
      break;
    }
    case Activation::AbsVal: run(in, out, n, [](__m512 x) { return V512::abs(x); }); break;
    default: activation_scalar(a, in, out, n); break;
  }
}
}  // namespace detail
}  // namespace recaffe
