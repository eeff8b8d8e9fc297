#pragma once
// Tensor: Caffe's Blob for inference. N-D float32, row-major (NCHW for images). Reshape never
// allocates; memory is allocated on first write access, so a whole net can be shaped (and its
// memory checked against a cap) before anything is allocated. Storage is shared between the
// tensors of a Split layer and with numpy views; a Buffer outlives the Storage that replaced it
// for as long as a view holds it.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace recaffe {

constexpr int kMaxAxes = 32;

struct Buffer {
  explicit Buffer(size_t n);
  ~Buffer();
  Buffer(const Buffer&) = delete;
  Buffer& operator=(const Buffer&) = delete;
  float* ptr = nullptr;
  size_t size = 0;  // floats
};

struct Storage {
  std::shared_ptr<Buffer> buffer;
  // Make room for n floats (keeps contents when it grows only if keep=true).
  float* ensure(size_t n);
};

class Tensor {
 public:
  Tensor() : storage_(std::make_shared<Storage>()) {}
  explicit Tensor(const std::vector<int64_t>& shape) : Tensor() { reshape(shape); }

  void reshape(const std::vector<int64_t>& shape);
  void reshape_like(const Tensor& other) { reshape(other.shape_); }

  const std::vector<int64_t>& shape() const { return shape_; }
  int64_t shape(int axis) const { return shape_[canonical_axis(axis)]; }
  int num_axes() const { return static_cast<int>(shape_.size()); }
  int64_t count() const { return count_; }
  int64_t count(int start, int end) const;
  int64_t count(int start) const { return count(start, num_axes()); }
  int canonical_axis(int axis) const;  // negative axes count from the end; throws if out of range
  // Legacy 4-D accessors (Caffe's LegacyShape): missing leading axes read as 1.
  int64_t legacy_shape(int index) const;

  float* data() { return storage_->ensure(static_cast<size_t>(count_)); }
  const float* data() const { return storage_->ensure(static_cast<size_t>(count_)); }
  bool allocated() const { return storage_->buffer && storage_->buffer->size >= size_t(count_); }
  std::shared_ptr<Buffer> buffer() const { data(); return storage_->buffer; }

  // Share the memory of another tensor (Split tops, in-place views). Shapes may differ as long
  // as this tensor's count fits.
  void share_data(const Tensor& other) { storage_ = other.storage_; }
  bool shares_data_with(const Tensor& other) const { return storage_ == other.storage_; }
  // Identity of the memory this tensor uses (tensors sharing data have the same id); the CUDA
  // backend keys its device buffers on it.
  const void* storage_id() const { return storage_.get(); }

  uint64_t version() const { return version_; }
  void bump_version() { ++version_; }

  std::string shape_string() const;
  size_t bytes() const { return static_cast<size_t>(count_) * sizeof(float); }

 private:
  std::vector<int64_t> shape_;
  int64_t count_ = 0;
  std::shared_ptr<Storage> storage_;
  uint64_t version_ = 0;
};

std::string shape_to_string(const std::vector<int64_t>& shape);

}  // namespace recaffe
