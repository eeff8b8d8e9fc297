// Element-wise activations on the GPU (twin: kernels/activation.cpp).
#include "cuda_common.cuh"
#include "kernels.cuh"

namespace recaffe {
namespace cuda {

namespace {
template <int Kind>
__global__ void act_kernel(const float* in, float* out, int64_t n, float slope, float lo, float hi) {
  RC_CUDA_KERNEL_LOOP(i, n) {
    const float x = in[i];
    float y;
    if (Kind == int(Activation::ReLU)) y = x > 0.f ? x : x * slope;
    else if (Kind == int(Activation::Sigmoid)) y = 1.f / (1.f + expf(-x));
    else if (Kind == int(Activation::TanH)) y = tanhf(x);
    else if (Kind == int(Activation::Clip)) {
      const float m = x > lo ? x : lo;
      y = m < hi ? m : hi;
    } else if (Kind == int(Activation::AbsVal)) y = fabsf(x);
    else y = x;
    out[i] = y;
  }
}
}  // namespace

void activation(const ActivationParams& a, const float* in, float* out, int64_t n, cudaStream_t s) {
  if (n == 0) return;
  const unsigned b = blocks_for(n);
  switch (a.kind) {
    case Activation::ReLU: act_kernel<int(Activation::ReLU)><<<b, kThreads, 0, s>>>(in, out, n, a.negative_slope, a.lo, a.hi); break;
    case Activation::Sigmoid: act_kernel<int(Activation::Sigmoid)><<<b, kThreads, 0, s>>>(in, out, n, 0, 0, 0); break;
    case Activation::TanH: act_kernel<int(Activation::TanH)><<<b, kThreads, 0, s>>>(in, out, n, 0, 0, 0); break;
    case Activation::Clip: act_kernel<int(Activation::Clip)><<<b, kThreads, 0, s>>>(in, out, n, 0, a.lo, a.hi); break;
    case Activation::AbsVal: act_kernel<int(Activation::AbsVal)><<<b, kThreads, 0, s>>>(in, out, n, 0, 0, 0); break;
    case Activation::None:
      if (in != out) RC_CUDA_CHECK(cudaMemcpyAsync(out, in, sizeof(float) * n, cudaMemcpyDeviceToDevice, s));
      return;
  }
  RC_CUDA_LAUNCH_CHECK();
}

}  // namespace cuda
}  // namespace recaffe
