#include "core/parallel.h"

#include <omp.h>
#include <sched.h>

#include "core/blas.h"

namespace recaffe {

namespace {
int g_threads = 0;
}

int default_num_threads() {
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof(set), &set) == 0) {
    int n = CPU_COUNT(&set);
    if (n > 0) return n;
  }
  return omp_get_num_procs();
}

void set_num_threads(int n) {
  if (n <= 0) n = default_num_threads();
  g_threads = n;
  omp_set_num_threads(n);
  // BLAS runs single-threaded inside our threads (sgemm_parallel and the engines split the work)
  blas_set_num_threads(1);
}

int num_threads() {
  if (g_threads <= 0) set_num_threads(0);
  return g_threads;
}

void thread_range(int64_t n, int64_t* begin, int64_t* end) {
  int t = omp_get_thread_num(), nt = omp_get_num_threads();
  int64_t chunk = n / nt, rem = n % nt;
  *begin = t * chunk + (t < rem ? t : rem);
  *end = *begin + chunk + (t < rem ? 1 : 0);
}

}  // namespace recaffe
