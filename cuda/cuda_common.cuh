#pragma once
// Shared helpers for the CUDA backend: error checks that throw (pybind11 turns them into Python
// exceptions naming the call) and launch geometry.
#include <cuda_runtime.h>

#include <cstdint>
#include <stdexcept>
#include <string>

namespace recaffe {
namespace cuda {

inline void check(cudaError_t err, const char* what, const char* file, int line) {
  if (err != cudaSuccess)
    throw std::runtime_error(std::string("CUDA error in ") + what + " (" + file + ":" + std::to_string(line) +
                             "): " + cudaGetErrorString(err));
}

#define RC_CUDA_CHECK(call) ::recaffe::cuda::check((call), #call, __FILE__, __LINE__)
// After a kernel launch: launch errors now, execution errors at the next synchronizing call.
#define RC_CUDA_LAUNCH_CHECK() ::recaffe::cuda::check(cudaGetLastError(), "kernel launch", __FILE__, __LINE__)

constexpr int kThreads = 256;

inline unsigned blocks_for(int64_t n, int threads = kThreads) {
  int64_t b = (n + threads - 1) / threads;
  return static_cast<unsigned>(b < 1 ? 1 : (b > 2147483647 ? 2147483647 : b));
}

// Grid-stride loop: correct for any n whatever the grid size.
#define RC_CUDA_KERNEL_LOOP(i, n) \
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < (n); i += int64_t(blockDim.x) * gridDim.x)

}  // namespace cuda
}  // namespace recaffe
