#include "core/blas.h"

#include <omp.h>

#include <algorithm>
#include <string>

extern "C" {
// scipy-openblas32 prefixes every symbol with scipy_; declare the few we use.
enum { RC_CblasRowMajor = 101, RC_CblasNoTrans = 111, RC_CblasTrans = 112 };
void scipy_cblas_sgemm(int order, int transa, int transb, int M, int N, int K, float alpha, const float* A,
                       int lda, const float* B, int ldb, float beta, float* C, int ldc);
void scipy_cblas_sgemv(int order, int trans, int M, int N, float alpha, const float* A, int lda, const float* x,
                       int incx, float beta, float* y, int incy);
void scipy_openblas_set_num_threads(int n);
char* scipy_openblas_get_config(void);
char* scipy_openblas_get_corename(void);
}

namespace recaffe {

void sgemm_ld(bool trans_a, bool trans_b, int M, int N, int K, float alpha, const float* A, int lda,
              const float* B, int ldb, float beta, float* C, int ldc) {
  scipy_cblas_sgemm(RC_CblasRowMajor, trans_a ? RC_CblasTrans : RC_CblasNoTrans,
                    trans_b ? RC_CblasTrans : RC_CblasNoTrans, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

void sgemm(bool trans_a, bool trans_b, int M, int N, int K, float alpha, const float* A, const float* B,
           float beta, float* C) {
  sgemm_ld(trans_a, trans_b, M, N, K, alpha, A, trans_a ? M : K, B, trans_b ? K : N, beta, C, N);
}

void sgemv(bool trans_a, int M, int N, float alpha, const float* A, const float* x, float beta, float* y) {
  scipy_cblas_sgemv(RC_CblasRowMajor, trans_a ? RC_CblasTrans : RC_CblasNoTrans, M, N, alpha, A, N, x, 1, beta,
                    y, 1);
}

void sgemm_parallel(bool trans_a, bool trans_b, int M, int N, int K, float alpha, const float* A, int lda,
                    const float* B, int ldb, float beta, float* C, int ldc) {
  const int T = omp_in_parallel() ? 1 : omp_get_max_threads();
  const double flops = 2.0 * M * N * K;
  if (M == 1 && !trans_a) {
    // a row vector times op(B): GEMV over column blocks is the memory-speed path (OpenBLAS's
    // sgemm with M = 1 runs several times slower than its sgemv, even on one thread)
    const int TT = flops < 2e6 ? 1 : T;
    const int per = ((N + TT - 1) / TT + 15) / 16 * 16;
#pragma omp parallel num_threads(TT) if (TT > 1)
    {
      const int t = omp_get_thread_num();
      const int n0 = std::min(N, t * per), n1 = std::min(N, n0 + per);
      if (n1 > n0) {
        if (trans_b)  // C[n] = sum_k A[k] B[n, k]
          scipy_cblas_sgemv(RC_CblasRowMajor, RC_CblasNoTrans, n1 - n0, K, alpha, B + static_cast<size_t>(n0) * ldb,
                            ldb, A, 1, beta, C + n0, 1);
        else  // C[n] = sum_k A[k] B[k, n]
          scipy_cblas_sgemv(RC_CblasRowMajor, RC_CblasTrans, K, n1 - n0, alpha, B + n0, ldb, A, 1, beta, C + n0, 1);
      }
    }
    return;
  }
  if (T <= 1 || flops < 2e6) {
    sgemm_ld(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
    return;
  }
  // Split the dimension whose operand is larger, so each thread streams half of the big one.
  if (N >= 16 * T && (static_cast<double>(N) >= M || M < 16 * T)) {
    // split the columns of C (and of op(B)) in 16-aligned blocks
    const int per = ((N + T - 1) / T + 15) / 16 * 16;
#pragma omp parallel num_threads(T)
    {
      const int t = omp_get_thread_num();
      const int n0 = std::min(N, t * per), n1 = std::min(N, n0 + per);
      if (n1 > n0) {
        const float* Bt = trans_b ? B + static_cast<size_t>(n0) * ldb : B + n0;
        sgemm_ld(trans_a, trans_b, M, n1 - n0, K, alpha, A, lda, Bt, ldb, beta, C + n0, ldc);
      }
    }
  } else {
    const int per = (M + T - 1) / T;
#pragma omp parallel num_threads(T)
    {
      const int t = omp_get_thread_num();
      const int m0 = std::min(M, t * per), m1 = std::min(M, m0 + per);
      if (m1 > m0) {
        const float* At = trans_a ? A + m0 : A + static_cast<size_t>(m0) * lda;
        sgemm_ld(trans_a, trans_b, m1 - m0, N, K, alpha, At, lda, B, ldb, beta, C + static_cast<size_t>(m0) * ldc, ldc);
      }
    }
  }
}

void blas_set_num_threads(int n) { scipy_openblas_set_num_threads(n); }

const char* blas_name() {
  static std::string name = std::string(scipy_openblas_get_config()) + " core=" + scipy_openblas_get_corename();
  return name.c_str();
}

}  // namespace recaffe
