#include "layers/convolution_layer.h"

#include <stdexcept>

namespace recaffe {

void ConvolutionLayer::setup(const TensorVec& bottom, const TensorVec&) {
  sp_ = parse_conv_params(name(), params().msg("convolution_param"));
  const Params& rp = params().msg("recaffe_param");
  engine_request_ = rp.s("engine", "gemm");
  if (engine_request_.empty()) engine_request_ = "gemm";
  try {
    engine_options_ = parse_engine_options(rp.strings("engine_option"));
    engine_ = ConvEngineRegistry::create(engine_request_, engine_options_);
  } catch (const std::invalid_argument& e) {
    throw LayerError(name(), str_cat("recaffe_param.engine: ", e.what()));
  }
}

void ConvolutionLayer::set_engine(const std::string& name_, const ConvEngineOptions& options) {
  std::unique_ptr<ConvEngine> e;
  try {
    e = ConvEngineRegistry::create(name_, options);
  } catch (const std::invalid_argument& ex) {
    throw LayerError(name(), ex.what());
  }
  if (geom_.N > 0) {
    std::string why = e->unsupported(geom_);
    RC_CHECK(why.empty(), "engine '", name_, "' cannot run this convolution (", geom_.to_string(), "): ", why);
  }
  engine_ = std::move(e);
  engine_request_ = name_;
  engine_options_ = options;
  prepared_w_version_ = ~0ull;
}

void ConvolutionLayer::compute_geometry(const Tensor& b) {
  RC_CHECK(b.num_axes() == 4, "input must be 4-D (N, C, H, W), got shape ", b.shape_string());
  ConvGeometry g;
  g.N = b.shape(0); g.C = b.shape(1); g.H = b.shape(2); g.W = b.shape(3);
  g.K = sp_.num_output;
  g.kh = sp_.kh; g.kw = sp_.kw; g.sh = sp_.sh; g.sw = sp_.sw; g.ph = sp_.ph; g.pw = sp_.pw; g.dh = sp_.dh; g.dw = sp_.dw;
  g.group = sp_.group;
  g.bias = sp_.bias_term;
  RC_CHECK(g.C % g.group == 0, "input channels ", g.C, " are not divisible by group ", g.group);
  RC_CHECK(g.K % g.group == 0, "num_output ", g.K, " is not divisible by group ", g.group);
  // Caffe: out = (H + 2p - (d(k-1)+1)) / s + 1, floor division
  const int64_t ekh = int64_t(g.dh) * (g.kh - 1) + 1, ekw = int64_t(g.dw) * (g.kw - 1) + 1;
  RC_CHECK(g.H + 2 * g.ph >= ekh && g.W + 2 * g.pw >= ekw, "kernel ", g.kh, "x", g.kw, " (dilation ", g.dh, "x", g.dw,
           ") is larger than the padded input ", g.H + 2 * g.ph, "x", g.W + 2 * g.pw);
  g.Ho = (g.H + 2 * g.ph - ekh) / g.sh + 1;
  g.Wo = (g.W + 2 * g.pw - ekw) / g.sw + 1;
  geom_ = g;
}

void ConvolutionLayer::reshape(const TensorVec& bottom, const TensorVec& top) {
  compute_geometry(*bottom[0]);
  ensure_blob(0, {geom_.K, geom_.Cg(), geom_.kh, geom_.kw});
  if (geom_.bias) ensure_blob(1, {geom_.K});
  top[0]->reshape({geom_.N, geom_.K, geom_.Ho, geom_.Wo});
  std::string why = engine_->unsupported(geom_);
  RC_CHECK(why.empty(), "engine '", engine_->name(), "' cannot run this convolution (", geom_.to_string(), "): ", why);
  workspace_.reshape({static_cast<int64_t>(engine_->workspace_floats(geom_))});
}

size_t ConvolutionLayer::workspace_bytes() const { return workspace_.bytes(); }

std::string ConvolutionLayer::describe() const { return engine_ ? engine_->name() : ""; }

void ConvolutionLayer::forward(const TensorVec& bottom, const TensorVec& top) {
  const float* w = blobs_[0]->data();
  const float* b = geom_.bias ? blobs_[1]->data() : nullptr;
  uint64_t bv = geom_.bias ? blobs_[1]->version() : 0;
  if (prepared_geom_ != geom_ || prepared_w_version_ != blobs_[0]->version() || prepared_b_version_ != bv ||
      prepared_w_ptr_ != w) {
    engine_->prepare(geom_, w, b);
    prepared_geom_ = geom_;
    prepared_w_version_ = blobs_[0]->version();
    prepared_b_version_ = bv;
    prepared_w_ptr_ = w;
  }
  float* ws = workspace_.count() > 0 ? workspace_.data() : nullptr;
  engine_->forward(geom_, bottom[0]->data(), w, b, top[0]->data(), ws);
}

RECAFFE_REGISTER_LAYER("Convolution", ConvolutionLayer);

}  // namespace recaffe
