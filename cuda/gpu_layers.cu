// GPU implementations of recaffe's layers (each the twin of the CPU layer of the same type).
#include <cmath>
#include <vector>

#include "cublas_dyn.h"
#include "cuda_common.cuh"
#include "gpu_net.h"
#include "kernels.cuh"
#include "layers/convolution_layer.h"
#include "layers/pooling_layer.h"
#include "layers/vip_layer.h"

namespace recaffe {
namespace cuda {

namespace {

class InputGpu : public GpuLayer {
 public:
  void forward(GpuNet& g, Layer&, const TensorVec&, const TensorVec& top) override {
    for (Tensor* t : top) g.upload(*t);
  }
};

// Layers whose top is the bottom's data (Split, Flatten, Reshape, Dropout at test time): nothing
// to do when the host tensors share memory, else a device copy.
class ShareOrCopyGpu : public GpuLayer {
 public:
  void forward(GpuNet& g, Layer&, const TensorVec& bottom, const TensorVec& top) override {
    for (Tensor* t : top) {
      if (t->storage_id() == bottom[0]->storage_id()) continue;
      const float* src = g.dev(*bottom[0]);
      RC_CUDA_CHECK(cudaMemcpyAsync(g.dev(*t), src, t->bytes(), cudaMemcpyDeviceToDevice, g.stream()));
    }
  }
};

class ConvolutionGpu : public GpuLayer {
 public:
  // Caffe's GPU algorithm: per image, im2col then one cuBLAS sgemm per group, bias as rank-1.
  void forward(GpuNet& gn, Layer& cpu, const TensorVec& bottom, const TensorVec& top) override {
    auto& conv = dynamic_cast<ConvolutionLayer&>(cpu);
    const ConvGeometry& g = conv.geometry();
    const float* w = gn.param(*cpu.blobs()[0]);
    const float* b = g.bias ? gn.param(*cpu.blobs()[1]) : nullptr;
    const float* x = gn.dev(*bottom[0]);
    float* y = gn.dev(*top[0]);
    const int64_t M = g.Kg(), Kd = g.col_rows(), Nd = g.out_hw();
    float* col = g.is_1x1() ? nullptr : gn.scratch(this, size_t(g.C * g.kh * g.kw * Nd));
    for (int64_t n = 0; n < g.N; ++n) {
      const float* xi = x + n * g.C * g.in_hw();
      float* yi = y + n * g.K * Nd;
      const float* cols = xi;
      if (!g.is_1x1()) {
        ConvGeometry one = g;
        one.N = 1;
        im2col(xi, one, col, gn.stream());
        cols = col;
      }
      for (int gi = 0; gi < g.group; ++gi)
        gpu_sgemm(false, false, int(M), int(Nd), int(Kd), 1.f, w + gi * M * Kd, int(Kd), cols + gi * Kd * Nd, int(Nd),
                  0.f, yi + gi * M * Nd, int(Nd), gn.stream());
      if (b) add_bias(yi, b, g.K, Nd, gn.stream());
    }
  }
};

class InnerProductGpu : public GpuLayer {
 public:
  void forward(GpuNet& gn, Layer& cpu, const TensorVec& bottom, const TensorVec& top) override {
    const Params& p = cpu.params().msg("inner_product_param");
    const bool transpose = p.b("transpose", false);
    const int axis = bottom[0]->canonical_axis(static_cast<int>(p.i("axis", 1)));
    const int64_t M = bottom[0]->count(0, axis), K = bottom[0]->count(axis), N = top[0]->shape(-1);
    const float* w = gn.param(*cpu.blobs()[0]);
    gpu_sgemm(false, !transpose, int(M), int(N), int(K), 1.f, gn.dev(*bottom[0]), int(K), w, transpose ? int(N) : int(K),
              0.f, gn.dev(*top[0]), int(N), gn.stream());
    if (cpu.blobs().size() > 1) add_row_bias(gn.dev(*top[0]), gn.param(*cpu.blobs()[1]), M, N, gn.stream());
  }
};

class ActivationGpu : public GpuLayer {
 public:
  void forward(GpuNet& gn, Layer& cpu, const TensorVec& bottom, const TensorVec& top) override {
    ActivationParams a;
    a.kind = activation_from_type(cpu.type().c_str());
    if (a.kind == Activation::ReLU) a.negative_slope = float(cpu.params().msg("relu_param").f("negative_slope", 0.0));
    if (a.kind == Activation::Clip) {
      a.lo = float(cpu.params().msg("clip_param").f("min"));
      a.hi = float(cpu.params().msg("clip_param").f("max"));
    }
    activation(a, gn.dev(*bottom[0]), gn.dev(*top[0]), bottom[0]->count(), gn.stream());
  }
};

class PoolingGpu : public GpuLayer {
 public:
  void forward(GpuNet& gn, Layer& cpu, const TensorVec& bottom, const TensorVec& top) override {
    auto& pl = dynamic_cast<PoolingLayer&>(cpu);
    pool(pl.method(), pl.geometry(), gn.dev(*bottom[0]), gn.dev(*top[0]), pl.fused_activation(), gn.stream());
  }
};

class LrnGpu : public GpuLayer {
 public:
  void forward(GpuNet& gn, Layer& cpu, const TensorVec& bottom, const TensorVec& top) override {
    const Params& p = cpu.params().msg("lrn_param");
    const int size = int(p.i("local_size", 5));
    const float alpha = float(p.f("alpha", 1.0)), beta = float(p.f("beta", 0.75)), k = float(p.f("k", 1.0));
    const Tensor& b = *bottom[0];
    if (p.i("norm_region", 0) == 0)
      lrn_across(gn.dev(b), gn.dev(*top[0]), b.shape(0), b.shape(1), b.count(2), size, alpha, beta, k, gn.stream());
    else
      lrn_within(gn.dev(b), gn.dev(*top[0]), b.shape(0) * b.shape(1), b.shape(2), b.shape(3), size, alpha, beta,
                 gn.stream());
  }
};

class SoftmaxGpu : public GpuLayer {
 public:
  void forward(GpuNet& gn, Layer& cpu, const TensorVec& bottom, const TensorVec& top) override {
    const Tensor& b = *bottom[0];
    const int axis = b.canonical_axis(int(cpu.params().msg("softmax_param").i("axis", 1)));
    softmax(gn.dev(b), gn.dev(*top[0]), b.count(0, axis), b.shape(axis), b.count(axis + 1), gn.stream());
  }
};

int concat_axis(const Layer& cpu, const Tensor& t) {
  const Params& p = cpu.params().msg("concat_param");
  if (p.has("concat_dim")) return int(p.i("concat_dim"));
  return t.canonical_axis(int(p.i("axis", 1)));
}

class ConcatGpu : public GpuLayer {
 public:
  void forward(GpuNet& gn, Layer& cpu, const TensorVec& bottom, const TensorVec& top) override {
    const Tensor& t = *top[0];
    const int axis = concat_axis(cpu, t);
    const int64_t outer = t.count(0, axis), tw = t.count(axis);
    int64_t off = 0;
    float* y = gn.dev(t);
    for (Tensor* b : bottom) {
      const int64_t w = b->count(axis);
      copy_block(gn.dev(*b), outer, w, w, 0, y, tw, off, gn.stream());
      off += w;
    }
  }
};

class SliceGpu : public GpuLayer {
 public:
  void forward(GpuNet& gn, Layer& cpu, const TensorVec& bottom, const TensorVec& top) override {
    const Tensor& b = *bottom[0];
    const Params& p = cpu.params().msg("slice_param");
    const int axis = p.has("slice_dim") ? int(p.i("slice_dim")) : b.canonical_axis(int(p.i("axis", 1)));
    const int64_t outer = b.count(0, axis), bw = b.count(axis);
    int64_t off = 0;
    const float* x = gn.dev(b);
    for (Tensor* t : top) {
      const int64_t w = t->count(axis);
      copy_block(x, outer, w, bw, off, gn.dev(*t), w, 0, gn.stream());
      off += w;
    }
  }
};

class EltwiseGpu : public GpuLayer {
 public:
  void forward(GpuNet& gn, Layer& cpu, const TensorVec& bottom, const TensorVec& top) override {
    const Params& p = cpu.params().msg("eltwise_param");
    const int op = int(p.i("operation", 1));
    std::vector<double> coeff = p.floats("coeff");
    auto c = [&](size_t i) { return coeff.empty() ? 1.f : float(coeff[i]); };
    const int64_t n = top[0]->count();
    float* y = gn.dev(*top[0]);
    // the first bottom may be the top itself (in place): read it before writing
    eltwise_first(op, gn.dev(*bottom[0]), c(0), y, n, gn.stream());
    for (size_t i = 1; i < bottom.size(); ++i) eltwise_accumulate(op, gn.dev(*bottom[i]), c(i), y, n, gn.stream());
  }
};

// BatchNorm with global statistics and single-bottom Scale: y = x * a[c] + b[c] with a, b computed
// on the host from the blobs (Caffe's formulas) whenever the blobs change.
class ChannelAffineGpu : public GpuLayer {
 public:
  void forward(GpuNet& gn, Layer& cpu, const TensorVec& bottom, const TensorVec& top) override {
    const Tensor& x = *bottom[0];
    uint64_t key = 1;
    for (auto& blob : cpu.blobs()) key = key * 1000003u + blob->version() + 1;
    if (key != key_ || a.empty()) {
      compute(cpu, x);
      key_ = key;
      float* dev = gn.scratch(this, size_t(2 * channels));
      RC_CUDA_CHECK(cudaMemcpyAsync(dev, a.data(), sizeof(float) * channels, cudaMemcpyHostToDevice, gn.stream()));
      RC_CUDA_CHECK(cudaMemcpyAsync(dev + channels, b.data(), sizeof(float) * channels, cudaMemcpyHostToDevice,
                                    gn.stream()));
    }
    float* dev = gn.scratch(this, size_t(2 * channels));
    const int64_t outer = x.count(0, axis), inner = x.count() / (outer * std::max<int64_t>(channels, 1));
    channel_affine(gn.dev(x), dev, dev + channels, gn.dev(*top[0]), outer, channels, inner, gn.stream());
  }

 private:
  uint64_t key_ = 0;
  int axis = 1;
  int64_t channels = 0;
  std::vector<float> a, b;  // kept alive: the asynchronous uploads read them

  void compute(Layer& cpu, const Tensor& x) {
    if (cpu.type() == "BatchNorm") {
      const Tensor& mean = *cpu.blobs()[0];
      const Tensor& var = *cpu.blobs()[1];
      const float f0 = cpu.blobs()[2]->data()[0];
      const float f = f0 == 0.f ? 0.f : 1.f / f0;
      const float eps = float(cpu.params().msg("batch_norm_param").f("eps", 1e-5));
      channels = mean.count();
      a.resize(channels);
      b.resize(channels);
      for (int64_t c = 0; c < channels; ++c) {
        const float m = mean.data()[c] * f, v = var.data()[c] * f;
        a[c] = 1.f / std::sqrt(v + eps);
        b[c] = -m * a[c];
      }
    } else {  // Scale (one bottom)
      const Params& p = cpu.params().msg("scale_param");
      axis = x.canonical_axis(int(p.i("axis", 1)));
      const Tensor& gamma = *cpu.blobs()[0];
      channels = gamma.count();
      a.assign(gamma.data(), gamma.data() + channels);
      b.assign(channels, 0.f);
      if (cpu.blobs().size() > 1) b.assign(cpu.blobs()[1]->data(), cpu.blobs()[1]->data() + channels);
    }
  }
};

class ViPGpu : public GpuLayer {
 public:
  void forward(GpuNet& gn, Layer& cpu, const TensorVec& bottom, const TensorVec& top) override {
    auto& v = dynamic_cast<ViPLayer&>(cpu);
    vip_interpolate(gn.dev(*bottom[0]), gn.dev(*top[0]), v.planes(), v.H(), v.W(), v.Ho(), v.Wo(), gn.stream());
  }
};

// Any layer without a GPU kernel: bottoms to the host, the CPU forward, tops back to the device.
class CpuFallback : public GpuLayer {
 public:
  const char* kind() const override { return "cpu-fallback"; }
  void forward(GpuNet& gn, Layer& cpu, const TensorVec& bottom, const TensorVec& top) override {
    for (Tensor* b : bottom) gn.download(*b);
    cpu.forward(bottom, top);
    for (Tensor* t : top) gn.upload(*t);
  }
};

bool scale_on_gpu(Layer& cpu) {
  return cpu.type() == "Scale" && !cpu.blobs().empty() &&
         cpu.params().msg("scale_param").i("num_axes", 1) == 1;
}

bool batchnorm_on_gpu(Layer& cpu) {
  if (cpu.type() != "BatchNorm") return false;
  const Params& p = cpu.params().msg("batch_norm_param");
  return p.has("use_global_stats") ? p.b("use_global_stats") : cpu.is_test_phase();
}

}  // namespace

std::unique_ptr<GpuLayer> make_gpu_layer(Layer& cpu) {
  const std::string& t = cpu.type();
  if (t == "Input") return std::make_unique<InputGpu>();
  if (t == "Split" || t == "Flatten" || t == "Reshape" || (t == "Dropout" && cpu.is_test_phase()))
    return std::make_unique<ShareOrCopyGpu>();
  if (t == "Convolution" && dynamic_cast<ConvolutionLayer*>(&cpu)) return std::make_unique<ConvolutionGpu>();
  if (t == "InnerProduct") return std::make_unique<InnerProductGpu>();
  if (activation_from_type(t.c_str()) != Activation::None) return std::make_unique<ActivationGpu>();
  if (t == "Pooling" && dynamic_cast<PoolingLayer*>(&cpu)) return std::make_unique<PoolingGpu>();
  if ((t == "ViP" || t == "Interp") && dynamic_cast<ViPLayer*>(&cpu)) return std::make_unique<ViPGpu>();
  if (t == "LRN") return std::make_unique<LrnGpu>();
  if (t == "Softmax") return std::make_unique<SoftmaxGpu>();
  if (t == "Concat") return std::make_unique<ConcatGpu>();
  if (t == "Slice") return std::make_unique<SliceGpu>();
  if (t == "Eltwise") return std::make_unique<EltwiseGpu>();
  if (batchnorm_on_gpu(cpu) || scale_on_gpu(cpu)) return std::make_unique<ChannelAffineGpu>();
  return std::make_unique<CpuFallback>();
}

}  // namespace cuda
}  // namespace recaffe
