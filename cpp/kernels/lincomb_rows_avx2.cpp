// lincomb_rows and the strided row copies compiled with -mavx2 flags (CMakeLists.txt), vectorized by the compiler.
#include "kernels/lincomb_rows.h"

namespace recaffe {
namespace detail {
void lincomb_rows_avx2(int n, const float* const* src, const float* coef, float bias, float* dst, int64_t len)
#include "kernels/lincomb_rows_body.h"
#define RC_SUFFIX avx2
#include "kernels/strided_rows_body.h"
#undef RC_SUFFIX
}  // namespace detail
}  // namespace recaffe
