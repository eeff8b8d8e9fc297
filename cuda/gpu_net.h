#pragma once
// The CUDA executor: runs a built recaffe::Net on the GPU. The CPU net stays the source of truth
// for the graph, the parameters and the shapes (its layers' reshape runs first, allocating
// nothing); the GPU keeps one device buffer per distinct CPU storage (so in-place layers and
// Split tops alias on the device as on the host), device copies of the parameters (re-uploaded
// when their version changes), and one GpuLayer per layer. Types without a GPU kernel run on the
// CPU with their blobs copied across (Caffe's Forward_gpu falls back to Forward_cpu the same way).
#include <cuda_runtime.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/net.h"

namespace recaffe {
namespace cuda {

class GpuNet;

class GpuLayer {
 public:
  virtual ~GpuLayer() = default;
  virtual void forward(GpuNet& g, Layer& cpu, const TensorVec& bottom, const TensorVec& top) = 0;
  virtual const char* kind() const { return "gpu"; }
};

class GpuNet {
 public:
  GpuNet(Net& net, int device);
  ~GpuNet();
  GpuNet(const GpuNet&) = delete;
  GpuNet& operator=(const GpuNet&) = delete;

  // Layers [start, end]; inputs (the tops of Input layers) are uploaded from their host tensors.
  void forward(int start, int end);
  // Same, with each layer bracketed by CUDA events and synchronised: honest per-layer ms.
  void forward_timed(int start, int end, std::vector<double>* times);
  // Copy a blob's device data into its host tensor (for net.blobs[...].data / outputs).
  void download(const Tensor& t);
  void synchronize();

  // for GpuLayers
  float* dev(const Tensor& t);                 // the device buffer of t (grown to t.count())
  const float* param(const Tensor& t);         // device copy of a parameter blob (uploaded if changed)
  float* scratch(const void* owner, size_t n);  // per-layer workspace
  void upload(const Tensor& t);
  cudaStream_t stream() const { return stream_; }
  std::string layer_kind(int i) const;         // "gpu" or "cpu-fallback"
  std::string device_name() const { return device_name_; }

 private:
  void run_layer(int i);
  Net& net_;
  int device_;
  std::string device_name_;
  cudaStream_t stream_ = nullptr;
  struct Buf {
    float* ptr = nullptr;
    size_t cap = 0;
  };
  std::map<const void*, Buf> bufs_;                        // storage id -> device memory
  std::map<const Tensor*, std::pair<Buf, uint64_t>> params_;  // parameter -> device copy, version
  std::map<const void*, Buf> scratch_;
  std::vector<std::unique_ptr<GpuLayer>> layers_;
};

// The GPU implementation of a CPU layer, or a CPU fallback.
std::unique_ptr<GpuLayer> make_gpu_layer(Layer& cpu);

bool device_available(std::string* why);

}  // namespace cuda
}  // namespace recaffe
