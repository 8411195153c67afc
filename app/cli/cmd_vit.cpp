// attnscope-cli vit: a Vision Transformer's attention on an image.
#include <chrono>
#include <cstdio>

#include "commands.hpp"
#include "core/attention_views.hpp"
#include "core/error.hpp"
#include "core/npy.hpp"
#include "core/overlay.hpp"
#include "core/patches.hpp"
#include "core/vit.hpp"

namespace cli {
namespace {

constexpr const char* kHelp = R"(usage: attnscope-cli vit --weights W.safetensors --image IMG [options]

Runs a Vision Transformer (timm/DINO, Hugging Face or torchvision weights in a
.safetensors file; a config.json beside it is read if present) on the image,
keeping every layer's and head's attention.

Model and input:
  --heads H              heads, when no config.json says (default width / 64)
  --size S               resize so the shorter side is S pixels (default: the
                         size the position embeddings were trained for)
  --keep-size            use the image at its own size, cropped to whole patches
  --mean R,G,B --std R,G,B   normalisation (default ImageNet's)
  --temperature T        divide the logits of every layer's softmax by T (the
                         change propagates to later layers; default 1)
Outputs (at least one):
  --attn-out A.npy       float32 [L, H, N, N]: tokens = class, patches
                         (row-major), registers
  --out OUT.png          an overlay on the image as the model saw it, of:
    --query cls|COL,ROW  whose attention (default cls)
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
    --colormap NAME  --opacity A
The picture is the same as the app's for the same settings (both call
attnscope's core views).
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
                   {"layer"},
                   {"head"},
                   {"fusion"},
                   {"discard"},
                   {"threshold"},
                   {"display-temperature"},
                   {"include-cls", false},
                   {"include-registers", false},
                   {"colormap"},
                   {"opacity"}});
  if (args.help()) {
    std::fputs(kHelp, stdout);
    return 0;
  }
  const std::string weights = args.require("weights"), image = args.require("image");
  if (!args.has("attn-out") && !args.has("out")) throw UsageError("give --attn-out and/or --out");
  if (args.has("size") && args.has("keep-size")) throw UsageError("give --size or --keep-size, not both");

  attn::VitOptions opt;
  opt.mean = triple(args, "mean", opt.mean);
  opt.std = triple(args, "std", opt.std);
  for (float s : opt.std)
    if (!(s > 0)) throw attn::Error("--std: every value must be > 0");
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

  const attn::VitModel model = attn::load_vit_file(weights, heads);
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
  if (args.has("out")) {
    const attn::TokenSet& tokens = r.token_set();
    const attn::PatchGrid& grid = tokens.grid;
    if (const auto q = args.get("query"); q && *q != "cls" && *q != "class-token") {
      const auto [c, row] = parse_pair(*q, "--query");
      if (c < 0 || row < 0 || c >= grid.cols || row >= grid.rows)
        throw attn::Error("--query " + *q + " is outside the " + std::to_string(grid.cols) + "x" +
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
    const attn::MapView view = attn::attention_map(r.encoder(), tokens, request, &rollout);
    attn::OverlayStyle style = overlay_style(args);
    style.grid = false;
    std::vector<int> outlined;
    for (int t : request.queries) outlined.push_back(tokens[t].cell);
    overlay = attn::render_overlay(r.input, grid, view.map, style, outlined);
  }
  if (const auto path = args.get("attn-out")) {
    const std::int64_t shape[4] = {L, H, N, N};
    attn::write_npy(*path, std::span<const std::int64_t>(shape, 4), r.attention().values());
  }
  if (const auto out = args.get("out")) attn::save_png(*out, overlay);
  std::printf(
      "vit: %s layout, width %d, depth %d, %d heads, patch %d, %dx%d patches + class%s = %d tokens; forward %.1f ms\n",
      model.layout.c_str(), model.width, L, H, model.patch, r.grid_cols, r.grid_rows,
      r.registers ? (" + " + std::to_string(r.registers) + " registers").c_str() : "", N, ms);
  return 0;
}

}  // namespace cli
