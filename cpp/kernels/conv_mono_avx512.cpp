// AVX-512 monochromatic/depthwise convolution: tiles of up to 6 filters x 2 vectors (32 columns),
// or 12 filters x 1 vector on rows of at most 16 columns.
#include <immintrin.h>

#include "kernels/conv_mono_impl.h"

namespace recaffe {
namespace {
struct V512 {
  using F = __m512;
  static constexpr int L = 16;
  static F set1(float v) { return _mm512_set1_ps(v); }
  static F load(const float* p) { return _mm512_loadu_ps(p); }
  static void store(float* p, F v) { _mm512_storeu_ps(p, v); }
  static F fmadd(F a, F b, F c) { return _mm512_fmadd_ps(a, b, c); }
};
}  // namespace

namespace detail {
void mono_conv_rows_avx512(const PlaneConv& p, const float* phases, const float* w, int64_t K, const float* bias,
                           float* out, int64_t y0, int64_t y1) {
  mono_impl::rows<V512, 2, 6, 4>(p, phases, w, K, bias, out, y0, y1);
}
}  // namespace detail
}  // namespace recaffe
