#include <gtest/gtest.h>

#include <cmath>

#include "core/colormap.hpp"

namespace {

double luminance(attn::Rgb c) { return 0.2126 * c.r + 0.7152 * c.g + 0.0722 * c.b; }

TEST(Colormap, PublishedEndpointsAndNames) {
  using attn::Colormap;
  const auto& v = attn::colormap_table(Colormap::Viridis);
  EXPECT_EQ(v[0].r, 0x44);
  EXPECT_EQ(v[0].g, 0x01);
  EXPECT_EQ(v[0].b, 0x54);
  EXPECT_EQ(v[255].r, 0xfd);
  EXPECT_EQ(v[255].g, 0xe7);
  EXPECT_EQ(v[255].b, 0x25);
  const auto& g = attn::colormap_table(Colormap::Greyscale);
  for (int i = 0; i < 256; ++i) EXPECT_EQ(g[static_cast<size_t>(i)].r, i);
  for (Colormap m : attn::kAllColormaps) EXPECT_EQ(attn::colormap_from_name(attn::colormap_name(m)), m);
  EXPECT_FALSE(attn::colormap_from_name("jet").has_value());
}

TEST(Colormap, SequentialMapsGetBrighterMonotonically) {
  using attn::Colormap;
  for (Colormap m : {Colormap::Viridis, Colormap::Magma, Colormap::Inferno, Colormap::Plasma, Colormap::Cividis,
                     Colormap::Greyscale}) {
    const auto& t = attn::colormap_table(m);
    for (int i = 8; i < 256; i += 8)
      EXPECT_GT(luminance(t[static_cast<size_t>(i)]), luminance(t[static_cast<size_t>(i - 8)]) - 0.5)
          << attn::colormap_name(m) << " at " << i;
  }
}

TEST(Colormap, LookupClampsAndHandlesNaN) {
  const auto& t = attn::colormap_table(attn::Colormap::Inferno);
  EXPECT_EQ(attn::colormap_lookup(t, -1.0f).r, t[0].r);
  EXPECT_EQ(attn::colormap_lookup(t, 2.0f).g, t[255].g);
  EXPECT_EQ(attn::colormap_lookup(t, std::nanf("")).b, t[0].b);
}

}  // namespace
