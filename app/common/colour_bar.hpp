#pragma once
// A figure's colour bar: the colormap as a gradient, ticks at round values
// and their labels, and a caption saying what the colours measure.
#include <string>
#include <vector>

#include "common/figure.hpp"
#include "core/colormap.hpp"

namespace app {

struct ColourBar {
  attn::Colormap colormap = attn::Colormap::Inferno;
  double lo = 0, hi = 1;  // the values at the bar's ends (lo < hi)
  std::string caption;    // e.g. "attention weight"; none when empty
};

// Round values (1, 2 or 5 times a power of ten apart) in [lo, hi], at most
// `most` of them and at least two when the range allows; 0 among them when
// lo < 0 < hi. Empty when !(lo < hi).
std::vector<double> nice_ticks(double lo, double hi, int most = 6);
// `v` with as many decimals as `step` needs (scientific below 1e-4).
std::string tick_label(double v, double step);

// Draws `bar` with its long side `length` and short side `thickness`,
// top-left at (x, y): vertical (lo at the bottom, labels to the right) or
// horizontal (lo at the left, labels below). size: the labels' font size.
// Returns the extent taken across the bar (thickness plus ticks, labels and
// caption): the width when vertical, the height when horizontal.
double draw_colour_bar(Figure& fig, const ColourBar& bar, double x, double y, double length, double thickness,
                       double size, bool vertical);
// What draw_colour_bar would return, without drawing.
double colour_bar_extent(const Figure& fig, const ColourBar& bar, double thickness, double size, bool vertical);

}  // namespace app
