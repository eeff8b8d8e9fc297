// Pooling on the GPU with Caffe's semantics (twin: kernels/pooling.cpp), one thread per output
// element. The fused variant applies a monotone activation as it writes (the reorder paper's
// pool+activation in one pass).
#include <cfloat>

#include "cuda_common.cuh"
#include "kernels.cuh"

namespace recaffe {
namespace cuda {

namespace {
__device__ inline float apply_act(int kind, float x, float slope, float lo, float hi) {
  switch (kind) {
    case int(Activation::ReLU): return x > 0.f ? x : x * slope;
    case int(Activation::Sigmoid): return 1.f / (1.f + expf(-x));
    case int(Activation::TanH): return tanhf(x);
    case int(Activation::Clip): { const float m = x > lo ? x : lo; return m < hi ? m : hi; }
    case int(Activation::AbsVal): return fabsf(x);
    default: return x;
  }
}

__global__ void max_pool_kernel(const float* in, float* out, int64_t total, int64_t H, int64_t W, int64_t Ho,
                                int64_t Wo, int kh, int kw, int sh, int sw, int ph, int pw, int act, float slope,
                                float lo, float hi) {
  RC_CUDA_KERNEL_LOOP(idx, total) {
    const int64_t ow = idx % Wo, oh = (idx / Wo) % Ho, p = idx / (Wo * Ho);
    int64_t hs = oh * sh - ph, ws = ow * sw - pw;
    const int64_t he = min(hs + kh, H), we = min(ws + kw, W);
    hs = max(hs, int64_t(0));
    ws = max(ws, int64_t(0));
    const float* x = in + p * H * W;
    float m = -FLT_MAX;
    for (int64_t h = hs; h < he; ++h)
      for (int64_t w = ws; w < we; ++w) {
        const float v = x[h * W + w];
        if (v > m) m = v;
      }
    out[idx] = apply_act(act, m, slope, lo, hi);
  }
}

__global__ void ave_pool_kernel(const float* in, float* out, int64_t total, int64_t H, int64_t W, int64_t Ho,
                                int64_t Wo, int kh, int kw, int sh, int sw, int ph, int pw) {
  RC_CUDA_KERNEL_LOOP(idx, total) {
    const int64_t ow = idx % Wo, oh = (idx / Wo) % Ho, p = idx / (Wo * Ho);
    int64_t hs = oh * sh - ph, ws = ow * sw - pw;
    int64_t he = min(hs + kh, H + ph), we = min(ws + kw, W + pw);
    const int64_t pool_size = (he - hs) * (we - ws);  // Caffe: before clipping to the image
    hs = max(hs, int64_t(0));
    ws = max(ws, int64_t(0));
    he = min(he, H);
    we = min(we, W);
    const float* x = in + p * H * W;
    float sum = 0.f;
    for (int64_t h = hs; h < he; ++h)
      for (int64_t w = ws; w < we; ++w) sum += x[h * W + w];
    out[idx] = sum / pool_size;
  }
}
}  // namespace

void pool(PoolMethod method, const PoolGeometry& g, const float* in, float* out, const ActivationParams& act,
          cudaStream_t s) {
  const int64_t total = g.planes * g.Ho * g.Wo;
  if (total == 0) return;
  if (method == PoolMethod::Max) {
    max_pool_kernel<<<blocks_for(total), kThreads, 0, s>>>(in, out, total, g.H, g.W, g.Ho, g.Wo, g.kh, g.kw, g.sh,
                                                           g.sw, g.ph, g.pw, int(act.kind), act.negative_slope,
                                                           act.lo, act.hi);
  } else {
    ave_pool_kernel<<<blocks_for(total), kThreads, 0, s>>>(in, out, total, g.H, g.W, g.Ho, g.Wo, g.kh, g.kw, g.sh,
                                                           g.sw, g.ph, g.pw);
    RC_CUDA_LAUNCH_CHECK();
    if (act.kind != Activation::None) activation(act, out, out, total, s);
  }
  RC_CUDA_LAUNCH_CHECK();
}

}  // namespace cuda
}  // namespace recaffe
