// attnscope-cli render: one query patch's attention, drawn over the image.
#include <cmath>
#include <cstdio>
#include <optional>

#include "commands.hpp"
#include "common/figure_data.hpp"
#include "common/panels_figure.hpp"
#include "core/error.hpp"
#include "core/image.hpp"
#include "core/io.hpp"
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
  --out OUT.png          the overlay at the image's own size (written whole
                         or not at all). OUT.svg or OUT.pdf: the same as a
                         vector figure (the heatmap an embedded raster at
                         the image's resolution; grid lines and the query's
                         ring as shapes)
  --weights-out W.npy    float32 [H, 1, N]: the query's weights in every head
  --data-out BASE        the numbers the picture shows: BASE.npy (float32
                         [ROWS, COLS], or [3, ROWS, COLS] for --compare:
                         A, B, A - B), BASE.csv and BASE.json (the settings)
Figure (any of these makes --out a labelled figure, PNG too):
  --title TEXT           a title above the picture
  --labels               a title (the settings) and the colour bar
  --colorbar             the colour bar, with ticks at round values
  --width W              the figure's width: 1200px, 180mm or 7in (default:
                         the image's own size)
  --dpi D                pixels per inch of a PNG given a width in mm or in
                         (default 96); alone, the PNG of the vector figure's
                         size at D dots per inch
Comparison:
  --compare KEY=VALUE[,KEY=VALUE...]
                         --out becomes three panels, A | B | A - B: A with
                         the options given, B with these changed (long
                         option names without dashes: temperature=5,
                         head=2, score=cosine, query=3,4, pos-encoding=true).
                         The difference is drawn with the diverging map on a
                         scale symmetric about zero.
  --diff-out D.npy       float32 [H, 1, N]: A's weights minus B's (needs
                         --compare), in the layout of --weights-out
)";

const std::vector<OptionSpec>& render_spec() {
  static const std::vector<OptionSpec> spec = [] {
    std::vector<OptionSpec> s = {{"image"},
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
                                 {"data-out"},
                                 {"title"},
                                 {"width"},
                                 {"dpi"},
                                 {"compare"},
                                 {"diff-out"},
                                 {"no-grid", false},
                                 {"pos-encoding", false},
                                 {"labels", false},
                                 {"colorbar", false},
                                 {"scale-includes-query", false}};
    s.insert(s.end(), kAttentionOptionSpecs.begin(), kAttentionOptionSpecs.end());
    return s;
  }();
  return spec;
}

// One query's attention over one image, as `render` computes and draws it.
struct Render {  // NOLINT(bugprone-exception-escape): see figure_data.hpp
  attn::Image image;
  attn::PatchGrid grid;
  int heads = 0, tokens = 0, query = 0;
  std::vector<float> weights;  // [H, N], the query's row in every head
  std::vector<float> map;      // [N], what the picture shows (a head or their mean)
  std::string head_name;
  attn::OverlayStyle style;
  nlohmann::json settings;  // every setting, as used (the options' long names)
};

Render compute(const Args& args) {
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

  Render out;
  out.style = overlay_style(args);
  const std::string image_path = args.require("image");
  out.image = attn::load_image(image_path);
  const attn::PatchModel model = attn::PatchModel::build(out.image, patch, heads, source);
  const attn::PatchGrid& grid = model.grid;
  out.grid = grid;
  out.heads = model.heads();
  out.tokens = model.tokens();

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
  out.query = query;

  const attn::MultiHeadResult r = attn::attend_query(model, query, opt);
  out.head_name = "mean";
  if (const auto h = args.get("head"); h && *h != "mean") {
    const int head = static_cast<int>(args.get_int("head", 0, 0, model.heads() - 1));
    const attn::Matrix& w = r.heads[static_cast<size_t>(head)].weights;
    out.map.assign(w.data(), w.data() + w.size());
    out.head_name = std::to_string(head);
  } else {
    out.map = attn::mean_over_heads(r);
  }
  for (const auto& h : r.heads)
    out.weights.insert(out.weights.end(), h.weights.data(), h.weights.data() + h.weights.size());

  out.settings = {{"image", image_path},
                  {"patch", patch},
                  {"query", {query % grid.cols, query / grid.cols}},
                  {"source", attn::name_of(source.source)},
                  {"d-model", model.d_model()},
                  {"heads", model.heads()},
                  {"head", out.head_name},
                  {"seed", source.seed},
                  {"pos-encoding", source.position_encoding},
                  {"score", attn::name_of(opt.score)},
                  {"norm", attn::name_of(attn::effective_norm(opt))},
                  {"temperature", opt.temperature},
                  {"mask", attn::name_of(opt.mask.structure)},
                  {"radius", opt.mask.radius},
                  {"colormap", attn::name_of(out.style.colormap)},
                  {"opacity", out.style.opacity},
                  {"upsample", attn::name_of(out.style.upsample)},
                  {"scale", attn::name_of(out.style.scale)},
                  {"grid", out.style.grid},
                  {"scale-includes-query", out.style.scale_includes_outlined}};
  return out;
}

// A setting's value as a label ("temperature 5", "head 2", "query (3,4)").
std::string setting_label(const nlohmann::json& settings, const std::string& key) {
  const auto it = settings.find(key);
  if (it == settings.end()) return key;
  if (it->is_string()) return key + " " + it->get<std::string>();
  if (it->is_array() && it->size() == 2) return key + " (" + it->at(0).dump() + "," + it->at(1).dump() + ")";
  if (it->is_number_float()) {
    char text[32];
    std::snprintf(text, sizeof text, "%g", it->get<double>());
    return key + " " + text;
  }
  return key + " " + it->dump();
}

// "score scaled-dot, softmax, T = 1, head mean, similarity d=64 H=4, 16 px patches".
std::string describe(const Render& r) {
  const auto& s = r.settings;
  char t[32];
  std::snprintf(t, sizeof t, "%g", s["temperature"].get<double>());
  std::string text = "score " + s["score"].get<std::string>() + ", " + s["norm"].get<std::string>() + ", T = " + t +
                     ", head " + r.head_name + ", " + s["source"].get<std::string>() +
                     " d=" + std::to_string(s["d-model"].get<int>()) + " H=" + std::to_string(r.heads) + ", " +
                     std::to_string(r.grid.patch) + " px patches";
  if (s["mask"].get<std::string>() != "none") text += ", mask " + s["mask"].get<std::string>();
  return text;
}

app::MapPanel panel_of(const Render& r, std::string label) {
  app::MapPanel p;
  p.image = &r.image;
  p.grid = r.grid;
  p.map = r.map;
  p.style = r.style;
  p.outlined = {r.query};
  p.label = std::move(label);
  p.caption = app::weight_caption(r.style.scale);
  return p;
}

void print_summary(const Render& r, const std::string& out_path) {
  const auto s = attn::row_stats(r.map);
  std::printf("render: %dx%d image, %dx%d patches of %d px, query (%d,%d), head %s", r.image.width, r.image.height,
              r.grid.cols, r.grid.rows, r.grid.patch, r.query % r.grid.cols, r.query / r.grid.cols,
              r.head_name.c_str());
  if (s.argmax >= 0)
    std::printf(", max weight %.4f at (%d,%d)", s.max_weight, s.argmax % r.grid.cols, s.argmax / r.grid.cols);
  if (s.is_distribution) std::printf(", entropy %.2f nats (%.1f effective keys)", s.entropy_nats, s.effective_keys);
  std::printf(" -> %s\n", out_path.c_str());
}

}  // namespace

int run_render(int argc, char** argv) {
  const Args args(argc, argv, 2, render_spec());
  if (args.help()) {
    std::fputs(kHelp, stdout);
    return 0;
  }
  args.require("image");
  const std::string out_path = args.require("out");
  if (args.has("query") && args.has("query-index")) throw UsageError("give --query or --query-index, not both");
  if (args.has("diff-out") && !args.has("compare")) throw UsageError("--diff-out needs --compare");
  // .svg and .pdf by the extension; any other name is a PNG, as render has
  // always written (so /dev/stdout or a name without an extension still work).
  app::FigureFormat format = app::FigureFormat::Png;
  try {
    format = app::figure_format(out_path);
  } catch (const attn::Error&) {
  }
  const app::FigureSize size = figure_size(args);
  const bool compare = args.has("compare");
  // A labelled figure, or the bare overlay (a PNG at the image's own size).
  const bool labelled = compare || args.has("labels") || args.has("colorbar") || args.has("title") ||
                        args.has("width") || args.has("dpi");

  // Everything is computed and encoded before anything is written.
  const Render a = compute(args);
  std::vector<std::pair<std::string, std::string>> changed;
  std::optional<Render> b;
  if (compare) {
    const Args args_b = args.with(*args.get("compare"), render_spec(),
                                  {"out", "weights-out", "data-out", "compare", "diff-out", "title", "labels",
                                   "colorbar", "width", "dpi", "query-index"},
                                  "--compare", &changed);
    b = compute(args_b);
    if (b->grid.cols != a.grid.cols || b->grid.rows != a.grid.rows || b->heads != a.heads)
      throw attn::Error("--compare: A has " + std::to_string(a.grid.cols) + "x" + std::to_string(a.grid.rows) +
                        " patches and " + std::to_string(a.heads) + " heads, B " + std::to_string(b->grid.cols) + "x" +
                        std::to_string(b->grid.rows) + " and " + std::to_string(b->heads) +
                        ": a difference needs the same grid and heads");
    if (b->image.width != a.image.width || b->image.height != a.image.height)
      throw attn::Error("--compare: the two images differ in size (" + std::to_string(a.image.width) + "x" +
                        std::to_string(a.image.height) + " and " + std::to_string(b->image.width) + "x" +
                        std::to_string(b->image.height) + ")");
  }

  std::vector<std::uint8_t> picture;
  std::vector<float> difference;  // [N] of the map shown; [H, N] for --diff-out
  if (compare) {
    std::string label_a, label_b;
    for (const auto& [key, value] : changed) {
      label_a += (label_a.empty() ? "" : ", ") + setting_label(a.settings, key);
      label_b += (label_b.empty() ? "" : ", ") + setting_label(b->settings, key);
    }
    app::MapPanel d = panel_of(a, "A \u2212 B");
    for (size_t i = 0; i < d.map.size(); ++i) d.map[i] = a.map[i] - b->map[i];
    d.style.signed_values = true;
    d.style.colormap = attn::Colormap::Diverging;
    d.caption = "difference of weights";
    difference = d.map;
    app::PanelsOptions po;
    po.title = args.get("title").value_or("Attention of patch (" + std::to_string(a.query % a.grid.cols) + "," +
                                          std::to_string(a.query / a.grid.cols) + "): " + label_a + " vs " + label_b);
    po.subtitle = describe(a);
    po.panel = std::min(480.0, static_cast<double>(std::max(a.image.width, a.image.height)));
    const auto fig = app::panels_figure({panel_of(a, "A: " + label_a), panel_of(*b, "B: " + label_b), d}, po);
    picture = fig->encode(format, size.scale(fig->width(), format));
  } else if (labelled || format != app::FigureFormat::Png) {
    app::PanelsOptions po;
    po.colour_bars = args.has("labels") || args.has("colorbar");
    if (args.has("labels"))
      po.title = "Attention of patch (" + std::to_string(a.query % a.grid.cols) + "," +
                 std::to_string(a.query / a.grid.cols) + ")",
      po.subtitle = describe(a);
    if (const auto t = args.get("title")) po.title = *t;
    const auto fig = app::panels_figure({panel_of(a, "")}, po);
    picture = fig->encode(format, size.scale(fig->width(), format));
  } else {
    picture =
        attn::encode_png(attn::render_overlay(a.image, a.grid, a.map, a.style, std::span<const int>(&a.query, 1)));
  }
  attn::write_file_atomic(out_path, picture);
  if (const auto path = args.get("weights-out")) {
    const std::int64_t shape[3] = {a.heads, 1, a.tokens};
    attn::write_npy(*path, shape, a.weights);
  }
  if (const auto path = args.get("diff-out")) {
    std::vector<float> d(a.weights.size());
    for (size_t i = 0; i < d.size(); ++i) d[i] = a.weights[i] - b->weights[i];
    const std::int64_t shape[3] = {a.heads, 1, a.tokens};
    attn::write_npy(*path, shape, d);
  }
  if (const auto base = args.get("data-out")) {
    app::FigureData data;
    data.quantity = compare ? "attention weight of A, of B, and A - B" : "attention weight";
    data.settings = a.settings;
    if (compare) {
      data.settings = {{"A", a.settings}, {"B", b->settings}};
      data.axes.push_back({"panel", {"A", "B", "A - B"}});
      data.shape.push_back(3);
      data.values = a.map;
      data.values.insert(data.values.end(), b->map.begin(), b->map.end());
      data.values.insert(data.values.end(), difference.begin(), difference.end());
    } else {
      data.values = a.map;
    }
    data.axes.push_back({"row", {}});
    data.axes.push_back({"col", {}});
    data.shape.push_back(a.grid.rows);
    data.shape.push_back(a.grid.cols);
    for (const auto& path : app::write_figure_data(*base, data)) std::printf("wrote %s\n", path.c_str());
  }
  print_summary(a, out_path);
  if (compare) {
    const auto s = attn::row_stats(b->map);
    float largest = 0;
    int at = 0;
    for (size_t i = 0; i < difference.size(); ++i)
      if (std::fabs(difference[i]) > std::fabs(largest)) largest = difference[i], at = static_cast<int>(i);
    std::printf("compare: B's max weight %.4f at (%d,%d); largest |A - B| %.4f at (%d,%d)\n", s.max_weight,
                s.argmax % b->grid.cols, s.argmax / b->grid.cols, std::fabs(largest), at % a.grid.cols,
                at / a.grid.cols);
  }
  return 0;
}

}  // namespace cli
