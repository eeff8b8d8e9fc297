#pragma once
// Threads: our kernels use OpenMP; BLAS has its own pool. set_num_threads sets both.
#include <cstdint>

namespace recaffe {

void set_num_threads(int n);
int num_threads();
int default_num_threads();  // the number of cores the process may use

// Split [0, n) evenly across the current OpenMP team; returns this thread's [begin, end).
void thread_range(int64_t n, int64_t* begin, int64_t* end);

}  // namespace recaffe
