#pragma once
// Caffe's im2col / col2im for one image: the column buffer is [C*kh*kw, Ho*Wo] row-major; row
// (c*kh + i)*kw + j holds the input pixel at (oh*sh - ph + i*dh, ow*sw - pw + j*dw), 0 outside.
#include <cstdint>

namespace recaffe {

// Rows are split across the OpenMP threads.
void im2col(const float* im, int64_t C, int64_t H, int64_t W, int kh, int kw, int ph, int pw, int sh, int sw, int dh,
            int dw, int64_t Ho, int64_t Wo, float* col);
// The columns [c0, c1) of the column buffer (output positions in row-major order), written to
// col with leading dimension ld. Serial: callers run it inside their own parallel loop.
void im2col_columns(const float* im, int64_t C, int64_t H, int64_t W, int kh, int kw, int ph, int pw, int sh, int sw,
                    int dh, int dw, int64_t Ho, int64_t Wo, int64_t c0, int64_t c1, float* col, int64_t ld);
// Adds each column entry back into the image (im must be zeroed by the caller). Threads split channels.
void col2im(const float* col, int64_t C, int64_t H, int64_t W, int kh, int kw, int ph, int pw, int sh, int sw, int dh,
            int dw, int64_t Ho, int64_t Wo, float* im);

}  // namespace recaffe
