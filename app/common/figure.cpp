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

std::vector<std::uint8_t> Figure::encode(FigureFormat format) const {
  std::vector<std::uint8_t> bytes;
  cairo_surface_t* target = nullptr;
  switch (format) {
    case FigureFormat::Png:
      target = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, static_cast<int>(std::ceil(width_)),
                                          static_cast<int>(std::ceil(height_)));
      break;
    case FigureFormat::Svg:
      target = cairo_svg_surface_create_for_stream(append_bytes, &bytes, width_, height_);
      break;
    case FigureFormat::Pdf:
      target = cairo_pdf_surface_create_for_stream(append_bytes, &bytes, width_, height_);
      break;
  }
  Cairo out;
  out.surface = target;
  check(cairo_surface_status(target), "cairo surface");
  out.cr = cairo_create(target);
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

void Figure::save(const std::string& path) const { attn::write_file_atomic(path, encode(figure_format(path))); }

}  // namespace app
