// attnscope-cli caption: the bundled captioner on an image, with every
// attention it has and the words grid of its cross-attention.
#include <algorithm>
#include <cstdio>
#include <filesystem>

#include "commands.hpp"
#include "common/resources.hpp"
#include "core/captioner.hpp"
#include "core/captioner_scene.hpp"
#include "core/error.hpp"
#include "core/npy.hpp"

namespace cli {
namespace {

constexpr const char* kHelp =
    R"(usage: attnscope-cli caption (--image IMG | --scene SEED) [options]

Captions an image with attnscope's bundled captioner (a small encoder-decoder
Transformer trained on scenes of coloured shapes: assets/captioner) and shows
where each word looked while it was written: the decoder's cross-attention
from the word's query to the image's patches ("Show, Attend and Tell", Xu et
al. 2015; Vaswani et al. 2017). Prints the caption on one line (the words
separated by single spaces, no start or end markers).

Input:
  --image IMG            any image (PNG, JPEG, BMP); resized to the model's
                         input (128 x 128)
  --scene SEED           a new scene of shapes drawn from the captioner's
                         specification (the same on every machine)
  --scene-out S.png      write that scene
  --model DIR            the captioner's folder (default: the bundled one,
                         DATA/captioner; see attnscope-cli --data-dir)
  --checkpoint STEP      the weights kept at that training step (0 is the
                         untrained model), instead of the final ones
View (the maps of --out, --maps-out, --out-dir, --data-out):
  --layer L|mean         a decoder layer, counted from 0, or their mean
                         (default: the last)
  --head h|mean|max|min  default: the mean of the heads
  --smooth none|bilinear|gaussian  --scale word|shared
  --colormap NAME  --opacity A  --grid-lines
Outputs:
  --out GRID.png         the words grid; .svg or .pdf for a vector figure
    --panel PX  --title TEXT  --no-labels  --width W  --dpi D
  --maps-out M.npy       float32 [T, ROWS, COLS]: each printed word's map
                         (the view above), before smoothing or scaling
  --out-dir DIR          one overlay per word, DIR/NN-WORD.png
  --data-out BASE        BASE.npy, BASE.csv, BASE.json (as words --data-out)
  --cross-out C.npy      float32 [L, H, T, N]: the cross-attention of every
                         decoder layer and head, T printed words over the N
                         patches (row-major); row t predicts word t
  --encoder-out E.npy    float32 [L, H, N, N]: the encoder's self-attention
  --decoder-out D.npy    float32 [L, H, T, T]: the decoder's causal self-attention
  --logits-out G.npy     float32 [S, V]: every decoding step's logits (S = T + 1
                         when the end marker came, with its step)
)";

void write_stack(const std::string& path, const attn::AttentionStack& s) {
  const std::int64_t shape[4] = {s.layers(), s.heads(), s.queries(), s.keys()};
  std::vector<float> all, scratch;
  all.reserve(static_cast<size_t>(s.layers()) * s.heads() * s.queries() * s.keys());
  for (int l = 0; l < s.layers(); ++l)
    for (int h = 0; h < s.heads(); ++h) {
      const auto v = s.head_values(l, h, scratch);
      all.insert(all.end(), v.begin(), v.end());
    }
  attn::write_npy(path, shape, all);
}

}  // namespace

int run_caption(int argc, char** argv) {
  std::vector<OptionSpec> specs = {{"image"},       {"scene"},       {"scene-out"}, {"model"},
                                   {"checkpoint"},  {"layer"},       {"head"},      {"cross-out"},
                                   {"encoder-out"}, {"decoder-out"}, {"logits-out"}};
  specs.insert(specs.end(), kWordOutputOptionSpecs.begin(), kWordOutputOptionSpecs.end());
  const Args args(argc, argv, 2, specs);
  if (args.help()) {
    std::fputs(kHelp, stdout);
    return 0;
  }
  if (args.has("image") == args.has("scene")) throw UsageError("give one of --image IMG and --scene SEED");
  if (args.has("scene-out") && !args.has("scene")) throw UsageError("--scene-out writes the scene of --scene");
  std::optional<int> checkpoint;
  if (args.has("checkpoint")) checkpoint = static_cast<int>(args.get_int("checkpoint", 0, 0, 1 << 30));
  if (args.has("out")) app::figure_format(*args.get("out"));  // before any work
  figure_size(args);

  const std::string dir = args.get("model").value_or((std::filesystem::path(app::data_dir()) / "captioner").string());
  const attn::CaptionerModel model = attn::load_captioner_dir(dir, checkpoint);
  attn::Image image;
  std::vector<attn::SceneObject> objects;
  std::string image_name;
  if (const auto seed = args.get("scene")) {
    attn::CaptionScene scene =
        attn::draw_caption_scene(static_cast<std::uint64_t>(args.get_int("scene", 0, 0, 1LL << 53)));
    image = std::move(scene.image);
    objects = std::move(scene.objects);
    image_name = "scene " + *seed;
    if (const auto out = args.get("scene-out")) attn::save_png(*out, image);
  } else {
    image_name = args.require("image");
    image = attn::load_image(image_name);
  }

  const attn::Caption caption = attn::run_captioner(model, image);
  std::string line;
  for (const auto& w : caption.words) line.append(line.empty() ? "" : " ").append(w);
  std::printf("%s\n", line.c_str());
  if (!objects.empty()) {
    const auto valid = attn::valid_captions(objects);
    const bool exact = std::find(valid.begin(), valid.end(), line) != valid.end();
    std::printf("the scene: %s (%s)\n", valid.front().c_str(),
                exact ? "the caption is true and complete" : "the caption is wrong");
  }
  std::fflush(stdout);

  const attn::NamedAttention& cross = *caption.record.find(attn::AttentionRole::Cross);
  if (const auto p = args.get("cross-out")) write_stack(*p, cross.weights);
  if (const auto p = args.get("encoder-out"))
    write_stack(*p, caption.record.find(attn::AttentionRole::EncoderSelf)->weights);
  if (const auto p = args.get("decoder-out"))
    write_stack(*p, caption.record.find(attn::AttentionRole::DecoderSelf)->weights);
  if (const auto p = args.get("logits-out")) {
    const std::int64_t shape[2] = {caption.logits.rows(), caption.logits.cols()};
    attn::write_npy(*p, shape, std::span(caption.logits.data(), static_cast<size_t>(caption.logits.size())));
  }
  if (!args.has("out") && !args.has("maps-out") && !args.has("out-dir") && !args.has("data-out")) return 0;

  const int L = cross.weights.layers(), H = cross.weights.heads();
  const attn::WordRequest request = word_request(args, L, H);
  const int g = model.config.grid();
  const attn::ImageKeys keys{g, g, 0, false, false};
  const attn::WordCanvas canvas = attn::word_canvas(image, keys);
  const attn::Matrix maps = attn::word_maps(caption.record, request);
  nlohmann::json settings = {
      {"image", image_name},
      {"model", dir},
      {"checkpoint", checkpoint ? nlohmann::json(*checkpoint) : nlohmann::json("final")},
      {"caption", line},
      {"layer", request.mean_of_layers ? nlohmann::json("mean") : nlohmann::json(request.layer)},
      {"head", request.head >= 0 ? nlohmann::json(request.head) : nlohmann::json(attn::name_of(request.fusion))}};
  const std::string step = checkpoint ? "training step " + std::to_string(*checkpoint) : std::string("final weights");
  write_word_outputs(args,
                     {image, canvas, maps, caption.words, "decoder cross-attention, " + attn::describe(request, L, H),
                      line.empty() ? "(no words)" : "\"" + line + "\" (" + step + ")", settings});
  return 0;
}

}  // namespace cli
