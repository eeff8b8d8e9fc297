// AVX2 monochromatic/depthwise convolution: tiles of up to 3 filters x 4 vectors (32 columns), or
// 6 x 2 / 12 x 1 on rows of at most 16 / 8 columns (also used on AVX-512 machines for the latter).
#include <immintrin.h>

#include "kernels/conv_mono_impl.h"

namespace recaffe {
namespace {
struct V256 {
  using F = __m256;
  static constexpr int L = 8;
  static F set1(float v) { return _mm256_set1_ps(v); }
  static F load(const float* p) { return _mm256_loadu_ps(p); }
  static void store(float* p, F v) { _mm256_storeu_ps(p, v); }
  static F fmadd(F a, F b, F c) { return _mm256_fmadd_ps(a, b, c); }
};
}  // namespace

namespace detail {
void mono_conv_rows_avx2(const PlaneConv& p, const float* phases, const float* w, int64_t K, const float* bias,
                         float* out, int64_t y0, int64_t y1) {
  mono_impl::rows<V256, 4, 3, 3>(p, phases, w, K, bias, out, y0, y1);
}
}  // namespace detail
}  // namespace recaffe
