#pragma once
// Convolution of ONE input plane with K filters: the monochromatic layer of Denton et al. (each
// filter reads one colour channel) and depthwise convolutions. Strided reads are made contiguous by
// splitting the zero-padded plane into `sw` column phases once, so every filter tap reads a
// contiguous run of a phase row and the inner loop is pure vector FMAs, with no im2col buffer:
//   phases[s][y][x] = padded(y, x * sw + s),   out[k](oy, ox) = bias[k] + sum_ij w[k][i][j] *
//   phases[(j dw) % sw][oy sh + i dh][ox + (j dw) / sw].
#include <cstddef>
#include <cstdint>

namespace recaffe {

struct PlaneConv {
  int64_t H = 0, W = 0, Ho = 0, Wo = 0;
  int kh = 1, kw = 1, sh = 1, sw = 1, ph = 0, pw = 0, dh = 1, dw = 1;
  int64_t padded_rows() const { return H + 2 * ph; }
  // phase row length: the output row rounded up to the widest register tile that row gets (8
  // columns up to 8, 16 up to 16, else 32: conv_mono_impl.h) plus the largest tap offset
  int64_t phase_cols() const {
    const int64_t tile = Wo <= 8 ? 8 : Wo <= 16 ? 16 : 32;
    return (Wo + tile - 1) / tile * tile + (int64_t(kw - 1) * dw) / sw + 1;
  }
  size_t phase_floats() const { return size_t(sw) * padded_rows() * phase_cols(); }
};

// Write the phase planes of one input plane (serial).
void mono_split_phases(const PlaneConv& p, const float* plane, float* phases);
// The phase planes of the colour-projected plane sum_c color[c] * planes[c] (C planes of H x W), padded
// rows [row0, row1) only (serial): the fused monochromatic layer projects one colour at a time into a
// cache-resident buffer instead of writing C' full planes to memory.
void mono_split_phases_color(const PlaneConv& p, const float* planes, int64_t C, const float* color, float* phases,
                             int64_t row0, int64_t row1);
// Output rows [y0, y1) of K filters w[K][kh][kw] (+ bias[K] or null) into out[K][Ho][Wo] (serial;
// picks the AVX-512 / AVX2 / scalar variant at run time).
void mono_conv_rows(const PlaneConv& p, const float* phases, const float* w, int64_t K, const float* bias, float* out,
                    int64_t y0, int64_t y1);

namespace detail {
void mono_conv_rows_scalar(const PlaneConv& p, const float* phases, const float* w, int64_t K, const float* bias,
                           float* out, int64_t y0, int64_t y1);
void mono_conv_rows_avx2(const PlaneConv& p, const float* phases, const float* w, int64_t K, const float* bias,
                         float* out, int64_t y0, int64_t y1);
void mono_conv_rows_avx512(const PlaneConv& p, const float* phases, const float* w, int64_t K, const float* bias,
                           float* out, int64_t y0, int64_t y1);
}  // namespace detail

}  // namespace recaffe
