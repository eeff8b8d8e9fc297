#include "kernels/lincomb_rows.h"

#include <stdexcept>

#include "core/cpu_features.h"

namespace recaffe {

namespace detail {
void lincomb_rows_scalar(int n, const float* const* src, const float* coef, float bias, float* dst, int64_t len)
#include "kernels/lincomb_rows_body.h"
#define RC_SUFFIX scalar
#include "kernels/strided_rows_body.h"
#undef RC_SUFFIX
}  // namespace detail

void lincomb_rows(int n, const float* const* src, const float* coef, float bias, float* dst, int64_t len) {
  if (n > 64) throw std::invalid_argument("lincomb_rows: at most 64 rows");
  const Isa isa = best_isa();
  if (isa == Isa::Avx512) detail::lincomb_rows_avx512(n, src, coef, bias, dst, len);
  else if (isa == Isa::Avx2) detail::lincomb_rows_avx2(n, src, coef, bias, dst, len);
  else detail::lincomb_rows_scalar(n, src, coef, bias, dst, len);
}

void gather_strided(const float* z, int stride, int64_t n, float* out) {
  const Isa isa = best_isa();
  if (isa == Isa::Avx512) detail::gather_strided_avx512(z, stride, n, out);
  else if (isa == Isa::Avx2) detail::gather_strided_avx2(z, stride, n, out);
  else detail::gather_strided_scalar(z, stride, n, out);
}

void scatter_strided(const float* q, int stride, int64_t n, float bias, float* y) {
  const Isa isa = best_isa();
  if (isa == Isa::Avx512) detail::scatter_strided_avx512(q, stride, n, bias, y);
  else if (isa == Isa::Avx2) detail::scatter_strided_avx2(q, stride, n, bias, y);
  else detail::scatter_strided_scalar(q, stride, n, bias, y);
}

}  // namespace recaffe
