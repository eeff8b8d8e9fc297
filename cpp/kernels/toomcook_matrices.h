#pragma once
// Toom-Cook F(m, r) transform matrices built exactly (rational arithmetic) from interpolation
// points, by the same construction as python/recaffe/toomcook.py: A^T = E_m^T, G = E_r, B^T = V^-T,
// each B^T row scaled to integers with the factor moved into G. Tests check both agree exactly.
#include <string>
#include <vector>

namespace recaffe {

struct ToomCookMatrices {
  int m = 1, r = 1, alpha = 1;
  std::vector<std::string> points;  // "0", "1/2", "inf"
  std::vector<double> AT;           // m x alpha
  std::vector<double> G;            // alpha x r
  std::vector<double> BT;           // alpha x alpha
  std::string name() const;         // "F(4,3)"
};

// points: alpha - 1 finite points (infinity is added) or alpha points ("inf" allowed); empty: the
// default sequence 0, 1, -1, 1/2, -2, 2, -1/2, 3, -3, ... (lowest fp32 error, REFERENCE_NOTES C).
// Throws std::invalid_argument on bad sizes, repeated points or unparsable points.
ToomCookMatrices toomcook_matrices(int m, int r, const std::vector<std::string>& points = {});

// "0,1,-1,1/2,-2" -> {"0","1","-1","1/2","-2"}
std::vector<std::string> split_points(const std::string& s);

}  // namespace recaffe
