#include "overlay.hpp"

#include <algorithm>
#include <cassert>
#include <cmath>

namespace attn {
namespace {

constexpr float kGridAlpha = 0.15f;   // grid lines: white at this opacity
constexpr float kColdShare = 0.25f;   // opacity at value 0, relative to value 1
constexpr float kCroppedDim = 0.45f;  // brightness of the strips outside the grid

std::uint8_t blend(float under, float over, float alpha) {
  return static_cast<std::uint8_t>(std::lround(under + (over - under) * alpha));
}

}  // namespace

std::vector<float> scale_map(std::span<const float> map, MapScale scale) {
  std::vector<float> out(map.begin(), map.end());
  if (out.empty()) return out;
  const auto [lo, hi] = std::minmax_element(out.begin(), out.end());
  const float mn = *lo, mx = *hi;
  for (float& v : out) {
    switch (scale) {
      case MapScale::Max:
        v = mx > 0.0f ? v / mx : 0.0f;
        break;
      case MapScale::MinMax:
        v = mx > mn ? (v - mn) / (mx - mn) : 0.0f;
        break;
      case MapScale::Fixed:
        break;
    }
    v = std::clamp(v, 0.0f, 1.0f);
  }
  return out;
}

float sample_map(std::span<const float> scaled, const PatchGrid& grid, Upsample upsample, int x, int y) {
  const int p = grid.patch;
  if (upsample == Upsample::Nearest) return scaled[static_cast<size_t>(grid.index(x / p, y / p))];
  // Texture-style sampling: patch centres sit at (i + 0.5) p.
  const float u = std::clamp((x + 0.5f) / p - 0.5f, 0.0f, static_cast<float>(grid.cols - 1));
  const float v = std::clamp((y + 0.5f) / p - 0.5f, 0.0f, static_cast<float>(grid.rows - 1));
  const int c0 = static_cast<int>(u), r0 = static_cast<int>(v);
  const int c1 = std::min(c0 + 1, grid.cols - 1), r1 = std::min(r0 + 1, grid.rows - 1);
  const float fu = u - c0, fv = v - r0;
  auto at = [&](int c, int r) { return scaled[static_cast<size_t>(grid.index(c, r))]; };
  const float top = at(c0, r0) + (at(c1, r0) - at(c0, r0)) * fu;
  const float bottom = at(c0, r1) + (at(c1, r1) - at(c0, r1)) * fu;
  return top + (bottom - top) * fv;
}

Image render_overlay(const Image& img, const PatchGrid& grid, std::span<const float> map, const OverlayStyle& style,
                     std::span<const int> outlined) {
  assert(static_cast<int>(map.size()) == grid.count());
  const std::vector<float> scaled = scale_map(map, style.scale);
  const ColormapTable& table = colormap_table(style.colormap);
  const float alpha = std::clamp(style.opacity, 0.0f, 1.0f);
  const int p = grid.patch, cw = grid.cols * p, ch = grid.rows * p;
  Image out = img;
  for (int y = 0; y < img.height; ++y)
    for (int x = 0; x < img.width; ++x) {
      std::uint8_t* px = out.pixel(x, y);
      if (x >= cw || y >= ch) {
        for (int k = 0; k < 3; ++k) px[k] = static_cast<std::uint8_t>(std::lround(px[k] * kCroppedDim));
        continue;
      }
      const float v = sample_map(scaled, grid, style.upsample, x, y);
      const Rgb c = colormap_lookup(table, v);
      const float a = alpha * (kColdShare + (1.0f - kColdShare) * v);
      px[0] = blend(px[0], c.r, a);
      px[1] = blend(px[1], c.g, a);
      px[2] = blend(px[2], c.b, a);
      if (style.grid && (x % p == 0 || y % p == 0))
        for (int k = 0; k < 3; ++k) px[k] = blend(px[k], 255.0f, kGridAlpha);
      px[3] = 255;
    }
  // Outlines: two white pixels inside the patch edge, one black outside it,
  // so the selection reads on light and dark images alike. All black rings
  // first, then all white ones: where outlines of adjacent patches meet,
  // white wins whatever the order of `outlined` (the shader does the same).
  auto paint_ring = [&](int t, int inset, std::uint8_t value) {
    const int x0 = (t % grid.cols) * p, y0 = (t / grid.cols) * p;
    const int a0 = x0 + inset, b0 = y0 + inset, a1 = x0 + p - 1 - inset, b1 = y0 + p - 1 - inset;
    auto set = [&](int x, int y) {
      if (x < 0 || y < 0 || x >= img.width || y >= img.height) return;
      std::uint8_t* px = out.pixel(x, y);
      px[0] = px[1] = px[2] = value;
    };
    for (int x = a0; x <= a1; ++x) {
      set(x, b0);
      set(x, b1);
    }
    for (int y = b0; y <= b1; ++y) {
      set(a0, y);
      set(a1, y);
    }
  };
  for (int t : outlined)
    if (t >= 0 && t < grid.count()) paint_ring(t, -1, 0);
  for (int t : outlined)
    if (t >= 0 && t < grid.count())
      for (int inset = 0; inset < std::min(2, (p + 1) / 2); ++inset) paint_ring(t, inset, 255);
  return out;
}

}  // namespace attn
