#include "words_figure.hpp"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <cstdio>

namespace app {

int words_grid_columns(int panels) {
  if (panels <= 8) return std::max(1, panels);
  return std::min(10, static_cast<int>(std::ceil(std::sqrt(2.0 * panels))));
}

std::string word_label(const std::string& word) {
  std::string out;
  bool blank = true;
  for (char c : word) {
    if (c == '\n')
      out += "\\n";
    else if (c == '\r')
      out += "\\r";
    else if (c == '\t')
      out += "\\t";
    else
      out += c;
    if (c != ' ' && c != '\n' && c != '\r' && c != '\t') blank = false;
  }
  return blank ? "\u2423" : out;
}

std::string caption_of(const std::vector<std::string>& words) {
  std::string s;
  for (const auto& w : words) {
    if (!s.empty()) s += ' ';
    s += word_label(w);
  }
  return s;
}

std::string word_file_name(int index, const std::string& word) {
  std::string part;
  for (char c : word)
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_')
      if (part.size() < 24) part += c;
  char prefix[16];
  std::snprintf(prefix, sizeof prefix, "%02d", index);
  return prefix + (part.empty() ? std::string() : "-" + part) + ".png";
}

std::unique_ptr<Figure> words_grid(const attn::Image& image, const std::vector<attn::Image>& overlays,
                                   const std::vector<std::string>& words, const WordsFigureOptions& options) {
  assert(overlays.size() == words.size() && image.width > 0 && image.height > 0);
  const int panels = static_cast<int>(words.size()) + 1;
  const int cols = words_grid_columns(panels);
  const int rows = (panels + cols - 1) / cols;
  const double aspect = static_cast<double>(image.width) / image.height;
  const double pw = aspect >= 1 ? options.panel : options.panel * aspect;
  const double ph = aspect >= 1 ? options.panel / aspect : options.panel;
  const double margin = 14, gap = 10;
  const double label_size = std::clamp(options.panel / 14, 11.0, 18.0);
  const double label_h = options.labels ? label_size * 1.6 : 0;
  const double title_size = label_size * 1.15;
  double top = margin + titles_height(options.title, options.subtitle, title_size);
  if (top > margin) top += 4;
  const double width = 2 * margin + cols * pw + (cols - 1) * gap;
  const double height = top + rows * (ph + label_h) + (rows - 1) * gap + margin;
  auto fig = std::make_unique<Figure>(std::ceil(width), std::ceil(height));
  fig->fill(1, 1, 1);
  draw_titles(*fig, options.title, options.subtitle, title_size, margin);
  for (int i = 0; i < panels; ++i) {
    const double x0 = margin + (i % cols) * (pw + gap);
    const int row = i / cols;
    const double y0 = top + row * (ph + label_h + gap);
    fig->image(i == 0 ? image : overlays[static_cast<size_t>(i - 1)], x0, y0, pw, ph);
    if (!options.labels) continue;
    const bool is_image = i == 0;
    const std::string label = is_image ? "image" : word_label(words[static_cast<size_t>(i - 1)]);
    fig->text(fig->fit_text(label, pw, label_size, !is_image), x0 + pw / 2, y0 + ph + label_size * 1.2, label_size,
              TextAlign::Centre, !is_image, is_image ? 0.45 : 0.1);
  }
  return fig;
}

}  // namespace app
