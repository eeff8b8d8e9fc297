// The body of lincomb_rows, compiled once per ISA (lincomb_rows*.cpp include it with their flags):
// plain loops the compiler vectorizes; blocks of 4 rows keep dst in registers between rows.
// No include guard on purpose: included once in each variant file, inside its own function.
{
  int nz = 0;
  const float* rows[64];
  float cs[64];
  for (int i = 0; i < n && nz < 64; ++i)
    if (coef[i] != 0.f) {
      rows[nz] = src[i];
      cs[nz++] = coef[i];
    }
  constexpr int64_t B = 256;  // a block of dst stays in L1 across the rows
  for (int64_t x0 = 0; x0 < len; x0 += B) {
    const int64_t x1 = x0 + B < len ? x0 + B : len;
    float* __restrict d = dst + x0;
    const int64_t w = x1 - x0;
    for (int64_t x = 0; x < w; ++x) d[x] = bias;
    int i = 0;
    for (; i + 4 <= nz; i += 4) {
      const float* __restrict a = rows[i] + x0;
      const float* __restrict b = rows[i + 1] + x0;
      const float* __restrict c = rows[i + 2] + x0;
      const float* __restrict e = rows[i + 3] + x0;
      const float ca = cs[i], cb = cs[i + 1], cc = cs[i + 2], ce = cs[i + 3];
      for (int64_t x = 0; x < w; ++x) d[x] += ca * a[x] + cb * b[x] + cc * c[x] + ce * e[x];
    }
    for (; i + 2 <= nz; i += 2) {
      const float* __restrict a = rows[i] + x0;
      const float* __restrict b = rows[i + 1] + x0;
      const float ca = cs[i], cb = cs[i + 1];
      for (int64_t x = 0; x < w; ++x) d[x] += ca * a[x] + cb * b[x];
    }
    for (; i < nz; ++i) {
      const float* __restrict a = rows[i] + x0;
      const float ca = cs[i];
      for (int64_t x = 0; x < w; ++x) d[x] += ca * a[x];
    }
  }
}
