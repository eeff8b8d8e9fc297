#include "kernels/vip_im2col.h"

#include <algorithm>
#include <cstring>

#include "kernels/vip_interp.h"

namespace recaffe {

namespace {
// Virtual rows that output rows [oh0, oh1] read: [y0, y0 + n).
inline void row_span(const VipIm2colShape& s, int64_t oh0, int64_t oh1, int64_t* y0, int64_t* n) {
  *y0 = oh0 * s.sh - s.ph;
  *n = (oh1 - oh0) * s.sh + int64_t(s.kh - 1) * s.dh + 1;
}
}  // namespace

size_t vip_im2col_scratch_floats(const VipIm2colShape& s, int64_t max_cols) {
  const int64_t rows_out = std::min<int64_t>(s.Ho, (max_cols + s.Wo - 1) / s.Wo + 1);
  int64_t y0, n;
  row_span(s, 0, rows_out - 1, &y0, &n);
  return static_cast<size_t>(n * (s.Wv + 2 * s.pw) + s.Wr);
}

void vip_im2col_columns(const float* reduced, const VipIm2colShape& s, int64_t c0, int64_t c1, int64_t cb, int64_t ce,
                        float* col, int64_t ld, float* scratch) {
  const int64_t oh0 = c0 / s.Wo, oh1 = (c1 - 1) / s.Wo;
  int64_t y0, ny;
  row_span(s, oh0, oh1, &y0, &ny);
  const int64_t Wp = s.Wv + 2 * s.pw;  // padded row: virtual column x sits at x + pw
  float* rows = scratch;
  float* mean = scratch + ny * Wp;
  for (int64_t c = cb; c < ce; ++c) {
    const float* x = reduced + c * s.Hr * s.Wr;
    // interpolate the virtual rows this chunk reads (zero rows outside the image: the conv's pad)
    for (int64_t k = 0; k < ny; ++k) {
      float* d = rows + k * Wp;
      const int64_t y = y0 + k;
      if (y < 0 || y >= s.Hv) {
        std::memset(d, 0, sizeof(float) * Wp);
        continue;
      }
      std::memset(d, 0, sizeof(float) * s.pw);
      std::memset(d + s.pw + s.Wv, 0, sizeof(float) * s.pw);
      const int64_t r0 = std::min(y >> 1, s.Hr - 1);
      if ((y & 1) == 0) {
        vip_interp_row(x + r0 * s.Wr, s.Wr, d + s.pw, s.Wv);
      } else {
        vip_mean_rows(x + r0 * s.Wr, x + std::min(r0 + 1, s.Hr - 1) * s.Wr, mean, s.Wr);
        vip_interp_row(mean, s.Wr, d + s.pw, s.Wv);
      }
    }
    for (int i = 0; i < s.kh; ++i) {
      for (int j = 0; j < s.kw; ++j) {
        float* dst = col + ((c * s.kh + i) * s.kw + j) * ld - c0;  // dst[p] for output position p
        for (int64_t oh = oh0; oh <= oh1; ++oh) {
          const int64_t p0 = std::max(c0, oh * s.Wo), p1 = std::min(c1, (oh + 1) * s.Wo);
          const int64_t a = p0 - oh * s.Wo, b = p1 - oh * s.Wo;
          const float* src = rows + (oh * s.sh - s.ph + int64_t(i) * s.dh - y0) * Wp + int64_t(j) * s.dw;
          float* d = dst + oh * s.Wo;
          if (s.sw == 1) {
            std::memcpy(d + a, src + a, sizeof(float) * (b - a));
          } else {
            for (int64_t ow = a; ow < b; ++ow) d[ow] = src[ow * s.sw];
          }
        }
      }
    }
  }
}

}  // namespace recaffe
