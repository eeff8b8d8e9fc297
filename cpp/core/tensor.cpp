#include "core/tensor.h"

#include <cstdlib>
#include <cstring>
#include <limits>
#include <new>

#include "core/errors.h"

namespace recaffe {

Buffer::Buffer(size_t n) : size(n) {
  size_t bytes = ((n * sizeof(float)) + 63) / 64 * 64;
  if (bytes == 0) bytes = 64;
  ptr = static_cast<float*>(std::aligned_alloc(64, bytes));
  if (!ptr) throw ResourceError(str_cat("cannot allocate ", bytes, " bytes for a tensor"));
  std::memset(ptr, 0, bytes);
}

Buffer::~Buffer() { std::free(ptr); }

float* Storage::ensure(size_t n) {
  if (!buffer || buffer->size < n) buffer = std::make_shared<Buffer>(n);
  return buffer->ptr;
}

void Tensor::reshape(const std::vector<int64_t>& shape) {
  if (shape.size() > kMaxAxes)
    throw LayerError("", str_cat("a tensor can have at most ", kMaxAxes, " axes, got ", shape.size()));
  int64_t count = 1;
  for (int64_t d : shape) {
    if (d < 0) throw LayerError("", str_cat("negative dimension in shape ", shape_to_string(shape)));
    if (d != 0 && count > std::numeric_limits<int32_t>::max() / d)
      throw ResourceError(str_cat("shape ", shape_to_string(shape), " has more than 2^31 elements"));
    count *= d;
  }
  shape_ = shape;
  count_ = count;
}

int64_t Tensor::count(int start, int end) const {
  int64_t c = 1;
  for (int i = start; i < end; ++i) c *= shape_[i];
  return c;
}

int Tensor::canonical_axis(int axis) const {
  int n = num_axes();
  if (axis < -n || axis >= n)
    throw LayerError("", str_cat("axis ", axis, " out of range for a ", n, "-D tensor ", shape_string()));
  return axis < 0 ? axis + n : axis;
}

int64_t Tensor::legacy_shape(int index) const {
  if (index >= num_axes() || index < -num_axes()) return 1;
  return shape(index);
}

std::string shape_to_string(const std::vector<int64_t>& shape) {
  std::string s = "(";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i) s += ", ";
    s += std::to_string(shape[i]);
  }
  if (shape.size() == 1) s += ",";
  return s + ")";
}

std::string Tensor::shape_string() const { return shape_to_string(shape_); }

}  // namespace recaffe
