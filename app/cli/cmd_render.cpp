// attnscope-cli render: one query patch's attention, drawn over the image.
#include <cstdio>

#include "commands.hpp"
#include "core/error.hpp"
#include "core/npy.hpp"
#include "core/overlay.hpp"
#include "core/patch_attention.hpp"

namespace cli {
namespace {

constexpr const char* kHelp = R"(usage: attnscope-cli render --image IMG --out OUT.png [options]

Cuts the image into square patches, derives Q, K, V from them, and draws the
attention of one query patch over the image, at the image's own resolution.
The grid covers whole patches from the top-left corner; the right and bottom
strips narrower than a patch are cropped (shown dimmed, no overlay).

Query and grid:
  --patch P              patch side in pixels (default 16)
  --query COL,ROW        the query patch (default: the centre patch)
  --query-index I        the query patch as a row-major index
Q/K/V:
  --source similarity|random|pixels
      similarity: colour/texture descriptor per patch, W_q = W_k, so similar
                  patches attend to each other (default)
      random:     the same features, independent random W_q, W_k, W_v
      pixels:     the patch's own pixels, no projection (d_model = 3·P²)
  --pos-encoding         append a 2-D sinusoidal position encoding
  --d-model D            width of Q, K, V (default 64)
  --heads H              heads; must divide d_model (default 4)
  --head h|mean          which head to draw (default mean)
  --seed S               seed of the projections (default 0)
Attention:
  --score scaled-dot|dot|cosine|additive|raw   (default scaled-dot)
  --norm softmax|sparsemax|none                (default softmax)
  --temperature T        T > 0 (default 1)
  --mask none|causal|local   causal: patches before the query in reading
                         order; local: within --radius patches (default none)
  --radius R             local window radius in patches (default 2)
Drawing:
  --colormap viridis|magma|inferno|plasma|cividis|turbo|greyscale|diverging
                         (default inferno)
  --opacity A            heatmap opacity in [0, 1] (default 0.8)
  --upsample nearest|bilinear    (default bilinear)
  --scale max|minmax|fixed   map normalisation (default max). max and minmax
                         leave the query's own patch out: a patch's weight on
                         itself is often several times any other, and would
                         make the rest of the picture dark. The query patch is
                         then shown at the top colour (ringed).
  --scale-includes-query the query's own patch counts in the scale (as in
                         attnscope 0.1)
  --no-grid              no patch grid lines
Outputs:
  --out OUT.png          the overlay (written whole or not at all)
  --weights-out W.npy    float32 [H, 1, N]: the query's weights in every head
)";

}  // namespace

int run_render(int argc, char** argv) {
  std::vector<OptionSpec> spec = {{"image"},
                                  {"out"},
                                  {"patch"},
                                  {"query"},
                                  {"query-index"},
                                  {"source"},
                                  {"d-model"},
                                  {"heads"},
                                  {"head"},
                                  {"colormap"},
                                  {"opacity"},
                                  {"upsample"},
                                  {"scale"},
                                  {"mask"},
                                  {"radius"},
                                  {"weights-out"},
                                  {"no-grid", false},
                                  {"pos-encoding", false},
                                  {"scale-includes-query", false}};
  spec.insert(spec.end(), kAttentionOptionSpecs.begin(), kAttentionOptionSpecs.end());
  const Args args(argc, argv, 2, spec);
  if (args.help()) {
    std::fputs(kHelp, stdout);
    return 0;
  }
  const std::string image_path = args.require("image"), out_path = args.require("out");
  if (args.has("query") && args.has("query-index")) throw UsageError("give --query or --query-index, not both");

  attn::ImageSourceOptions source;
  source.source = args.get_enum("source", attn::ImageSource::Similarity);
  source.d_model = static_cast<int>(args.get_int("d-model", 64, 1, 4096));
  source.seed = static_cast<std::uint64_t>(args.get_int("seed", 0, 0, 1LL << 53));
  source.position_encoding = args.has("pos-encoding");
  const int patch = static_cast<int>(args.get_int("patch", 16, 1, 4096));
  const int heads = static_cast<int>(args.get_int("heads", 4, 1, 4096));
  attn::AttentionOptions opt = attention_options(args);
  opt.mask.structure = args.get_enum("mask", attn::MaskStructure::None);
  opt.mask.radius = static_cast<int>(args.get_int("radius", 2, 0, 1 << 20));

  const attn::OverlayStyle style = overlay_style(args);

  const attn::Image img = attn::load_image(image_path);
  const attn::PatchModel model = attn::PatchModel::build(img, patch, heads, source);
  const attn::PatchGrid& grid = model.grid;

  int query = grid.index(grid.cols / 2, grid.rows / 2);
  if (const auto q = args.get("query")) {
    const auto [col, row] = parse_pair(*q, "--query");
    if (col < 0 || row < 0 || col >= grid.cols || row >= grid.rows)
      throw attn::Error("--query " + *q + " is outside the " + std::to_string(grid.cols) + "x" +
                        std::to_string(grid.rows) + " patch grid (columns 0.." + std::to_string(grid.cols - 1) +
                        ", rows 0.." + std::to_string(grid.rows - 1) + ")");
    query = grid.index(static_cast<int>(col), static_cast<int>(row));
  } else if (args.has("query-index")) {
    query = static_cast<int>(args.get_int("query-index", 0, 0, grid.count() - 1));
  }

  const attn::MultiHeadResult r = attn::attend_query(model, query, opt);
  std::vector<float> map;
  std::string head_name = "mean";
  if (const auto h = args.get("head"); h && *h != "mean") {
    const int head = static_cast<int>(args.get_int("head", 0, 0, model.heads() - 1));
    const attn::Matrix& w = r.heads[static_cast<size_t>(head)].weights;
    map.assign(w.data(), w.data() + w.size());
    head_name = *h;
  } else {
    map = attn::mean_over_heads(r);
  }

  const attn::Image out = attn::render_overlay(img, grid, map, style, std::span<const int>(&query, 1));
  // Encode before writing anything, then write each file atomically.
  std::vector<float> weights;
  for (const auto& h : r.heads) weights.insert(weights.end(), h.weights.data(), h.weights.data() + h.weights.size());
  attn::save_png(out_path, out);
  if (const auto path = args.get("weights-out")) {
    const std::int64_t shape[3] = {model.heads(), 1, model.tokens()};
    attn::write_npy(*path, shape, weights);
  }

  const auto s = attn::row_stats(map);
  std::printf("render: %dx%d image, %dx%d patches of %d px, query (%d,%d), head %s", img.width, img.height, grid.cols,
              grid.rows, patch, query % grid.cols, query / grid.cols, head_name.c_str());
  if (s.argmax >= 0)
    std::printf(", max weight %.4f at (%d,%d)", s.max_weight, s.argmax % grid.cols, s.argmax / grid.cols);
  if (s.is_distribution) std::printf(", entropy %.2f nats (%.1f effective keys)", s.entropy_nats, s.effective_keys);
  std::printf(" -> %s\n", out_path.c_str());
  return 0;
}

}  // namespace cli
