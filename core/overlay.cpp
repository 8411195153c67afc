#include "overlay.hpp"

#include <algorithm>
#include <array>
#include <cassert>
#include <cmath>
#include <cstring>
#include <limits>

#include "parallel.hpp"

namespace attn {
namespace {

constexpr float kGridAlpha = 0.15f;   // grid lines: white at this opacity
constexpr float kColdShare = 0.25f;   // opacity at value 0, relative to value 1
constexpr float kCroppedDim = 0.45f;  // brightness of the strips outside the grid

// lround for x in [0, 255.5) without a call into libm: the integer part,
// plus one from .5 up (x - floor(x) is exact in float).
std::uint8_t round_byte(float x) {
  const int t = static_cast<int>(x);
  return static_cast<std::uint8_t>(t + (x - static_cast<float>(t) >= 0.5f ? 1 : 0));
}

std::uint8_t blend(float under, float over, float alpha) { return round_byte(under + (over - under) * alpha); }

std::uint32_t pack(std::uint32_t r, std::uint32_t g, std::uint32_t b) { return r | g << 8 | b << 16 | 0xff000000u; }

// dst[i] = the blend of under[i] and colour[i] (RGBA8 packed, R lowest) at
// alpha(value[i]), by blend(), in a loop the compiler vectorises. Signed
// values (0.5 is zero) take their strength from the distance to 0.5.
void blend_run(const float* value, const std::uint32_t* under, const std::uint32_t* colour, int n, float alpha,
               bool signed_values, std::uint8_t* dst) {
#pragma omp simd
  for (int i = 0; i < n; ++i) {
    const float strength = signed_values ? std::fabs(2.0f * value[i] - 1.0f) : value[i];
    const float a = alpha * (kColdShare + (1.0f - kColdShare) * strength);
    std::uint32_t packed = 0xff000000u;
    for (int k = 0; k < 3; ++k) {
      const auto u = static_cast<float>(static_cast<int>((under[i] >> (8 * k)) & 255u));
      const auto c = static_cast<float>(static_cast<int>((colour[i] >> (8 * k)) & 255u));
      packed |= static_cast<std::uint32_t>(blend(u, c, a)) << (8 * k);
    }
    std::memcpy(dst + 4 * static_cast<size_t>(i), &packed, 4);
  }
}

// Where output column (or row) i samples the image and the map: everything
// that depends on one coordinate only, computed once per call.
struct Sample {
  int pixel = -1;        // image pixel floor(origin + i * step); -1 past the image's edge
  bool in_grid = false;  // false in the cropped strip
  int lo = 0, hi = 0;    // patches to interpolate between (nearest: lo)
  float frac = 0.0f;     // weight of hi
  bool on_line = false;  // within a grid line
};
using Axis = std::vector<Sample>;

Axis axis(int origin, float step, int size, int image_size, int patches, int p, Upsample upsample, int line_width) {
  Axis a(static_cast<size_t>(size));
  for (int i = 0; i < size; ++i) {
    Sample& s = a[static_cast<size_t>(i)];
    const int x = static_cast<int>(std::floor(static_cast<float>(origin) + static_cast<float>(i) * step));
    if (x < 0 || x >= image_size) continue;
    s.pixel = x;
    s.in_grid = x < patches * p;
    if (!s.in_grid) continue;
    s.on_line = x % p < line_width;
    if (upsample == Upsample::Nearest) {
      s.lo = s.hi = x / p;
      continue;
    }
    // As sample_map(): patch centres sit at (i + 0.5) p, clamped at the edges.
    const float u = std::clamp((x + 0.5f) / p - 0.5f, 0.0f, static_cast<float>(patches - 1));
    s.lo = static_cast<int>(u);
    s.hi = std::min(s.lo + 1, patches - 1);
    s.frac = u - s.lo;
  }
  return a;
}

// The selected patches' rings (the shader's outline()): 1 white (within
// `width` pixels inside a selected patch's edge), 2 black (within `outer`
// pixels outside a selected neighbour), 0 neither; white wins.
int ring_at(int x, int y, const PatchGrid& grid, const std::vector<char>& selected, float step) {
  const int p = grid.patch;
  auto is_selected = [&](int c, int r) {
    return c >= 0 && r >= 0 && c < grid.cols && r < grid.rows && selected[static_cast<size_t>(grid.index(c, r))];
  };
  const int c = x / p, r = y / p, lx = x - c * p, ly = y - r * p;
  const int width = std::min(std::max(2, static_cast<int>(2.0f * step)), (p + 1) / 2);
  const int outer = std::max(1, static_cast<int>(std::ceil(step)));
  if (is_selected(c, r) && (lx < width || ly < width || lx >= p - width || ly >= p - width)) return 1;
  for (int dr = -1; dr <= 1; ++dr)
    for (int dc = -1; dc <= 1; ++dc) {
      if ((dr == 0 && dc == 0) || !is_selected(c + dc, r + dr)) continue;
      const int x0 = (c + dc) * p, y0 = (r + dr) * p;
      const bool on_x = (x >= x0 - outer && x < x0) || (x >= x0 + p && x < x0 + p + outer);
      const bool on_y = (y >= y0 - outer && y < y0) || (y >= y0 + p && y < y0 + p + outer);
      const bool in_x = x >= x0 - outer && x < x0 + p + outer;
      const bool in_y = y >= y0 - outer && y < y0 + p + outer;
      if ((on_x && in_y) || (on_y && in_x)) return 2;
    }
  return 0;
}

// The output pixels [first, last) whose image pixel lies in [lo, hi).
std::pair<int, int> span_of(const Axis& a, int lo, int hi) {
  int first = 0, last = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    const int x = a[i].pixel;
    if (x < 0 || x >= hi) continue;
    if (x < lo) first = static_cast<int>(i) + 1;
    last = static_cast<int>(i) + 1;
  }
  return {first, std::max(first, last)};
}

void draw_outlines(Image& out, const PatchGrid& grid, std::span<const int> outlined, const Axis& cols, const Axis& rows,
                   float step) {
  std::vector<char> selected(static_cast<size_t>(grid.count()), 0);
  bool any = false;
  for (int t : outlined)
    if (t >= 0 && t < grid.count()) selected[static_cast<size_t>(t)] = 1, any = true;
  if (!any) return;
  // Every ring pixel lies within `outer` of a selected patch.
  const int p = grid.patch, outer = std::max(1, static_cast<int>(std::ceil(step)));
  for (int t : outlined) {
    if (t < 0 || t >= grid.count()) continue;
    const int x0 = (t % grid.cols) * p, y0 = (t / grid.cols) * p;
    const auto [i0, i1] = span_of(cols, x0 - outer, x0 + p + outer);
    const auto [j0, j1] = span_of(rows, y0 - outer, y0 + p + outer);
    for (int j = j0; j < j1; ++j)
      for (int i = i0; i < i1; ++i) {
        const int x = cols[static_cast<size_t>(i)].pixel, y = rows[static_cast<size_t>(j)].pixel;
        if (x < 0 || y < 0) continue;
        const int ring = ring_at(x, y, grid, selected, step);
        if (ring == 0) continue;
        std::uint8_t* px = out.pixel(i, j);
        px[0] = px[1] = px[2] = ring == 1 ? 255 : 0;
      }
  }
}

}  // namespace

template <>
std::span<const EnumName<Upsample>> enum_names<Upsample>() {
  static constexpr std::array<EnumName<Upsample>, 2> kNames = {{
      {Upsample::Nearest, "nearest", "nearest (blocks)", "Each patch one flat block of colour."},
      {Upsample::Bilinear, "bilinear", "bilinear (smooth)", "Colours blended smoothly between patch centres."},
  }};
  return kNames;
}

template <>
std::span<const EnumName<MapScale>> enum_names<MapScale>() {
  static constexpr std::array<EnumName<MapScale>, 3> kNames = {{
      {MapScale::Max, "max", "per-map max", "The strongest patch gets the top colour."},
      {MapScale::MinMax, "minmax", "min-max", "The weakest patch gets the bottom colour, the strongest the top."},
      {MapScale::Fixed, "fixed", "fixed 0-1", "Weights as they are, 0 to 1: comparable across queries."},
  }};
  return kNames;
}

namespace {

// The smallest and largest entries not `excluded` (of all of them, when
// every entry is excluded). map is not empty.
std::pair<float, float> extremes(std::span<const float> map, std::span<const int> excluded) {
  float mn = std::numeric_limits<float>::infinity(), mx = -mn;
  std::vector<char> skip(map.size(), 0);
  for (int t : excluded)
    if (t >= 0 && static_cast<size_t>(t) < map.size()) skip[static_cast<size_t>(t)] = 1;
  for (size_t i = 0; i < map.size(); ++i)
    if (!skip[i]) mn = std::min(mn, map[i]), mx = std::max(mx, map[i]);
  if (mn > mx) {
    const auto [lo, hi] = std::minmax_element(map.begin(), map.end());
    mn = *lo, mx = *hi;
  }
  return {mn, mx};
}

}  // namespace

MapRange scale_range(std::span<const float> map, MapScale scale, std::span<const int> excluded) {
  if (map.empty() || scale == MapScale::Fixed) return {};
  const auto [mn, mx] = extremes(map, excluded);
  if (scale == MapScale::Max) return {0.0f, mx > 0.0f ? mx : 1.0f};
  return {mn, mx > mn ? mx : mn + 1.0f};
}

float signed_top(std::span<const float> map, std::span<const int> excluded) {
  std::vector<char> skip(map.size(), 0);
  for (int t : excluded)
    if (t >= 0 && static_cast<size_t>(t) < map.size()) skip[static_cast<size_t>(t)] = 1;
  float top = 0.0f;
  for (size_t i = 0; i < map.size(); ++i)
    if (!skip[i]) top = std::max(top, std::fabs(map[i]));
  return top > 0.0f ? top : 1.0f;
}

std::vector<float> scale_signed(std::span<const float> map, float top) {
  std::vector<float> out(map.size());
  for (size_t i = 0; i < map.size(); ++i) out[i] = std::clamp(0.5f + 0.5f * map[i] / top, 0.0f, 1.0f);
  return out;
}

std::vector<float> scale_map(std::span<const float> map, MapScale scale, std::span<const int> excluded) {
  std::vector<float> out(map.begin(), map.end());
  if (out.empty()) return out;
  const auto [mn, mx] = extremes(map, excluded);
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

std::pair<int, int> overlay_size(const OverlayRegion& region, int width, int height) {
  const float step = std::max(1.0f, region.step);
  return {region.width > 0 ? region.width : std::max(1, static_cast<int>(static_cast<float>(width) / step)),
          region.height > 0 ? region.height : std::max(1, static_cast<int>(static_cast<float>(height) / step))};
}

bool grid_lines_shown(const OverlayStyle& style, const PatchGrid& grid, float step) {
  return style.grid && (step <= 1.0f || static_cast<float>(grid.patch) >= 6.0f * step);
}

Image render_overlay(const Image& img, const PatchGrid& grid, std::span<const float> map, const OverlayStyle& style,
                     std::span<const int> outlined, const OverlayRegion& region) {
  assert(static_cast<int>(map.size()) == grid.count());
  const std::vector<float> scaled =
      scale_map(map, style.scale, style.scale_includes_outlined ? std::span<const int>() : outlined);
  const ColormapTable& table = colormap_table(style.colormap);
  const float alpha = std::clamp(style.opacity, 0.0f, 1.0f);
  const float step = std::max(1.0f, region.step);
  const auto [width, height] = overlay_size(region, img.width, img.height);
  const bool lines = grid_lines_shown(style, grid, step);
  const int line_width = std::max(1, static_cast<int>(std::ceil(step)));  // so that sampling never skips a line
  const Axis cols = axis(region.x0, step, width, img.width, grid.cols, grid.patch, style.upsample, line_width);
  const Axis rows = axis(region.y0, step, height, img.height, grid.rows, grid.patch, style.upsample, line_width);

  Image out;
  out.width = width;
  out.height = height;
  out.rgba.assign(static_cast<size_t>(width) * height * 4, 0);  // past the image's edge: transparent
  // Columns fall in three runs, in this order: inside the grid, in the
  // cropped strip, past the image's edge (pixel -1).
  int grid_end = 0, image_end = 0;
  for (const Sample& c : cols) {
    grid_end += c.in_grid ? 1 : 0;
    image_end += c.pixel >= 0 ? 1 : 0;
  }
  // The map interpolated across the columns, once per map row that some
  // output row uses: sample_map()'s `top` and `bottom`.
  std::vector<float> across(static_cast<size_t>(grid.rows) * grid_end);
  std::vector<char> used(static_cast<size_t>(grid.rows), 0);
  for (const Sample& r : rows)
    if (r.in_grid) used[static_cast<size_t>(r.lo)] = used[static_cast<size_t>(r.hi)] = 1;
  parallel_for(grid.rows, [&](int mr) {
    if (!used[static_cast<size_t>(mr)]) return;
    const float* m = scaled.data() + static_cast<size_t>(mr) * grid.cols;
    float* h = across.data() + static_cast<size_t>(mr) * grid_end;
    for (int i = 0; i < grid_end; ++i) {
      const Sample& c = cols[static_cast<size_t>(i)];
      h[i] = style.upsample == Upsample::Bilinear ? m[c.lo] + (m[c.hi] - m[c.lo]) * c.frac : m[c.lo];
    }
  });
  std::uint32_t lut[256];
  for (int k = 0; k < 256; ++k)
    lut[k] = pack(table[static_cast<size_t>(k)].r, table[static_cast<size_t>(k)].g, table[static_cast<size_t>(k)].b);

  parallel_for(height, [&](int j) {
    const Sample& r = rows[static_cast<size_t>(j)];
    if (r.pixel < 0) return;
    const std::uint8_t* src = img.pixel(0, r.pixel);
    std::uint8_t* dst = out.pixel(0, j);
    const int coloured = r.in_grid ? grid_end : 0;
    // The cropped strip: dimmed.
    for (int i = coloured; i < image_end; ++i) {
      const std::uint8_t* under = src + static_cast<size_t>(cols[static_cast<size_t>(i)].pixel) * 4;
      for (int k = 0; k < 3; ++k) dst[4 * i + k] = round_byte(under[k] * kCroppedDim);
      dst[4 * i + 3] = 255;
    }
    if (coloured == 0) return;
    // Gathered (the image's pixels and the colours), then blended in a loop
    // the compiler vectorises.
    thread_local std::vector<float> value;
    thread_local std::vector<std::uint32_t> under, colour;
    value.resize(static_cast<size_t>(coloured));
    under.resize(static_cast<size_t>(coloured));
    colour.resize(static_cast<size_t>(coloured));
    const float* top = across.data() + static_cast<size_t>(r.lo) * grid_end;
    const float* bottom = across.data() + static_cast<size_t>(r.hi) * grid_end;
    const bool bilinear = style.upsample == Upsample::Bilinear;
    for (int i = 0; i < coloured; ++i)
      value[static_cast<size_t>(i)] = bilinear ? top[i] + (bottom[i] - top[i]) * r.frac : top[i];
    for (int i = 0; i < coloured; ++i) {
      const float v = value[static_cast<size_t>(i)];
      colour[static_cast<size_t>(i)] = !(v > 0.0f) ? lut[0] : v >= 1.0f ? lut[255] : lut[round_byte(v * 255.0f)];
      std::memcpy(&under[static_cast<size_t>(i)], src + static_cast<size_t>(cols[static_cast<size_t>(i)].pixel) * 4, 4);
    }
    blend_run(value.data(), under.data(), colour.data(), coloured, alpha, style.signed_values, dst);
    if (lines)
      for (int i = 0; i < coloured; ++i)
        if (r.on_line || cols[static_cast<size_t>(i)].on_line)
          for (int k = 0; k < 3; ++k) dst[4 * i + k] = blend(dst[4 * i + k], 255.0f, kGridAlpha);
  });
  if (style.rings) draw_outlines(out, grid, outlined, cols, rows, step);
  return out;
}

}  // namespace attn
