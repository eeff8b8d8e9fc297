// AVX2 activations: 8 floats a step; the tail is copied into a padded block and run through the
// same vector code.
#include <immintrin.h>

#include <cstring>

#include "kernels/activation.h"
#include "kernels/activation_math.h"

namespace recaffe {
namespace {
struct V256 {
  using F = __m256;
  static F set1(float v) { return _mm256_set1_ps(v); }
  static F add(F a, F b) { return _mm256_add_ps(a, b); }
  static F sub(F a, F b) { return _mm256_sub_ps(a, b); }
  static F mul(F a, F b) { return _mm256_mul_ps(a, b); }
  static F div(F a, F b) { return _mm256_div_ps(a, b); }
  static F fmadd(F a, F b, F c) { return _mm256_fmadd_ps(a, b, c); }
  static F min(F a, F b) { return _mm256_min_ps(a, b); }
  static F max(F a, F b) { return _mm256_max_ps(a, b); }
  static F round_nearest(F a) { return _mm256_round_ps(a, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); }
  static F pow2n(F n) {
    __m256i i = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
    return _mm256_castsi256_ps(i);
  }
  static F abs(F a) { return _mm256_and_ps(a, _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff))); }
  static F copysign(F mag, F sign) {
    __m256 m = _mm256_and_ps(mag, _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff)));
    __m256 s = _mm256_and_ps(sign, _mm256_castsi256_ps(_mm256_set1_epi32(int(0x80000000))));
    return _mm256_or_ps(m, s);
  }
  static F select_lt(F a, F b, F x, F y) { return _mm256_blendv_ps(y, x, _mm256_cmp_ps(a, b, _CMP_LT_OQ)); }
};

template <class Op>
inline void run(const float* in, float* out, int64_t n, Op op) {
  int64_t i = 0;
  for (; i + 32 <= n; i += 32) {
    __m256 a = _mm256_loadu_ps(in + i), b = _mm256_loadu_ps(in + i + 8);
    __m256 c = _mm256_loadu_ps(in + i + 16), d = _mm256_loadu_ps(in + i + 24);
    _mm256_storeu_ps(out + i, op(a));
    _mm256_storeu_ps(out + i + 8, op(b));
    _mm256_storeu_ps(out + i + 16, op(c));
    _mm256_storeu_ps(out + i + 24, op(d));
  }
  for (; i + 8 <= n; i += 8) _mm256_storeu_ps(out + i, op(_mm256_loadu_ps(in + i)));
  if (i < n) {
    alignas(32) float buf[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    std::memcpy(buf, in + i, sizeof(float) * (n - i));
    _mm256_store_ps(buf, op(_mm256_load_ps(buf)));
    std::memcpy(out + i, buf, sizeof(float) * (n - i));
  }
}
}  // namespace

namespace detail {
void activation_avx2(const ActivationParams& a, const float* in, float* out, int64_t n) {
  switch (a.kind) {
    case Activation::ReLU: {
      const __m256 zero = _mm256_setzero_ps();
      if (a.negative_slope == 0.f) {
        run(in, out, n, [&](__m256 x) { return _mm256_and_ps(x, _mm256_cmp_ps(x, zero, _CMP_GT_OQ)); });
      } else {
        const __m256 s = _mm256_set1_ps(a.negative_slope);
        run(in, out, n, [&](__m256 x) { return _mm256_blendv_ps(_mm256_mul_ps(x, s), x, _mm256_cmp_ps(x, zero, _CMP_GT_OQ)); });
      }
      break;
    }
    case Activation::Sigmoid: run(in, out, n, [](__m256 x) { return actmath::sigmoid<V256>(x); }); break;
    case Activation::TanH: run(in, out, n, [](__m256 x) { return actmath::tanh<V256>(x); }); break;
    case Activation::Clip: {
      const __m256 lo = _mm256_set1_ps(a.lo), hi = _mm256_set1_ps(a.hi);
      run(in, out, n, [&](__m256 x) {
        __m256 m = _mm256_blendv_ps(lo, x, _mm256_cmp_ps(x, lo, _CMP_GT_OQ));
        return _mm256_blendv_ps(hi, m, _mm256_cmp_ps(m, hi, _CMP_LT_OQ));
      });
      break;
    }
    case Activation::AbsVal: run(in, out, n, [](__m256 x) { return V256::abs(x); }); break;
    default: activation_scalar(a, in, out, n); break;
  }
}
}  // namespace detail
}  // namespace recaffe
