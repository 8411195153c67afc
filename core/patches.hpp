#pragma once
// An image cut into a grid of square patches, and a feature vector per patch.
//
// The grid covers the image from its top-left corner with whole patches only:
// cols = width / p, rows = height / p (integer division). The right and
// bottom strips narrower than a patch (width % p, height % p pixels) belong to
// no patch: they are cropped, shown without overlay, never padded with
// invented pixels. Patch t is at column t % cols, row t / cols.
#include <span>
#include <vector>

#include "image.hpp"
#include "types.hpp"

namespace attn {

struct PatchGrid {
  int patch = 16;  // side of a patch, pixels
  int cols = 0, rows = 0;
  int count() const { return cols * rows; }
  int index(int col, int row) const { return row * cols + col; }
};

// Throws attn::Error if the patch size is < 1 or the image is smaller than
// one patch.
PatchGrid make_grid(int width, int height, int patch);

// Between two grids over the same picture (two models' patch sizes, two
// sizes of one image), by position relative to the grid's extent: the cell
// of `to` under the centre of `from`'s cell `cell`.
int map_cell(int cell, const PatchGrid& from, const PatchGrid& to);
// A map over `from`'s cells, [from.count()], sampled bilinearly at the
// centres of `to`'s cells (values between cell centres interpolated,
// clamped at the edges), [to.count()]. The same grid gives the map back.
std::vector<float> resample_map(std::span<const float> map, const PatchGrid& from, const PatchGrid& to);

enum class Features {
  // The patch's pixels, RGB in [0, 1], flattened in (row, column, channel)
  // order, then centred and scaled by their overall standard deviation
  // across the patches. d = 3 p^2.
  Pixels,
  // 16 numbers describing colour and texture, each standardised across the
  // patches (z-scores) and weighted, then the vector scaled to length 1:
  //   [0, 3)  mean colour in CIELAB (D65)          weight 1.0
  //   [3, 6)  standard deviation of L*, a*, b*     weight 0.5
  //   [6, 15) gradient-orientation histogram of L* (9 unsigned bins over
  //           [0, pi), Sobel gradients, magnitude-weighted)  weight 0.35
  //   15      mean gradient magnitude              weight 0.6
  Descriptor,
};
inline constexpr int kDescriptorDims = 16;

// [N, d] with N = grid.count(), one row per patch in grid order.
Matrix patch_features(const Image& img, const PatchGrid& grid, Features kind);

// 2-D sinusoidal position encoding [N, dims] (dims a multiple of 4): the
// first half encodes the column, the second the row, each as
// sin(x w_i), cos(x w_i) with w_i = 10000^(-2i / (dims/2)), i = 0..dims/4-1,
// the frequencies of Vaswani et al. (2017) applied per axis.
Matrix position_encoding(const PatchGrid& grid, int dims);

}  // namespace attn
