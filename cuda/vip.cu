// ViP interpolation on the GPU (twin: kernels/vip_interp.cpp vip_interpolate), one thread per
// output pixel. The arithmetic is the CPU's, op for op, so the two agree bit for bit: odd rows
// average the two input rows first, then the interpolated columns average those means.
#include "cuda_common.cuh"
#include "kernels.cuh"

namespace recaffe {
namespace cuda {

namespace {
__global__ void vip_interp_kernel(const float* in, float* out, int64_t total, int64_t H, int64_t W, int64_t Ho,
                                  int64_t Wo) {
  RC_CUDA_KERNEL_LOOP(idx, total) {
    const int64_t x = idx % Wo, y = (idx / Wo) % Ho, p = idx / (Wo * Ho);
    const float* src = in + p * H * W;
    // clamped sample rows/columns of the bilinear sample at (y/2, x/2)
    const int64_t r0 = min(y >> 1, H - 1), r1 = min((y + 1) >> 1, H - 1);
    const int64_t c0 = min(x >> 1, W - 1), c1 = min((x + 1) >> 1, W - 1);
    const bool odd_row = y & 1;
    float left, right;
    if (odd_row) {
      left = __fmul_rn(0.5f, __fadd_rn(src[r0 * W + c0], src[r1 * W + c0]));
      right = __fmul_rn(0.5f, __fadd_rn(src[r0 * W + c1], src[r1 * W + c1]));
    } else {
      left = src[r0 * W + c0];
      right = src[r0 * W + c1];
    }
    // even columns copy; odd columns average their two neighbours (the last one of a 2W row
    // has c0 == c1 and copies, as the CPU's clamped column does)
    out[idx] = ((x & 1) && c1 != c0) ? __fmul_rn(0.5f, __fadd_rn(left, right)) : left;
  }
}
}  // namespace

void vip_interpolate(const float* in, float* out, int64_t planes, int64_t H, int64_t W, int64_t Ho, int64_t Wo,
                     cudaStream_t s) {
  const int64_t total = planes * Ho * Wo;
  if (total == 0) return;
  vip_interp_kernel<<<blocks_for(total), kThreads, 0, s>>>(in, out, total, H, W, Ho, Wo);
  RC_CUDA_LAUNCH_CHECK();
}

}  // namespace cuda
}  // namespace recaffe
