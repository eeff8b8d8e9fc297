#pragma once
// Shared by Scale and Bias (Caffe's scale_layer.cpp / bias_layer.cpp): the operand (a parameter
// blob or bottom[1]) has shape bottom.shape[axis : axis + operand axes]; it is broadcast over
// [outer, dim, inner]. A scalar operand (0 axes) forces axis 0, as in Caffe.
#include "core/layer.h"

namespace recaffe {

struct BroadcastShape {
  int axis = 1;
  int64_t outer = 1, dim = 1, inner = 1;
};

// The shape a learned operand gets at set-up: bottom.shape[axis : axis + num_axes] (num_axes -1 = to the end).
inline std::vector<int64_t> operand_shape(const std::string& layer, const Tensor& bottom, int axis, int64_t num_axes,
                                          const char* field) {
  if (num_axes < -1) throw LayerError(layer, str_cat(field, ".num_axes must be -1 or more, got ", num_axes));
  const int64_t end = num_axes == -1 ? bottom.num_axes() : axis + num_axes;
  if (end > bottom.num_axes())
    throw LayerError(layer, str_cat(field, ": axis ", axis, " + num_axes ", num_axes, " passes the ",
                                    bottom.num_axes(), " axes of the input ", bottom.shape_string()));
  return std::vector<int64_t>(bottom.shape().begin() + axis, bottom.shape().begin() + end);
}

// Check the operand fits the bottom at `axis` and give the broadcast sizes.
inline BroadcastShape broadcast_shape(const std::string& layer, const Tensor& bottom, const Tensor& operand,
                                      int axis) {
  BroadcastShape s;
  s.axis = operand.num_axes() == 0 ? 0 : axis;
  if (bottom.num_axes() < s.axis + operand.num_axes())
    throw LayerError(layer, str_cat("operand of shape ", operand.shape_string(), " does not fit the input ",
                                    bottom.shape_string(), " at axis ", s.axis));
  for (int i = 0; i < operand.num_axes(); ++i)
    if (bottom.shape(s.axis + i) != operand.shape(i))
      throw LayerError(layer, str_cat("operand of shape ", operand.shape_string(), " does not match the input ",
                                      bottom.shape_string(), " from axis ", s.axis));
  s.outer = bottom.count(0, s.axis);
  s.dim = operand.count();
  s.inner = bottom.count(s.axis + operand.num_axes());
  return s;
}

// y[o, d, i] = x[o, d, i] * scale[d] + (bias ? bias[d] : 0); y may be x. scale may be null (bias only).
void broadcast_scale_bias(const BroadcastShape& s, const float* x, const float* scale, const float* bias, float* y);

}  // namespace recaffe
