#pragma once
// Maps over an image as a figure: one panel, or several side by side (a
// comparison A | B | A - B), each with its label above and its colour bar.
// The heatmap is an embedded raster; the grid lines, the queries' rings,
// the colour bars and all text are vector shapes in SVG and PDF.
#include <memory>
#include <string>
#include <vector>

#include "common/colour_bar.hpp"
#include "common/figure.hpp"
#include "core/image.hpp"
#include "core/overlay.hpp"
#include "core/patches.hpp"

namespace app {

struct MapPanel {
  const attn::Image* image = nullptr;  // the image the grid was cut from
  attn::PatchGrid grid;
  std::vector<float> map;     // grid.count() values, patch order
  attn::OverlayStyle style;   // with style.signed_values, `map` is signed
                              // (a difference): drawn with the diverging
                              // map on a scale symmetric about zero
  std::vector<int> outlined;  // patches ringed (the queries)
  std::string label;          // above the panel; none when empty
  std::string caption;        // the colour bar's caption
};

struct PanelsOptions {
  double panel = 0;         // the panels' longer side in figure units; 0: the image's own size
  std::string title;        // a line above the figure; none when empty
  std::string subtitle;     // a smaller line under it; none when empty
  bool labels = true;       // the panels' labels
  bool colour_bars = true;  // one per panel: right of a single panel, under each of several
};

// What a panel's colours span: scale_range() of its map, or [-m, m] for a
// signed one, m the largest magnitude outside the rings (1 when all zero).
attn::MapRange panel_range(const MapPanel& panel);
// A colour bar's caption for weights drawn on `scale`: "attention weight",
// or "attention weight (max scale)".
std::string weight_caption(attn::MapScale scale);

// The panels' images may differ in size (two photos, two models' inputs):
// each is scaled to options.panel on its longer side, or drawn at its own
// size (one figure unit a pixel) when options.panel is 0.
std::unique_ptr<Figure> panels_figure(const std::vector<MapPanel>& panels, const PanelsOptions& options = {});

}  // namespace app
