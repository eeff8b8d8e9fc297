#include "core/net.h"

#include <set>

namespace recaffe {

void Net::add_layer(const LayerSpec& spec) { add_layer(spec, LayerRegistry::create(spec)); }

void Net::add_layer(const LayerSpec& spec, std::unique_ptr<Layer> layer) {
  TensorVec bottoms, tops;
  for (const auto& b : spec.bottoms) {
    auto it = blobs_.find(b);
    if (it == blobs_.end())
      throw LayerError(spec.name, str_cat("bottom blob '", b, "' is not produced by any earlier layer"));
    bottoms.push_back(it->second.get());
  }
  for (size_t i = 0; i < spec.tops.size(); ++i) {
    const std::string& t = spec.tops[i];
    bool in_place = i < spec.bottoms.size() && spec.bottoms[i] == t;
    if (in_place) {
      tops.push_back(blobs_[t].get());
      continue;
    }
    if (blobs_.count(t))
      throw LayerError(spec.name, str_cat("top blob '", t, "' is produced by multiple sources"));
    auto tensor = std::make_shared<Tensor>();
    blobs_[t] = tensor;
    blob_names_.push_back(t);
    tops.push_back(tensor.get());
  }
  for (size_t i = 0; i < spec.tops.size() && i < spec.bottoms.size(); ++i) {
    if (spec.tops[i] == spec.bottoms[i] && !layer->allows_in_place())
      throw LayerError(spec.name, str_cat("layer type ", spec.type, " cannot run in place (top '", spec.tops[i],
                                          "' is its own bottom)"));
  }
  auto arity = [&](const char* what, int n, int exact, int lo, int hi) {
    if (exact >= 0 && n != exact) throw LayerError(spec.name, str_cat(spec.type, " takes exactly ", exact, " ", what, ", got ", n));
    if (lo >= 0 && n < lo) throw LayerError(spec.name, str_cat(spec.type, " takes at least ", lo, " ", what, ", got ", n));
    if (hi >= 0 && n > hi) throw LayerError(spec.name, str_cat(spec.type, " takes at most ", hi, " ", what, ", got ", n));
  };
  arity("bottom blob(s)", static_cast<int>(bottoms.size()), layer->exact_bottoms(), layer->min_bottoms(),
        layer->max_bottoms());
  arity("top blob(s)", static_cast<int>(tops.size()), layer->exact_tops(), layer->min_tops(), layer->max_tops());
  layers_.push_back(std::move(layer));
  bottoms_.push_back(bottoms);
  tops_.push_back(tops);
  bottom_names_.push_back(spec.bottoms);
  top_names_.push_back(spec.tops);
  initialized_ = false;
}

void Net::init(size_t memory_cap) {
  for (size_t i = 0; i < layers_.size(); ++i) {
    layers_[i]->setup(bottoms_[i], tops_[i]);
    layers_[i]->reshape(bottoms_[i], tops_[i]);
  }
  initialized_ = true;
  if (memory_cap > 0) {
    size_t need = memory_bytes();
    if (need > memory_cap)
      throw ResourceError(str_cat("the network needs ", need / (1 << 20), " MiB for its tensors, parameters and scratch ",
                                  "space, more than the memory cap of ", memory_cap / (1 << 20),
                                  " MiB (raise it with memory_cap=...)"));
  }
}

void Net::reshape() {
  for (size_t i = 0; i < layers_.size(); ++i) layers_[i]->reshape(bottoms_[i], tops_[i]);
}

void Net::forward(int start, int end) {
  for (int i = start; i <= end; ++i) {
    layers_[i]->reshape(bottoms_[i], tops_[i]);
    layers_[i]->forward(bottoms_[i], tops_[i]);
  }
}

void Net::forward_timed(int start, int end, std::vector<double>* times) {
  times->assign(layers_.size(), 0.0);
  for (int i = start; i <= end; ++i) {
    auto t0 = std::chrono::steady_clock::now();
    layers_[i]->reshape(bottoms_[i], tops_[i]);
    layers_[i]->forward(bottoms_[i], tops_[i]);
    auto t1 = std::chrono::steady_clock::now();
    (*times)[i] = std::chrono::duration<double, std::milli>(t1 - t0).count();
  }
}

size_t Net::memory_bytes() const {
  size_t total = 0;
  std::set<const Tensor*> seen;
  for (auto& kv : blobs_) total += kv.second->bytes();
  for (auto& l : layers_) {
    for (auto& b : l->blobs())
      if (b) total += b->bytes();
    total += l->workspace_bytes();
  }
  return total;
}

int Net::layer_index(const std::string& name) const {
  for (size_t i = 0; i < layers_.size(); ++i)
    if (layers_[i]->name() == name) return static_cast<int>(i);
  return -1;
}

std::shared_ptr<Tensor> Net::blob(const std::string& name) const {
  auto it = blobs_.find(name);
  if (it == blobs_.end()) throw LayerError("", str_cat("no blob named '", name, "'"));
  return it->second;
}

}  // namespace recaffe
