#include "gpu_net.h"

#include "cuda_common.cuh"

namespace recaffe {
namespace cuda {

bool device_available(std::string* why) {
  int n = 0;
  cudaError_t err = cudaGetDeviceCount(&n);
  if (err != cudaSuccess || n == 0) {
    if (why) *why = err != cudaSuccess ? cudaGetErrorString(err) : "no CUDA device";
    cudaGetLastError();
    return false;
  }
  return true;
}

GpuNet::GpuNet(Net& net, int device) : net_(net), device_(device) {
  RC_CUDA_CHECK(cudaSetDevice(device));
  cudaDeviceProp prop;
  RC_CUDA_CHECK(cudaGetDeviceProperties(&prop, device));
  device_name_ = prop.name;
  RC_CUDA_CHECK(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking));
  for (int i = 0; i < net_.num_layers(); ++i) layers_.push_back(make_gpu_layer(net_.layer(i)));
}

GpuNet::~GpuNet() {
  cudaSetDevice(device_);
  if (stream_) cudaStreamSynchronize(stream_);
  for (auto& kv : bufs_) cudaFree(kv.second.ptr);
  for (auto& kv : params_) cudaFree(kv.second.first.ptr);
  for (auto& kv : scratch_) cudaFree(kv.second.ptr);
  if (stream_) cudaStreamDestroy(stream_);
}

namespace {
void grow(float** ptr, size_t* cap, size_t n) {
  if (*cap >= n && *ptr) return;
  if (*ptr) RC_CUDA_CHECK(cudaFree(*ptr));
  *ptr = nullptr;
  RC_CUDA_CHECK(cudaMalloc(reinterpret_cast<void**>(ptr), std::max<size_t>(n, 1) * sizeof(float)));
  *cap = n;
}
}  // namespace

float* GpuNet::dev(const Tensor& t) {
  Buf& b = bufs_[t.storage_id()];
  if (b.cap < size_t(t.count()) || !b.ptr) {
    // growing loses the contents; synchronise so nothing in flight still reads the old block
    RC_CUDA_CHECK(cudaStreamSynchronize(stream_));
    grow(&b.ptr, &b.cap, t.count());
  }
  return b.ptr;
}

const float* GpuNet::param(const Tensor& t) {
  auto& entry = params_[&t];
  if (!entry.first.ptr || entry.second != t.version() + 1 || entry.first.cap < size_t(t.count())) {
    RC_CUDA_CHECK(cudaStreamSynchronize(stream_));
    grow(&entry.first.ptr, &entry.first.cap, t.count());
    RC_CUDA_CHECK(cudaMemcpyAsync(entry.first.ptr, t.data(), t.bytes(), cudaMemcpyHostToDevice, stream_));
    entry.second = t.version() + 1;  // +1 so version 0 counts as uploaded
  }
  return entry.first.ptr;
}

float* GpuNet::scratch(const void* owner, size_t n) {
  Buf& b = scratch_[owner];
  if (b.cap < n || !b.ptr) {
    RC_CUDA_CHECK(cudaStreamSynchronize(stream_));
    grow(&b.ptr, &b.cap, n);
  }
  return b.ptr;
}

void GpuNet::upload(const Tensor& t) {
  float* d = dev(t);
  RC_CUDA_CHECK(cudaMemcpyAsync(d, t.data(), t.bytes(), cudaMemcpyHostToDevice, stream_));
}

void GpuNet::download(const Tensor& t) {
  auto it = bufs_.find(t.storage_id());
  if (it == bufs_.end() || !it->second.ptr) return;  // never computed on the device
  RC_CUDA_CHECK(cudaMemcpyAsync(const_cast<Tensor&>(t).data(), it->second.ptr, t.bytes(), cudaMemcpyDeviceToHost,
                                stream_));
  RC_CUDA_CHECK(cudaStreamSynchronize(stream_));
}

void GpuNet::synchronize() { RC_CUDA_CHECK(cudaStreamSynchronize(stream_)); }

void GpuNet::run_layer(int i) {
  Layer& l = net_.layer(i);
  const TensorVec& b = net_.bottom_vec(i);
  const TensorVec& t = net_.top_vec(i);
  l.reshape(b, t);  // shape inference on the host tensors (allocates nothing)
  layers_[i]->forward(*this, l, b, t);
}

void GpuNet::forward(int start, int end) {
  RC_CUDA_CHECK(cudaSetDevice(device_));
  for (int i = start; i <= end; ++i) run_layer(i);
  RC_CUDA_CHECK(cudaStreamSynchronize(stream_));
}

void GpuNet::forward_timed(int start, int end, std::vector<double>* times) {
  RC_CUDA_CHECK(cudaSetDevice(device_));
  times->assign(net_.num_layers(), 0.0);
  cudaEvent_t e0, e1;
  RC_CUDA_CHECK(cudaEventCreate(&e0));
  RC_CUDA_CHECK(cudaEventCreate(&e1));
  for (int i = start; i <= end; ++i) {
    RC_CUDA_CHECK(cudaEventRecord(e0, stream_));
    run_layer(i);
    RC_CUDA_CHECK(cudaEventRecord(e1, stream_));
    RC_CUDA_CHECK(cudaEventSynchronize(e1));
    float ms = 0.f;
    RC_CUDA_CHECK(cudaEventElapsedTime(&ms, e0, e1));
    (*times)[i] = ms;
  }
  cudaEventDestroy(e0);
  cudaEventDestroy(e1);
}

std::string GpuNet::layer_kind(int i) const { return layers_.at(i)->kind(); }

}  // namespace cuda
}  // namespace recaffe
