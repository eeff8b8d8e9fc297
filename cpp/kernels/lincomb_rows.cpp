#include "kernels/lincomb_rows.h"

#include <stdexcept>

#include "core/cpu_features.h"

namespace recaffe {

namespace detail {
void lincomb_rows_scalar(int n, const float* const* src, const float* coef, float bias, float* dst, int64_t len)
#include "kernels/lincomb_rows_body.h"
}  // namespace detail

void lincomb_rows(int n, const float* const* src, const float* coef, float bias, float* dst, int64_t len) {
  if (n > 64) throw std::invalid_argument("lincomb_rows: at most 64 rows");
  const Isa isa = best_isa();
  if (isa == Isa::Avx512) detail::lincomb_rows_avx512(n, src, coef, bias, dst, len);
  else if (isa == Isa::Avx2) detail::lincomb_rows_avx2(n, src, coef, bias, dst, len);
  else detail::lincomb_rows_scalar(n, src, coef, bias, dst, len);
}

}  // namespace recaffe
