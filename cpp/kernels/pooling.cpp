#include "kernels/pooling.h"

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <vector>

namespace recaffe {

int64_t pooled_size(int64_t H, int k, int s, int p, bool ceil_mode) {
  float v = static_cast<float>(H + 2 * p - k) / s;
  int64_t out = static_cast<int64_t>(ceil_mode ? std::ceil(v) : std::floor(v)) + 1;
  if (p > 0 && (out - 1) * s >= H + p) --out;
  return out;
}

namespace {

// Interior fast path for a fixed kernel/stride: windows that lie fully inside the image.
template <int K, int S>
inline void max_plane_fixed(const PoolGeometry& g, const float* x, float* y) {
  for (int64_t oh = 0; oh < g.Ho; ++oh) {
    int64_t hs = oh * S - g.ph, he = std::min<int64_t>(hs + K, g.H);
    hs = std::max<int64_t>(hs, 0);
    for (int64_t ow = 0; ow < g.Wo; ++ow) {
      int64_t ws = ow * S - g.pw, we = std::min<int64_t>(ws + K, g.W);
      ws = std::max<int64_t>(ws, 0);
      float m = -FLT_MAX;
      if (he - hs == K && we - ws == K) {
        const float* p = x + hs * g.W + ws;
#pragma GCC unroll 4
        for (int i = 0; i < K; ++i)
#pragma GCC unroll 4
          for (int j = 0; j < K; ++j) {
            float v = p[i * g.W + j];
            if (v > m) m = v;
          }
      } else {
        for (int64_t h = hs; h < he; ++h)
          for (int64_t w = ws; w < we; ++w) {
            float v = x[h * g.W + w];
            if (v > m) m = v;
          }
      }
      y[oh * g.Wo + ow] = m;
    }
  }
}

// 2x2 stride 2, no pad, the VGG case: row pairs reduced with vector-friendly loops.
inline void max_plane_2x2s2(const PoolGeometry& g, const float* x, float* y) {
  const int64_t Wfull = std::min<int64_t>(g.Wo, g.W / 2);
  for (int64_t oh = 0; oh < g.Ho; ++oh) {
    const int64_t h0 = oh * 2;
    const float* r0 = x + h0 * g.W;
    float* out = y + oh * g.Wo;
    if (h0 + 1 < g.H) {
      const float* r1 = r0 + g.W;
      for (int64_t ow = 0; ow < Wfull; ++ow) {
        // same comparison order as the generic loop: (0,0), (0,1), (1,0), (1,1), strict >
        float m = -FLT_MAX;
        float a = r0[2 * ow], b = r0[2 * ow + 1], c = r1[2 * ow], d = r1[2 * ow + 1];
        m = a > m ? a : m;
        m = b > m ? b : m;
        m = c > m ? c : m;
        m = d > m ? d : m;
        out[ow] = m;
      }
      for (int64_t ow = Wfull; ow < g.Wo; ++ow) {
        float m = -FLT_MAX;
        for (int64_t h = h0; h < h0 + 2; ++h)
          for (int64_t w = ow * 2; w < std::min<int64_t>(ow * 2 + 2, g.W); ++w) m = x[h * g.W + w] > m ? x[h * g.W + w] : m;
        out[ow] = m;
      }
    } else {
      for (int64_t ow = 0; ow < g.Wo; ++ow) {
        float m = -FLT_MAX;
        for (int64_t w = ow * 2; w < std::min<int64_t>(ow * 2 + 2, g.W); ++w) m = r0[w] > m ? r0[w] : m;
        out[ow] = m;
      }
    }
  }
}

inline void max_plane_generic(const PoolGeometry& g, const float* x, float* y) {
  for (int64_t oh = 0; oh < g.Ho; ++oh) {
    int64_t hs = oh * g.sh - g.ph, he = std::min<int64_t>(hs + g.kh, g.H);
    hs = std::max<int64_t>(hs, 0);
    for (int64_t ow = 0; ow < g.Wo; ++ow) {
      int64_t ws = ow * g.sw - g.pw, we = std::min<int64_t>(ws + g.kw, g.W);
      ws = std::max<int64_t>(ws, 0);
      float m = -FLT_MAX;
      for (int64_t h = hs; h < he; ++h)
        for (int64_t w = ws; w < we; ++w) {
          float v = x[h * g.W + w];
          if (v > m) m = v;
        }
      y[oh * g.Wo + ow] = m;
    }
  }
}

// Any window, separably: the column maxima of the window's (clipped) rows first, a vector-friendly
// pass over whole rows, then the maxima over each window's columns. kh + kw comparisons per output
// instead of kh * kw (GoogLeNet's 3x3 stride-1 pools). Max is exact in any order. Needs every window
// to hold a real pixel, true when the stride is at most the kernel.
inline void max_plane_separable(const PoolGeometry& g, const float* x, float* y, float* colmax) {
  for (int64_t oh = 0; oh < g.Ho; ++oh) {
    int64_t hs = oh * g.sh - g.ph, he = std::min<int64_t>(hs + g.kh, g.H);
    hs = std::max<int64_t>(hs, 0);
    const float* r = x + hs * g.W;
    for (int64_t w = 0; w < g.W; ++w) colmax[w] = r[w];
    for (int64_t h = hs + 1; h < he; ++h) {
      r = x + h * g.W;
      for (int64_t w = 0; w < g.W; ++w) colmax[w] = r[w] > colmax[w] ? r[w] : colmax[w];
    }
    float* out = y + oh * g.Wo;
    for (int64_t ow = 0; ow < g.Wo; ++ow) {
      int64_t ws = ow * g.sw - g.pw, we = std::min<int64_t>(ws + g.kw, g.W);
      ws = std::max<int64_t>(ws, 0);
      float m = colmax[ws];
      for (int64_t w = ws + 1; w < we; ++w) m = colmax[w] > m ? colmax[w] : m;
      out[ow] = m;
    }
  }
}

inline void ave_plane(const PoolGeometry& g, const float* x, float* y) {
  for (int64_t oh = 0; oh < g.Ho; ++oh) {
    int64_t hs = oh * g.sh - g.ph, he = std::min<int64_t>(hs + g.kh, g.H + g.ph);
    for (int64_t ow = 0; ow < g.Wo; ++ow) {
      int64_t ws = ow * g.sw - g.pw, we = std::min<int64_t>(ws + g.kw, g.W + g.pw);
      const int64_t pool_size = (he - hs) * (we - ws);
      int64_t h0 = std::max<int64_t>(hs, 0), h1 = std::min<int64_t>(he, g.H);
      int64_t w0 = std::max<int64_t>(ws, 0), w1 = std::min<int64_t>(we, g.W);
      float sum = 0.f;
      for (int64_t h = h0; h < h1; ++h)
        for (int64_t w = w0; w < w1; ++w) sum += x[h * g.W + w];
      y[oh * g.Wo + ow] = sum / pool_size;
    }
  }
}

}  // namespace

void pool_plane(PoolMethod method, const PoolGeometry& g, const float* x, float* y, float* colmax) {
  if (method == PoolMethod::Max) {
    if (g.kh == 2 && g.kw == 2 && g.sh == 2 && g.sw == 2 && g.ph == 0 && g.pw == 0)
      max_plane_2x2s2(g, x, y);
    else if (g.kh == 3 && g.kw == 3 && g.sh == 2 && g.sw == 2)
      max_plane_fixed<3, 2>(g, x, y);
    else if (g.kh * g.kw > 4 && g.sh <= g.kh && g.sw <= g.kw)  // (stride > kernel can leave empty windows)
      max_plane_separable(g, x, y, colmax);
    else
      max_plane_generic(g, x, y);
  } else {
    ave_plane(g, x, y);
  }
}

void pool_forward(PoolMethod method, const PoolGeometry& g, const float* in, float* out, const ActivationParams& act) {
  const int64_t in_plane = g.H * g.W, out_plane = g.Ho * g.Wo;
  const bool work_big = g.planes * in_plane > 16384;
#pragma omp parallel if (work_big)
  {
  std::vector<float> colmax(static_cast<size_t>(g.W));
#pragma omp for schedule(static)
  for (int64_t p = 0; p < g.planes; ++p) {
    float* y = out + p * out_plane;
    pool_plane(method, g, in + p * in_plane, y, colmax.data());
    if (act.kind != Activation::None) apply_activation_serial(act, y, y, out_plane);
  }
  }
}

}  // namespace recaffe
