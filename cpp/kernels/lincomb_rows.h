#pragma once
// The one hot loop of the Toom-Cook / Winograd transforms: dst[x] = sum_i coef[i] * src[i][x]
// (+ bias), a linear combination of rows. Every input, filter-free and inverse transform of the
// tiled convolution is written as such row combinations over contiguous tiles, so one SIMD
// primitive (AVX-512 / AVX2 / scalar variants, chosen at run time) serves them all.
#include <cstdint>

namespace recaffe {

// n rows; zero coefficients are skipped; dst must not alias a src row.
void lincomb_rows(int n, const float* const* src, const float* coef, float bias, float* dst, int64_t len);

namespace detail {
void lincomb_rows_scalar(int n, const float* const* src, const float* coef, float bias, float* dst, int64_t len);
void lincomb_rows_avx2(int n, const float* const* src, const float* coef, float bias, float* dst, int64_t len);
void lincomb_rows_avx512(int n, const float* const* src, const float* coef, float bias, float* dst, int64_t len);
}  // namespace detail

}  // namespace recaffe
