#pragma once
// The CUDA kernels, as host launchers over device pointers on a stream. Each mirrors a CPU kernel
// (its "CPU twin" named beside it) and is tested against it on the same inputs.
#include <cuda_runtime.h>

#include <cstdint>

#include "kernels/activation.h"
#include "kernels/conv_geometry.h"
#include "kernels/pooling.h"

namespace recaffe {
namespace cuda {

// twin: kernels/activation.cpp apply_activation
void activation(const ActivationParams& a, const float* in, float* out, int64_t n, cudaStream_t s);

// twin: kernels/pooling.cpp pool_forward (Caffe's pooling_layer.cu; fused activation on the output)
void pool(PoolMethod method, const PoolGeometry& g, const float* in, float* out, const ActivationParams& act,
          cudaStream_t s);

// twin: kernels/im2col.cpp im2col (Caffe's im2col_gpu: one thread per (c, oh, ow))
void im2col(const float* im, const ConvGeometry& g, float* col, cudaStream_t s);
// out[k, i] += bias[k] for i < hw, per image (Caffe's rank-1 bias update)
void add_bias(float* out, const float* bias, int64_t K, int64_t hw, cudaStream_t s);
// out[m, n] += bias[n] (InnerProduct)
void add_row_bias(float* out, const float* bias, int64_t M, int64_t N, cudaStream_t s);

// LRN (twin: layers/lrn_layer.cpp): across channels or within channel
void lrn_across(const float* in, float* out, int64_t N, int64_t C, int64_t HW, int size, float alpha, float beta,
                float k, cudaStream_t s);
void lrn_within(const float* in, float* out, int64_t planes, int64_t H, int64_t W, int size, float alpha,
                float beta, cudaStream_t s);

// Softmax over the middle axis of [outer, channels, inner] (twin: layers/softmax_layer.cpp)
void softmax(const float* in, float* out, int64_t outer, int64_t channels, int64_t inner, cudaStream_t s);

// Copy a [outer, width] block into a [outer, dst_width] array at column offset (Concat/Slice)
void copy_block(const float* src, int64_t outer, int64_t width, int64_t src_width, int64_t src_offset,
                float* dst, int64_t dst_width, int64_t dst_offset, cudaStream_t s);

// Eltwise: op 0 PROD, 1 SUM (with coeff), 2 MAX; out = op(out, in) for the second and later bottoms
void eltwise_first(int op, const float* a, float coeff, float* out, int64_t n, cudaStream_t s);
void eltwise_accumulate(int op, const float* b, float coeff, float* out, int64_t n, cudaStream_t s);

// y[o, c, i] = x[o, c, i] * a[c] + (b ? b[c] : 0)  (BatchNorm with global stats, Scale, Bias)
void channel_affine(const float* x, const float* a, const float* b, float* y, int64_t outer, int64_t channels,
                    int64_t inner, cudaStream_t s);

// twin: kernels/vip_interp.cpp vip_interpolate (ViP paper Eq. 5, the authors' clamped border)
void vip_interpolate(const float* in, float* out, int64_t planes, int64_t H, int64_t W, int64_t Ho, int64_t Wo,
                     cudaStream_t s);

}  // namespace cuda
}  // namespace recaffe
