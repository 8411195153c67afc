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

#include "core/colormap.hpp"
#include "core/image.hpp"

namespace app {

enum class FigureFormat { Png, Svg, Pdf };
// By the path's extension (.png, .svg, .pdf, any case); attn::Error
// otherwise, naming the extensions accepted.
FigureFormat figure_format(const std::string& path);

enum class TextAlign { Left, Centre, Right };

// The size a figure is written at. A figure is composed in figure units
// (its natural size: one unit is a PNG pixel, or a point of SVG and PDF);
// `width`, when given, scales it uniformly to that width.
//   px: the PNG's width in pixels; SVG and PDF take it as points.
//   mm, in: a physical width: points for SVG and PDF (72 per inch), pixels
//   at `dpi` for PNG.
// `dpi` alone (no width) writes a PNG of the vector figure's physical size
// at that resolution: natural width / 72 · dpi pixels.
struct FigureSize {
  enum class Unit { Px, Mm, In };
  double width = 0;  // 0: natural
  Unit unit = Unit::Px;
  double dpi = 0;  // 0: not given (96 for mm and in)
  // The factor from figure units to the output's units for a figure of
  // `natural_width` figure units written as `format`.
  double scale(double natural_width, FigureFormat format) const;
};
// width: "" (natural), "1200", "1200px", "180mm", "7in" or "7.5in", in
// (0, 20000] px, (0, 2000] mm or (0, 80] in; dpi: 0 (not given) or in
// [10, 2400]. attn::Error (naming --width or --dpi) otherwise.
FigureSize figure_size(const std::string& width, double dpi);

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
  // One line of text reading upwards (turned a quarter left), centred on
  // y, its baseline at x.
  void text_up(const std::string& s, double x, double y, double size, double grey = 0.1);
  // The width `s` would take.
  double text_width(const std::string& s, double size, bool bold = false) const;
  // `s`, shortened with an ellipsis (at a UTF-8 character boundary) until
  // it fits in `width`.
  std::string fit_text(const std::string& s, double width, double size, bool bold = false) const;

  // A straight line from (x0, y0) to (x1, y1), `width` wide, in colour
  // (r, g, b) at opacity `alpha`.
  void line(double x0, double y0, double x1, double y1, double width, double r, double g, double b, double alpha = 1.0);
  // The outline of the box (x, y, w, h), the stroke centred on its edge.
  void outline(double x, double y, double w, double h, double width, double r, double g, double b);
  // A filled box.
  void box(double x, double y, double w, double h, double r, double g, double b);
  // The box (x, y, w, h) filled with `table`'s colours as a linear
  // gradient (a vector shape): entry 0 at the bottom (vertical) or the left.
  void gradient(double x, double y, double w, double h, const attn::ColormapTable& table, bool vertical);

  // The figure in `format`, as a file's bytes, every length multiplied by
  // `scale` (a PNG of ceil(width·scale) x ceil(height·scale) pixels).
  std::vector<std::uint8_t> encode(FigureFormat format, double scale = 1.0) const;
  // Written atomically to `path`, the format by its extension, at `size`.
  void save(const std::string& path, const FigureSize& size) const;
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
