#include "core/layer.h"

namespace recaffe {

Tensor* Layer::ensure_blob(size_t i, const std::vector<int64_t>& shape) {
  if (blobs_.size() <= i) blobs_.resize(i + 1);
  if (!blobs_[i]) {
    blobs_[i] = std::make_shared<Tensor>(shape);
  } else if (blobs_[i]->shape() != shape) {
    check_blob_shape(i, shape);
  }
  return blobs_[i].get();
}

void Layer::check_blob_shape(size_t i, const std::vector<int64_t>& shape) const {
  RC_CHECK(i < blobs_.size() && blobs_[i], "missing parameter blob ", i);
  RC_CHECK(blobs_[i]->shape() == shape, "parameter blob ", i, " has shape ", blobs_[i]->shape_string(),
           " but the layer needs ", shape_to_string(shape));
}

std::map<std::string, LayerCreator>& LayerRegistry::table() {
  static std::map<std::string, LayerCreator> t;
  return t;
}

void LayerRegistry::add(const std::string& type, LayerCreator creator) { table()[type] = std::move(creator); }

bool LayerRegistry::has(const std::string& type) { return table().count(type) > 0; }

std::unique_ptr<Layer> LayerRegistry::create(const LayerSpec& spec) {
  auto it = table().find(spec.type);
  if (it == table().end()) {
    std::string known;
    for (auto& kv : table()) known += (known.empty() ? "" : ", ") + kv.first;
    throw LayerError(spec.name, str_cat("unknown layer type '", spec.type, "' (known types: ", known, ")"));
  }
  return it->second(spec);
}

std::vector<std::string> LayerRegistry::types() {
  std::vector<std::string> out;
  for (auto& kv : table()) out.push_back(kv.first);
  return out;
}

}  // namespace recaffe
