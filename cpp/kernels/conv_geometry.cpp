#include "kernels/conv_geometry.h"

#include "core/errors.h"

namespace recaffe {

std::string ConvGeometry::to_string() const {
  return str_cat("N=", N, " C=", C, " H=", H, " W=", W, " K=", K, " k=", kh, "x", kw, " s=", sh, "x", sw, " p=", ph,
                 "x", pw, " d=", dh, "x", dw, " g=", group, " -> ", Ho, "x", Wo);
}

}  // namespace recaffe
