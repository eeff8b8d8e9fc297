// BatchNorm (Caffe's batch_norm_layer.cpp): blobs [mean sum (C), variance sum (C), scale factor (1)].
// With global stats (default: the TEST phase) mean = blob0 * f, var = blob1 * f, f = 0 if blob2 == 0
// else 1 / blob2; y = (x - mean) / sqrt(var + eps). Without, the batch statistics are used and the
// running sums updated as Caffe's training forward does. No affine part (a Scale layer follows).
#include <cmath>
#include <vector>

#include "core/layer.h"

namespace recaffe {

class BatchNormLayer : public Layer {
 public:
  using Layer::Layer;
  void setup(const TensorVec&, const TensorVec&) override {
    const Params& p = params().msg("batch_norm_param");
    global_ = p.has("use_global_stats") ? p.b("use_global_stats") : is_test_phase();
    eps_ = static_cast<float>(p.f("eps", 1e-5));
    maf_ = static_cast<float>(p.f("moving_average_fraction", 0.999));
  }
  void reshape(const TensorVec& bottom, const TensorVec& top) override {
    const Tensor& b = *bottom[0];
    channels_ = b.num_axes() <= 1 ? 1 : b.shape(1);
    ensure_blob(0, {channels_});
    ensure_blob(1, {channels_});
    ensure_blob(2, {1});
    top[0]->reshape_like(b);
  }
  void forward(const TensorVec& bottom, const TensorVec& top) override {
    const Tensor& b = *bottom[0];
    const int64_t C = channels_, N = b.num_axes() == 0 ? 1 : b.shape(0);
    const int64_t spatial = b.count() / (N * C);
    std::vector<float> mean(C), sd(C);
    if (global_) {
      const float f0 = blobs_[2]->data()[0];
      const float f = f0 == 0.f ? 0.f : 1.f / f0;
      for (int64_t c = 0; c < C; ++c) {
        mean[c] = blobs_[0]->data()[c] * f;
        sd[c] = std::sqrt(blobs_[1]->data()[c] * f + eps_);
      }
    } else {
      batch_statistics(b.data(), N, C, spatial, mean.data(), sd.data());
    }
    const float* x = b.data();
    float* y = top[0]->data();
    // Caffe divides by the standard deviation; a multiply by its reciprocal is within an ulp or
    // two and several times faster (vector division is slow)
#pragma omp parallel for schedule(static) if (b.count() > 65536)
    for (int64_t nc = 0; nc < N * C; ++nc) {
      const float m = mean[nc % C], inv = 1.f / sd[nc % C];
      const float* xp = x + nc * spatial;
      float* yp = y + nc * spatial;
#pragma omp simd
      for (int64_t i = 0; i < spatial; ++i) yp[i] = (xp[i] - m) * inv;
    }
  }
  int exact_bottoms() const override { return 1; }
  int exact_tops() const override { return 1; }
  bool allows_in_place() const override { return true; }

 private:
  // Batch mean and biased variance per channel; updates the running sums (Caffe's training forward).
  void batch_statistics(const float* x, int64_t N, int64_t C, int64_t spatial, float* mean, float* sd) {
    const double m = double(N) * spatial;
    std::vector<float> var(C);
    for (int64_t c = 0; c < C; ++c) {
      double s = 0, s2 = 0;
      for (int64_t n = 0; n < N; ++n)
        for (int64_t i = 0; i < spatial; ++i) s += x[(n * C + c) * spatial + i];
      const double mu = s / m;
      for (int64_t n = 0; n < N; ++n)
        for (int64_t i = 0; i < spatial; ++i) {
          const double d = x[(n * C + c) * spatial + i] - mu;
          s2 += d * d;
        }
      mean[c] = static_cast<float>(mu);
      var[c] = static_cast<float>(s2 / m);
      sd[c] = std::sqrt(var[c] + eps_);
    }
    float* f = blobs_[2]->data();
    f[0] = f[0] * maf_ + 1.f;
    const float correction = m > 1 ? static_cast<float>(m / (m - 1)) : 1.f;
    float* mean_sum = blobs_[0]->data();
    float* var_sum = blobs_[1]->data();
    for (int64_t c = 0; c < C; ++c) {
      mean_sum[c] = mean[c] + maf_ * mean_sum[c];
      var_sum[c] = correction * var[c] + maf_ * var_sum[c];
    }
    for (auto& blob : blobs_) blob->bump_version();
  }

  bool global_ = true;
  float eps_ = 1e-5f, maf_ = 0.999f;
  int64_t channels_ = 0;
};

RECAFFE_REGISTER_LAYER("BatchNorm", BatchNormLayer);

}  // namespace recaffe
