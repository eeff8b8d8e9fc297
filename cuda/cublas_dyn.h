#pragma once
// cuBLAS through dlopen: recaffe declares the handful of cuBLAS entry points it calls, so the
// CUDA build needs no cuBLAS headers and the library is found at run time (the nvidia-cublas
// wheel PyTorch installs, or the CUDA toolkit's). RECAFFE_CUBLAS names a library to use instead.
#include <cuda_runtime.h>

namespace recaffe {
namespace cuda {

// Column-major cublasSgemm with Caffe's row-major wrapper (caffe_gpu_gemm): C[M,N] = alpha *
// op(A)[M,K] op(B)[K,N] + beta * C, all row-major, computed as C^T = op(B)^T op(A)^T.
void gpu_sgemm(bool trans_a, bool trans_b, int M, int N, int K, float alpha, const float* A, int lda,
               const float* B, int ldb, float beta, float* C, int ldc, cudaStream_t stream);
// The same for `batch` products with fixed strides between them (Winograd / Toom-Cook domains).
void gpu_sgemm_strided_batched(bool trans_a, bool trans_b, int M, int N, int K, float alpha, const float* A,
                               int lda, long long stride_a, const float* B, int ldb, long long stride_b, float beta,
                               float* C, int ldc, long long stride_c, int batch, cudaStream_t stream);
const char* cublas_library();  // the library path that was loaded

}  // namespace cuda
}  // namespace recaffe
