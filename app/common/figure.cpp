#include "figure.hpp"

#include <cairo-pdf.h>
#include <cairo-svg.h>
#include <cairo.h>

#include <algorithm>
#include <cctype>
#include <cmath>

#include "core/error.hpp"
#include "core/io.hpp"

namespace app {

FigureFormat figure_format(const std::string& path) {
  const size_t dot = path.find_last_of('.');
  const size_t slash = path.find_last_of('/');
  std::string ext = dot == std::string::npos || (slash != std::string::npos && dot < slash) ? "" : path.substr(dot);
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  if (ext == ".png") return FigureFormat::Png;
  if (ext == ".svg") return FigureFormat::Svg;
  if (ext == ".pdf") return FigureFormat::Pdf;
  throw attn::Error(path + ": a figure is written as .png, .svg or .pdf (chosen by the extension)");
}

double FigureSize::scale(double natural_width, FigureFormat format) const {
  const bool png = format == FigureFormat::Png;
  if (width <= 0) return png && dpi > 0 ? dpi / 72.0 : 1.0;
  double target = width;  // in the output's units
  if (unit != Unit::Px) {
    const double inches = unit == Unit::Mm ? width / 25.4 : width;
    target = inches * (png ? (dpi > 0 ? dpi : 96.0) : 72.0);
  }
  return target / natural_width;
}

FigureSize figure_size(const std::string& width, double dpi) {
  FigureSize size;
  if (dpi != 0 && !(dpi >= 10 && dpi <= 2400))
    throw attn::Error("--dpi must be in [10, 2400], got " + std::to_string(dpi));
  size.dpi = dpi;
  if (width.empty()) return size;
  size_t used = 0;
  double value = 0;
  try {
    value = std::stod(width, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  const std::string unit = width.substr(used);
  double limit = 20000;
  if (unit == "mm")
    size.unit = FigureSize::Unit::Mm, limit = 2000;
  else if (unit == "in")
    size.unit = FigureSize::Unit::In, limit = 80;
  else if (!unit.empty() && unit != "px")
    used = 0;
  if (used == 0 || !(value > 0 && value <= limit))
    throw attn::Error(
        "--width: expected a width such as 1200px, 180mm or 7in (at most 20000px, 2000mm or 80in), got '" +
        attn::printable(width) + "'");
  size.width = value;
  return size;
}

struct Figure::Cairo {
  cairo_surface_t* surface = nullptr;
  cairo_t* cr = nullptr;
  ~Cairo() {
    if (cr) cairo_destroy(cr);
    if (surface) cairo_surface_destroy(surface);
  }
};

namespace {

void check(cairo_status_t status, const std::string& what) {
  if (status != CAIRO_STATUS_SUCCESS) throw attn::Error(what + ": " + cairo_status_to_string(status));
}

void select_font(cairo_t* cr, double size, bool bold) {
  cairo_select_font_face(cr, "DejaVu Sans", CAIRO_FONT_SLANT_NORMAL,
                         bold ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL);
  cairo_set_font_size(cr, size);
}

cairo_status_t append_bytes(void* closure, const unsigned char* data, unsigned int length) {
  auto* out = static_cast<std::vector<std::uint8_t>*>(closure);
  out->insert(out->end(), data, data + length);
  return CAIRO_STATUS_SUCCESS;
}

// Length of the UTF-8 sequence that starts with byte c (1 for a stray
// continuation byte, so that cutting never loops).
size_t utf8_length(unsigned char c) {
  if (c >= 0xF0) return 4;
  if (c >= 0xE0) return 3;
  if (c >= 0xC0) return 2;
  return 1;
}

}  // namespace

Figure::Figure(double width, double height) : width_(width), height_(height), cairo_(std::make_unique<Cairo>()) {
  if (!(width > 0 && height > 0 && width <= 1e5 && height <= 1e5))
    throw attn::Error("a figure of " + std::to_string(width) + " x " + std::to_string(height) + " is not drawable");
  const cairo_rectangle_t extents = {0, 0, width, height};
  cairo_->surface = cairo_recording_surface_create(CAIRO_CONTENT_COLOR_ALPHA, &extents);
  cairo_->cr = cairo_create(cairo_->surface);
  check(cairo_status(cairo_->cr), "cairo");
}

Figure::~Figure() = default;

void Figure::fill(double r, double g, double b) {
  cairo_t* cr = cairo_->cr;
  cairo_save(cr);
  cairo_set_source_rgb(cr, r, g, b);
  cairo_paint(cr);
  cairo_restore(cr);
}

void Figure::image(const attn::Image& image, double x, double y, double w, double h, bool sharp) {
  if (image.width <= 0 || image.height <= 0 || w <= 0 || h <= 0) return;
  cairo_surface_t* s = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, image.width, image.height);
  check(cairo_surface_status(s), "cairo image");
  cairo_surface_flush(s);
  const int stride = cairo_image_surface_get_stride(s);
  unsigned char* dst = cairo_image_surface_get_data(s);
  // ARGB32 is premultiplied, native-endian 32-bit words.
  for (int row = 0; row < image.height; ++row) {
    auto* out = reinterpret_cast<std::uint32_t*>(dst + static_cast<size_t>(row) * static_cast<size_t>(stride));
    for (int col = 0; col < image.width; ++col) {
      const std::uint8_t* p = image.pixel(col, row);
      const std::uint32_t a = p[3];
      auto pm = [a](std::uint32_t v) { return (v * a + 127) / 255; };
      out[col] = a << 24 | pm(p[0]) << 16 | pm(p[1]) << 8 | pm(p[2]);
    }
  }
  cairo_surface_mark_dirty(s);
  cairo_t* cr = cairo_->cr;
  cairo_save(cr);
  cairo_rectangle(cr, x, y, w, h);
  cairo_clip(cr);
  cairo_translate(cr, x, y);
  cairo_scale(cr, w / image.width, h / image.height);
  cairo_set_source_surface(cr, s, 0, 0);
  cairo_pattern_set_filter(cairo_get_source(cr), sharp ? CAIRO_FILTER_NEAREST : CAIRO_FILTER_GOOD);
  cairo_pattern_set_extend(cairo_get_source(cr), CAIRO_EXTEND_PAD);
  cairo_paint(cr);
  cairo_restore(cr);
  cairo_surface_destroy(s);
}

void Figure::text(const std::string& s, double x, double y, double size, TextAlign align, bool bold, double grey) {
  if (s.empty()) return;
  cairo_t* cr = cairo_->cr;
  cairo_save(cr);
  select_font(cr, size, bold);
  cairo_text_extents_t e;
  cairo_text_extents(cr, s.c_str(), &e);
  const double left = align == TextAlign::Left ? x : align == TextAlign::Centre ? x - e.x_advance / 2 : x - e.x_advance;
  cairo_set_source_rgb(cr, grey, grey, grey);
  cairo_move_to(cr, left, y);
  cairo_show_text(cr, s.c_str());
  cairo_restore(cr);
}

void Figure::text_up(const std::string& s, double x, double y, double size, double grey) {
  if (s.empty()) return;
  cairo_t* cr = cairo_->cr;
  cairo_save(cr);
  select_font(cr, size, false);
  cairo_text_extents_t e;
  cairo_text_extents(cr, s.c_str(), &e);
  cairo_set_source_rgb(cr, grey, grey, grey);
  cairo_translate(cr, x, y);
  cairo_rotate(cr, -M_PI / 2);
  cairo_move_to(cr, -e.x_advance / 2, 0);
  cairo_show_text(cr, s.c_str());
  cairo_restore(cr);
}

double Figure::text_width(const std::string& s, double size, bool bold) const {
  cairo_t* cr = cairo_->cr;
  cairo_save(cr);
  select_font(cr, size, bold);
  cairo_text_extents_t e;
  cairo_text_extents(cr, s.c_str(), &e);
  cairo_restore(cr);
  return e.x_advance;
}

std::string Figure::fit_text(const std::string& s, double width, double size, bool bold) const {
  if (text_width(s, size, bold) <= width) return s;
  // Whole UTF-8 characters, as many as fit before the ellipsis.
  std::vector<size_t> cuts;
  for (size_t i = 0; i < s.size(); i += utf8_length(static_cast<unsigned char>(s[i]))) cuts.push_back(i);
  std::string best = "\u2026";
  size_t lo = 0, hi = cuts.size();  // the answer is cuts[k] for the largest k that fits
  while (lo + 1 < hi) {
    const size_t mid = (lo + hi) / 2;
    const std::string t = s.substr(0, cuts[mid]) + "\u2026";
    if (text_width(t, size, bold) <= width)
      lo = mid, best = t;
    else
      hi = mid;
  }
  return best;
}

std::vector<std::uint8_t> Figure::encode(FigureFormat format, double scale) const {
  const double w = width_ * scale, h = height_ * scale;
  // 100 M pixels (400 MB) at most for a PNG, 20000 px a side.
  if (!(scale > 0) || (format == FigureFormat::Png && (w > 20000 || h > 20000 || w * h > 1e8)))
    throw attn::Error("a figure of " + std::to_string(static_cast<long long>(std::ceil(w))) + " x " +
                      std::to_string(static_cast<long long>(std::ceil(h))) +
                      " pixels is too large (at most 20000 a side and 100 million in all): lower --width or --dpi");
  std::vector<std::uint8_t> bytes;
  cairo_surface_t* target = nullptr;
  switch (format) {
    case FigureFormat::Png:
      target = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, std::max(1, static_cast<int>(std::ceil(w))),
                                          std::max(1, static_cast<int>(std::ceil(h))));
      break;
    case FigureFormat::Svg:
      target = cairo_svg_surface_create_for_stream(append_bytes, &bytes, w, h);
      break;
    case FigureFormat::Pdf:
      target = cairo_pdf_surface_create_for_stream(append_bytes, &bytes, w, h);
      break;
  }
  Cairo out;
  out.surface = target;
  check(cairo_surface_status(target), "cairo surface");
  out.cr = cairo_create(target);
  cairo_scale(out.cr, scale, scale);
  cairo_set_source_surface(out.cr, cairo_->surface, 0, 0);
  cairo_paint(out.cr);
  check(cairo_status(out.cr), "cairo drawing");
  if (format == FigureFormat::Png) {
    cairo_surface_flush(target);
    check(cairo_surface_write_to_png_stream(target, append_bytes, &bytes), "cairo PNG");
  } else {
    cairo_surface_finish(target);
    check(cairo_surface_status(target), "cairo vector output");
  }
  return bytes;
}

double titles_height(const std::string& title, const std::string& subtitle, double size) {
  return (title.empty() ? 0 : size * 1.5) + (subtitle.empty() ? 0 : 0.7 * size * 1.6);
}

void draw_titles(Figure& fig, const std::string& title, const std::string& subtitle, double size, double margin) {
  const double width = fig.width() - 2 * margin, small = 0.7 * size;
  double y = margin;
  if (!title.empty()) {
    y += size;
    fig.text(fig.fit_text(title, width, size, true), margin, y, size, TextAlign::Left, true);
    y += size * 0.5;
  }
  if (!subtitle.empty())
    fig.text(fig.fit_text(subtitle, width, small), margin, y + small * 1.2, small, TextAlign::Left, false, 0.35);
}

void Figure::save(const std::string& path, const FigureSize& size) const {
  const FigureFormat format = figure_format(path);
  attn::write_file_atomic(path, encode(format, size.scale(width_, format)));
}

void Figure::save(const std::string& path) const { save(path, FigureSize{}); }

void Figure::line(double x0, double y0, double x1, double y1, double width, double r, double g, double b,
                  double alpha) {
  cairo_t* cr = cairo_->cr;
  cairo_save(cr);
  cairo_set_source_rgba(cr, r, g, b, alpha);
  cairo_set_line_width(cr, width);
  cairo_move_to(cr, x0, y0);
  cairo_line_to(cr, x1, y1);
  cairo_stroke(cr);
  cairo_restore(cr);
}

void Figure::outline(double x, double y, double w, double h, double width, double r, double g, double b) {
  cairo_t* cr = cairo_->cr;
  cairo_save(cr);
  cairo_set_source_rgb(cr, r, g, b);
  cairo_set_line_width(cr, width);
  cairo_rectangle(cr, x, y, w, h);
  cairo_stroke(cr);
  cairo_restore(cr);
}

void Figure::gradient(double x, double y, double w, double h, const attn::ColormapTable& table, bool vertical) {
  cairo_t* cr = cairo_->cr;
  cairo_pattern_t* p =
      vertical ? cairo_pattern_create_linear(0, y + h, 0, y) : cairo_pattern_create_linear(x, 0, x + w, 0);
  // 65 stops: the tables are 33 stops interpolated linearly, so this is exact
  // up to the tables' rounding.
  for (int i = 0; i <= 64; ++i) {
    const attn::Rgb c = table[static_cast<size_t>(std::min(255, i * 4))];
    cairo_pattern_add_color_stop_rgb(p, i / 64.0, c.r / 255.0, c.g / 255.0, c.b / 255.0);
  }
  cairo_save(cr);
  cairo_set_source(cr, p);
  cairo_rectangle(cr, x, y, w, h);
  cairo_fill(cr);
  cairo_restore(cr);
  cairo_pattern_destroy(p);
}

void Figure::box(double x, double y, double w, double h, double r, double g, double b) {
  cairo_t* cr = cairo_->cr;
  cairo_save(cr);
  cairo_set_source_rgb(cr, r, g, b);
  cairo_rectangle(cr, x, y, w, h);
  cairo_fill(cr);
  cairo_restore(cr);
}

}  // namespace app
