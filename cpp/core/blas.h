#pragma once
// The one place that talks to BLAS (OpenBLAS from the scipy-openblas32 wheel). Row-major sgemm
// with Caffe's argument order (caffe_cpu_gemm): C[M,N] = alpha * op(A)[M,K] * op(B)[K,N] + beta * C.
namespace recaffe {

void sgemm(bool trans_a, bool trans_b, int M, int N, int K, float alpha, const float* A, const float* B,
           float beta, float* C);
// Same with explicit leading dimensions.
void sgemm_ld(bool trans_a, bool trans_b, int M, int N, int K, float alpha, const float* A, int lda,
              const float* B, int ldb, float beta, float* C, int ldc);
// y = alpha * op(A) x + beta * y, A is M x N row-major.
void sgemv(bool trans_a, int M, int N, float alpha, const float* A, const float* x, float beta, float* y);

// The same product with the columns of C (or its rows when N is small) split across the OpenMP
// threads, each calling the single-threaded BLAS: recaffe keeps one thread pool (ours) because two
// pools on the same cores fight (README, "Threads"). Serial when called inside a parallel region.
void sgemm_parallel(bool trans_a, bool trans_b, int M, int N, int K, float alpha, const float* A, int lda,
                    const float* B, int ldb, float beta, float* C, int ldc);

void blas_set_num_threads(int n);
const char* blas_name();      // e.g. "OpenBLAS 0.3.30 (SkylakeX)"

}  // namespace recaffe
