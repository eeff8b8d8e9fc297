#pragma once
// The shape of one 2-D convolution, as Caffe's BaseConvolutionLayer computes it.
#include <cstdint>
#include <string>

namespace recaffe {

struct ConvGeometry {
  int64_t N = 0, C = 0, H = 0, W = 0;  // input
  int64_t K = 0;                        // output channels (num_output)
  int kh = 1, kw = 1, sh = 1, sw = 1, ph = 0, pw = 0, dh = 1, dw = 1;
  int group = 1;
  int64_t Ho = 0, Wo = 0;  // output
  bool bias = true;

  int64_t Cg() const { return C / group; }           // input channels per group
  int64_t Kg() const { return K / group; }           // output channels per group
  int64_t col_rows() const { return Cg() * kh * kw; }  // im2col rows per group
  int64_t out_hw() const { return Ho * Wo; }
  int64_t in_hw() const { return H * W; }
  // Caffe's 1x1 fast path: the input is its own column matrix.
  bool is_1x1() const { return kh == 1 && kw == 1 && sh == 1 && sw == 1 && ph == 0 && pw == 0; }
  double macs() const { return double(N) * K * Ho * Wo * Cg() * kh * kw; }
  bool operator==(const ConvGeometry& o) const {
    return N == o.N && C == o.C && H == o.H && W == o.W && K == o.K && kh == o.kh && kw == o.kw && sh == o.sh &&
           sw == o.sw && ph == o.ph && pw == o.pw && dh == o.dh && dw == o.dw && group == o.group &&
           Ho == o.Ho && Wo == o.Wo && bias == o.bias;
  }
  bool operator!=(const ConvGeometry& o) const { return !(*this == o); }
  std::string to_string() const;
};

}  // namespace recaffe
