#include "panels_figure.hpp"

#include <algorithm>
#include <cassert>
#include <cmath>

namespace app {

attn::MapRange panel_range(const MapPanel& panel) {
  const std::span<const int> excluded =
      panel.style.scale_includes_outlined ? std::span<const int>() : std::span<const int>(panel.outlined);
  if (!panel.style.signed_values) return attn::scale_range(panel.map, panel.style.scale, excluded);
  const float top = attn::signed_top(panel.map, excluded);
  return {-top, top};
}

std::string weight_caption(attn::MapScale scale) {
  return scale == attn::MapScale::Fixed ? "attention weight"
                                        : "attention weight (" + std::string(attn::name_of(scale)) + " scale)";
}

namespace {

// The panel's overlay raster, `step` image pixels per raster pixel: the
// heatmap and the dimmed strips only (grid lines and rings are drawn as
// shapes).
attn::Image panel_raster(const MapPanel& p, float step) {
  attn::OverlayStyle style = p.style;
  style.grid = false;
  style.rings = false;
  std::vector<float> map = p.map;
  if (style.signed_values) {
    map = attn::scale_signed(map, panel_range(p).hi);
    style.scale = attn::MapScale::Fixed;
  }
  attn::OverlayRegion region;
  region.step = step;
  return attn::render_overlay(*p.image, p.grid, map, style, p.outlined, region);
}

// Grid lines and rings over a panel drawn at (x, y), `unit` figure units
// per image pixel.
void draw_shapes(Figure& fig, const MapPanel& p, double x, double y, double unit) {
  const attn::PatchGrid& g = p.grid;
  const double side = g.patch * unit;
  if (p.style.grid && side >= 6) {
    // Each line just inside the patch's edge, as the raster overlay draws
    // it: one pixel wide at the image's own size, on the pixel, not across two.
    const double w = std::clamp(unit, 0.4, 1.2), o = w / 2;
    for (int c = 1; c < g.cols; ++c)
      fig.line(x + c * side + o, y, x + c * side + o, y + g.rows * side, w, 1, 1, 1, 0.35);
    for (int r = 1; r < g.rows; ++r)
      fig.line(x, y + r * side + o, x + g.cols * side, y + r * side + o, w, 1, 1, 1, 0.35);
  }
  if (!p.style.rings) return;
  const double white = std::min(std::max(2 * unit, 1.5), side / 2), black = std::max(unit, 1.0);
  for (int cell : p.outlined) {
    if (cell < 0 || cell >= g.count()) continue;
    const int col = cell % g.cols, row = cell / g.cols;
    const double cx = x + col * side, cy = y + row * side;
    fig.outline(cx + white / 2, cy + white / 2, side - white, side - white, white, 1, 1, 1);
    fig.outline(cx - black / 2, cy - black / 2, side + black, side + black, black, 0, 0, 0);
  }
}

}  // namespace

std::unique_ptr<Figure> panels_figure(const std::vector<MapPanel>& panels, const PanelsOptions& options) {
  assert(!panels.empty() && panels.front().image);
  const int n = static_cast<int>(panels.size());
  // Each panel's figure units per image pixel, width and height; the row
  // is as tall as the tallest.
  std::vector<double> units, widths;
  double pw = 0, ph = 0;  // the widest and the tallest
  for (const MapPanel& p : panels) {
    assert(p.image);
    const double longer = std::max(p.image->width, p.image->height);
    units.push_back(options.panel > 0 ? options.panel / longer : 1.0);
    widths.push_back(p.image->width * units.back());
    pw = std::max(pw, widths.back());
    ph = std::max(ph, p.image->height * units.back());
  }
  double total_w = 0;
  for (double w : widths) total_w += w;
  // Whole figure units for the panels' corners: a PNG's pixels then fall
  // on the images' pixels (as in a PDF viewer), not between them.
  const double margin = std::round(std::clamp(std::max(pw, ph) / 30, 8.0, 24.0)), gap = margin;
  const double size = std::clamp(std::max(pw, ph) / 28, 9.0, 28.0);  // labels and ticks
  const double title_size = size * 1.3;
  const bool single = n == 1;
  const double thickness = size * 1.1;

  std::vector<ColourBar> bars;
  for (const MapPanel& p : panels) {
    const attn::MapRange r = panel_range(p);
    bars.push_back({p.style.signed_values ? attn::Colormap::Diverging : p.style.colormap, r.lo, r.hi, p.caption});
  }
  Figure measure(1, 1);
  double bar_extent = 0;
  if (options.colour_bars)
    for (const ColourBar& b : bars)
      bar_extent = std::max(bar_extent, colour_bar_extent(measure, b, thickness, size, single));

  bool any_label = false;
  for (const MapPanel& p : panels) any_label |= options.labels && !p.label.empty();
  double top = margin + titles_height(options.title, options.subtitle, title_size);
  if (any_label) top += size * 1.7;
  top = std::round(top);
  const double bar_gap = size * 0.8;
  double width = margin * 2 + total_w + (n - 1) * gap;
  double height = top + ph + margin;
  if (options.colour_bars) {
    if (single)
      width += bar_gap + bar_extent;
    else
      height += bar_gap + bar_extent;
  }
  // Room for the title's words when the panels are narrow.
  width = std::max(width, 2 * margin + std::min(measure.text_width(options.title, title_size, true), 4 * pw));
  auto fig = std::make_unique<Figure>(std::ceil(width), std::ceil(height));
  fig->fill(1, 1, 1);
  draw_titles(*fig, options.title, options.subtitle, title_size, margin);

  double x = margin;
  for (int i = 0; i < n; ++i) {
    const MapPanel& p = panels[static_cast<size_t>(i)];
    const double unit = units[static_cast<size_t>(i)], w = widths[static_cast<size_t>(i)];
    const double h = p.image->height * unit;
    // A raster of about twice the panel's size (or the image's own), so
    // that a PNG written larger stays sharp.
    const float step = static_cast<float>(std::max(1.0, 1.0 / (2 * unit)));
    if (any_label && !p.label.empty())
      fig->text(fig->fit_text(p.label, w, size, true), x + w / 2, top - size * 0.55, size, TextAlign::Centre, true);
    fig->image(panel_raster(p, step), x, top, w, h, /*sharp=*/unit >= 1);
    draw_shapes(*fig, p, x, top, unit);
    if (options.colour_bars) {
      if (single)
        draw_colour_bar(*fig, bars[0], x + w + bar_gap, top + h * 0.1, h * 0.8, thickness, size, true);
      else
        draw_colour_bar(*fig, bars[static_cast<size_t>(i)], x + w * 0.1, top + ph + bar_gap, w * 0.8, thickness, size,
                        false);
    }
    x = std::round(x + w + gap);
  }
  return fig;
}

}  // namespace app
