#include "cublas_dyn.h"

#include <dlfcn.h>

#include <cstdlib>
#include <mutex>
#include <stdexcept>
#include <string>

namespace recaffe {
namespace cuda {

namespace {
// The ABI of the entry points we use (cublas_api.h): status and enums are ints, the handle a pointer.
using Handle = void*;
enum { kOpN = 0, kOpT = 1 };
using CreateFn = int (*)(Handle*);
using SetStreamFn = int (*)(Handle, cudaStream_t);
using SgemmFn = int (*)(Handle, int, int, int, int, int, const float*, const float*, int, const float*, int,
                        const float*, float*, int);
using SgemmBatchedFn = int (*)(Handle, int, int, int, int, int, const float*, const float*, int, long long,
                               const float*, int, long long, const float*, float*, int, long long, int);

struct Lib {
  void* so = nullptr;
  std::string path;
  CreateFn create = nullptr;
  SetStreamFn set_stream = nullptr;
  SgemmFn sgemm = nullptr;
  SgemmBatchedFn sgemm_batched = nullptr;
  Handle handle = nullptr;
};

Lib& lib() {
  static Lib l;
  static std::once_flag once;
  std::call_once(once, [] {
    const char* env = std::getenv("RECAFFE_CUBLAS");
    const char* names[] = {env ? env : "", "libcublas.so.13", "libcublas.so.12", "libcublas.so"};
    for (const char* n : names) {
      if (!*n) continue;
      l.so = dlopen(n, RTLD_NOW | RTLD_GLOBAL);
      if (l.so) {
        l.path = n;
        break;
      }
    }
    if (!l.so)
      throw std::runtime_error("cannot load cuBLAS (tried RECAFFE_CUBLAS, libcublas.so.13/.12): install the "
                               "nvidia-cublas wheel or a CUDA toolkit, or set RECAFFE_CUBLAS to the library path");
    l.create = reinterpret_cast<CreateFn>(dlsym(l.so, "cublasCreate_v2"));
    l.set_stream = reinterpret_cast<SetStreamFn>(dlsym(l.so, "cublasSetStream_v2"));
    l.sgemm = reinterpret_cast<SgemmFn>(dlsym(l.so, "cublasSgemm_v2"));
    l.sgemm_batched = reinterpret_cast<SgemmBatchedFn>(dlsym(l.so, "cublasSgemmStridedBatched"));
    if (!l.create || !l.set_stream || !l.sgemm || !l.sgemm_batched)
      throw std::runtime_error("cuBLAS library " + l.path + " lacks an entry point recaffe needs");
    if (l.create(&l.handle) != 0) throw std::runtime_error("cublasCreate failed");
  });
  return l;
}

void status(int s, const char* what) {
  if (s != 0) throw std::runtime_error(std::string(what) + " failed with cuBLAS status " + std::to_string(s));
}
}  // namespace

void gpu_sgemm(bool trans_a, bool trans_b, int M, int N, int K, float alpha, const float* A, int lda,
               const float* B, int ldb, float beta, float* C, int ldc, cudaStream_t stream) {
  Lib& l = lib();
  status(l.set_stream(l.handle, stream), "cublasSetStream");
  // row-major C = op(A) op(B)  <=>  column-major C^T = op(B)^T op(A)^T
  status(l.sgemm(l.handle, trans_b ? kOpT : kOpN, trans_a ? kOpT : kOpN, N, M, K, &alpha, B, ldb, A, lda, &beta, C,
                 ldc),
         "cublasSgemm");
}

void gpu_sgemm_strided_batched(bool trans_a, bool trans_b, int M, int N, int K, float alpha, const float* A,
                               int lda, long long stride_a, const float* B, int ldb, long long stride_b, float beta,
                               float* C, int ldc, long long stride_c, int batch, cudaStream_t stream) {
  Lib& l = lib();
  status(l.set_stream(l.handle, stream), "cublasSetStream");
  status(l.sgemm_batched(l.handle, trans_b ? kOpT : kOpN, trans_a ? kOpT : kOpN, N, M, K, &alpha, B, ldb, stride_b, A,
                         lda, stride_a, &beta, C, ldc, stride_c, batch),
         "cublasSgemmStridedBatched");
}

const char* cublas_library() { return lib().path.c_str(); }

}  // namespace cuda
}  // namespace recaffe
