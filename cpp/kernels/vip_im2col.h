#pragma once
// Implicit virtual pooling (beyond the ViP paper): im2col of the interpolated image, read from the
// reduced map. Each virtual row a chunk needs is interpolated once into a small zero-padded row
// buffer (with kernels/vip_interp.h's row functions, so values are bit-identical to the explicit
// ViP layer's) and copied from there into the column matrix; the full-size map is never written.
#include <cstddef>
#include <cstdint>

namespace recaffe {

struct VipIm2colShape {
  int64_t C = 0, Hr = 0, Wr = 0;  // the reduced map
  int64_t Hv = 0, Wv = 0;         // the virtual (interpolated) image the convolution sees
  int kh = 1, kw = 1, ph = 0, pw = 0, sh = 1, sw = 1, dh = 1, dw = 1;
  int64_t Ho = 0, Wo = 0;         // convolution output
};

// Scratch floats vip_im2col_columns needs for a chunk of at most `max_cols` output positions.
size_t vip_im2col_scratch_floats(const VipIm2colShape& s, int64_t max_cols);

// Columns [c0, c1) (output positions, row-major) of channels [cb, ce) of the column matrix
// [C*kh*kw, Ho*Wo] of the virtual image, written with leading dimension ld. Serial.
void vip_im2col_columns(const float* reduced, const VipIm2colShape& s, int64_t c0, int64_t c1, int64_t cb, int64_t ce,
                        float* col, int64_t ld, float* scratch);

}  // namespace recaffe
