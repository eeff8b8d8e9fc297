#pragma once
// Net: owns the tensors and runs the layers in order. Graph surgery (phase filtering, split
// insertion, V1 upgrades) happens in Python on the NetParameter; the Net gets the final list.
#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/layer.h"

namespace recaffe {

class Net {
 public:
  Net() = default;

  // Append a layer created from the registry (or a ready-made one, e.g. a Python layer).
  void add_layer(const LayerSpec& spec);
  void add_layer(const LayerSpec& spec, std::unique_ptr<Layer> layer);

  // Set up every layer and infer all shapes; refuses nets whose tensors, parameters and scratch
  // space would need more than memory_cap bytes (0 = no cap), before allocating anything.
  void init(size_t memory_cap);
  // Re-run shape inference for all layers (after an input was reshaped).
  void reshape();

  // Run layers [start, end] (inclusive). Each layer is reshaped first, as in Caffe.
  void forward(int start, int end);
  // Same, recording each layer's wall time in milliseconds into times[start..end].
  void forward_timed(int start, int end, std::vector<double>* times);

  size_t memory_bytes() const;  // tensors (shared ones once) + parameters + workspaces

  int num_layers() const { return static_cast<int>(layers_.size()); }
  Layer& layer(int i) { return *layers_.at(i); }
  int layer_index(const std::string& name) const;
  const std::vector<std::string>& blob_names() const { return blob_names_; }
  bool has_blob(const std::string& name) const { return blobs_.count(name) > 0; }
  std::shared_ptr<Tensor> blob(const std::string& name) const;
  const std::vector<std::string>& bottom_names(int i) const { return bottom_names_.at(i); }
  const TensorVec& bottom_vec(int i) const { return bottoms_.at(i); }
  const TensorVec& top_vec(int i) const { return tops_.at(i); }
  const std::vector<std::string>& top_names(int i) const { return top_names_.at(i); }

 private:
  std::vector<std::unique_ptr<Layer>> layers_;
  std::vector<TensorVec> bottoms_, tops_;
  std::vector<std::vector<std::string>> bottom_names_, top_names_;
  std::map<std::string, std::shared_ptr<Tensor>> blobs_;
  std::vector<std::string> blob_names_;  // creation order (pycaffe's net.blobs order)
  bool initialized_ = false;
};

}  // namespace recaffe
