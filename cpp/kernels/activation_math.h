#pragma once
// The polynomial exp/tanh used by every ISA variant of the activations, written once as a
// template over a small "vector" policy so the scalar, AVX2 and AVX-512 versions perform the same
// operations in the same order (and so give bit-identical results for the same input).
// exp: Cody-Waite range reduction x = n ln2 + r, then a degree-6 polynomial for e^r (max rel.
// error ~1.2e-7 on [-87, 88]); tanh: odd polynomial for |x| < 0.625 (Cephes tanhf), else
// 1 - 2 / (e^{2|x|} + 1) with the sign restored.
namespace recaffe {
namespace actmath {

constexpr float kExpHi = 88.3762626647949f;
constexpr float kExpLo = -87.3365447505531f;
constexpr float kLog2e = 1.44269504088896341f;
constexpr float kLn2Hi = 0.693359375f;
constexpr float kLn2Lo = -2.12194440e-4f;
constexpr float kP0 = 1.9875691500E-4f, kP1 = 1.3981999507E-3f, kP2 = 8.3334519073E-3f, kP3 = 4.1665795894E-2f,
                kP4 = 1.6666665459E-1f, kP5 = 5.0000001201E-1f;
constexpr float kT0 = -5.70498872745E-3f, kT1 = 2.06390887954E-2f, kT2 = -5.37397155531E-2f,
                kT3 = 1.33314422036E-1f, kT4 = -3.33332819422E-1f;

// V provides: V::F (vector type), set1, add, sub, mul, fmadd(a,b,c)=a*b+c, min, max, div,
// round_nearest, pow2n(n) = 2^n for integral-valued n, abs, copysign(mag, sign), select_lt(a,b,x,y)
// = a<b ? x : y.
template <class V>
inline typename V::F exp(typename V::F x) {
  using F = typename V::F;
  x = V::min(x, V::set1(kExpHi));
  x = V::max(x, V::set1(kExpLo));
  F n = V::round_nearest(V::mul(x, V::set1(kLog2e)));
  F r = V::fmadd(n, V::set1(-kLn2Hi), x);
  r = V::fmadd(n, V::set1(-kLn2Lo), r);
  F p = V::set1(kP0);
  p = V::fmadd(p, r, V::set1(kP1));
  p = V::fmadd(p, r, V::set1(kP2));
  p = V::fmadd(p, r, V::set1(kP3));
  p = V::fmadd(p, r, V::set1(kP4));
  p = V::fmadd(p, r, V::set1(kP5));
  F r2 = V::mul(r, r);
  p = V::fmadd(p, r2, V::add(r, V::set1(1.f)));
  return V::mul(p, V::pow2n(n));
}


template <class V>
inline typename V::F tanh(typename V::F x) {
  using F = typename V::F;
  F a = V::abs(x);
  // small: x + x z P(z)
  F z = V::mul(x, x);
  F p = V::set1(kT0);
  p = V::fmadd(p, z, V::set1(kT1));
  p = V::fmadd(p, z, V::set1(kT2));
  p = V::fmadd(p, z, V::set1(kT3));
  p = V::fmadd(p, z, V::set1(kT4));
  F small = V::fmadd(V::mul(p, z), x, x);
  // large: 1 - 2 / (e^{2a} + 1), sign of x
  F e = exp<V>(V::add(a, a));
  F big = V::sub(V::set1(1.f), V::div(V::set1(2.f), V::add(e, V::set1(1.f))));
  big = V::copysign(big, x);
  return V::select_lt(a, V::set1(0.625f), small, big);
}

// Caffe's form (sigmoid_layer.cpp): 0.5 tanh(0.5 x) + 0.5. Every step is non-decreasing in floats
// (tanh above was checked exhaustively over all floats), so sigmoid is too and max pooling commutes
// with it bit-exactly; 1 / (1 + exp(-x)) with the polynomial exp was not (1-ulp reversals for |x| < 0.5).
template <class V>
inline typename V::F sigmoid(typename V::F x) {
  using F = typename V::F;
  F t = tanh<V>(V::mul(x, V::set1(0.5f)));
  return V::fmadd(t, V::set1(0.5f), V::set1(0.5f));
}

}  // namespace actmath
}  // namespace recaffe
