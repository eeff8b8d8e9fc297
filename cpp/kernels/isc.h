#pragma once
// Inverse sparse convolution (Shi & Chu, "Speeding up CNNs by exploiting the sparsity of rectifier
// units"): the work of a convolution falls to rho * dense MACs when a fraction 1 - rho of its
// inputs are zero (ReLU outputs). The three steps of the paper's Section 4, as plain functions:
//   1. isc_gather:   the non-zero inputs of each input pixel with their channel (as a weight offset);
//   2. isc_pack_weights (once, at load): weights as [group][kh][kw][C/g][Kpad] so that for one input
//      element the weights of consecutive output channels k, k+1, ... are contiguous;
//   3. isc_tile:     per non-zero input, a multiply-accumulate of whole vectors of output channels
//      into a [pixel][Kpad] accumulator, then its transpose into Caffe's [K][Ho*Wo] layout.
// Kpad (Kg rounded up to 16, zero-filled) is the same for every ISA, so the dispatch may change
// between prepare and forward.
#include <cstdint>

#include "kernels/conv_geometry.h"

namespace recaffe {

// One non-zero input element: the offset of its weights inside one (r, s) slice of the packed
// kernel (c * Kpad) and its value.
struct IscEntry {
  int32_t woff;
  float v;
};

// Two loop orders over the same data: "gather" keeps one output pixel's vector of channels in
// registers and visits the non-zeros of its receptive field; "scatter" is the paper's literal order
// (each non-zero input adds into every output it touches, the accumulator in memory).
enum class IscOrder { Gather = 0, Scatter = 1 };

inline int64_t isc_kpad(int64_t Kg) { return (Kg + 15) / 16 * 16; }

// Output pixels per tile: a multiple of 16 (the transpose works on 16x16 blocks), the tile's
// accumulator about 32 KiB.
int64_t isc_tile_pixels(int64_t kpad, int64_t out_hw);

// packed: group * kh * kw * Cg * kpad floats (weights) followed by group * kpad floats (bias,
// zero where there is none).
int64_t isc_packed_floats(const ConvGeometry& g);
void isc_pack_weights(const ConvGeometry& g, const float* weights, const float* bias, float* packed);

// Step 1 for input pixels [p0, p1) of one group: x points at the group's first channel plane
// ([Cg][HW]); pixel p's non-zeros go to lists[p * Cg ...], in increasing channel order, and their
// number to counts[p].
void isc_gather(const float* x, int64_t Cg, int64_t HW, int64_t p0, int64_t p1, int64_t kpad, IscEntry* lists,
                int32_t* counts);

struct IscTile {
  const ConvGeometry* g;
  const float* w;        // this group's packed weights [kh][kw][Cg][kpad]
  const float* bias;     // this group's padded bias [kpad]
  const IscEntry* lists;  // this group's per-pixel non-zeros (isc_gather)
  const int32_t* counts;
  int64_t kpad;
  int64_t q0, q1;  // output pixels of the tile, flattened oh * Wo + ow
  float* acc;      // scratch: isc_tile_pixels(kpad, ...) x kpad floats
  float* out;      // this group's first output plane [Kg][Ho*Wo]
};

// Steps 2-3 for one tile, with the best ISA the CPU offers.
void isc_tile(const IscTile& t, IscOrder order);

namespace detail {
void isc_gather_scalar(const float* x, int64_t Cg, int64_t HW, int64_t p0, int64_t p1, int64_t kpad,
                       IscEntry* lists, int32_t* counts);
void isc_gather_avx2(const float* x, int64_t Cg, int64_t HW, int64_t p0, int64_t p1, int64_t kpad,
                     IscEntry* lists, int32_t* counts);
void isc_gather_avx512(const float* x, int64_t Cg, int64_t HW, int64_t p0, int64_t p1, int64_t kpad,
                       IscEntry* lists, int32_t* counts);
void isc_tile_scalar(const IscTile& t, IscOrder order);
void isc_tile_avx2(const IscTile& t, IscOrder order);
void isc_tile_avx512(const IscTile& t, IscOrder order);
}  // namespace detail

}  // namespace recaffe
