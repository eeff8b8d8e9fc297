// The isc engine: inverse sparse convolution (kernels/isc.h). Weights are packed once in
// prepare(); each forward finds the non-zero inputs afresh, so the work follows the input's
// sparsity (ReLU zeros). Options: order=gather (default, accumulators in registers) or
// order=scatter (the paper's literal input-by-input order, for comparison).
//
// Threads: with at least as many images as threads each thread takes whole images (its own
// non-zero lists); otherwise every image is split twice, first by input pixels (gather) and then
// by tiles of output pixels, and the two parts meet at a barrier. Each output pixel's sum is
// formed by one thread in a fixed order, so any thread count gives bit-identical outputs.
#include <omp.h>

#include <algorithm>
#include <stdexcept>
#include <vector>

#include "engines/conv_engine.h"
#include "kernels/isc.h"

namespace recaffe {

class IscConvEngine : public ConvEngine {
 public:
  explicit IscConvEngine(const ConvEngineOptions& o) {
    for (const auto& kv : o) {
      if (kv.first != "order")
        throw std::invalid_argument("isc engine: unknown option '" + kv.first + "' (known: order)");
      if (kv.second == "gather") order_ = IscOrder::Gather;
      else if (kv.second == "scatter") order_ = IscOrder::Scatter;
      else throw std::invalid_argument("isc engine: order must be gather or scatter, got '" + kv.second + "'");
    }
  }
  const char* name() const override { return "isc"; }

  std::string unsupported(const ConvGeometry& g) const override {
    if (double(g.Cg()) * isc_kpad(g.Kg()) >= 2147483647.0) return "C/group x K/group is too large for 32-bit offsets";
    return "";
  }

  void prepare(const ConvGeometry& g, const float* weights, const float* bias) override {
    packed_.assign(static_cast<size_t>(isc_packed_floats(g)), 0.f);
    isc_pack_weights(g, weights, bias, packed_.data());
  }

  size_t workspace_floats(const ConvGeometry& g) const override {
    const int T = omp_get_max_threads();
    ws_threads_ = T;
    ws_image_slots_ = (T > 1 && g.N >= T) ? T : 1;
    return static_cast<size_t>(ws_image_slots_ * image_floats(g) + int64_t(T) * tile_floats(g));
  }

  void forward(const ConvGeometry& g, const float* in, const float*, const float*, float* out, float* ws) override {
    const int64_t kpad = isc_kpad(g.Kg()), HW = g.in_hw(), OHW = g.out_hw();
    const int T = std::max(1, std::min(omp_get_max_threads(), ws_threads_));
    const int64_t img = image_floats(g), tilef = tile_floats(g);
    float* acc_base = ws + ws_image_slots_ * img;
    const int64_t Pmax = isc_tile_pixels(kpad, OHW);
    const float* wpk = packed_.data();
    const float* bpk = wpk + int64_t(g.group) * g.kh * g.kw * g.Cg() * kpad;
    const int64_t wstride = int64_t(g.kh) * g.kw * g.Cg() * kpad;
    const bool par = T > 1 && g.macs() > 2e6;

    // lists: group * HW * Cg entries, then group * HW counts
    auto lists_of = [&](float* base, int gi) { return reinterpret_cast<IscEntry*>(base) + gi * HW * g.Cg(); };
    auto counts_of = [&](float* base, int gi) {
      return reinterpret_cast<int32_t*>(base + 2 * g.C * HW) + gi * HW;
    };
    auto run_tile = [&](float* lists_base, int gi, int64_t q0, int64_t q1, float* acc, float* y) {
      IscTile t{&g, wpk + gi * wstride, bpk + gi * kpad, lists_of(lists_base, gi), counts_of(lists_base, gi),
                kpad, q0, q1, acc, y + gi * g.Kg() * OHW};
      isc_tile(t, order_);
    };

    if (par && ws_image_slots_ >= T && g.N >= T) {
#pragma omp parallel for schedule(dynamic, 1) num_threads(T)
      for (int64_t n = 0; n < g.N; ++n) {
        const int tid = omp_get_thread_num();
        float* lb = ws + tid * img;
        float* acc = acc_base + tid * tilef;
        const float* x = in + n * g.C * HW;
        float* y = out + n * g.K * OHW;
        for (int gi = 0; gi < g.group; ++gi) {
          isc_gather(x + gi * g.Cg() * HW, g.Cg(), HW, 0, HW, kpad, lists_of(lb, gi), counts_of(lb, gi));
          for (int64_t q0 = 0; q0 < OHW; q0 += Pmax) run_tile(lb, gi, q0, std::min(OHW, q0 + Pmax), acc, y);
        }
      }
      return;
    }

    // One image at a time; its non-zeros decide whether waking the other threads pays (sleeping
    // OpenMP workers cost tens of microseconds, more than a whole small sparse layer).
    const bool par_gather = par && g.C * HW >= (int64_t(1) << 16);
    const int64_t pchunks = par_gather ? std::min<int64_t>(T, std::max<int64_t>(1, HW / 64)) : 1;
    for (int64_t n = 0; n < g.N; ++n) {
      const float* x = in + n * g.C * HW;
      float* y = out + n * g.K * OHW;
#pragma omp parallel for schedule(static) num_threads(T) if (par_gather)
      for (int64_t it = 0; it < g.group * pchunks; ++it) {
        const int gi = static_cast<int>(it / pchunks);
        const int64_t c = it % pchunks, p0 = HW * c / pchunks, p1 = HW * (c + 1) / pchunks;
        isc_gather(x + gi * g.Cg() * HW, g.Cg(), HW, p0, p1, kpad, lists_of(ws, gi), counts_of(ws, gi));
      }
      int64_t nnz = 0;
      const int32_t* counts = counts_of(ws, 0);
      for (int64_t p = 0; p < g.group * HW; ++p) nnz += counts[p];
      const double sparse_macs = double(nnz) * g.kh * g.kw * g.Kg() / (double(g.sh) * g.sw);
      const bool par_tiles = par && sparse_macs > 2e6;
      // tiles small enough that every thread gets work
      const int64_t P = par_tiles ? std::min<int64_t>(Pmax, (std::max<int64_t>(16, (OHW + 2 * T - 1) / (2 * T)) + 15) / 16 * 16)
                                  : Pmax;
      const int64_t tiles = (OHW + P - 1) / P;
#pragma omp parallel for schedule(dynamic, 1) num_threads(T) if (par_tiles)
      for (int64_t it = 0; it < g.group * tiles; ++it) {
        const int gi = static_cast<int>(it / tiles);
        const int64_t q0 = (it % tiles) * P;
        run_tile(ws, gi, q0, std::min(OHW, q0 + P), acc_base + omp_get_thread_num() * tilef, y);
      }
    }
  }

 private:
  // non-zero lists (2 floats an entry, room for a dense input) and per-pixel counts, one image
  static int64_t image_floats(const ConvGeometry& g) { return 2 * g.C * g.in_hw() + g.group * g.in_hw(); }
  static int64_t tile_floats(const ConvGeometry& g) {
    const int64_t kpad = isc_kpad(g.Kg());
    return isc_tile_pixels(kpad, g.out_hw()) * kpad;
  }

  IscOrder order_ = IscOrder::Gather;
  std::vector<float> packed_;
  mutable int ws_threads_ = 1;
  mutable int64_t ws_image_slots_ = 1;
};

RECAFFE_REGISTER_CONV_ENGINE("isc", IscConvEngine);

}  // namespace recaffe
