// attnscope-cli words: word-to-image attention exported from a captioner or
// a vision–language model, drawn as the words grid.
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
#include "core/word_files.hpp"
#include "core/word_views.hpp"

namespace cli {
namespace {

constexpr const char* kHelp =
    R"(usage: attnscope-cli words --image IMG --attn A.npy --tokens T.txt [options] --out GRID.png

Draws where each word of a caption (or a vision-language model's answer)
looks in the image, from attention the model wrote out: the image, then one
panel per word ("Show, Attend and Tell", Xu et al. 2015).

Input:
  --image IMG            the image the model saw (PNG, JPEG, BMP)
  --attn A               the attention: .npy or .safetensors (float16, bfloat16,
                         float32, float64), shaped [T, N], [H, T, N] or
                         [L, H, T, N]: T words (queries) over N keys
  --tensor NAME          the tensor in a .safetensors holding several
  --tokens T             the T words: a UTF-8 text file, one per line, or a
                         JSON list of strings
  --grid COLS,ROWS       the image's patch grid (default: inferred from the
                         image's aspect, the image's keys being all the keys
                         or all but a leading class token)
  --key-offset K         the image's keys are K .. K + COLS*ROWS - 1, row-major
                         (models often put text or special tokens first)
View:
  --layer L|mean         a layer, counted from 0, or the mean of the layers
                         (default: the last)
  --head h|mean|max|min  a head, counted from 0, or a fusion of the heads
                         (default: mean)
  --smooth none|bilinear|gaussian   flat patches, blended between patch
                         centres, or blurred over about a patch (default bilinear)
  --scale word|shared    each word's map to its own maximum (default), or one
                         scale for all words, so their strengths compare
  --colormap NAME  --opacity A  --grid-lines
                         (values below zero, not softmax weights, are always
                         shown with the diverging map, symmetric about zero)
Outputs (at least one):
  --out GRID.png         the words grid; .svg or .pdf for a vector figure
    --panel PX           the panels' longer side (default 224)
    --title TEXT         a line above the panels (default: the words, joined)
    --no-labels          no words under the panels, no title
    --width W, --dpi D   the figure's size: 1200px, 180mm or 7in; D pixels
                         per inch for a PNG (see attnscope-cli render --help)
  --data-out BASE        the numbers behind the grid: BASE.npy (as --maps-out),
                         BASE.csv (one row per word and patch, with the word)
                         and BASE.json (the settings and the words)
  --maps-out M.npy       float32 [T, ROWS, COLS]: each word's map after the
                         layer and head choice, before any smoothing or scaling
  --out-dir DIR          one overlay per word at the image's own size,
                         DIR/NN-WORD.png
)";

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

std::string shape_text(const std::vector<std::int64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

}  // namespace

int run_words(int argc, char** argv) {
  const Args args(argc, argv, 2,
                  {{"image"},
                   {"attn"},
                   {"tensor"},
                   {"tokens"},
                   {"grid"},
                   {"key-offset"},
                   {"layer"},
                   {"head"},
                   {"smooth"},
                   {"scale"},
                   {"colormap"},
                   {"opacity"},
                   {"grid-lines", false},
                   {"out"},
                   {"panel"},
                   {"title"},
                   {"no-labels", false},
                   {"maps-out"},
                   {"out-dir"},
                   {"width"},
                   {"dpi"},
                   {"data-out"}});
  if (args.help()) {
    std::fputs(kHelp, stdout);
    return 0;
  }
  const std::string image_path = args.require("image"), attn_path = args.require("attn"),
                    tokens_path = args.require("tokens");
  if (!args.has("out") && !args.has("maps-out") && !args.has("out-dir") && !args.has("data-out"))
    throw UsageError("nothing to write: give --out, --maps-out, --out-dir or --data-out");
  if (args.has("out")) app::figure_format(*args.get("out"));  // before any work  // before any work
  const app::FigureSize size = figure_size(args);
  const auto smooth = args.get_enum("smooth", attn::WordSmooth::Bilinear);
  const auto scale = args.get_enum("scale", attn::WordScale::Word);
  attn::OverlayStyle style;
  style.colormap = args.get_enum("colormap", style.colormap);
  style.opacity = static_cast<float>(args.get_double("opacity", style.opacity));
  if (!(style.opacity >= 0.0f && style.opacity <= 1.0f)) throw attn::Error("--opacity must be in [0, 1]");
  style.grid = args.has("grid-lines");
  const double panel = static_cast<double>(args.get_int("panel", 224, 32, 2048));

  const attn::Image image = attn::load_image(image_path);
  attn::WordAttentionFile file = attn::read_word_attention(attn_path, args.get("tensor").value_or(""));
  const std::vector<std::string> words = attn::read_tokens(tokens_path);
  const int L = file.weights.layers(), H = file.weights.heads(), T = file.weights.queries(), N = file.weights.keys();
  if (static_cast<int>(words.size()) != T)
    throw attn::Error(tokens_path + " has " + std::to_string(words.size()) + " token" + (words.size() == 1 ? "" : "s") +
                      " but " + attn_path + " has " + std::to_string(T) +
                      " queries (its second-to-last dimension, of shape " + shape_text(file.shape) + ")");
  std::optional<std::array<int, 2>> grid;
  if (const auto g = args.get("grid")) {
    const auto [c, r] = parse_pair(*g, "--grid");
    if (c < 1 || r < 1 || c > 65536 || r > 65536) throw attn::Error("--grid: columns and rows must be 1 to 65536");
    grid = std::array<int, 2>{static_cast<int>(c), static_cast<int>(r)};
  }
  std::optional<int> offset;
  if (args.has("key-offset")) offset = static_cast<int>(args.get_int("key-offset", 0, 0, 1LL << 30));
  const attn::ImageKeys keys = attn::place_image_keys(N, image.width, image.height, grid, offset);

  attn::WordRequest request;
  int named = -1;
  if (const auto l = index_or(args, "layer", L, {"mean"}, &named)) request.layer = *l;
  request.mean_of_layers = named == 0;
  named = -1;
  if (const auto h = index_or(args, "head", H, {"mean", "max", "min"}, &named)) request.head = *h;
  if (named >= 0) request.fusion = static_cast<attn::HeadFusion>(named);

  const attn::WordCanvas canvas = attn::word_canvas(image, keys);
  const attn::AttentionRecord record = attn::word_record(std::move(file.weights), words, keys, canvas.grid);
  const attn::Matrix maps = attn::word_maps(record, request);
  const std::string view_text = attn::describe(request, L, H);
  std::printf("%d word%s over %s; %s\n", T, T == 1 ? "" : "s", attn::describe(keys, N).c_str(), view_text.c_str());

  if (const auto m = args.get("maps-out")) {
    const std::int64_t shape[3] = {T, keys.rows, keys.cols};
    attn::write_npy(*m, shape, std::span(maps.data(), static_cast<size_t>(maps.size())));
  }
  if (const auto base = args.get("data-out")) {
    app::FigureData data;
    data.quantity = "each word's attention over the image's patches, before smoothing and scaling";
    data.axes = {{"word", words}, {"row", {}}, {"col", {}}};
    data.shape = {T, keys.rows, keys.cols};
    data.values.assign(maps.data(), maps.data() + maps.size());
    data.settings = {
        {"image", image_path},
        {"attn", attn_path},
        {"tokens", tokens_path},
        {"view", view_text},
        {"layer", request.mean_of_layers ? nlohmann::json("mean") : nlohmann::json(request.layer)},
        {"head", request.head >= 0 ? nlohmann::json(request.head) : nlohmann::json(attn::name_of(request.fusion))},
        {"grid", {keys.cols, keys.rows}},
        {"key-offset", keys.offset},
        {"smooth", attn::name_of(smooth)},
        {"scale", attn::name_of(scale)}};
    for (const auto& path : app::write_figure_data(*base, data)) std::printf("wrote %s\n", path.c_str());
  }
  if (!args.has("out") && !args.has("out-dir")) return 0;
  if (attn::signed_maps(maps)) {
    style.colormap = attn::Colormap::Diverging;
    style.signed_values = true;
    std::printf(
        "note: the maps have negative values, so they are not softmax weights; shown with the diverging "
        "map, symmetric about zero (grey)\n");
  }
  const attn::Matrix display = attn::display_maps(maps, canvas.grid, smooth, scale);
  const std::vector<attn::Image> overlays = attn::word_overlays(canvas, display, smooth, style);
  if (const auto out = args.get("out")) {
    app::WordsFigureOptions options;
    options.panel = panel;
    options.labels = !args.has("no-labels");
    if (options.labels) {
      options.title = args.get("title").value_or(app::caption_of(words));
      options.subtitle =
          view_text + ", " +
          (scale == attn::WordScale::Word ? "each word scaled to its own maximum" : "one scale for all words");
    }
    app::words_grid(canvas.image, overlays, words, options)->save(*out, size);
    std::printf("wrote %s\n", out->c_str());
  }
  if (const auto dir = args.get("out-dir")) {
    if (::mkdir(dir->c_str(), 0777) != 0 && errno != EEXIST)
      throw attn::Error(*dir + ": cannot create the folder: " + std::strerror(errno));
    for (int t = 0; t < T; ++t) {
      const std::string path = *dir + "/" + app::word_file_name(t, words[static_cast<size_t>(t)]);
      const attn::Image& o = overlays[static_cast<size_t>(t)];
      attn::save_png(path, o.width == image.width && o.height == image.height
                               ? o
                               : attn::resize_image(o, image.width, image.height));
    }
    std::printf("wrote %d overlays to %s\n", T, dir->c_str());
  }
  return 0;
}

}  // namespace cli
