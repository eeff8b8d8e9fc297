#include "kernels/im2col.h"

#include <algorithm>
#include <cstring>

namespace recaffe {

namespace {
// The output columns [lo, hi) for which ow*s - p + off lands inside [0, W).
inline void valid_range(int64_t Wo, int64_t W, int s, int64_t off, int64_t* lo, int64_t* hi) {
  // ow*s + off >= 0  ->  ow >= ceil(-off / s);   ow*s + off < W  ->  ow <= floor((W - 1 - off) / s)
  int64_t a = off >= 0 ? 0 : (-off + s - 1) / s;
  int64_t b = (W - 1 - off) < 0 ? -1 : (W - 1 - off) / s;
  *lo = std::min<int64_t>(std::max<int64_t>(a, 0), Wo);
  *hi = std::min<int64_t>(std::max<int64_t>(b + 1, *lo), Wo);
}
}  // namespace

void im2col(const float* im, int64_t C, int64_t H, int64_t W, int kh, int kw, int ph, int pw, int sh, int sw, int dh,
            int dw, int64_t Ho, int64_t Wo, float* col) {
  const int64_t rows = C * kh * kw;
#pragma omp parallel for schedule(static)
  for (int64_t r = 0; r < rows; ++r) {
    const int64_t c = r / (kh * kw);
    const int i = static_cast<int>((r / kw) % kh), j = static_cast<int>(r % kw);
    const float* src = im + c * H * W;
    float* dst = col + r * Ho * Wo;
    const int64_t woff = j * dw - pw;
    int64_t lo, hi;
    valid_range(Wo, W, sw, woff, &lo, &hi);
    for (int64_t oh = 0; oh < Ho; ++oh) {
      const int64_t ih = oh * sh - ph + i * dh;
      float* d = dst + oh * Wo;
      if (ih < 0 || ih >= H) {
        std::memset(d, 0, sizeof(float) * Wo);
        continue;
      }
      const float* s = src + ih * W;
      for (int64_t ow = 0; ow < lo; ++ow) d[ow] = 0.f;
      if (sw == 1) {
        std::memcpy(d + lo, s + lo + woff, sizeof(float) * (hi - lo));
      } else {
        for (int64_t ow = lo; ow < hi; ++ow) d[ow] = s[ow * sw + woff];
      }
      for (int64_t ow = hi; ow < Wo; ++ow) d[ow] = 0.f;
    }
  }
}

void im2col_columns(const float* im, int64_t C, int64_t H, int64_t W, int kh, int kw, int ph, int pw, int sh, int sw,
                    int dh, int dw, int64_t Ho, int64_t Wo, int64_t c0, int64_t c1, float* col, int64_t ld) {
  const int64_t rows = C * kh * kw;
  const int64_t oh0 = c0 / Wo, oh1 = (c1 - 1) / Wo;
  for (int64_t r = 0; r < rows; ++r) {
    const int64_t c = r / (kh * kw);
    const int i = static_cast<int>((r / kw) % kh), j = static_cast<int>(r % kw);
    const float* src = im + c * H * W;
    float* dst = col + r * ld - c0;  // dst[p] for output position p
    const int64_t woff = j * dw - pw;
    int64_t lo, hi;
    valid_range(Wo, W, sw, woff, &lo, &hi);
    for (int64_t oh = oh0; oh <= oh1; ++oh) {
      const int64_t p0 = std::max(c0, oh * Wo), p1 = std::min(c1, (oh + 1) * Wo);
      const int64_t a = p0 - oh * Wo, b = p1 - oh * Wo;  // ow range of this row inside the chunk
      float* d = dst + oh * Wo;
      const int64_t ih = oh * sh - ph + i * dh;
      if (ih < 0 || ih >= H) {
        std::memset(d + a, 0, sizeof(float) * (b - a));
        continue;
      }
      const float* s = src + ih * W;
      const int64_t l = std::min(std::max(lo, a), b), h = std::max(std::min(hi, b), l);
      for (int64_t ow = a; ow < l; ++ow) d[ow] = 0.f;
      if (sw == 1) {
        if (h > l) std::memcpy(d + l, s + l + woff, sizeof(float) * (h - l));
      } else {
        for (int64_t ow = l; ow < h; ++ow) d[ow] = s[ow * sw + woff];
      }
      for (int64_t ow = h; ow < b; ++ow) d[ow] = 0.f;
    }
  }
}

void col2im(const float* col, int64_t C, int64_t H, int64_t W, int kh, int kw, int ph, int pw, int sh, int sw, int dh,
            int dw, int64_t Ho, int64_t Wo, float* im) {
#pragma omp parallel for schedule(static)
  for (int64_t c = 0; c < C; ++c) {
    float* dst = im + c * H * W;
    for (int i = 0; i < kh; ++i) {
      for (int j = 0; j < kw; ++j) {
        const float* src = col + ((c * kh + i) * kw + j) * Ho * Wo;
        const int64_t woff = j * dw - pw;
        int64_t lo, hi;
        valid_range(Wo, W, sw, woff, &lo, &hi);
        for (int64_t oh = 0; oh < Ho; ++oh) {
          const int64_t ih = oh * sh - ph + i * dh;
          if (ih < 0 || ih >= H) continue;
          float* d = dst + ih * W;
          const float* s = src + oh * Wo;
          for (int64_t ow = lo; ow < hi; ++ow) d[ow * sw + woff] += s[ow];
        }
      }
    }
  }
}

}  // namespace recaffe
