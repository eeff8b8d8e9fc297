// Softmax, Concat/Slice block copies, Eltwise and per-channel affine maps on the GPU.
#include <cfloat>

#include "cuda_common.cuh"
#include "kernels.cuh"

namespace recaffe {
namespace cuda {

namespace {
__global__ void softmax_kernel(const float* in, float* out, int64_t n, int64_t C, int64_t I) {
  RC_CUDA_KERNEL_LOOP(index, n) {
    const int64_t o = index / I, i = index % I;
    const float* x = in + o * C * I + i;
    float* y = out + o * C * I + i;
    float m = -FLT_MAX;
    for (int64_t c = 0; c < C; ++c) m = fmaxf(m, x[c * I]);
    float sum = 0.f;
    for (int64_t c = 0; c < C; ++c) {
      const float e = expf(x[c * I] - m);
      y[c * I] = e;
      sum += e;
    }
    for (int64_t c = 0; c < C; ++c) y[c * I] /= sum;
  }
}

__global__ void copy_block_kernel(const float* src, int64_t total, int64_t width, int64_t src_width,
                                  int64_t src_offset, float* dst, int64_t dst_width, int64_t dst_offset) {
  RC_CUDA_KERNEL_LOOP(i, total) {
    const int64_t o = i / width, j = i % width;
    dst[o * dst_width + dst_offset + j] = src[o * src_width + src_offset + j];
  }
}

__global__ void eltwise_first_kernel(int op, const float* a, float coeff, float* out, int64_t n) {
  RC_CUDA_KERNEL_LOOP(i, n) { out[i] = op == 1 ? coeff * a[i] : a[i]; }
}

__global__ void eltwise_acc_kernel(int op, const float* b, float coeff, float* out, int64_t n) {
  RC_CUDA_KERNEL_LOOP(i, n) {
    if (op == 0) out[i] *= b[i];
    else if (op == 1) out[i] += coeff * b[i];
    else out[i] = b[i] > out[i] ? b[i] : out[i];
  }
}

__global__ void affine_kernel(const float* x, const float* a, const float* b, float* y, int64_t total, int64_t C,
                              int64_t I) {
  RC_CUDA_KERNEL_LOOP(i, total) {
    const int64_t c = (i / I) % C;
    y[i] = x[i] * a[c] + (b ? b[c] : 0.f);
  }
}
}  // namespace

void softmax(const float* in, float* out, int64_t outer, int64_t channels, int64_t inner, cudaStream_t s) {
  const int64_t n = outer * inner;
  if (!n) return;
  softmax_kernel<<<blocks_for(n), kThreads, 0, s>>>(in, out, n, channels, inner);
  RC_CUDA_LAUNCH_CHECK();
}

void copy_block(const float* src, int64_t outer, int64_t width, int64_t src_width, int64_t src_offset, float* dst,
                int64_t dst_width, int64_t dst_offset, cudaStream_t s) {
  const int64_t total = outer * width;
  if (!total) return;
  copy_block_kernel<<<blocks_for(total), kThreads, 0, s>>>(src, total, width, src_width, src_offset, dst, dst_width,
                                                           dst_offset);
  RC_CUDA_LAUNCH_CHECK();
}

void eltwise_first(int op, const float* a, float coeff, float* out, int64_t n, cudaStream_t s) {
  if (!n) return;
  eltwise_first_kernel<<<blocks_for(n), kThreads, 0, s>>>(op, a, coeff, out, n);
  RC_CUDA_LAUNCH_CHECK();
}

void eltwise_accumulate(int op, const float* b, float coeff, float* out, int64_t n, cudaStream_t s) {
  if (!n) return;
  eltwise_acc_kernel<<<blocks_for(n), kThreads, 0, s>>>(op, b, coeff, out, n);
  RC_CUDA_LAUNCH_CHECK();
}

void channel_affine(const float* x, const float* a, const float* b, float* y, int64_t outer, int64_t channels,
                    int64_t inner, cudaStream_t s) {
  const int64_t total = outer * channels * inner;
  if (!total) return;
  affine_kernel<<<blocks_for(total), kThreads, 0, s>>>(x, a, b, y, total, channels, inner);
  RC_CUDA_LAUNCH_CHECK();
}

}  // namespace cuda
}  // namespace recaffe
