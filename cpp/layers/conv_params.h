#pragma once
// Caffe's rules for reading kernel/stride/pad/dilation from ConvolutionParameter
// (base_conv_layer.cpp): repeated fields given once or per spatial dim, or the _h/_w forms;
// mixing both is an error.
#include <string>

#include "core/params.h"

namespace recaffe {

struct ConvSpatialParams {
  int kh = 0, kw = 0, sh = 1, sw = 1, ph = 0, pw = 0, dh = 1, dw = 1;
  int64_t num_output = 0;
  int group = 1;
  bool bias_term = true;
};

// Throws LayerError(layer, ...) naming the offending field.
ConvSpatialParams parse_conv_params(const std::string& layer, const Params& conv_param);

}  // namespace recaffe
