#include "kernels/tiled_conv.h"

#include <omp.h>

#include <algorithm>
#include <cstring>

#include "core/blas.h"
#include "kernels/lincomb_rows.h"

namespace recaffe {

namespace {
struct Dims {
  int my, ry, ay, mx, rx, ax;
  int64_t Ty, Tx, Hp, Wp;
};

Dims dims(const TiledConvPlan& p, const ConvGeometry& g) {
  Dims d{p.fy.m, p.fy.r, p.fy.alpha, p.fx.m, p.fx.r, p.fx.alpha, 0, 0, 0, 0};
  d.Ty = (g.Ho + d.my - 1) / d.my;
  d.Tx = (g.Wo + d.mx - 1) / d.mx;
  d.Hp = d.Ty * d.my + d.ry - 1;
  d.Wp = d.Tx * d.mx + d.rx - 1;
  return d;
}

std::vector<float> to_float(const std::vector<double>& v) { return std::vector<float>(v.begin(), v.end()); }

// Per-thread scratch. Input side: the chunk's zero-padded rows of one channel (Xc), Z (ay rows of Wp
// per tile row), S (ax gathered rows of P). Output side: Q (P) + R (ay rows of Tx*mx per tile row).
int64_t in_rows(const Dims& d, int64_t rows) { return rows * d.my + d.ry - 1; }
int64_t thread_scratch(const Dims& d, int64_t rows) {
  const int64_t P = rows * d.Tx;
  const int64_t in = in_rows(d, rows) * d.Wp + d.ay * rows * d.Wp + d.ax * P;
  const int64_t out = P + d.ay * rows * d.Tx * d.mx;
  return std::max(in, out) + 16;
}

// Tile rows per chunk: the transform-domain data of a chunk (V and M) near L2 size (512K floats) while
// each GEMM keeps >= 256 columns; the whole image when that is smaller.
int64_t chunk_rows(const Dims& d, const ConvGeometry& g) {
  const int64_t per_row = int64_t(d.ay) * d.ax * (g.C + g.K) * d.Tx;
  const int64_t fit = (int64_t(1) << 19) / std::max<int64_t>(per_row, 1);
  const int64_t wide = (256 + d.Tx - 1) / d.Tx;
  return std::max<int64_t>(1, std::min(d.Ty, std::max(fit, wide)));
}
}  // namespace

ToomCookMatrices identity_transform() { return toomcook_matrices(1, 1, {"inf"}); }

void tiled_conv_prepare(TiledConvPlan& p, const float* w, int64_t K, int64_t C) {
  const int ay = p.fy.alpha, ax = p.fx.alpha, ry = p.fy.r, rx = p.fx.r;
  p.K = K;
  p.C = C;
  p.ATy = to_float(p.fy.AT);
  p.BTy = to_float(p.fy.BT);
  p.ATx = to_float(p.fx.AT);
  p.BTx = to_float(p.fx.BT);
  p.U.assign(size_t(ay) * ax * K * C, 0.f);
  const int64_t KC = K * C;
#pragma omp parallel for schedule(static) if (KC > 256)
  for (int64_t kc = 0; kc < KC; ++kc) {
    const float* g = w + kc * ry * rx;
    std::vector<double> t(size_t(ay) * rx);  // G_y g
    for (int a = 0; a < ay; ++a)
      for (int j = 0; j < rx; ++j) {
        double s = 0;
        for (int i = 0; i < ry; ++i) s += p.fy.G[a * ry + i] * g[i * rx + j];
        t[a * rx + j] = s;
      }
    for (int a = 0; a < ay; ++a)
      for (int b = 0; b < ax; ++b) {
        double s = 0;
        for (int j = 0; j < rx; ++j) s += t[a * rx + j] * p.fx.G[b * rx + j];
        p.U[(size_t(a) * ax + b) * KC + kc] = static_cast<float>(s);
      }
  }
}

size_t tiled_conv_workspace_floats(const TiledConvPlan& p, const ConvGeometry& g, int threads) {
  const Dims d = dims(p, g);
  const int64_t E = int64_t(d.ay) * d.ax, rows = chunk_rows(d, g), P = rows * d.Tx;
  return static_cast<size_t>(E * (g.C + g.K) * P + int64_t(threads) * thread_scratch(d, rows));
}

void tiled_conv_forward(const TiledConvPlan& p, const ConvGeometry& g, const float* in, const float* bias, float* out,
                        float* ws) {
  const Dims d = dims(p, g);
  const int64_t C = g.C, K = g.K, E = int64_t(d.ay) * d.ax;
  const int64_t rows = chunk_rows(d, g), Pmax = rows * d.Tx;
  float* V = ws;
  float* M = V + E * C * Pmax;
  float* scratch = M + E * K * Pmax;
  const int64_t per_thread = thread_scratch(d, rows);
  const bool par = g.macs() > 2e5;

  for (int64_t n = 0; n < g.N; ++n) {
    const float* x = in + n * C * g.H * g.W;
    float* y = out + n * K * g.Ho * g.Wo;
    for (int64_t th0 = 0; th0 < d.Ty; th0 += rows) {
      const int64_t nr = std::min(rows, d.Ty - th0), P = nr * d.Tx;
      const int64_t nin = in_rows(d, nr), y0 = th0 * d.my - g.ph;  // padded rows of this chunk, first input row
      // input transform, one channel per work item
#pragma omp parallel for schedule(static) if (par)
      for (int64_t c = 0; c < C; ++c) {
        float* Xc = scratch + omp_get_thread_num() * per_thread;
        float* Z = Xc + in_rows(d, rows) * d.Wp;
        float* S = Z + d.ay * rows * d.Wp;
        // the chunk's rows of channel c, zero-padded: every tile then reads without bounds checks
        const float* xc = x + c * g.H * g.W;
        for (int64_t i = 0; i < nin; ++i) {
          float* row = Xc + i * d.Wp;
          const int64_t h = y0 + i;
          if (h < 0 || h >= g.H) {
            std::memset(row, 0, sizeof(float) * d.Wp);
            continue;
          }
          std::memset(row, 0, sizeof(float) * g.pw);
          std::memcpy(row + g.pw, xc + h * g.W, sizeof(float) * g.W);
          std::memset(row + g.pw + g.W, 0, sizeof(float) * (d.Wp - g.pw - g.W));
        }
        const float* src[16];
        for (int64_t r = 0; r < nr; ++r) {
          const float* base = Xc + r * d.my * d.Wp;
          for (int i = 0; i < d.ay; ++i) src[i] = base + i * d.Wp;
          for (int a = 0; a < d.ay; ++a) {
            if (d.ax == 1)  // 1-D along H: the combination is already V's row segment
              lincomb_rows(d.ay, src, &p.BTy[a * d.ay], 0.f, V + (a * C + c) * P + r * d.Tx, d.Tx);
            else if (d.ay > 1)
              lincomb_rows(d.ay, src, &p.BTy[a * d.ay], 0.f, Z + (a * rows + r) * d.Wp, d.Wp);
          }
        }
        if (d.ax == 1) continue;
        for (int a = 0; a < d.ay; ++a) {
          // gather S_j[r*Tx + t] = Z[a][r][t*mx + j], then V[a,b] = sum_j BT_x[b][j] S_j
          for (int j = 0; j < d.ax; ++j)
            for (int64_t r = 0; r < nr; ++r) {
              const float* z = (d.ay == 1 ? Xc + r * d.Wp : Z + (a * rows + r) * d.Wp) + j;
              gather_strided(z, d.mx, d.Tx, S + j * Pmax + r * d.Tx);
            }
          const float* srows[16];
          for (int j = 0; j < d.ax; ++j) srows[j] = S + j * Pmax;
          for (int b = 0; b < d.ax; ++b)
            lincomb_rows(d.ax, srows, &p.BTx[b * d.ax], 0.f, V + ((a * d.ax + b) * C + c) * P, P);
        }
      }
      // the transform-domain products: E independent GEMMs, one per thread at a time
#pragma omp parallel for schedule(dynamic, 1) if (par)
      for (int64_t e = 0; e < E; ++e)
        sgemm_ld(false, false, static_cast<int>(K), static_cast<int>(P), static_cast<int>(C), 1.f,
                 p.U.data() + e * K * C, static_cast<int>(C), V + e * C * P, static_cast<int>(P), 0.f,
                 M + e * K * P, static_cast<int>(P));
      // inverse transform, one output channel per work item
#pragma omp parallel for schedule(static) if (par)
      for (int64_t k = 0; k < K; ++k) {
        float* Q = scratch + omp_get_thread_num() * per_thread;
        float* R = Q + Pmax;
        const int64_t Rw = d.Tx * d.mx;
        const float b = (g.bias && bias) ? bias[k] : 0.f;
        const float* rrows[16];
        for (int a = 0; a < d.ay; ++a) {
          if (d.ax == 1) {
            rrows[a] = M + (a * K + k) * P;  // width Tx == Wo
            continue;
          }
          const float* mrows[16];
          for (int b2 = 0; b2 < d.ax; ++b2) mrows[b2] = M + ((a * d.ax + b2) * K + k) * P;
          float* Ra = R + a * rows * Rw;
          for (int i = 0; i < d.mx; ++i) {
            lincomb_rows(d.ax, mrows, &p.ATx[i * d.ax], 0.f, Q, P);
            for (int64_t r = 0; r < nr; ++r) {
              if (d.ay == 1) {  // 1-D along W: interleave straight into the output row (+ bias)
                const int64_t oh = th0 + r;
                const int64_t cnt = std::min<int64_t>(d.Tx, (g.Wo - i + d.mx - 1) / d.mx);
                scatter_strided(Q + r * d.Tx, d.mx, cnt, b, y + (k * g.Ho + oh) * g.Wo + i);
              } else {
                scatter_strided(Q + r * d.Tx, d.mx, d.Tx, 0.f, Ra + r * Rw + i);
              }
            }
          }
          rrows[a] = Ra;
        }
        if (d.ay == 1 && d.ax > 1) continue;
        const int64_t rstride = d.ax == 1 ? d.Tx : Rw;
        for (int64_t r = 0; r < nr; ++r) {
          const float* src[16];
          for (int a = 0; a < d.ay; ++a) src[a] = rrows[a] + r * rstride;
          for (int i = 0; i < d.my; ++i) {
            const int64_t oh = (th0 + r) * d.my + i;
            if (oh >= g.Ho) break;
            lincomb_rows(d.ay, src, &p.ATy[i * d.ay], b, y + (k * g.Ho + oh) * g.Wo, g.Wo);
          }
        }
      }
    }
  }
}

}  // namespace recaffe
