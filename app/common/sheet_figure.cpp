#include "sheet_figure.hpp"

#include <algorithm>
#include <cassert>
#include <cmath>

namespace app {

std::unique_ptr<Figure> sheet_figure(const std::vector<std::vector<attn::Image>>& panels,
                                     const std::vector<std::string>& columns, const std::vector<std::string>& rows,
                                     const SheetOptions& options) {
  assert(!panels.empty() && panels.size() == rows.size() && !panels.front().empty());
  const attn::Image& first = panels.front().front();
  const int ncols = static_cast<int>(columns.size()), nrows = static_cast<int>(rows.size());
  const double aspect = static_cast<double>(first.width) / first.height;
  const double pw = aspect >= 1 ? options.panel : options.panel * aspect;
  const double ph = aspect >= 1 ? options.panel / aspect : options.panel;
  const double margin = 14, gap = 6;
  const double label_size = std::clamp(options.panel / 12, 10.0, 16.0);
  const double title_size = label_size * 1.25;
  // The row labels' column: as wide as the widest label.
  Figure measure(1, 1);
  double row_w = 0;
  if (options.labels)
    for (const auto& r : rows) row_w = std::max(row_w, measure.text_width(r, label_size, true));
  const double left = margin + (row_w > 0 ? row_w + 10 : 0);
  double top = margin + titles_height(options.title, options.subtitle, title_size);
  if (options.labels) top += label_size * 1.6;
  const double width = left + ncols * pw + (ncols - 1) * gap + margin;
  const double height = top + nrows * ph + (nrows - 1) * gap + margin;
  auto fig = std::make_unique<Figure>(std::ceil(width), std::ceil(height));
  fig->fill(1, 1, 1);
  draw_titles(*fig, options.title, options.subtitle, title_size, margin);
  if (options.labels)
    for (int c = 0; c < ncols; ++c)
      fig->text(fig->fit_text(columns[static_cast<size_t>(c)], pw, label_size, true), left + c * (pw + gap) + pw / 2,
                top - label_size * 0.5, label_size, TextAlign::Centre, true);
  for (int r = 0; r < nrows; ++r) {
    const double y0 = top + r * (ph + gap);
    if (options.labels)
      fig->text(rows[static_cast<size_t>(r)], left - 10, y0 + ph / 2 + label_size * 0.35, label_size, TextAlign::Right,
                true);
    const auto& row = panels[static_cast<size_t>(r)];
    assert(static_cast<int>(row.size()) == ncols);
    for (int c = 0; c < ncols; ++c) fig->image(row[static_cast<size_t>(c)], left + c * (pw + gap), y0, pw, ph);
  }
  return fig;
}

}  // namespace app
