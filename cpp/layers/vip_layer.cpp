#include "layers/vip_layer.h"

#include "kernels/vip_interp.h"

namespace recaffe {

void vip_output_size(const std::string& layer, const Params& p, int64_t H, int64_t W, int64_t* Ho, int64_t* Wo) {
  const bool authors_rule = H == 4;  // the reference checks the height only, for both axes
  *Ho = p.has("height") ? p.i("height") : (authors_rule ? 2 * H - 1 : 2 * H);
  *Wo = p.has("width") ? p.i("width") : (authors_rule ? 2 * W - 1 : 2 * W);
  if (!vip_size_ok(H, *Ho))
    throw LayerError(layer, str_cat("vip_param.height: ", *Ho, " cannot come from an input of height ", H,
                                    " (ViP gives 2H-1 = ", 2 * H - 1, " or 2H = ", 2 * H, ")"));
  if (!vip_size_ok(W, *Wo))
    throw LayerError(layer, str_cat("vip_param.width: ", *Wo, " cannot come from an input of width ", W,
                                    " (ViP gives 2W-1 = ", 2 * W - 1, " or 2W = ", 2 * W, ")"));
}

void ViPLayer::reshape(const TensorVec& bottom, const TensorVec& top) {
  const Tensor& b = *bottom[0];
  RC_CHECK(b.num_axes() == 4, "input must be 4-D (N, C, H, W), got shape ", b.shape_string());
  RC_CHECK(b.shape(2) > 0 && b.shape(3) > 0, "empty input of shape ", b.shape_string());
  planes_ = b.shape(0) * b.shape(1);
  H_ = b.shape(2);
  W_ = b.shape(3);
  vip_output_size(name(), params().msg("vip_param"), H_, W_, &Ho_, &Wo_);
  top[0]->reshape({b.shape(0), b.shape(1), Ho_, Wo_});
}

void ViPLayer::forward(const TensorVec& bottom, const TensorVec& top) {
  vip_interpolate(bottom[0]->data(), top[0]->data(), planes_, H_, W_, Ho_, Wo_);
}

RECAFFE_REGISTER_LAYER("ViP", ViPLayer);
RECAFFE_REGISTER_LAYER("Interp", ViPLayer);

}  // namespace recaffe
