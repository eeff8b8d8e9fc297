// Bodies of gather_strided / scatter_strided, compiled once per ISA: the common tile strides are
// compile-time constants so the compiler turns them into shuffles. Included inside namespace detail
// with RC_SUFFIX naming the variant. No include guard on purpose.
#define RC_CAT2(a, b) a##b
#define RC_CAT(a, b) RC_CAT2(a, b)
template <int S>
static void RC_CAT(gather_fixed_, RC_SUFFIX)(const float* __restrict z, int64_t n, float* __restrict out) {
  for (int64_t t = 0; t < n; ++t) out[t] = z[t * S];
}
template <int S>
static void RC_CAT(scatter_fixed_, RC_SUFFIX)(const float* __restrict q, int64_t n, float bias, float* __restrict y) {
  for (int64_t t = 0; t < n; ++t) y[t * S] = q[t] + bias;
}
void RC_CAT(gather_strided_, RC_SUFFIX)(const float* z, int stride, int64_t n, float* out) {
  switch (stride) {
    case 1: RC_CAT(gather_fixed_, RC_SUFFIX)<1>(z, n, out); return;
    case 2: RC_CAT(gather_fixed_, RC_SUFFIX)<2>(z, n, out); return;
    case 3: RC_CAT(gather_fixed_, RC_SUFFIX)<3>(z, n, out); return;
    case 4: RC_CAT(gather_fixed_, RC_SUFFIX)<4>(z, n, out); return;
    case 6: RC_CAT(gather_fixed_, RC_SUFFIX)<6>(z, n, out); return;
    default:
      for (int64_t t = 0; t < n; ++t) out[t] = z[t * stride];
  }
}
void RC_CAT(scatter_strided_, RC_SUFFIX)(const float* q, int stride, int64_t n, float bias, float* y) {
  switch (stride) {
    case 1: RC_CAT(scatter_fixed_, RC_SUFFIX)<1>(q, n, bias, y); return;
    case 2: RC_CAT(scatter_fixed_, RC_SUFFIX)<2>(q, n, bias, y); return;
    case 3: RC_CAT(scatter_fixed_, RC_SUFFIX)<3>(q, n, bias, y); return;
    case 4: RC_CAT(scatter_fixed_, RC_SUFFIX)<4>(q, n, bias, y); return;
    case 6: RC_CAT(scatter_fixed_, RC_SUFFIX)<6>(q, n, bias, y); return;
    default:
      for (int64_t t = 0; t < n; ++t) y[t * stride] = q[t] + bias;
  }
}
#undef RC_CAT
#undef RC_CAT2
