#include "kernels/lrn.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace recaffe {

namespace {
// pow(s, -beta); the common beta = 0.75 goes through square roots, as exact as pow to an ulp or two.
inline float neg_pow(float s, float beta) {
  if (beta == 0.75f) {
    const float r = std::sqrt(s);
    return 1.f / (r * std::sqrt(r));
  }
  return std::pow(s, -beta);
}
constexpr int64_t kBlock = 256;  // pixels per work item: the running window lives in registers/L1
}  // namespace

void lrn_across_channels(const float* x, float* y, int64_t N, int64_t C, int64_t HW, int size, float alpha,
                         float beta, float k) {
  const int pre = (size - 1) / 2;
  const float aos = alpha / size;
  const int64_t blocks = (HW + kBlock - 1) / kBlock;
#pragma omp parallel if (N * C * HW > 32768)
  {
    // scale for every channel of this block (needed when in place: y overwrites x)
    std::vector<float> scale(static_cast<size_t>(C * kBlock));
#pragma omp for schedule(static)
    for (int64_t item = 0; item < N * blocks; ++item) {
      const int64_t n = item / blocks, p0 = (item % blocks) * kBlock, len = std::min(kBlock, HW - p0);
      const float* xn = x + n * C * HW + p0;
      float* yn = y + n * C * HW + p0;
      auto sq = [&](int64_t c, int64_t p) -> float {  // padded_square[c] (channel c - pre of the input)
        const int64_t cc = c - pre;
        if (cc < 0 || cc >= C) return 0.f;
        const float v = xn[cc * HW + p];
        return v * v;
      };
      float* s0 = scale.data();
      for (int64_t p = 0; p < len; ++p) s0[p] = k;
      for (int c = 0; c < size; ++c)
        for (int64_t p = 0; p < len; ++p) s0[p] += aos * sq(c, p);
      for (int64_t c = 1; c < C; ++c) {
        float* sc = scale.data() + c * kBlock;
        const float* sp = sc - kBlock;
        for (int64_t p = 0; p < len; ++p) {
          float v = sp[p] + aos * sq(c + size - 1, p);
          sc[p] = v - aos * sq(c - 1, p);
        }
      }
      for (int64_t c = 0; c < C; ++c) {
        const float* sc = scale.data() + c * kBlock;
        for (int64_t p = 0; p < len; ++p) yn[c * HW + p] = neg_pow(sc[p], beta) * xn[c * HW + p];
      }
    }
  }
}

void lrn_within_channel(const float* x, float* y, int64_t planes, int64_t H, int64_t W, int size, float alpha,
                        float beta) {
  const int pad = (size - 1) / 2;
  const float pool_size = static_cast<float>(size * size);
#pragma omp parallel if (planes * H * W > 32768)
  {
    std::vector<float> sq(static_cast<size_t>(H * W)), out(static_cast<size_t>(H * W));
#pragma omp for schedule(static)
    for (int64_t pl = 0; pl < planes; ++pl) {
      const float* xp = x + pl * H * W;
      float* yp = y + pl * H * W;
      for (int64_t i = 0; i < H * W; ++i) sq[i] = xp[i] * xp[i];
      for (int64_t oh = 0; oh < H; ++oh) {
        const int64_t h0 = std::max<int64_t>(oh - pad, 0), h1 = std::min<int64_t>(oh - pad + size, H);
        for (int64_t ow = 0; ow < W; ++ow) {
          const int64_t w0 = std::max<int64_t>(ow - pad, 0), w1 = std::min<int64_t>(ow - pad + size, W);
          float sum = 0.f;
          for (int64_t h = h0; h < h1; ++h)
            for (int64_t w = w0; w < w1; ++w) sum += sq[h * W + w];
          // the AVE pool's window never passes H + pad here, so its divisor is always size^2
          out[oh * W + ow] = neg_pow(1.f + alpha * (sum / pool_size), beta);
        }
      }
      for (int64_t i = 0; i < H * W; ++i) yp[i] = xp[i] * out[i];
    }
  }
}

}  // namespace recaffe
