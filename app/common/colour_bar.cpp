#include "colour_bar.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace app {

std::vector<double> nice_ticks(double lo, double hi, int most) {
  std::vector<double> ticks;
  if (!(lo < hi) || !std::isfinite(lo) || !std::isfinite(hi) || most < 2) return ticks;
  const double range = hi - lo;
  // The smallest step of the form {1, 2, 5} x 10^k giving at most `most` ticks.
  double step = std::pow(10.0, std::floor(std::log10(range / (most - 1))));
  for (int i = 0; i < 12; ++i) {
    const double count = std::floor(hi / step + 1e-9) - std::ceil(lo / step - 1e-9) + 1;
    if (count <= most) break;
    const double mantissa = step / std::pow(10.0, std::floor(std::log10(step) + 1e-9));
    step *= mantissa < 1.5 ? 2.0 : mantissa < 3.5 ? 2.5 : 2.0;  // 1 -> 2 -> 5 -> 10
  }
  for (double k = std::ceil(lo / step - 1e-9); k * step <= hi + step * 1e-9; k += 1) {
    const double v = k * step;
    ticks.push_back(std::fabs(v) < step * 1e-9 ? 0.0 : v);
    if (ticks.size() > static_cast<size_t>(most)) break;
  }
  return ticks;
}

std::string tick_label(double v, double step) {
  char text[32];
  if (v == 0) return "0";
  if (step < 1e-4 || std::fabs(v) >= 1e6) {
    std::snprintf(text, sizeof text, "%.2g", v);
  } else {
    const int decimals = std::max(0, static_cast<int>(std::ceil(-std::log10(step) - 1e-9)));
    std::snprintf(text, sizeof text, "%.*f", std::min(decimals, 8), v);
  }
  return text;
}

namespace {

// Labels, their widest width, and the ticks' step.
struct Labels {
  std::vector<double> ticks;
  std::vector<std::string> text;
  double widest = 0;
};

Labels labels_of(const Figure& fig, const ColourBar& bar, double size) {
  Labels l;
  l.ticks = nice_ticks(bar.lo, bar.hi);
  const double step = l.ticks.size() >= 2 ? l.ticks[1] - l.ticks[0] : bar.hi - bar.lo;
  for (double t : l.ticks) {
    l.text.push_back(tick_label(t, step));
    l.widest = std::max(l.widest, fig.text_width(l.text.back(), size));
  }
  return l;
}

}  // namespace

double colour_bar_extent(const Figure& fig, const ColourBar& bar, double thickness, double size, bool vertical) {
  const Labels l = labels_of(fig, bar, size);
  const double tick = size * 0.4, gap = size * 0.3;
  if (vertical) return thickness + tick + gap + l.widest + (bar.caption.empty() ? 0 : gap + size * 1.1);
  return thickness + tick + gap + size + (bar.caption.empty() ? 0 : gap + size * 1.2);
}

double draw_colour_bar(Figure& fig, const ColourBar& bar, double x, double y, double length, double thickness,
                       double size, bool vertical) {
  const Labels l = labels_of(fig, bar, size);
  const attn::ColormapTable& table = attn::colormap_table(bar.colormap);
  const double tick = size * 0.4, gap = size * 0.3, grey = 0.25, line = std::max(0.5, size / 14);
  if (vertical)
    fig.gradient(x, y, thickness, length, table, true);
  else
    fig.gradient(x, y, length, thickness, table, false);
  fig.outline(x, y, vertical ? thickness : length, vertical ? length : thickness, line, grey, grey, grey);
  const double span = bar.hi - bar.lo;
  for (size_t i = 0; i < l.ticks.size(); ++i) {
    const double f = span > 0 ? (l.ticks[i] - bar.lo) / span : 0;
    if (vertical) {
      const double ty = y + length * (1 - f);
      fig.line(x + thickness, ty, x + thickness + tick, ty, line, grey, grey, grey);
      fig.text(l.text[i], x + thickness + tick + gap, ty + size * 0.35, size, TextAlign::Left, false, 0.15);
    } else {
      const double tx = x + length * f;
      fig.line(tx, y + thickness, tx, y + thickness + tick, line, grey, grey, grey);
      fig.text(l.text[i], tx, y + thickness + tick + gap + size * 0.8, size, TextAlign::Centre, false, 0.15);
    }
  }
  const double extent = colour_bar_extent(fig, bar, thickness, size, vertical);
  if (!bar.caption.empty()) {
    if (vertical) {  // reading upwards, right of the labels
      fig.text_up(fig.fit_text(bar.caption, length, size * 0.9), x + extent - size * 0.2, y + length / 2, size * 0.9,
                  0.35);
    } else {
      fig.text(fig.fit_text(bar.caption, length, size * 0.9), x + length / 2, y + extent - size * 0.1, size * 0.9,
               TextAlign::Centre, false, 0.35);
    }
  }
  return extent;
}

}  // namespace app
