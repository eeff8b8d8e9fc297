#include "layers/conv_params.h"

#include "core/errors.h"

namespace recaffe {

namespace {
void pick2(const std::string& layer, const Params& p, const char* rep, const char* h, const char* w, int fallback,
           bool required, int* out_h, int* out_w) {
  auto v = p.ints(rep);
  bool has_hw = p.has(h) || p.has(w);
  if (has_hw) {
    if (!v.empty())
      throw LayerError(layer, str_cat("convolution_param: give either ", rep, " or ", h, "/", w, ", not both"));
    if (!(p.has(h) && p.has(w)))
      throw LayerError(layer, str_cat("convolution_param: ", h, " and ", w, " must be given together"));
    *out_h = static_cast<int>(p.i(h));
    *out_w = static_cast<int>(p.i(w));
    return;
  }
  if (v.empty()) {
    if (required) throw LayerError(layer, str_cat("convolution_param: ", rep, " is required"));
    *out_h = *out_w = fallback;
  } else if (v.size() == 1) {
    *out_h = *out_w = static_cast<int>(v[0]);
  } else if (v.size() == 2) {
    *out_h = static_cast<int>(v[0]);
    *out_w = static_cast<int>(v[1]);
  } else {
    throw LayerError(layer, str_cat("convolution_param: ", rep, " has ", v.size(),
                                    " values; 2-D convolution takes 1 or 2"));
  }
}
}  // namespace

ConvSpatialParams parse_conv_params(const std::string& layer, const Params& cp) {
  ConvSpatialParams s;
  pick2(layer, cp, "kernel_size", "kernel_h", "kernel_w", 0, true, &s.kh, &s.kw);
  pick2(layer, cp, "stride", "stride_h", "stride_w", 1, false, &s.sh, &s.sw);
  pick2(layer, cp, "pad", "pad_h", "pad_w", 0, false, &s.ph, &s.pw);
  auto dil = cp.ints("dilation");
  if (dil.size() == 1) s.dh = s.dw = static_cast<int>(dil[0]);
  else if (dil.size() == 2) { s.dh = static_cast<int>(dil[0]); s.dw = static_cast<int>(dil[1]); }
  else if (dil.size() > 2) throw LayerError(layer, "convolution_param: dilation has more than 2 values");
  if (s.kh <= 0 || s.kw <= 0) throw LayerError(layer, str_cat("convolution_param: kernel size must be positive, got ", s.kh, "x", s.kw));
  if (s.sh <= 0 || s.sw <= 0) throw LayerError(layer, str_cat("convolution_param: stride must be positive, got ", s.sh, "x", s.sw));
  if (s.dh <= 0 || s.dw <= 0) throw LayerError(layer, str_cat("convolution_param: dilation must be positive, got ", s.dh, "x", s.dw));
  if (s.kh > 4096 || s.kw > 4096 || s.ph > 4096 || s.pw > 4096 || s.sh > 4096 || s.sw > 4096)
    throw LayerError(layer, "convolution_param: kernel, stride or pad larger than 4096");
  if (!cp.contains("num_output") || !cp.has("num_output"))
    throw LayerError(layer, "convolution_param: num_output is required");
  s.num_output = cp.i("num_output");
  if (s.num_output <= 0) throw LayerError(layer, str_cat("convolution_param: num_output must be positive, got ", s.num_output));
  if (s.num_output > (1 << 20)) throw LayerError(layer, str_cat("convolution_param: num_output ", s.num_output, " is absurd"));
  s.group = static_cast<int>(cp.i("group", 1));
  if (s.group <= 0) throw LayerError(layer, str_cat("convolution_param: group must be positive, got ", s.group));
  s.bias_term = cp.b("bias_term", true);
  if (cp.i("axis", 1) != 1) throw LayerError(layer, "convolution_param: only axis 1 (NCHW) is supported");
  return s;
}

}  // namespace recaffe
