// How the GEMM engine splits a convolution into work items; shared with the ViP convolution layer
// so both paths cut the columns alike.
#pragma once

#include <algorithm>
#include <cstdint>

#include "kernels/conv_geometry.h"

namespace recaffe {

struct GemmPlan {
  int64_t nb = 0;      // columns per chunk
  int64_t chunks = 0;  // chunks per image
  bool whole = false;  // whole-image im2col + one split sgemm per group (few, long columns)
};

// Chunks of about 256K floats of column buffer (1 MiB, cache-sized), at least 256 columns, split
// evenly. When a batch has too few chunks to keep every thread busy (batch 1 on late layers:
// 196 columns and K = 4608), the whole image is im2col'ed once and the sgemm itself is split.
// The chunking does not depend on the thread count beyond balancing, so results stay identical.
inline GemmPlan gemm_plan(const ConvGeometry& g, int threads) {
  GemmPlan p;
  const int64_t rows = g.C * g.kh * g.kw, Nd = g.out_hw();
  int64_t target = std::max<int64_t>(256, (int64_t(1) << 18) / std::max<int64_t>(rows, 1));
  p.chunks = std::max<int64_t>(1, (Nd + target - 1) / target);
  // balance: a whole number of items per thread when there are few
  if (g.N * p.chunks < 8 * threads && threads > 1) {
    int64_t items = g.N * p.chunks;
    items = (items + threads - 1) / threads * threads;
    p.chunks = std::max<int64_t>(1, items / std::max<int64_t>(g.N, 1));
  }
  p.nb = std::min<int64_t>(Nd, ((Nd + p.chunks - 1) / p.chunks + 15) / 16 * 16);
  p.chunks = (Nd + p.nb - 1) / p.nb;
  p.whole = threads > 1 && g.N * p.chunks < 2 * threads && !g.is_1x1();
  return p;
}

}  // namespace recaffe
