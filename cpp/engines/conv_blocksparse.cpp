// The "blocksparse" engine: 1x1 convolutions whose weight matrix is zero outside blocks, as the
// biclustering approximation of Denton et al. writes its input projection (each intermediate channel
// reads one input group) and its output expansion (each output filter reads the blocks of its output
// group). prepare() groups the output channels by the set of input channels they read; forward()
// runs one GEMM per group on just those rows (gathered when they are not contiguous), so the work is
// the paper's blocked GEMMs and the zeros cost nothing. Dense weights give one group: a plain GEMM.
#include <omp.h>

#include <algorithm>
#include <map>
#include <vector>

#include "core/blas.h"
#include "engines/conv_engine.h"

namespace recaffe {

namespace {
struct Block {
  std::vector<int64_t> in;    // input channels read
  std::vector<int64_t> out;   // output channels written
  std::vector<float> w;       // [out.size(), in.size()] packed weights
  bool in_contiguous = false, out_contiguous = false;
};

bool contiguous(const std::vector<int64_t>& v) {
  for (size_t i = 1; i < v.size(); ++i)
    if (v[i] != v[0] + int64_t(i)) return false;
  return true;
}

constexpr int64_t kChunk = 1024;  // output columns per work item (cache-sized gathered rows)
}  // namespace

class BlockSparseConvEngine : public ConvEngine {
 public:
  explicit BlockSparseConvEngine(const ConvEngineOptions&) {}
  const char* name() const override { return "blocksparse"; }

  std::string unsupported(const ConvGeometry& g) const override {
    if (!g.is_1x1()) return "the blocksparse engine runs 1x1, stride-1, unpadded convolutions only";
    if (g.group != 1) return "the blocksparse engine needs group 1 (the blocks come from the weights)";
    return "";
  }

  void prepare(const ConvGeometry& g, const float* weights, const float*) override {
    std::map<std::vector<int64_t>, size_t> by_support;
    blocks_.clear();
    for (int64_t k = 0; k < g.K; ++k) {
      std::vector<int64_t> support;
      for (int64_t c = 0; c < g.C; ++c)
        if (weights[k * g.C + c] != 0.f) support.push_back(c);
      auto it = by_support.find(support);
      if (it == by_support.end()) {
        it = by_support.emplace(support, blocks_.size()).first;
        blocks_.push_back(Block{support, {}, {}});
      }
      blocks_[it->second].out.push_back(k);
    }
    max_in_ = max_out_ = 0;
    for (auto& b : blocks_) {
      b.w.resize(b.out.size() * b.in.size());
      for (size_t r = 0; r < b.out.size(); ++r)
        for (size_t c = 0; c < b.in.size(); ++c) b.w[r * b.in.size() + c] = weights[b.out[r] * g.C + b.in[c]];
      b.in_contiguous = contiguous(b.in);
      b.out_contiguous = contiguous(b.out);
      max_in_ = std::max<int64_t>(max_in_, b.in.size());
      max_out_ = std::max<int64_t>(max_out_, b.out.size());
    }
  }

  size_t workspace_floats(const ConvGeometry& g) const override {
    // per thread: a gathered input chunk and an output chunk; prepare() has not run yet, so size
    // for the worst case (all channels)
    return size_t(omp_get_max_threads()) * size_t(g.C + g.K) * kChunk;
  }

  void forward(const ConvGeometry& g, const float* in, const float*, const float* bias, float* out,
               float* ws) override {
    const int64_t HW = g.out_hw();
    const int64_t chunks = (HW + kChunk - 1) / kChunk, items = g.N * chunks;
    const bool par = items > 1 && g.macs() > 2e5;
#pragma omp parallel for schedule(static) if (par)
    for (int64_t it = 0; it < items; ++it) {
      const int64_t n = it / chunks, c0 = (it % chunks) * kChunk, w = std::min(HW, c0 + kChunk) - c0;
      const float* x = in + n * g.C * HW;
      float* y = out + n * g.K * HW;
      float* gin = ws + size_t(omp_get_thread_num()) * size_t(g.C + g.K) * kChunk;
      float* gout = gin + g.C * kChunk;
      for (const Block& b : blocks_) {
        const int64_t nin = b.in.size(), nout = b.out.size();
        float* dst;
        int64_t ldc;
        if (b.out_contiguous) {
          dst = y + b.out[0] * HW + c0;
          ldc = HW;
        } else {
          dst = gout;
          ldc = w;
        }
        if (nin == 0) {
          for (int64_t r = 0; r < nout; ++r) std::fill(dst + r * ldc, dst + r * ldc + w, 0.f);
        } else {
          const float* src;
          int64_t ldb;
          if (b.in_contiguous) {
            src = x + b.in[0] * HW + c0;
            ldb = HW;
          } else {
            for (int64_t r = 0; r < nin; ++r) std::copy(x + b.in[r] * HW + c0, x + b.in[r] * HW + c0 + w, gin + r * w);
            src = gin;
            ldb = w;
          }
          sgemm_ld(false, false, int(nout), int(w), int(nin), 1.f, b.w.data(), int(nin), src, int(ldb), 0.f, dst,
                   int(ldc));
        }
        if (!b.out_contiguous)
          for (int64_t r = 0; r < nout; ++r) std::copy(gout + r * w, gout + r * w + w, y + b.out[r] * HW + c0);
      }
      if (g.bias && bias)
        for (int64_t k = 0; k < g.K; ++k) {
          float* o = y + k * HW + c0;
          for (int64_t i = 0; i < w; ++i) o[i] += bias[k];
        }
    }
  }

 private:
  std::vector<Block> blocks_;
  int64_t max_in_ = 0, max_out_ = 0;
};

RECAFFE_REGISTER_CONV_ENGINE("blocksparse", BlockSparseConvEngine);

}  // namespace recaffe
