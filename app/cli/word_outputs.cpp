// The outputs words and caption share: the words grid (--out), one overlay
// per word (--out-dir) and the numbers behind them (--maps-out, --data-out).
#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "commands.hpp"
#include "common/figure_data.hpp"
#include "common/words_figure.hpp"
#include "core/error.hpp"
#include "core/npy.hpp"
#include "core/vit.hpp"  // resize_image

namespace cli {
namespace {

// The value of an option that is a number or one of `names` (-1 for the first name, ...).
std::optional<int> index_or(const Args& args, const char* option, int count, const std::vector<std::string>& names,
                            int* named) {
  const auto v = args.get(option);
  if (!v) return std::nullopt;
  for (size_t i = 0; i < names.size(); ++i)
    if (*v == names[i]) {
      *named = static_cast<int>(i);
      return std::nullopt;
    }
  return static_cast<int>(args.get_int(option, 0, 0, count - 1));
}

}  // namespace

attn::WordRequest word_request(const Args& args, int layers, int heads) {
  attn::WordRequest request;
  int named = -1;
  if (const auto l = index_or(args, "layer", layers, {"mean"}, &named)) request.layer = *l;
  request.mean_of_layers = named == 0;
  named = -1;
  if (const auto h = index_or(args, "head", heads, {"mean", "max", "min"}, &named)) request.head = *h;
  if (named >= 0) request.fusion = static_cast<attn::HeadFusion>(named);
  return request;
}

void check_word_outputs(const Args& args, const char* more) {
  if (!args.has("out") && !args.has("maps-out") && !args.has("out-dir") && !args.has("data-out") &&
      !(more && args.has(more)))
    throw UsageError(std::string("nothing to write: give --out, --maps-out, --out-dir or --data-out") +
                     (more ? std::string(" (or --") + more + ")" : ""));
  if (args.has("out")) app::figure_format(*args.get("out"));  // before any work
  figure_size(args);
  args.get_enum("smooth", attn::WordSmooth::Bilinear);
  args.get_enum("scale", attn::WordScale::Word);
}

void write_word_outputs(const Args& args, const WordOutputs& w) {
  const attn::Matrix& maps = w.maps;
  const int T = static_cast<int>(w.words.size());
  const attn::PatchGrid& grid = w.canvas.grid;
  if (const auto m = args.get("maps-out")) {
    const std::int64_t shape[3] = {T, grid.rows, grid.cols};
    attn::write_npy(*m, shape, std::span(maps.data(), static_cast<size_t>(maps.size())));
  }
  const auto smooth = args.get_enum("smooth", attn::WordSmooth::Bilinear);
  const auto scale = args.get_enum("scale", attn::WordScale::Word);
  if (const auto base = args.get("data-out")) {
    app::FigureData data;
    data.quantity = "each word's attention over the image's patches, before smoothing and scaling";
    data.axes = {{"word", w.words}, {"row", {}}, {"col", {}}};
    data.shape = {T, grid.rows, grid.cols};
    data.values.assign(maps.data(), maps.data() + maps.size());
    data.settings = w.settings;
    data.settings["view"] = w.view_text;
    data.settings["smooth"] = attn::name_of(smooth);
    data.settings["scale"] = attn::name_of(scale);
    for (const auto& path : app::write_figure_data(*base, data)) std::printf("wrote %s\n", path.c_str());
  }
  if (!args.has("out") && !args.has("out-dir")) return;
  attn::OverlayStyle style;
  style.colormap = args.get_enum("colormap", style.colormap);
  style.opacity = static_cast<float>(args.get_double("opacity", style.opacity));
  if (!(style.opacity >= 0.0f && style.opacity <= 1.0f)) throw attn::Error("--opacity must be in [0, 1]");
  style.grid = args.has("grid-lines");
  if (attn::signed_maps(maps)) {
    style.colormap = attn::Colormap::Diverging;
    style.signed_values = true;
    std::printf(
        "note: the maps have negative values, so they are not softmax weights; shown with the diverging "
        "map, symmetric about zero (grey)\n");
  }
  const attn::Matrix display = attn::display_maps(maps, grid, smooth, scale);
  const std::vector<attn::Image> overlays = attn::word_overlays(w.canvas, display, smooth, style);
  if (const auto out = args.get("out")) {
    app::WordsFigureOptions options;
    options.panel = static_cast<double>(args.get_int("panel", 224, 32, 2048));
    options.labels = !args.has("no-labels");
    if (options.labels) {
      options.title = args.get("title").value_or(w.title.empty() ? app::caption_of(w.words) : w.title);
      options.subtitle =
          w.view_text + ", " +
          (scale == attn::WordScale::Word ? "each word scaled to its own maximum" : "one scale for all words");
    }
    app::words_grid(w.canvas.image, overlays, w.words, options)->save(*out, figure_size(args));
    std::printf("wrote %s\n", out->c_str());
  }
  if (const auto dir = args.get("out-dir")) {
    if (::mkdir(dir->c_str(), 0777) != 0 && errno != EEXIST)
      throw attn::Error(*dir + ": cannot create the folder: " + std::strerror(errno));
    for (int t = 0; t < T; ++t) {
      const std::string path = *dir + "/" + app::word_file_name(t, w.words[static_cast<size_t>(t)]);
      const attn::Image& o = overlays[static_cast<size_t>(t)];
      attn::save_png(path, o.width == w.image.width && o.height == w.image.height
                               ? o
                               : attn::resize_image(o, w.image.width, w.image.height));
    }
    std::printf("wrote %d overlays to %s\n", T, dir->c_str());
  }
}

}  // namespace cli
