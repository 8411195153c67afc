#pragma once
// The CPU overlay: an attention map over a patch grid, drawn on the image at
// the image's own resolution or on any part of it at a reduced one. The app's
// fragment shader implements the same arithmetic and is tested against this,
// pixel by pixel; on a software OpenGL the app draws its view with this.
#include <span>
#include <utility>
#include <vector>

#include "colormap.hpp"
#include "enum_names.hpp"
#include "image.hpp"
#include "patches.hpp"

namespace attn {

enum class Upsample {
  Nearest,   // each patch one flat colour
  Bilinear,  // values interpolated between patch centres, clamped at the edges
};
template <>
std::span<const EnumName<Upsample>> enum_names<Upsample>();

enum class MapScale {
  Max,     // v / max(v): the strongest patch is the top colour (0 if max <= 0)
  MinMax,  // (v - min) / (max - min) (0 if all equal)
  Fixed,   // v clamped to [0, 1]: weights compared across queries as they are
};
template <>
std::span<const EnumName<MapScale>> enum_names<MapScale>();

struct OverlayStyle {
  Colormap colormap = Colormap::Inferno;
  // The heatmap's share of a pixel whose scaled value is 1, in [0, 1]. The
  // share falls linearly to a quarter of that at value 0, so cold regions
  // stay readable and hot ones stand out:
  //   alpha(v) = opacity · (0.25 + 0.75 v),  out = img + (colour - img) · alpha(v)
  // With signed_values, the map's 0.5 is zero (a difference, drawn with the
  // diverging colormap) and both ends are strong: 0.25 + 0.75 |2v - 1|.
  float opacity = 0.8f;
  bool signed_values = false;
  Upsample upsample = Upsample::Bilinear;
  MapScale scale = MapScale::Max;
  bool grid = true;   // thin lines between patches
  bool rings = true;  // outline the `outlined` patches (the app's view draws its own)
  // Whether the outlined patches (the queries) count in the scale's max and
  // min. A query's weight on itself is often several times any other, so
  // by default they do not: the scale spans the other patches, where the
  // question "where does it look?" is answered, and the queries are
  // clamped to the top colour.
  bool scale_includes_outlined = false;
};

// Values scaled to [0, 1] as `scale` says. map: one value per patch. The
// entries `excluded` (indices) are left out of the max and min and clamped
// like the others (when every entry is excluded, none is).
std::vector<float> scale_map(std::span<const float> map, MapScale scale, std::span<const int> excluded = {});

// The values that scale_map() takes to 0 and to 1 (a colour bar's ends):
// Max: [0, max] ([0, 1] when max <= 0), MinMax: [min, max] ([min, min + 1]
// when all are equal), Fixed: [0, 1]. An empty map gives [0, 1].
struct MapRange {
  float lo = 0.0f, hi = 1.0f;
};
MapRange scale_range(std::span<const float> map, MapScale scale, std::span<const int> excluded = {});

// Signed maps (a difference A - B): the largest magnitude of the entries
// not `excluded` (1 when they are all zero), and the map scaled
// symmetrically about zero: v -> 0.5 + 0.5 v / top, clamped to [0, 1], for
// the diverging colormap with OverlayStyle::signed_values.
float signed_top(std::span<const float> map, std::span<const int> excluded = {});
std::vector<float> scale_signed(std::span<const float> map, float top);

// The scaled value at pixel (x, y) of the covered area.
float sample_map(std::span<const float> scaled, const PatchGrid& grid, Upsample upsample, int x, int y);

// Which part of the image an overlay shows, and how finely: output pixel
// (i, j) shows image pixel (floor(x0 + i·step), floor(y0 + j·step)), computed
// in float as the shader does. The default is the whole image at its size.
struct OverlayRegion {
  int x0 = 0, y0 = 0;
  float step = 1.0f;            // image pixels per output pixel, >= 1
  int width = -1, height = -1;  // output size; -1: the image's size / step
};

// The output size of `region` for an image of `width` x `height`: {w, h}.
std::pair<int, int> overlay_size(const OverlayRegion& region, int width, int height);

// Whether grid lines are drawn at `step`: only where a patch spans at least
// 6 output pixels (smaller, the lines would cover the map).
bool grid_lines_shown(const OverlayStyle& style, const PatchGrid& grid, float step);

// img: the image the grid was cut from. map: grid.count() values, patch
// order. outlined: the selected queries' patches, left out of the colour
// scale unless style.scale_includes_outlined, and, when style.rings, outlined white
// two pixels inside the patch's edge, black one pixel outside it, widened
// to about as many output pixels when step > 1. Pixels outside the grid (the
// cropped strips) are shown dimmed, uncoloured; output pixels past the
// image's edge are transparent black. Grid lines are ceil(step) image pixels
// wide, so that sampling never skips one. Returns overlay_size() pixels;
// rows run on the engine's threads.
Image render_overlay(const Image& img, const PatchGrid& grid, std::span<const float> map, const OverlayStyle& style,
                     std::span<const int> outlined = {}, const OverlayRegion& region = {});

}  // namespace attn
