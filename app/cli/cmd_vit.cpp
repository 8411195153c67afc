// attnscope-cli vit: a Vision Transformer's attention on an image.
#include <chrono>
#include <cstdio>

#include "commands.hpp"
#include "common/figure_data.hpp"
#include "common/panels_figure.hpp"
#include "common/sheet_figure.hpp"
#include "common/words_figure.hpp"
#include "core/attention_views.hpp"
#include "core/error.hpp"
#include "core/io.hpp"
#include "core/npy.hpp"
#include "core/overlay.hpp"
#include "core/patches.hpp"
#include "core/vit.hpp"

namespace cli {
namespace {

constexpr const char* kHelp = R"(usage: attnscope-cli vit --weights FILE --image IMG [options]

Runs a Vision Transformer on the image, keeping every layer's and head's
attention. FILE is the weights as their users download them: .safetensors, a
sharded checkpoint's model.safetensors.index.json, or a PyTorch checkpoint
(.pth, .pt, .bin). Families, detected from the tensor names and the config
files beside the weights (config.json, open_clip_config.json,
preprocessor_config.json): ViT (timm, DINO, Hugging Face, torchvision),
DINOv2 with or without registers, CLIP (OpenAI, open_clip, Hugging Face),
SigLIP (Hugging Face, timm, open_clip) and DeiT (timm, Hugging Face).

Model and input:
  --checkpoint-key K     the state dict inside a nested PyTorch checkpoint
                         (default: teacher, model, state_dict, ...)
  --heads H              heads (default: the config's, else width / 64)
  --size S               resize so the shorter side is S pixels (default: the
                         size the position embeddings were trained for)
  --keep-size            use the image at its own size, cropped to whole patches
  --mean R,G,B --std R,G,B   normalisation (default: the config files', else
                         the family's: ImageNet's, CLIP's, or 0.5 for SigLIP)
  --temperature T        divide the logits of every layer's softmax by T (the
                         change propagates to later layers; default 1)
Outputs (at least one):
  --attn-out A.npy       float32 [L, H, N, N]: tokens = prefix (class, then
                         distillation), patches (row-major), registers; a
                         model with no class token starts with the patches
  --pool-attn-out P.npy  float32 [H, N], the pooling probe's attention over
                         the same tokens (SigLIP)
  --norms-out T.npy      float32 [L + 1, N]: every token's L2 norm at each
                         layer's input (row L: after the last layer); the few
                         very long patch tokens are the artefacts registers
                         were made for (Darcet et al. 2023)
  --out OUT.png          an overlay on the image as the model saw it (.svg or
                         .pdf: the same as a vector figure), of:
    --query cls|dist|norms|COL,ROW   whose attention: the class token's
                         (default; a model with no class token shows its
                         pooling probe's), DeiT's distillation token's, a
                         patch's; or, not attention, each patch token's norm
                         after the layer
    --layer L            which layer (default the last)
    --head h|mean|max|min|rollout   one head, a fusion of the heads, or
                         attention rollout over all layers (default mean)
    --fusion mean|max|min   how rollout fuses each layer's heads (default mean)
    --discard R          rollout: drop this fraction of the smallest weights (default 0)
    --threshold X        keep only the patches holding X of the mass (DINO), in (0, 1], e.g. 0.6
    --display-temperature T   re-sharpen (T < 1) or flatten (T > 1) the shown
                         weights alone: w^(1/T), renormalised (default 1)
    --include-cls, --include-registers   show raw weights, the class token's
                         and registers' shares left out of the picture (by
                         default the patches' weights are renormalised)
    --ignore-norms K     leave out the K patch tokens with the largest norms
                         at the layer's input, renormalising over the rest
    --colormap NAME  --opacity A
    --sheet heads|layers|rollout  instead of one map, a labelled sheet: every
                         head and the heads fused at the layer, or that for
                         every layer (rows), or the image and the rollout
                         through each layer in turn (how attention flows as
                         the layers add up) (.png, .svg or .pdf)
    --panel PX           a sheet's panels' longer side (default 160)
    --no-labels          a sheet without its title and its rows' and
                         columns' labels
    --title TEXT         the figure's title (a sheet's, or the one map's)
    --labels, --colorbar  the one map as a figure: a title and the colour
                         bar, or the colour bar alone
    --width W, --dpi D   the figure's size: 1200px, 180mm or 7in; D pixels
                         per inch for a PNG (see attnscope-cli render --help)
  --data-out BASE        the numbers the picture shows: BASE.npy (float32
                         [ROWS, COLS]; a sheet: [LAYERS, HEADS + 1, ROWS,
                         COLS]), BASE.csv and BASE.json (settings, labels)
The picture is the same as the app's for the same settings (both call
attnscope's core views). The first line printed names the model: its family,
names, width, depth, heads, patch size, LayerNorm epsilon, activation, and
where each came from.
)";

std::array<float, 3> triple(const Args& a, const char* name, std::array<float, 3> fallback) {
  const auto v = a.get(name);
  if (!v) return fallback;
  std::array<float, 3> out{};
  size_t start = 0;
  for (int i = 0; i < 3; ++i) {
    const size_t end = v->find(',', start);
    if ((i < 2) != (end != std::string::npos))
      throw attn::Error(std::string("--") + name + ": expected R,G,B, got '" + *v + "'");
    try {
      size_t used = 0;
      const std::string part = v->substr(start, end == std::string::npos ? std::string::npos : end - start);
      out[static_cast<size_t>(i)] = std::stof(part, &used);
      if (used != part.size()) throw std::invalid_argument(part);
    } catch (const std::exception&) {
      throw attn::Error(std::string("--") + name + ": expected three numbers R,G,B, got '" + *v + "'");
    }
    start = end + 1;
  }
  return out;
}

}  // namespace

int run_vit(int argc, char** argv) {
  const Args args(argc, argv, 2,
                  {{"weights"},
                   {"checkpoint-key"},
                   {"pool-attn-out"},
                   {"norms-out"},
                   {"ignore-norms"},
                   {"image"},
                   {"heads"},
                   {"size"},
                   {"keep-size", false},
                   {"mean"},
                   {"std"},
                   {"temperature"},
                   {"attn-out"},
                   {"out"},
                   {"query"},
                   {"sheet"},
                   {"panel"},
                   {"layer"},
                   {"head"},
                   {"fusion"},
                   {"discard"},
                   {"threshold"},
                   {"display-temperature"},
                   {"include-cls", false},
                   {"include-registers", false},
                   {"colormap"},
                   {"opacity"},
                   {"title"},
                   {"width"},
                   {"dpi"},
                   {"data-out"},
                   {"labels", false},
                   {"colorbar", false},
                   {"no-labels", false}});
  if (args.help()) {
    std::fputs(kHelp, stdout);
    return 0;
  }
  const std::string weights = args.require("weights"), image = args.require("image");
  if (!args.has("attn-out") && !args.has("out") && !args.has("pool-attn-out") && !args.has("norms-out"))
    throw UsageError("give --attn-out, --pool-attn-out, --norms-out and/or --out");
  if (args.has("size") && args.has("keep-size")) throw UsageError("give --size or --keep-size, not both");
  // What is asked of --out, checked before the forward pass.
  const int sheet = args.get_choice("sheet", {"heads", "layers", "rollout"}, -1);
  if (sheet >= 0 && !args.has("out")) throw UsageError("--sheet draws into --out");
  const auto out_format = args.has("out") ? app::figure_format(*args.get("out")) : app::FigureFormat::Png;
  const double panel = static_cast<double>(args.get_int("panel", 160, 32, 2048));
  const app::FigureSize size = figure_size(args);
  if (args.has("data-out") && !args.has("out")) throw UsageError("--data-out writes the numbers of --out's picture");

  attn::VitOptions opt;
  if (args.has("mean")) opt.mean = triple(args, "mean", {});
  if (args.has("std")) {
    opt.std = triple(args, "std", {});
    for (float s : *opt.std)
      if (!(s > 0)) throw attn::Error("--std: every value must be > 0");
  }
  opt.temperature = args.get_double("temperature", 1.0);
  attn::check_temperature(opt.temperature, "--temperature");
  const int heads = static_cast<int>(args.get_int("heads", 0, 1, 4096));
  const double discard = args.get_double("discard", 0.0);
  attn::check_discard(discard, "--discard");
  attn::MapRequest request;
  request.keep_mass = args.get_double("threshold", 1.0);
  attn::check_keep_mass(request.keep_mass, "--threshold");
  request.display_temperature = args.get_double("display-temperature", 1.0);
  attn::check_temperature(request.display_temperature, "--display-temperature");
  request.fusion = args.get_enum("fusion", attn::HeadFusion::Mean);
  request.keep_class = args.has("include-cls");
  request.keep_registers = args.has("include-registers");
  request.ignore_top_norms = static_cast<int>(args.get_int("ignore-norms", 0, 0, 1 << 20));

  // Run once: the blocks are read from the file as the forward pass reaches them.
  const attn::VitModel model =
      attn::load_vit_file(weights, heads, args.get("checkpoint-key").value_or(""), /*stream_blocks=*/true);
  std::printf("vit: %s\n", model.describe().c_str());
  opt.size =
      args.has("keep-size")
          ? 0
          : static_cast<int>(args.get_int("size", static_cast<long long>(model.pos_grid) * model.patch, 1, 16384));
  const attn::Image img = attn::load_image(image);
  const auto t0 = std::chrono::steady_clock::now();
  const attn::VitResult r = attn::run_vit(model, img, opt);
  const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  const int L = model.depth, H = model.heads, N = r.tokens;

  // Everything is computed before anything is written.
  attn::Image overlay;
  std::unique_ptr<app::Figure> figure;  // a sheet, or the overlay as a figure
  app::FigureData data;                 // the numbers the picture shows
  if (args.has("out")) {
    const attn::TokenSet& tokens = r.token_set();
    const attn::PatchGrid& grid = tokens.grid;
    const std::string q = args.get("query").value_or("cls");
    if (const auto named = attn::from_name<attn::ViewQuery>(q);
        named && *named != attn::ViewQuery::Patches && *named != attn::ViewQuery::Rollout) {
      request.query = *named;
    } else {
      if (q.find(',') == std::string::npos)
        throw attn::Error("--query: expected cls, dist, norms or COL,ROW, got '" + q + "'");
      const auto [c, row] = parse_pair(q, "--query");
      if (c < 0 || row < 0 || c >= grid.cols || row >= grid.rows)
        throw attn::Error("--query " + q + " is outside the " + std::to_string(grid.cols) + "x" +
                          std::to_string(grid.rows) + " patch grid");
      request.query = attn::ViewQuery::Patches;
      request.queries = {tokens.token_at_cell(grid.index(static_cast<int>(c), static_cast<int>(row)))};
    }
    request.layer = static_cast<int>(args.get_int("layer", L - 1, 0, L - 1));
    const std::string head = args.get("head").value_or("mean");
    attn::Matrix rollout;
    if (head == "rollout") {
      request.query = attn::ViewQuery::Rollout;
      rollout =
          attn::attention_rollout(r.attention(), request.fusion, discard, tokens.first_of(attn::TokenKind::Class));
    } else if (const auto fusion = attn::from_name<attn::HeadFusion>(head)) {
      request.fusion = *fusion;
    } else {
      request.head = static_cast<int>(args.get_int("head", 0, 0, H - 1));
    }
    if (sheet == 2) request.query = attn::ViewQuery::Rollout, request.queries.clear();
    // --sheet rollout computes its own stages below.
    const attn::MapView view = sheet == 2 ? attn::MapView{} : attn::attention_map(r.record, request, &rollout);
    attn::OverlayStyle style = overlay_style(args);
    style.grid = false;
    style.scale = attn::view_scale(request.query, style.scale);
    std::vector<int> outlined;
    for (int t : request.queries) outlined.push_back(tokens[t].cell);
    if (sheet == 2) {
      // The rollout through layer 0, 0-1, ..., all of them: one pass, each
      // stage's map kept (not its [N, N] matrix).
      attn::OverlayRegion region;
      region.step = std::max(1.0f, static_cast<float>(std::max(r.input.width, r.input.height) / (2 * panel)));
      std::vector<attn::Image> panels;
      std::vector<std::string> labels;
      attn::attention_rollout_stages(r.attention(), request.fusion, discard, tokens.first_of(attn::TokenKind::Class),
                                     [&](int l, const attn::Matrix& m) {
                                       const attn::MapView v = attn::attention_map(r.record, request, &m);
                                       panels.push_back(attn::render_overlay(r.input, grid, v.map, style, {}, region));
                                       data.values.insert(data.values.end(), v.map.begin(), v.map.end());
                                       labels.push_back(l == 0 ? "layer 0" : "layers 0-" + std::to_string(l));
                                     });
      attn::OverlayRegion whole;
      whole.step = region.step;
      const attn::Image shown = attn::render_overlay(
          r.input, grid, std::vector<float>(grid.count(), 0.0f),
          [&] {
            attn::OverlayStyle plain = style;
            plain.opacity = 0;
            return plain;
          }(),
          {}, whole);
      app::WordsFigureOptions wo;
      wo.panel = panel;
      wo.labels = !args.has("no-labels");
      if (wo.labels) {
        wo.title = args.get("title").value_or("Attention rollout (" + std::string(attn::name_of(request.fusion)) +
                                              " of heads) through each layer");
        wo.subtitle = model.describe();
      }
      figure = app::words_grid(shown, panels, labels, wo);
      data.axes = {{"layer", labels}};
      data.shape = {L};
    } else if (sheet >= 0) {
      if (request.query == attn::ViewQuery::Rollout || request.query == attn::ViewQuery::TokenNorms)
        throw attn::Error("--sheet shows each layer's and head's own attention; rollout and token norms have no heads");
      // Each panel drawn at about its size in the figure.
      attn::OverlayRegion region;
      region.step = std::max(1.0f, static_cast<float>(std::max(r.input.width, r.input.height) / (2 * panel)));
      std::vector<std::vector<attn::Image>> panels;
      std::vector<std::string> rows, columns;
      for (int h = 0; h < H; ++h) columns.push_back("head " + std::to_string(h));
      columns.emplace_back(attn::name_of(request.fusion));
      for (int l = sheet == 0 ? request.layer : 0; l <= (sheet == 0 ? request.layer : L - 1); ++l) {
        rows.push_back("layer " + std::to_string(l));
        panels.emplace_back();
        for (int h = 0; h <= H; ++h) {
          attn::MapRequest one = request;
          one.layer = l, one.head = h < H ? h : -1;
          const attn::MapView v = attn::attention_map(r.record, one, nullptr);
          panels.back().push_back(attn::render_overlay(r.input, grid, v.map, style, outlined, region));
          data.values.insert(data.values.end(), v.map.begin(), v.map.end());
        }
      }
      app::SheetOptions so;
      so.panel = panel;
      so.labels = !args.has("no-labels");
      if (so.labels) {
        so.title = args.get("title").value_or(std::string(attn::entry_of(request.query).label) + ", " +
                                              (sheet == 0 ? "layer " + std::to_string(request.layer) : "every layer"));
        so.subtitle = model.describe();
      }
      figure = app::sheet_figure(panels, columns, rows, so);
      data.axes = {{"layer", rows}, {"head", columns}};
      data.shape = {static_cast<std::int64_t>(rows.size()), H + 1};
    } else {
      const bool labelled =
          args.has("labels") || args.has("colorbar") || args.has("title") || args.has("width") || args.has("dpi");
      if (labelled || out_format != app::FigureFormat::Png) {
        app::MapPanel p;
        p.image = &r.input;
        p.grid = grid;
        p.map = view.map;
        p.style = style;
        p.outlined = outlined;
        p.caption = app::weight_caption(style.scale);
        app::PanelsOptions po;
        po.colour_bars = args.has("labels") || args.has("colorbar");
        if (args.has("labels")) {
          po.title = std::string(attn::entry_of(request.query).label) + ", layer " + std::to_string(request.layer) +
                     ", head " + head;
          po.subtitle = model.describe();
        }
        if (const auto t = args.get("title")) po.title = *t;
        figure = app::panels_figure({p}, po);
      } else {
        overlay = attn::render_overlay(r.input, grid, view.map, style, outlined);
      }
      data.values = view.map;
    }
    data.quantity = request.query == attn::ViewQuery::TokenNorms ? "token norm" : "attention weight";
    data.axes.push_back({"row", {}});
    data.axes.push_back({"col", {}});
    data.shape.push_back(grid.rows);
    data.shape.push_back(grid.cols);
    data.settings = {{"weights", weights},
                     {"model", model.describe()},
                     {"image", image},
                     {"size", r.input.width},
                     {"query", q},
                     {"layer", request.layer},
                     {"head", head},
                     {"fusion", attn::name_of(request.fusion)},
                     {"temperature", opt.temperature},
                     {"display-temperature", request.display_temperature},
                     {"threshold", request.keep_mass},
                     {"include-cls", request.keep_class},
                     {"include-registers", request.keep_registers},
                     {"ignore-norms", request.ignore_top_norms},
                     {"discard", discard},
                     {"colormap", attn::name_of(style.colormap)},
                     {"scale", attn::name_of(style.scale)}};
    if (sheet >= 0) data.settings["sheet"] = sheet == 0 ? "heads" : sheet == 1 ? "layers" : "rollout";
  }
  std::vector<std::uint8_t> picture;  // --out's bytes, encoded before anything is written
  if (args.has("out"))
    picture = figure ? figure->encode(out_format, size.scale(figure->width(), out_format)) : attn::encode_png(overlay);
  if (args.has("norms-out") && r.record.token_norms.size() == 0)
    throw attn::Error("this model's token norms were not kept");
  const attn::NamedAttention* pool = r.pool();
  if (args.has("pool-attn-out") && !pool)
    throw attn::Error(weights + ": this model has no pooling probe (--pool-attn-out is for SigLIP-style heads)");
  if (const auto path = args.get("attn-out")) {
    const std::int64_t shape[4] = {L, H, N, N};
    const attn::AttentionStack& a = r.attention();
    attn::write_npy_chunked(*path, shape, static_cast<size_t>(L) * H, [&](size_t i, std::vector<float>& scratch) {
      return a.head_values(static_cast<int>(i) / H, static_cast<int>(i) % H, scratch);
    });
  }
  if (const auto path = args.get("norms-out")) {
    const std::int64_t shape[2] = {r.record.token_norms.rows(), r.record.token_norms.cols()};
    attn::write_npy(*path, shape, std::span(r.record.token_norms.data(), r.record.token_norms.size()));
  }
  if (const auto path = args.get("pool-attn-out")) {
    const std::int64_t shape[2] = {H, N};
    attn::write_npy_chunked(*path, shape, static_cast<size_t>(H), [&](size_t i, std::vector<float>& scratch) {
      return pool->weights.head_values(0, static_cast<int>(i), scratch);
    });
  }
  if (const auto out = args.get("out")) attn::write_file_atomic(*out, picture);
  if (const auto base = args.get("data-out"))
    for (const auto& path : app::write_figure_data(*base, data)) std::printf("wrote %s\n", path.c_str());
  const int prefix = model.prefix_tokens();
  std::printf("vit: %dx%d patches%s%s = %d tokens; forward %.1f ms\n", r.grid_cols, r.grid_rows,
              prefix ? (" + " + std::to_string(prefix) + " prefix").c_str() : "",
              r.registers ? (" + " + std::to_string(r.registers) + " registers").c_str() : "", N, ms);
  return 0;
}

}  // namespace cli
