#pragma once
// The CPU overlay: an attention map over a patch grid, drawn on the image at
// the image's own resolution. The app's fragment shader implements the same
// arithmetic and is tested against this, pixel by pixel.
#include <span>
#include <vector>

#include "colormap.hpp"
#include "image.hpp"
#include "patches.hpp"

namespace attn {

enum class Upsample {
  Nearest,   // each patch one flat colour
  Bilinear,  // values interpolated between patch centres, clamped at the edges
};

enum class MapScale {
  Max,     // v / max(v): the strongest patch is the top colour (0 if max <= 0)
  MinMax,  // (v - min) / (max - min) (0 if all equal)
  Fixed,   // v clamped to [0, 1]: weights compared across queries as they are
};

struct OverlayStyle {
  Colormap colormap = Colormap::Inferno;
  // The heatmap's share of a pixel whose scaled value is 1, in [0, 1]. The
  // share falls linearly to a quarter of that at value 0, so cold regions
  // stay readable and hot ones stand out:
  //   alpha(v) = opacity · (0.25 + 0.75 v),  out = img + (colour - img) · alpha(v)
  float opacity = 0.8f;
  Upsample upsample = Upsample::Bilinear;
  MapScale scale = MapScale::Max;
  bool grid = true;  // thin lines between patches
};

// Values scaled to [0, 1] as `scale` says. map: one value per patch.
std::vector<float> scale_map(std::span<const float> map, MapScale scale);

// The scaled value at pixel (x, y) of the covered area.
float sample_map(std::span<const float> scaled, const PatchGrid& grid, Upsample upsample, int x, int y);

// img: the image the grid was cut from. map: grid.count() values, patch
// order. outlined: patch indices to outline (the selected queries).
// Pixels outside the grid (the cropped strips) are shown dimmed, uncoloured.
Image render_overlay(const Image& img, const PatchGrid& grid, std::span<const float> map, const OverlayStyle& style,
                     std::span<const int> outlined = {});

}  // namespace attn
