// attnscope-cli words: word-to-image attention exported from a captioner or
// a vision–language model, drawn as the words grid.
#include <cstdio>

#include "commands.hpp"
#include "core/error.hpp"
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

std::string shape_text(const std::vector<std::int64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

}  // namespace

int run_words(int argc, char** argv) {
  std::vector<OptionSpec> specs = {{"image"}, {"attn"},       {"tensor"}, {"tokens"},
                                   {"grid"},  {"key-offset"}, {"layer"},  {"head"}};
  specs.insert(specs.end(), kWordOutputOptionSpecs.begin(), kWordOutputOptionSpecs.end());
  const Args args(argc, argv, 2, specs);
  if (args.help()) {
    std::fputs(kHelp, stdout);
    return 0;
  }
  const std::string image_path = args.require("image"), attn_path = args.require("attn"),
                    tokens_path = args.require("tokens");
  check_word_outputs(args);

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
  const attn::WordRequest request = word_request(args, L, H);

  const attn::WordCanvas canvas = attn::word_canvas(image, keys);
  const attn::AttentionRecord record = attn::word_record(std::move(file.weights), words, keys, canvas.grid);
  const attn::Matrix maps = attn::word_maps(record, request);
  const std::string view_text = attn::describe(request, L, H);
  std::printf("%d word%s over %s; %s\n", T, T == 1 ? "" : "s", attn::describe(keys, N).c_str(), view_text.c_str());
  write_word_outputs(
      args,
      {image,
       canvas,
       maps,
       words,
       view_text,
       "",
       {{"image", image_path},
        {"attn", attn_path},
        {"tokens", tokens_path},
        {"layer", request.mean_of_layers ? nlohmann::json("mean") : nlohmann::json(request.layer)},
        {"head", request.head >= 0 ? nlohmann::json(request.head) : nlohmann::json(attn::name_of(request.fusion))},
        {"grid", {keys.cols, keys.rows}},
        {"key-offset", keys.offset}}});
  return 0;
}

}  // namespace cli
