#include "kernels/toomcook_matrices.h"

#include <cstdlib>
#include <stdexcept>

namespace recaffe {

namespace {
using i128 = __int128;

i128 gcd128(i128 a, i128 b) {
  if (a < 0) a = -a;
  if (b < 0) b = -b;
  while (b) {
    i128 t = a % b;
    a = b;
    b = t;
  }
  return a;
}

// An exact rational; the sizes here (alpha <= 16, small points) stay far inside 128 bits, and
// every operation checks that it does.
struct Q {
  i128 n = 0, d = 1;
  Q() = default;
  Q(i128 num, i128 den = 1) : n(num), d(den) {
    if (d == 0) throw std::invalid_argument("Toom-Cook: division by zero");
    if (d < 0) { n = -n; d = -d; }
    i128 g = gcd128(n, d);
    if (g > 1) { n /= g; d /= g; }
    const i128 lim = i128(1) << 100;
    if (n > lim || n < -lim || d > lim) throw std::invalid_argument("Toom-Cook: rational overflow (too many points)");
  }
  bool zero() const { return n == 0; }
  double to_double() const { return static_cast<double>(static_cast<long double>(n) / static_cast<long double>(d)); }
};
Q operator+(Q a, Q b) { return Q(a.n * b.d + b.n * a.d, a.d * b.d); }
Q operator-(Q a, Q b) { return Q(a.n * b.d - b.n * a.d, a.d * b.d); }
Q operator*(Q a, Q b) { return Q(a.n * b.n, a.d * b.d); }
Q operator/(Q a, Q b) { return Q(a.n * b.d, a.d * b.n); }
bool operator==(Q a, Q b) { return a.n == b.n && a.d == b.d; }

struct Point {
  bool inf = false;
  Q v;
};

Point parse_point(const std::string& s) {
  Point p;
  if (s == "inf" || s == "infinity" || s == "Inf") {
    p.inf = true;
    return p;
  }
  auto slash = s.find('/');
  char* end = nullptr;
  long long num = std::strtoll(s.c_str(), &end, 10);
  long long den = 1;
  bool ok = end != s.c_str();
  if (slash != std::string::npos) {
    ok = ok && end == s.c_str() + slash;
    const char* ds = s.c_str() + slash + 1;
    den = std::strtoll(ds, &end, 10);
    ok = ok && end != ds && den != 0;
  }
  if (!ok || *end != '\0') throw std::invalid_argument("Toom-Cook point '" + s + "' is not an integer, p/q or inf");
  p.v = Q(num, den);
  return p;
}

std::vector<Q> eval_row(const Point& a, int n) {
  std::vector<Q> row(n, Q(0));
  if (a.inf) {
    row[n - 1] = Q(1);
  } else {
    Q x(1);
    for (int j = 0; j < n; ++j, x = x * a.v) row[j] = x;
  }
  return row;
}

std::string q_string(const Point& p) {
  if (p.inf) return "inf";
  auto s = std::to_string(static_cast<long long>(p.v.n));
  if (p.v.d != 1) s += "/" + std::to_string(static_cast<long long>(p.v.d));
  return s;
}

const char* kDefaultPoints[] = {"0", "1", "-1", "1/2", "-2", "2", "-1/2", "3", "-3", "1/3", "-1/3", "4", "-4", "1/4", "-1/4"};
}  // namespace

std::string ToomCookMatrices::name() const { return "F(" + std::to_string(m) + "," + std::to_string(r) + ")"; }

std::vector<std::string> split_points(const std::string& s) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i <= s.size()) {
    size_t j = s.find(',', i);
    if (j == std::string::npos) j = s.size();
    std::string item = s.substr(i, j - i);
    while (!item.empty() && item.front() == ' ') item.erase(item.begin());
    while (!item.empty() && item.back() == ' ') item.pop_back();
    if (!item.empty()) out.push_back(item);
    i = j + 1;
  }
  return out;
}

ToomCookMatrices toomcook_matrices(int m, int r, const std::vector<std::string>& given) {
  if (m < 1 || r < 1) throw std::invalid_argument("Toom-Cook F(m, r) needs m, r >= 1");
  const int alpha = m + r - 1;
  if (alpha > 16) throw std::invalid_argument("Toom-Cook: tiles beyond 16 points are not supported");
  std::vector<Point> pts;
  if (given.empty()) {
    if (alpha - 1 > 15) throw std::invalid_argument("Toom-Cook: give the points explicitly");
    for (int i = 0; i < alpha - 1; ++i) pts.push_back(parse_point(kDefaultPoints[i]));
  } else {
    for (auto& s : given) pts.push_back(parse_point(s));
  }
  bool has_inf = false;
  for (auto& p : pts) has_inf |= p.inf;
  if (static_cast<int>(pts.size()) == alpha - 1 && !has_inf) pts.push_back(Point{true, Q(0)});
  if (static_cast<int>(pts.size()) != alpha)
    throw std::invalid_argument("Toom-Cook F(" + std::to_string(m) + "," + std::to_string(r) + ") needs " +
                                std::to_string(alpha - 1) + " finite points (plus infinity), got " +
                                std::to_string(given.size()));
  for (int i = 0; i < alpha; ++i)
    for (int j = i + 1; j < alpha; ++j)
      if (pts[i].inf == pts[j].inf && (pts[i].inf || pts[i].v == pts[j].v))
        throw std::invalid_argument("Toom-Cook: interpolation points must be distinct");

  // Gauss-Jordan inverse of the Vandermonde V (alpha x alpha)
  std::vector<std::vector<Q>> A(alpha);
  for (int i = 0; i < alpha; ++i) {
    A[i] = eval_row(pts[i], alpha);
    for (int j = 0; j < alpha; ++j) A[i].push_back(Q(i == j ? 1 : 0));
  }
  for (int col = 0; col < alpha; ++col) {
    int piv = col;
    while (piv < alpha && A[piv][col].zero()) ++piv;
    if (piv == alpha) throw std::invalid_argument("Toom-Cook: singular Vandermonde matrix");
    std::swap(A[col], A[piv]);
    Q p = A[col][col];
    for (auto& x : A[col]) x = x / p;
    for (int i = 0; i < alpha; ++i) {
      if (i == col || A[i][col].zero()) continue;
      Q f = A[i][col];
      for (int j = 0; j < 2 * alpha; ++j) A[i][j] = A[i][j] - f * A[col][j];
    }
  }
  // B^T = V^-T: BT[i][j] = Vinv[j][i]
  std::vector<std::vector<Q>> BT(alpha, std::vector<Q>(alpha)), G(alpha);
  for (int i = 0; i < alpha; ++i)
    for (int j = 0; j < alpha; ++j) BT[i][j] = A[j][alpha + i];
  for (int i = 0; i < alpha; ++i) G[i] = eval_row(pts[i], r);
  for (int i = 0; i < alpha; ++i) {  // integer rows in B^T; the factor goes into G
    i128 den = 1, num = 0;
    for (auto& x : BT[i]) {
      den = den / gcd128(den, x.d) * x.d;
      if (!x.zero()) num = gcd128(num, x.n);
    }
    if (num == 0) num = 1;
    Q s(den, num);
    for (auto& x : BT[i])
      if (!x.zero()) {
        if (x.n < 0) s = Q(0) - s;
        break;
      }
    for (auto& x : BT[i]) x = x * s;
    for (auto& x : G[i]) x = x / s;
  }
  ToomCookMatrices t;
  t.m = m;
  t.r = r;
  t.alpha = alpha;
  for (auto& p : pts) t.points.push_back(q_string(p));
  t.AT.resize(size_t(m) * alpha);
  for (int i = 0; i < m; ++i)
    for (int k = 0; k < alpha; ++k) t.AT[i * alpha + k] = eval_row(pts[k], m)[i].to_double();
  for (int i = 0; i < alpha; ++i) {
    for (int j = 0; j < r; ++j) t.G.push_back(G[i][j].to_double());
    for (int j = 0; j < alpha; ++j) t.BT.push_back(BT[i][j].to_double());
  }
  return t;
}

}  // namespace recaffe
