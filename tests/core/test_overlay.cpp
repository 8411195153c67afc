#include <gtest/gtest.h>

#include <cmath>

#include "core/overlay.hpp"

namespace {

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
