#include "options.hpp"

#include <cstring>

#include "common/args.hpp"
#include "core/colormap.hpp"
#include "core/error.hpp"

namespace gui {

const char* const kUsage =
    R"(usage: attnscope [FILE...] [--q Q.npy --k K.npy [--v V.npy]] [options]

The attention explorer: click a patch and see where it looks.

Each FILE is an image, a session (.json), ViT weights (.safetensors) or Q, K,
V (.npy or .csv); several are opened in turn, as if dropped on the window
(e.g. an image and weights, or Q.npy K.npy V.npy); flags apply to the first.

Settings (all of them can also be changed in the window):
  --source similarity|random|pixels|random-tokens|files
  --patch P  --d-model D  --heads H  --seed S  --pos-encoding  --tokens-per-side N
  --query COL,ROW  --head h|mean  --temperature T
  --score scaled-dot|dot|cosine|additive|raw  --norm softmax|sparsemax|none
  --mask none|causal|local  --radius R
  --colormap NAME  --opacity A  --upsample nearest|bilinear  --scale max|minmax|fixed  --no-grid
  --ui-scale S (1-3)  --light  --fullscreen  --frame-times (the F3 readout, shown from the start)
A Vision Transformer (--weights W.safetensors, with the image as IMAGE):
  --vit-heads H  --vit-size S|keep  --model-temperature T  --vit-view cls|patch|rollout
  --layer L  --fusion mean|max|min  --discard R  --keep-mass X (0.01-1)
Scripting and tests:
  --screenshot OUT.png   render the whole window after --frames N (default 5), save it, exit
  --export-overlay OUT.png   save the overlay at the image's resolution after --frames N, exit
  --export-weights W.npy|W.csv  --export-sheet HEADS.png  --save-session S.json   likewise
  --dump-state OUT.json  write the state when the first picture is ready and again at exit
  --bench-frames N       move the query for N/2 frames, then sweep the temperature for
                         N/2 frames; print the median and p99 frame times and the
                         delay from each change to the heatmap showing it; exit
  --drop FILE [--drop-frame N]   handle FILE as if it had been dropped on the
                         window at frame N (default 3)
  --no-persist           neither read nor write the saved settings
  --version              print the version and exit
)";

namespace {

bool ends(const std::string& t, const char* suffix) {
  const size_t n = std::strlen(suffix);
  return t.size() >= n && t.compare(t.size() - n, n, suffix) == 0;
}

// A file manager's "Open with" passes every selected file (the .desktop
// entry's %F); more than this many is surely a mistake.
constexpr int kMaxFiles = 256;

// The files on the command line. The first one, unless it is a tensor,
// sets the starting settings as it always has (the flags then apply on top)
// and is returned. Every other one, and a first .npy or .csv, is handled as
// if dropped on the window, in order, at the first frame (unless
// --drop-frame says otherwise): the same rules as File > Open, so an image
// and weights, or Q, K and V, open together.
std::string take_files(const std::vector<std::string>& files, Options& o, bool drop_frame_given) {
  if (files.empty()) return "";
  const bool first_is_tensor = ends(files[0], ".npy") || ends(files[0], ".csv");
  o.drops.assign(files.begin() + (first_is_tensor ? 0 : 1), files.end());
  if (!o.drops.empty() && !drop_frame_given) o.drop_frame = 1;
  return first_is_tensor ? "" : files[0];
}

}  // namespace

bool wants_no_persist(int argc, char** argv) {
  for (int i = 1; i < argc; ++i)
    if (!std::strcmp(argv[i], "--no-persist") || !std::strcmp(argv[i], "--screenshot") ||
        !std::strcmp(argv[i], "--export-overlay") || !std::strcmp(argv[i], "--export-weights") ||
        !std::strcmp(argv[i], "--export-sheet") || !std::strcmp(argv[i], "--save-session") ||
        !std::strcmp(argv[i], "--bench-frames"))
      return true;
  return false;
}

Options parse_options(int argc, char** argv, const Settings& base) {
  Options o;
  o.settings = base;
  Settings& s = o.settings;
  const app::Args a(argc, argv, 1,
                    {{"q"},
                     {"k"},
                     {"v"},
                     {"source"},
                     {"patch"},
                     {"d-model"},
                     {"heads"},
                     {"seed"},
                     {"pos-encoding", false},
                     {"tokens-per-side"},
                     {"query"},
                     {"head"},
                     {"temperature"},
                     {"score"},
                     {"norm"},
                     {"mask"},
                     {"radius"},
                     {"colormap"},
                     {"opacity"},
                     {"upsample"},
                     {"scale"},
                     {"no-grid", false},
                     {"ui-scale"},
                     {"light", false},
                     {"fullscreen", false},
                     {"frame-times", false},
                     {"screenshot"},
                     {"frames"},
                     {"bench-frames"},
                     {"export-overlay"},
                     {"export-weights"},
                     {"export-sheet"},
                     {"save-session"},
                     {"dump-state"},
                     {"drop"},
                     {"drop-frame"},
                     {"no-persist", false},
                     {"version", false},
                     {"weights"},
                     {"vit-heads"},
                     {"vit-size"},
                     {"model-temperature"},
                     {"vit-view"},
                     {"layer"},
                     {"fusion"},
                     {"discard"},
                     {"keep-mass"}},
                    kMaxFiles);
  o.help = a.help();
  o.version = a.has("version");
  const std::string positional = take_files(a.positionals(), o, a.has("drop-frame"));
  if (ends(positional, ".safetensors")) {
    s.source = Source::Vit, s.vit_weights = positional, s.queries.clear(), s.hidden_keys.clear();
  } else if (!positional.empty()) {
    if (ends(positional, ".json"))
      s = load_settings(positional, s);
    else
      s.image_path = positional, s.source = Source::Similarity, s.queries.clear(), s.hidden_keys.clear();
  }
  if (a.has("q") || a.has("k") || a.has("v")) {
    if (!a.has("q") || !a.has("k")) throw app::UsageError("--q and --k go together");
    s.source = Source::Files;
    s.q_path = *a.get("q");
    s.k_path = *a.get("k");
    s.v_path = a.get("v").value_or("");
    s.queries.clear();
    s.hidden_keys.clear();
  }
  if (const auto w = a.get("weights"))
    s.source = Source::Vit, s.vit_weights = *w, s.queries.clear(), s.hidden_keys.clear();
  if (a.has("source"))
    s.source = static_cast<Source>(
        a.get_choice("source", {"similarity", "random", "pixels", "random-tokens", "files", "vit"}, 0));
  s.vit_heads = static_cast<int>(a.get_int("vit-heads", s.vit_heads, 0, 4096));
  if (const auto v = a.get("vit-size"))
    s.vit_size = *v == "keep" ? -1 : static_cast<int>(a.get_int("vit-size", 0, 16, 16384));
  s.vit_temperature = a.get_double("model-temperature", s.vit_temperature);
  attn::check_temperature(s.vit_temperature, "--model-temperature");
  s.vit_view =
      static_cast<VitView>(a.get_choice("vit-view", {"cls", "patch", "rollout"}, static_cast<int>(s.vit_view)));
  s.vit_layer = static_cast<int>(a.get_int("layer", s.vit_layer, -1, 4095));
  s.vit_fusion =
      static_cast<attn::HeadFusion>(a.get_choice("fusion", {"mean", "max", "min"}, static_cast<int>(s.vit_fusion)));
  s.vit_discard = a.get_double("discard", s.vit_discard);
  if (!(s.vit_discard >= 0 && s.vit_discard < 1)) throw attn::Error("--discard must be in [0, 1)");
  s.vit_threshold = a.get_double("keep-mass", s.vit_threshold);
  if (!(s.vit_threshold >= 0.01 && s.vit_threshold <= 1)) throw attn::Error("--keep-mass must be in [0.01, 1]");
  s.patch = static_cast<int>(a.get_int("patch", s.patch, 1, 4096));
  s.d_model = static_cast<int>(a.get_int("d-model", s.d_model, 1, 4096));
  s.heads = static_cast<int>(a.get_int("heads", s.heads, 1, 4096));
  s.seed = static_cast<std::uint64_t>(a.get_int("seed", static_cast<long long>(s.seed), 0, 1LL << 53));
  if (a.has("pos-encoding")) s.position_encoding = true;
  s.token_side = static_cast<int>(a.get_int("tokens-per-side", s.token_side, 1, 256));
  s.temperature = a.get_double("temperature", s.temperature);
  attn::check_temperature(s.temperature, "--temperature");
  s.score = static_cast<attn::Score>(
      a.get_choice("score", {"scaled-dot", "dot", "cosine", "additive", "raw"}, static_cast<int>(s.score)));
  s.norm = static_cast<attn::Norm>(a.get_choice("norm", {"softmax", "sparsemax", "none"}, static_cast<int>(s.norm)));
  s.mask =
      static_cast<attn::MaskStructure>(a.get_choice("mask", {"none", "causal", "local"}, static_cast<int>(s.mask)));
  s.radius = static_cast<int>(a.get_int("radius", s.radius, 0, 1 << 20));
  if (const auto c = a.get("colormap")) {
    const auto m = attn::colormap_from_name(*c);
    if (!m) throw attn::Error("--colormap: unknown colormap '" + *c + "'");
    s.colormap = *m;
  }
  s.opacity = static_cast<float>(a.get_double("opacity", s.opacity));
  if (!(s.opacity >= 0 && s.opacity <= 1)) throw attn::Error("--opacity must be in [0, 1]");
  s.upsample =
      static_cast<attn::Upsample>(a.get_choice("upsample", {"nearest", "bilinear"}, static_cast<int>(s.upsample)));
  s.scale = static_cast<attn::MapScale>(a.get_choice("scale", {"max", "minmax", "fixed"}, static_cast<int>(s.scale)));
  if (a.has("no-grid")) s.grid = false;
  s.ui_scale = static_cast<float>(a.get_double("ui-scale", s.ui_scale));
  if (!(s.ui_scale >= 1 && s.ui_scale <= 3)) throw attn::Error("--ui-scale must be in [1, 3]");
  if (a.has("light")) s.light_theme = true;
  if (const auto h = a.get("head")) s.head = *h == "mean" ? -1 : static_cast<int>(a.get_int("head", 0, 0, 4095));
  if (const auto q = a.get("query")) {
    const auto [c, r] = app::parse_pair(*q, "--query");
    if (c < 0 || r < 0 || c > (1 << 20) || r > (1 << 20)) throw attn::Error("--query: out of range");
    o.query = {static_cast<int>(c), static_cast<int>(r)};
  }
  o.screenshot = a.get("screenshot").value_or("");
  o.export_overlay = a.get("export-overlay").value_or("");
  o.export_weights = a.get("export-weights").value_or("");
  o.export_sheet = a.get("export-sheet").value_or("");
  o.save_session = a.get("save-session").value_or("");
  o.frames = static_cast<int>(a.get_int("frames", 5, 1, 100000));
  o.bench_frames = static_cast<int>(a.get_int("bench-frames", 0, 0, 1000000));
  o.dump_state = a.get("dump-state").value_or("");
  if (const auto d = a.get("drop")) o.drops.push_back(*d);
  o.drop_frame = static_cast<int>(a.get_int("drop-frame", o.drop_frame, 1, 100000));
  o.persist = !a.has("no-persist") && !o.scripted();
  o.fullscreen = a.has("fullscreen");
  o.frame_times = a.has("frame-times");
  return o;
}

}  // namespace gui
