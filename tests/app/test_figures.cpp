// Figures' pieces: colour-bar ticks, sizes, the data sidecars, and the
// command line's --compare overrides.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "common/args.hpp"
#include "common/colour_bar.hpp"
#include "common/figure.hpp"
#include "common/figure_data.hpp"
#include "common/panels_figure.hpp"
#include "core/error.hpp"
#include "core/overlay.hpp"

namespace {

TEST(ColourBar, TicksAreRoundAndInsideTheRange) {
  std::mt19937 rng(std::random_device{}());
  std::uniform_real_distribution<double> u(-3, 3);
  for (int trial = 0; trial < 2000; ++trial) {
    const double scale = std::pow(10.0, u(rng)), a = u(rng) * scale, b = a + std::fabs(u(rng)) * scale + 1e-6 * scale;
    const auto ticks = app::nice_ticks(a, b, 6);
    ASSERT_LE(ticks.size(), 6u) << a << " " << b;
    ASSERT_GE(ticks.size(), 1u) << a << " " << b;
    for (double t : ticks) ASSERT_TRUE(t >= a - 1e-9 * scale && t <= b + 1e-9 * scale) << t << " in " << a << " " << b;
    if (ticks.size() >= 2) {
      const double step = ticks[1] - ticks[0];
      const double mantissa = step / std::pow(10.0, std::floor(std::log10(step) + 1e-9));
      EXPECT_TRUE(std::fabs(mantissa - 1) < 1e-6 || std::fabs(mantissa - 2) < 1e-6 || std::fabs(mantissa - 5) < 1e-6)
          << step;
      // At most one step is left unlabelled at either end.
      EXPECT_LT(ticks.front() - a, step * (1 + 1e-9));
      EXPECT_LT(b - ticks.back(), step * (1 + 1e-9));
    }
  }
  EXPECT_EQ(app::nice_ticks(0, 0.0313), (std::vector<double>{0, 0.01, 0.02, 0.03}));
  const auto symmetric = app::nice_ticks(-0.07, 0.07);
  EXPECT_NE(std::find(symmetric.begin(), symmetric.end(), 0.0), symmetric.end());
  EXPECT_TRUE(app::nice_ticks(1, 1).empty());
  EXPECT_TRUE(app::nice_ticks(0, NAN).empty());
}

TEST(ColourBar, LabelsHaveTheDecimalsTheStepNeeds) {
  EXPECT_EQ(app::tick_label(0.015, 0.005), "0.015");
  EXPECT_EQ(app::tick_label(0.02, 0.01), "0.02");
  EXPECT_EQ(app::tick_label(-0.05, 0.05), "-0.05");
  EXPECT_EQ(app::tick_label(0, 0.05), "0");
  EXPECT_EQ(app::tick_label(20, 10), "20");
  EXPECT_EQ(app::tick_label(2e-5, 1e-5), "2e-05");
}

TEST(FigureSize, WidthsInPixelsMillimetresAndInches) {
  using app::FigureFormat;
  EXPECT_DOUBLE_EQ(app::figure_size("", 0).scale(500, FigureFormat::Png), 1.0);
  EXPECT_DOUBLE_EQ(app::figure_size("1000px", 0).scale(500, FigureFormat::Png), 2.0);
  EXPECT_DOUBLE_EQ(app::figure_size("1000", 0).scale(500, FigureFormat::Pdf), 2.0);
  // 180 mm: 510.24 pt in a PDF, 2126 px at 300 dpi.
  EXPECT_NEAR(app::figure_size("180mm", 0).scale(100, FigureFormat::Pdf) * 100, 180 / 25.4 * 72, 1e-9);
  EXPECT_NEAR(app::figure_size("180mm", 300).scale(100, FigureFormat::Png) * 100, 180 / 25.4 * 300, 1e-9);
  EXPECT_NEAR(app::figure_size("7in", 0).scale(100, FigureFormat::Png) * 100, 7 * 96, 1e-9);
  EXPECT_NEAR(app::figure_size("", 144).scale(100, FigureFormat::Png), 2.0, 1e-12);
  for (const char* bad : {"10cm", "-5mm", "0", "px", "1e9", "3 in", "nan"})
    EXPECT_THROW(app::figure_size(bad, 0), attn::Error) << bad;
  EXPECT_THROW(app::figure_size("", 5), attn::Error);
  EXPECT_THROW(app::figure_size("", 1e6), attn::Error);
}

TEST(Figure, TooLargeAPngIsRefusedNotAllocated) {
  app::Figure fig(100, 100);
  EXPECT_THROW(fig.encode(app::FigureFormat::Png, 500), attn::Error);
  EXPECT_NO_THROW(fig.encode(app::FigureFormat::Pdf, 500));
}

TEST(FigureData, CsvHasOneLinePerValueWithItsIndicesAndLabels) {
  app::FigureData d;
  d.axes = {{"word", {"a", "red, \"big\""}}, {"row", {}}, {"col", {}}};
  d.shape = {2, 1, 3};
  d.values = {1, 2, 3, 4, 5, 0.25f};
  const std::string csv = app::figure_csv(d);
  EXPECT_EQ(csv,
            "word,word_label,row,col,value\n0,a,0,0,1\n0,a,0,1,2\n0,a,0,2,3\n1,\"red, \"\"big\"\"\",0,0,4\n"
            "1,\"red, \"\"big\"\"\",0,1,5\n1,\"red, \"\"big\"\"\",0,2,0.25\n");
  const auto j = app::figure_json(d);
  EXPECT_EQ(j["shape"], nlohmann::json({2, 1, 3}));
  EXPECT_EQ(j["axes"][0]["labels"][1], "red, \"big\"");
  EXPECT_EQ(app::data_base("x/y.npy"), "x/y");
  EXPECT_EQ(app::data_base("x/y.json"), "x/y");
  EXPECT_EQ(app::data_base("x/y"), "x/y");
}

TEST(PanelRange, SignedPanelsAreSymmetricAndLeaveTheQueryOut) {
  attn::Image img;
  img.width = img.height = 4;
  img.rgba.assign(64, 255);
  app::MapPanel p;
  p.image = &img;
  p.grid.patch = 2, p.grid.cols = 2, p.grid.rows = 2;
  p.map = {0.5f, -0.2f, 0.1f, -9.0f};
  p.outlined = {3};
  p.style.signed_values = true;
  auto r = app::panel_range(p);
  EXPECT_FLOAT_EQ(r.lo, -0.5f);
  EXPECT_FLOAT_EQ(r.hi, 0.5f);
  p.style.signed_values = false;
  p.style.scale = attn::MapScale::MinMax;
  r = app::panel_range(p);
  EXPECT_FLOAT_EQ(r.lo, -0.2f);
  EXPECT_FLOAT_EQ(r.hi, 0.5f);
  // scale_map and scale_range agree: lo goes to 0, hi to 1.
  const auto scaled = attn::scale_map(p.map, attn::MapScale::MinMax, p.outlined);
  EXPECT_FLOAT_EQ(scaled[1], 0.0f);
  EXPECT_FLOAT_EQ(scaled[0], 1.0f);
  EXPECT_NO_THROW(app::panels_figure({p}));
}

app::Args parse(std::vector<std::string> words, const std::vector<app::OptionSpec>& spec) {
  std::vector<char*> argv;
  for (auto& w : words) argv.push_back(w.data());
  return app::Args(static_cast<int>(argv.size()), argv.data(), 1, spec);
}

TEST(Args, WithChangesTheNamedSettingsOnly) {
  const std::vector<app::OptionSpec> spec = {{"temperature"}, {"query"}, {"out"}, {"pos-encoding", false}};
  const app::Args a = parse({"x", "--temperature", "1", "--out", "a.png"}, spec);
  std::vector<std::pair<std::string, std::string>> changed;
  const app::Args b = a.with("temperature=5,query=3,4,pos-encoding=true", spec, {"out"}, "--compare", &changed);
  EXPECT_EQ(b.get("temperature"), "5");
  EXPECT_EQ(b.get("query"), "3,4");
  EXPECT_TRUE(b.has("pos-encoding"));
  EXPECT_EQ(b.get("out"), "a.png");
  EXPECT_EQ(a.get("temperature"), "1");
  ASSERT_EQ(changed.size(), 3u);
  EXPECT_EQ(changed[1], (std::pair<std::string, std::string>{"query", "3,4"}));
  EXPECT_FALSE(b.with("pos-encoding=off", spec, {}, "--compare").has("pos-encoding"));
  for (const char* bad : {"", "temperature", "out=b.png", "colour=red", "pos-encoding=maybe", "temperature=5,"})
    EXPECT_THROW(a.with(bad, spec, {"out"}, "--compare"), attn::Error) << bad;
}

}  // namespace
