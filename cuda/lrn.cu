// Local response normalisation on the GPU, Caffe's formulas (twin: layers/lrn_layer.cpp).
// ACROSS_CHANNELS: scale = k + alpha/size * sum of x^2 over `size` channels centred on c (zeros
// beyond the ends), y = x * scale^-beta; one thread per (n, pixel) walks the channels with a
// running window, as Caffe's LRNFillScale does. WITHIN_CHANNEL: y = x * (1 + alpha/size^2 *
// sum over the size x size window (zero padded))^-beta.
#include "cuda_common.cuh"
#include "kernels.cuh"

namespace recaffe {
namespace cuda {

namespace {
__global__ void lrn_across_kernel(const float* in, float* out, int64_t n_threads, int64_t C, int64_t HW, int size,
                                  float alpha_over_size, float beta, float k) {
  RC_CUDA_KERNEL_LOOP(index, n_threads) {
    const int64_t n = index / HW, p = index % HW;
    const float* x = in + n * C * HW + p;
    float* y = out + n * C * HW + p;
    const int pre = (size - 1) / 2, post = size - pre - 1;
    float acc = 0.f;
    for (int64_t c = 0; c < post && c < C; ++c) acc += x[c * HW] * x[c * HW];
    for (int64_t c = 0; c < C; ++c) {
      const int64_t head = c + post;
      if (head < C) acc += x[head * HW] * x[head * HW];
      const int64_t tail = c - pre - 1;
      if (tail >= 0) acc -= x[tail * HW] * x[tail * HW];
      const float scale = k + alpha_over_size * acc;
      y[c * HW] = x[c * HW] * powf(scale, -beta);
    }
  }
}

__global__ void lrn_within_kernel(const float* in, float* out, int64_t total, int64_t H, int64_t W, int size,
                                  float alpha_over_size2, float beta) {
  RC_CUDA_KERNEL_LOOP(idx, total) {
    const int64_t w = idx % W, h = (idx / W) % H, p = idx / (W * H);
    const int pre = (size - 1) / 2;
    const float* x = in + p * H * W;
    float acc = 0.f;
    for (int64_t i = max(int64_t(0), h - pre); i < min(H, h - pre + size); ++i)
      for (int64_t j = max(int64_t(0), w - pre); j < min(W, w - pre + size); ++j) acc += x[i * W + j] * x[i * W + j];
    out[idx] = x[h * W + w] * powf(1.f + alpha_over_size2 * acc, -beta);
  }
}
}  // namespace

void lrn_across(const float* in, float* out, int64_t N, int64_t C, int64_t HW, int size, float alpha, float beta,
                float k, cudaStream_t s) {
  const int64_t n = N * HW;
  if (!n) return;
  lrn_across_kernel<<<blocks_for(n), kThreads, 0, s>>>(in, out, n, C, HW, size, alpha / size, beta, k);
  RC_CUDA_LAUNCH_CHECK();
}

void lrn_within(const float* in, float* out, int64_t planes, int64_t H, int64_t W, int size, float alpha, float beta,
                cudaStream_t s) {
  const int64_t n = planes * H * W;
  if (!n) return;
  lrn_within_kernel<<<blocks_for(n), kThreads, 0, s>>>(in, out, n, H, W, size, alpha / (size * size), beta);
  RC_CUDA_LAUNCH_CHECK();
}

}  // namespace cuda
}  // namespace recaffe
