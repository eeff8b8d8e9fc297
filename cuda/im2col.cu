// im2col on the GPU (Caffe's im2col_gpu: one thread per (c, oh, ow) writes its kh*kw column
// entries) and the bias updates of the convolution and inner-product layers.
#include "cuda_common.cuh"
#include "kernels.cuh"

namespace recaffe {
namespace cuda {

namespace {
__global__ void im2col_kernel(const float* im, int64_t n, int64_t H, int64_t W, int kh, int kw, int ph, int pw,
                              int sh, int sw, int dh, int dw, int64_t Ho, int64_t Wo, float* col) {
  RC_CUDA_KERNEL_LOOP(index, n) {
    const int64_t ow = index % Wo, oh = (index / Wo) % Ho, c = index / (Wo * Ho);
    const int64_t h0 = oh * sh - ph, w0 = ow * sw - pw;
    float* dst = col + (c * kh * kw * Ho + oh) * Wo + ow;
    const float* src = im + c * H * W;
    for (int i = 0; i < kh; ++i) {
      for (int j = 0; j < kw; ++j) {
        const int64_t h = h0 + i * dh, w = w0 + j * dw;
        *dst = (h >= 0 && w >= 0 && h < H && w < W) ? src[h * W + w] : 0.f;
        dst += Ho * Wo;
      }
    }
  }
}

__global__ void bias_kernel(float* out, const float* bias, int64_t total, int64_t hw) {
  RC_CUDA_KERNEL_LOOP(i, total) { out[i] += bias[i / hw]; }
}

__global__ void row_bias_kernel(float* out, const float* bias, int64_t total, int64_t N) {
  RC_CUDA_KERNEL_LOOP(i, total) { out[i] += bias[i % N]; }
}
}  // namespace

void im2col(const float* im, const ConvGeometry& g, float* col, cudaStream_t s) {
  const int64_t n = g.C * g.Ho * g.Wo;
  im2col_kernel<<<blocks_for(n), kThreads, 0, s>>>(im, n, g.H, g.W, g.kh, g.kw, g.ph, g.pw, g.sh, g.sw, g.dh, g.dw,
                                                   g.Ho, g.Wo, col);
  RC_CUDA_LAUNCH_CHECK();
}

void add_bias(float* out, const float* bias, int64_t K, int64_t hw, cudaStream_t s) {
  const int64_t total = K * hw;
  if (!total) return;
  bias_kernel<<<blocks_for(total), kThreads, 0, s>>>(out, bias, total, hw);
  RC_CUDA_LAUNCH_CHECK();
}

void add_row_bias(float* out, const float* bias, int64_t M, int64_t N, cudaStream_t s) {
  const int64_t total = M * N;
  if (!total) return;
  row_bias_kernel<<<blocks_for(total), kThreads, 0, s>>>(out, bias, total, N);
  RC_CUDA_LAUNCH_CHECK();
}

}  // namespace cuda
}  // namespace recaffe
