#include "kernels/vip_interp.h"

#include <omp.h>

#include <algorithm>
#include <vector>

#include "core/cpu_features.h"

namespace recaffe {

namespace detail {

void vip_interp_row_scalar(const float* in, int64_t W, float* out, int64_t Wo) {
  for (int64_t j = 0; j + 1 < W; ++j) {
    out[2 * j] = in[j];
    out[2 * j + 1] = 0.5f * (in[j] + in[j + 1]);
  }
  out[2 * (W - 1)] = in[W - 1];
  if (Wo == 2 * W) out[2 * W - 1] = in[W - 1];  // clamped: the last column replicates
}

void vip_mean_rows_scalar(const float* a, const float* b, float* v, int64_t n) {
  for (int64_t j = 0; j < n; ++j) v[j] = 0.5f * (a[j] + b[j]);
}

}  // namespace detail

bool vip_size_ok(int64_t H, int64_t Ho) { return H >= 1 && (Ho == 2 * H || Ho == 2 * H - 1); }

void vip_interp_row(const float* in, int64_t W, float* out, int64_t Wo) {
  switch (best_isa()) {
    case Isa::Avx512: detail::vip_interp_row_avx512(in, W, out, Wo); break;
    case Isa::Avx2: detail::vip_interp_row_avx2(in, W, out, Wo); break;
    default: detail::vip_interp_row_scalar(in, W, out, Wo); break;
  }
}

void vip_mean_rows(const float* a, const float* b, float* v, int64_t n) {
  switch (best_isa()) {
    case Isa::Avx512: detail::vip_mean_rows_avx512(a, b, v, n); break;
    case Isa::Avx2: detail::vip_mean_rows_avx2(a, b, v, n); break;
    default: detail::vip_mean_rows_scalar(a, b, v, n); break;
  }
}

namespace {
// Output rows 2i and 2i+1 (when it exists) of one plane from input row i; mean: W floats of scratch.
inline void interp_row_pair(const float* x, int64_t i, int64_t H, int64_t W, float* y, int64_t Ho, int64_t Wo,
                            float* mean) {
  vip_interp_row(x + i * W, W, y + 2 * i * Wo, Wo);
  if (2 * i + 1 < Ho) {
    vip_mean_rows(x + i * W, x + std::min(i + 1, H - 1) * W, mean, W);
    vip_interp_row(mean, W, y + (2 * i + 1) * Wo, Wo);
  }
}
}  // namespace

void vip_interpolate_plane(const float* in, float* out, int64_t H, int64_t W, int64_t Ho, int64_t Wo, float* mean) {
  for (int64_t i = 0; i < H; ++i) interp_row_pair(in, i, H, W, out, Ho, Wo, mean);
}

void vip_interpolate(const float* in, float* out, int64_t planes, int64_t H, int64_t W, int64_t Ho, int64_t Wo) {
  // One work item per input row: it writes output rows 2i and 2i+1 (when they exist), so items
  // never touch the same memory and the result does not depend on the thread count.
  const int64_t items = planes * H;
  // below ~256K outputs a parallel region costs more than it saves on this memory-bound loop
  const bool par = planes * Ho * Wo >= (1 << 18) && omp_get_max_threads() > 1 && !omp_in_parallel();
#pragma omp parallel if (par)
  {
    std::vector<float> mean(static_cast<size_t>(W));
#pragma omp for schedule(static)
    for (int64_t it = 0; it < items; ++it) {
      const int64_t p = it / H, i = it % H;
      interp_row_pair(in + p * H * W, i, H, W, out + p * Ho * Wo, Ho, Wo, mean.data());
    }
  }
}

}  // namespace recaffe
