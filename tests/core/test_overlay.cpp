#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "core/overlay.hpp"
#include "core/parallel.hpp"
#include "reference.hpp"

namespace {

// The simple reference for render_overlay: one output pixel at a time, from
// sample_map() and colormap_lookup(), rounding with std::lround; rings
// painted as the first CPU overlay did (step 1 only).
attn::Image reference_overlay(const attn::Image& img, const attn::PatchGrid& grid, const std::vector<float>& map,
                              const attn::OverlayStyle& style, const std::vector<int>& outlined,
                              const attn::OverlayRegion& region) {
  const auto scaled = attn::scale_map(map, style.scale, style.scale_includes_outlined ? std::vector<int>() : outlined);
  const auto& table = attn::colormap_table(style.colormap);
  const auto size = attn::overlay_size(region, img.width, img.height);
  const int w = size.first, h = size.second;
  const float step = std::max(1.0f, region.step);
  const int p = grid.patch, line = std::max(1, static_cast<int>(std::ceil(step)));
  auto blend = [](float under, float over, float a) {
    return static_cast<std::uint8_t>(std::lround(under + (over - under) * a));
  };
  attn::Image out;
  out.width = w;
  out.height = h;
  out.rgba.assign(static_cast<size_t>(w) * h * 4, 0);
  for (int j = 0; j < h; ++j)
    for (int i = 0; i < w; ++i) {
      const int x = static_cast<int>(std::floor(static_cast<float>(region.x0) + static_cast<float>(i) * step));
      const int y = static_cast<int>(std::floor(static_cast<float>(region.y0) + static_cast<float>(j) * step));
      if (x >= img.width || y >= img.height) continue;
      const std::uint8_t* under = img.pixel(x, y);
      std::uint8_t* px = out.pixel(i, j);
      px[3] = 255;
      if (x >= grid.cols * p || y >= grid.rows * p) {
        for (int k = 0; k < 3; ++k) px[k] = static_cast<std::uint8_t>(std::lround(under[k] * 0.45f));
        continue;
      }
      const float v = attn::sample_map(scaled, grid, style.upsample, x, y);
      const attn::Rgb c = attn::colormap_lookup(table, v);
      const float a = std::clamp(style.opacity, 0.0f, 1.0f) * (0.25f + 0.75f * v);
      px[0] = blend(under[0], c.r, a);
      px[1] = blend(under[1], c.g, a);
      px[2] = blend(under[2], c.b, a);
      if (attn::grid_lines_shown(style, grid, step) && (x % p < line || y % p < line))
        for (int k = 0; k < 3; ++k) px[k] = blend(px[k], 255.0f, 0.15f);
    }
  auto paint_ring = [&](int t, int inset, std::uint8_t value) {
    const int x0 = (t % grid.cols) * p + inset, y0 = (t / grid.cols) * p + inset;
    const int x1 = (t % grid.cols) * p + p - 1 - inset, y1 = (t / grid.cols) * p + p - 1 - inset;
    for (int y = y0; y <= y1; ++y)
      for (int x = x0; x <= x1; ++x)
        if ((x == x0 || x == x1 || y == y0 || y == y1) && x >= 0 && y >= 0 && x < w && y < h)
          out.pixel(x, y)[0] = out.pixel(x, y)[1] = out.pixel(x, y)[2] = value;
  };
  for (int t : outlined) paint_ring(t, -1, 0);
  for (int t : outlined)
    for (int inset = 0; inset < std::min(2, (p + 1) / 2); ++inset) paint_ring(t, inset, 255);
  return out;
}

// Fresh random images, grids, maps, styles and regions (steps 1 to 9,
// origins anywhere, outputs past the image's edge), on one thread and on
// all of them: the fast overlay equals the reference pixel for pixel.
TEST(Overlay, EqualsThePerPixelReferenceOnRandomRegions) {
  const unsigned seed = ref::fresh_seed();
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937 rng(seed);
  auto uniform = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  for (int threads : {1, 0}) {
    attn::set_thread_count(threads);
    for (int trial = 0; trial < 40; ++trial) {
      SCOPED_TRACE("trial " + std::to_string(trial));
      attn::Image img = attn::Image::blank(uniform(8, 300), uniform(8, 300));
      for (auto& c : img.rgba) c = static_cast<std::uint8_t>(uniform(0, 255));
      const int patch = uniform(1, std::min({img.width, img.height, 40}));
      const attn::PatchGrid grid = attn::make_grid(img.width, img.height, patch);
      std::vector<float> map(static_cast<size_t>(grid.count()));
      for (auto& v : map) v = std::uniform_real_distribution<float>(-0.2f, 1.3f)(rng);
      attn::OverlayStyle style;
      style.colormap = attn::kAllColormaps[uniform(0, 7)];
      style.opacity = std::uniform_real_distribution<float>(0.0f, 1.0f)(rng);
      style.upsample = uniform(0, 1) ? attn::Upsample::Bilinear : attn::Upsample::Nearest;
      style.scale = static_cast<attn::MapScale>(uniform(0, 2));
      style.grid = uniform(0, 1) == 1;
      style.scale_includes_outlined = uniform(0, 1) == 1;
      attn::OverlayRegion region;
      std::vector<int> outlined;
      if (trial % 4 == 0) {  // the whole image at its size, with rings
        for (int k = uniform(0, 3); k > 0; --k) outlined.push_back(uniform(0, grid.count() - 1));
      } else {
        const float steps[] = {1.0f, 1.5f, 2.4375f, 3.0f, 8.6f};
        region.step = steps[uniform(0, 4)];
        region.x0 = uniform(0, img.width - 1);
        region.y0 = uniform(0, img.height - 1);
        region.width = uniform(1, 200);
        region.height = uniform(1, 200);
      }
      const attn::Image want = reference_overlay(img, grid, map, style, outlined, region);
      const attn::Image got = attn::render_overlay(img, grid, map, style, outlined, region);
      ASSERT_EQ(got.width, want.width);
      ASSERT_EQ(got.height, want.height);
      int differ = 0;
      for (size_t k = 0; k < want.rgba.size(); ++k) differ += got.rgba[k] != want.rgba[k];
      EXPECT_EQ(differ, 0) << img.width << "x" << img.height << " patch " << patch << " step " << region.step;
    }
  }
  attn::set_thread_count(0);
}

TEST(Overlay, ScaleModes) {
  const std::vector<float> m = {0.1f, 0.2f, 0.4f};
  auto s = attn::scale_map(m, attn::MapScale::Max);
  EXPECT_FLOAT_EQ(s[0], 0.25f);
  EXPECT_FLOAT_EQ(s[2], 1.0f);
  s = attn::scale_map(m, attn::MapScale::MinMax);
  EXPECT_FLOAT_EQ(s[0], 0.0f);
  EXPECT_FLOAT_EQ(s[1], 1.0f / 3.0f);
  s = attn::scale_map(m, attn::MapScale::Fixed);
  EXPECT_FLOAT_EQ(s[2], 0.4f);
  s = attn::scale_map(std::vector<float>{0.0f, 0.0f}, attn::MapScale::Max);
  EXPECT_EQ(s[0], 0.0f);
  s = attn::scale_map(std::vector<float>{0.3f, 0.3f}, attn::MapScale::MinMax);
  EXPECT_EQ(s[1], 0.0f);
}

TEST(Overlay, NearestAndBilinearSampling) {
  const attn::PatchGrid grid{4, 2, 1};
  const std::vector<float> v = {0.0f, 1.0f};
  EXPECT_EQ(attn::sample_map(v, grid, attn::Upsample::Nearest, 3, 0), 0.0f);
  EXPECT_EQ(attn::sample_map(v, grid, attn::Upsample::Nearest, 4, 0), 1.0f);
  // Patch centres at x = 2 and 6 (pixel centres 1.5 and 5.5 + 0.5): clamped outside, linear between.
  EXPECT_FLOAT_EQ(attn::sample_map(v, grid, attn::Upsample::Bilinear, 0, 0), 0.0f);
  EXPECT_FLOAT_EQ(attn::sample_map(v, grid, attn::Upsample::Bilinear, 7, 3), 1.0f);
  EXPECT_FLOAT_EQ(attn::sample_map(v, grid, attn::Upsample::Bilinear, 3, 0), 0.375f);
  EXPECT_FLOAT_EQ(attn::sample_map(v, grid, attn::Upsample::Bilinear, 4, 2), 0.625f);
}

TEST(Overlay, BlendsColormapAtOpacityAndDimsTheCroppedStrip) {
  attn::Image img = attn::Image::blank(10, 9);  // grid of 2x2 patches of 4: one strip each side
  for (auto& c : img.rgba) c = 200;
  const attn::PatchGrid grid = attn::make_grid(10, 9, 4);
  ASSERT_EQ(grid.cols, 2);
  ASSERT_EQ(grid.rows, 2);
  attn::OverlayStyle style;
  style.colormap = attn::Colormap::Greyscale;
  style.opacity = 0.5f;
  style.grid = false;
  style.upsample = attn::Upsample::Nearest;
  const std::vector<float> map = {0.0f, 1.0f, 0.5f, 0.25f};
  const attn::Image out = attn::render_overlay(img, grid, map, style);
  // alpha(v) = 0.5 (0.25 + 0.75 v): v = 0 blends 12.5% black, v = 1 50% white.
  EXPECT_EQ(out.pixel(1, 1)[0], 175);
  EXPECT_EQ(out.pixel(5, 1)[0], 228);
  EXPECT_EQ(out.pixel(1, 5)[0], 178);  // v = 0.5: grey 128 at alpha 0.3125, 200 - 72 * 0.3125 = 177.5
  EXPECT_EQ(out.pixel(9, 1)[0], 90);   // cropped strip: dimmed, no overlay
  EXPECT_EQ(out.pixel(1, 8)[1], 90);
  EXPECT_EQ(out.pixel(1, 1)[3], 255);
  // Outlined query: white inside the patch edge.
  const int q = 3;
  const attn::Image o2 = attn::render_overlay(img, grid, map, style, std::span<const int>(&q, 1));
  EXPECT_EQ(o2.pixel(4, 4)[0], 255);
  EXPECT_EQ(o2.pixel(3, 4)[0], 0);
  EXPECT_EQ(o2.pixel(1, 1)[0], out.pixel(1, 1)[0]);  // other patches untouched
}

}  // namespace

TEST(Grids, ResampleAndMapCellsBetweenGrids) {
  attn::PatchGrid a, b;
  a.cols = 4, a.rows = 2, b.cols = 8, b.rows = 4;
  std::mt19937 rng(std::random_device{}());
  std::uniform_real_distribution<float> u(0, 1);
  std::vector<float> m(8);
  for (float& v : m) v = u(rng);
  EXPECT_EQ(attn::resample_map(m, a, a), m);
  // A linear ramp along the columns survives resampling (inside the clamped edges).
  for (int c = 0; c < 4; ++c) m[static_cast<size_t>(c)] = m[static_cast<size_t>(4 + c)] = static_cast<float>(c);
  const auto up = attn::resample_map(m, a, b);
  ASSERT_EQ(up.size(), 32u);
  for (int c = 1; c < 7; ++c) EXPECT_NEAR(up[static_cast<size_t>(c)], (c + 0.5) / 2 - 0.5, 1e-6) << c;
  EXPECT_FLOAT_EQ(up[0], 0.0f);
  EXPECT_FLOAT_EQ(up[7], 3.0f);
  // Cells map to the cell under their centre, and back.
  for (int t = 0; t < a.count(); ++t) EXPECT_EQ(attn::map_cell(attn::map_cell(t, a, b), b, a), t);
  EXPECT_EQ(attn::map_cell(a.index(3, 1), a, b), b.index(7, 3));
}

TEST(Overlay, SignedMapsScaleSymmetricallyLeavingTheExcludedOut) {
  std::mt19937 rng(std::random_device{}());
  std::uniform_real_distribution<float> u(-1, 1);
  std::vector<float> d(50);
  for (float& v : d) v = u(rng);
  d[7] = -40.0f;  // a query's own patch: left out of the scale
  const int excluded[] = {7};
  float top = 0;
  for (size_t i = 0; i < d.size(); ++i)
    if (i != 7) top = std::max(top, std::fabs(d[i]));
  EXPECT_FLOAT_EQ(attn::signed_top(d, excluded), top);
  const auto s = attn::scale_signed(d, top);
  for (size_t i = 0; i < d.size(); ++i) EXPECT_FLOAT_EQ(s[i], i == 7 ? 0.0f : 0.5f + 0.5f * d[i] / top) << i;
  EXPECT_FLOAT_EQ(attn::signed_top(std::vector<float>(4, 0.0f)), 1.0f);  // all zero: drawn at the middle
}
