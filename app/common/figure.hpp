#pragma once
// Figures with labels: pictures, text and lines composed once, then written
// as PNG, SVG or PDF (chosen by the file's extension) through cairo. The
// rasters (overlays, images) are embedded at their own resolution; text and
// lines stay vector shapes in SVG and PDF.
//
// Coordinates are in figure units: pixels of the PNG, points (1/72 inch) of
// SVG and PDF, top-left origin. Text is DejaVu Sans (fonts-dejavu-core),
// UTF-8. Writing is atomic (no partial file); errors throw attn::Error
// naming the file.
#include <memory>
#include <string>
#include <vector>

#include "core/image.hpp"

namespace app {

enum class FigureFormat { Png, Svg, Pdf };
// By the path's extension (.png, .svg, .pdf, any case); attn::Error
// otherwise, naming the extensions accepted.
FigureFormat figure_format(const std::string& path);

enum class TextAlign { Left, Centre, Right };

class Figure {
 public:
  Figure(double width, double height);
  ~Figure();
  Figure(const Figure&) = delete;
  Figure& operator=(const Figure&) = delete;

  double width() const { return width_; }
  double height() const { return height_; }

  // Fills the whole figure (the background).
  void fill(double r, double g, double b);
  // `image` drawn into the box (x, y, w, h), scaled with a smooth filter
  // (nearest when `sharp`, for flat patches).
  void image(const attn::Image& image, double x, double y, double w, double h, bool sharp = false);
  // One line of text whose baseline is at y, aligned at x. size: the font's
  // size in figure units.
  void text(const std::string& s, double x, double y, double size, TextAlign align = TextAlign::Left, bool bold = false,
            double grey = 0.1);
  // The width `s` would take.
  double text_width(const std::string& s, double size, bool bold = false) const;
  // `s`, shortened with an ellipsis (at a UTF-8 character boundary) until
  // it fits in `width`.
  std::string fit_text(const std::string& s, double width, double size, bool bold = false) const;

  // The figure in `format`, as a file's bytes.
  std::vector<std::uint8_t> encode(FigureFormat format) const;
  // Written atomically to `path`, the format by its extension.
  void save(const std::string& path) const;

 private:
  struct Cairo;
  double width_, height_;
  std::unique_ptr<Cairo> cairo_;  // a recording surface and its context
};

// A title (bold, `size`) and a subtitle (grey, 0.7 x `size`) at the
// figure's top-left `margin`, each shortened to fit; either may be empty.
// titles_height: the height they take below the margin.
double titles_height(const std::string& title, const std::string& subtitle, double size);
void draw_titles(Figure& fig, const std::string& title, const std::string& subtitle, double size, double margin);

}  // namespace app
