#pragma once
// The layer contract (Caffe's): set up once from the parameters, reshape on every forward
// (compute top shapes, size scratch space), forward. A layer registers itself with one line at the
// bottom of its file: RECAFFE_REGISTER_LAYER("Pooling", PoolingLayer);
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/errors.h"
#include "core/params.h"
#include "core/tensor.h"

namespace recaffe {

using TensorVec = std::vector<Tensor*>;

struct LayerSpec {
  std::string name;
  std::string type;
  Params params;  // the whole LayerParameter (without blobs)
  std::vector<std::string> bottoms;
  std::vector<std::string> tops;
  std::string phase = "test";  // "train" or "test"
};

class Layer {
 public:
  explicit Layer(const LayerSpec& spec) : spec_(spec) {}
  virtual ~Layer() = default;

  // Parse parameters, check arity, create parameter blobs with their expected shapes.
  virtual void setup(const TensorVec& bottom, const TensorVec& top) {}
  // Compute top shapes from bottom shapes. Called before every forward.
  virtual void reshape(const TensorVec& bottom, const TensorVec& top) = 0;
  virtual void forward(const TensorVec& bottom, const TensorVec& top) = 0;

  // Arity: -1 means "any".
  virtual int exact_bottoms() const { return -1; }
  virtual int min_bottoms() const { return -1; }
  virtual int max_bottoms() const { return -1; }
  virtual int exact_tops() const { return -1; }
  virtual int min_tops() const { return -1; }
  virtual int max_tops() const { return -1; }
  // May top[i] be the same blob as bottom[i]?
  virtual bool allows_in_place() const { return false; }
  // Scratch memory this layer will allocate at forward time, for the net's memory cap.
  virtual size_t workspace_bytes() const { return 0; }
  // A short description of how the layer computes (e.g. the convolution engine), for reports.
  virtual std::string describe() const { return ""; }

  const std::string& name() const { return spec_.name; }
  const std::string& type() const { return spec_.type; }
  const Params& params() const { return spec_.params; }
  const LayerSpec& spec() const { return spec_; }
  bool is_test_phase() const { return spec_.phase != "train"; }

  std::vector<std::shared_ptr<Tensor>>& blobs() { return blobs_; }
  const std::vector<std::shared_ptr<Tensor>>& blobs() const { return blobs_; }

 protected:
  // Create (or re-shape) parameter blob i with its expected shape. Caffe fills blobs in
  // LayerSetUp; here they start at zero and Python copies weights or fillers in.
  Tensor* ensure_blob(size_t i, const std::vector<int64_t>& shape);
  // Check a loaded parameter blob has the shape the layer needs.
  void check_blob_shape(size_t i, const std::vector<int64_t>& shape) const;
  // Caffe's CanonicalAxisIndex, with an error naming this layer and the field on a bad axis.
  int axis_index(const Tensor& t, int64_t axis, const char* field) const {
    const int64_t n = t.num_axes();
    if (axis < -n || axis >= n)
      throw LayerError(name(), str_cat(field, " ", axis, " is out of range for a ", n, "-D input of shape ",
                                       t.shape_string()));
    return static_cast<int>(axis < 0 ? axis + n : axis);
  }

  LayerSpec spec_;
  std::vector<std::shared_ptr<Tensor>> blobs_;
};

using LayerCreator = std::function<std::unique_ptr<Layer>(const LayerSpec&)>;

class LayerRegistry {
 public:
  static void add(const std::string& type, LayerCreator creator);
  static bool has(const std::string& type);
  static std::unique_ptr<Layer> create(const LayerSpec& spec);
  static std::vector<std::string> types();

 private:
  static std::map<std::string, LayerCreator>& table();
};

struct LayerRegistrar {
  LayerRegistrar(const std::string& type, LayerCreator creator) { LayerRegistry::add(type, std::move(creator)); }
};

}  // namespace recaffe

#define RC_CONCAT_INNER(a, b) a##b
#define RC_CONCAT(a, b) RC_CONCAT_INNER(a, b)
#define RECAFFE_REGISTER_LAYER(TYPE, CLASS)                                          \
  static ::recaffe::LayerRegistrar RC_CONCAT(rc_layer_registrar_, __LINE__)(         \
      TYPE, [](const ::recaffe::LayerSpec& s) -> std::unique_ptr<::recaffe::Layer> { \
        return std::make_unique<CLASS>(s);                                           \
      })
