#pragma once
// Virtual pooling's interpolation (ViP paper, Eq. 5) as plain functions over NCHW planes.
// Output pixel (y, x) is the bilinear sample of the input at (y/2, x/2) with the coordinate
// clamped to the last row/column (the authors' Interp layer): even-even copies, even-odd and
// odd-even average 2 neighbours, odd-odd averages 4; Ho is 2H-1 or 2H (the extra last row and
// column of the 2H case replicate the last input row/column). The operation order is fixed so
// that every ISA variant and the CUDA twin give bit-identical results:
//   row mean     v[j]        = 0.5f * (r0[j] + r1[j])
//   interp row   o[2j]       = r[j],  o[2j+1] = 0.5f * (r[j] + r[min(j+1, W-1)])
//   odd rows     out[2i+1]   = interp_row(row_mean(in[i], in[min(i+1, H-1)]))
#include <cstdint>

namespace recaffe {

// Is (Ho, Wo) an output size ViP can produce from (H, W)? (2H-1 or 2H on each axis)
bool vip_size_ok(int64_t H, int64_t Ho);

// Interpolates every plane (OpenMP over plane rows).
void vip_interpolate(const float* in, float* out, int64_t planes, int64_t H, int64_t W, int64_t Ho, int64_t Wo);

// One plane, serial; mean: W floats of scratch.
void vip_interpolate_plane(const float* in, float* out, int64_t H, int64_t W, int64_t Ho, int64_t Wo, float* mean);

// One output row from one input row (Wo is 2W-1 or 2W); serial.
void vip_interp_row(const float* in, int64_t W, float* out, int64_t Wo);
// v = 0.5 * (a + b), n elements; serial.
void vip_mean_rows(const float* a, const float* b, float* v, int64_t n);

namespace detail {
// ISA variants of the two row functions; each handles any length (tails in scalar with the same
// formula, so results do not depend on the ISA).
void vip_interp_row_scalar(const float* in, int64_t W, float* out, int64_t Wo);
void vip_interp_row_avx2(const float* in, int64_t W, float* out, int64_t Wo);
void vip_interp_row_avx512(const float* in, int64_t W, float* out, int64_t Wo);
void vip_mean_rows_scalar(const float* a, const float* b, float* v, int64_t n);
void vip_mean_rows_avx2(const float* a, const float* b, float* v, int64_t n);
void vip_mean_rows_avx512(const float* a, const float* b, float* v, int64_t n);
}  // namespace detail

}  // namespace recaffe
