#pragma once
// The one hot loop of the Toom-Cook / Winograd transforms: dst[x] = sum_i coef[i] * src[i][x]
// (+ bias), a linear combination of rows. Every input, filter-free and inverse transform of the
// tiled convolution is written as such row combinations over contiguous tiles, so one SIMD
// primitive (AVX-512 / AVX2 / scalar variants, chosen at run time) serves them all.
#include <cstdint>

namespace recaffe {

// n rows; zero coefficients are skipped; dst must not alias a src row.
void lincomb_rows(int n, const float* const* src, const float* coef, float bias, float* dst, int64_t len);

// out[t] = z[t * stride] for t < n (deinterleaving a row into a tile phase).
void gather_strided(const float* z, int stride, int64_t n, float* out);
// y[t * stride] = q[t] + bias for t < n (interleaving a tile phase back into a row).
void scatter_strided(const float* q, int stride, int64_t n, float bias, float* y);

namespace detail {
void gather_strided_scalar(const float* z, int stride, int64_t n, float* out);
void gather_strided_avx2(const float* z, int stride, int64_t n, float* out);
void gather_strided_avx512(const float* z, int stride, int64_t n, float* out);
void scatter_strided_scalar(const float* q, int stride, int64_t n, float bias, float* y);
void scatter_strided_avx2(const float* q, int stride, int64_t n, float bias, float* y);
void scatter_strided_avx512(const float* q, int stride, int64_t n, float bias, float* y);
void lincomb_rows_scalar(int n, const float* const* src, const float* coef, float bias, float* dst, int64_t len);
void lincomb_rows_avx2(int n, const float* const* src, const float* coef, float bias, float* dst, int64_t len);
void lincomb_rows_avx512(int n, const float* const* src, const float* coef, float bias, float* dst, int64_t len);
}  // namespace detail

}  // namespace recaffe
