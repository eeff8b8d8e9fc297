#pragma once
// Local response normalisation (Caffe's lrn_layer.cpp), over pointers, [N, C, H, W] row-major.
#include <cstdint>

namespace recaffe {

// ACROSS_CHANNELS: y = x * (k + alpha/size * sum of x^2 over `size` channels centred on c)^-beta,
// zeros beyond the first and last channel; the window sum runs as Caffe's does (add head, subtract tail).
void lrn_across_channels(const float* x, float* y, int64_t N, int64_t C, int64_t HW, int size, float alpha,
                         float beta, float k);
// WITHIN_CHANNEL: y = x * (1 + alpha * avg)^-beta, avg = the size x size zero-padded box sum of x^2 / size^2
// (Caffe's square -> AVE pool -> power -> product; k is ignored). `planes` = N*C.
void lrn_within_channel(const float* x, float* y, int64_t planes, int64_t H, int64_t W, int size, float alpha,
                        float beta);

}  // namespace recaffe
