#include "options.hpp"

#include <algorithm>
#include <cstring>

#include "common/args.hpp"
#include "core/error.hpp"
#include "open_path.hpp"

namespace gui {

const char* const kUsage =
    R"(usage: attnscope [FILE...] [--q Q.npy --k K.npy [--v V.npy]] [options]

The attention explorer: click a patch and see where it looks.

FILEs are opened in turn, as if dropped on the window: images (PNG, JPEG,
BMP), sessions (.json), Vision Transformer weights (.safetensors,
model.safetensors.index.json, .pth, .pt, .bin, .ckpt), and Q, K, V files
(.npy, .csv; the first is Q, the second K, the third V). A bad file
leaves the bundled sample open, says why, and makes a scripted run exit 3.

Settings (all of them can also be changed in the window):
  --source similarity|random|pixels|random-tokens|files|vit
  --patch P  --d-model D  --heads H  --seed S  --pos-encoding  --tokens-per-side N
  --query COL,ROW  --head h|mean  --temperature T
  --score scaled-dot|dot|cosine|additive|raw  --norm softmax|sparsemax|none
  --mask none|causal|local  --radius R
  --colormap viridis|magma|inferno|plasma|cividis|turbo|greyscale|diverging
  --opacity A  --upsample nearest|bilinear  --scale max|minmax|fixed  --no-grid
  --scale-includes-query   the query's own patch counts in the colour scale
                           (by default the scale's top is the largest weight
                           outside it: a patch's weight on itself is often
                           several times any other)
  --ui-scale S (1-3)  --light  --fullscreen  --present (the picture takes most
  of the screen)  --matrix (the attention matrix tab)  --frame-times (the F3
  readout, shown from the start)
A Vision Transformer (--weights FILE: .safetensors, model.safetensors.index.json,
.pth, .pt, .bin; with the image as a FILE):
  --checkpoint-key K  --vit-heads H  --vit-size S|keep  --model-temperature T
  --vit-view class-token|patch|rollout|distillation-token|norms  --layer L
  --fusion mean|max|min  --discard R  --keep-mass X (0-1]  --include-cls
  --include-registers  --ignore-norms K (leave out the K longest tokens)
Words over the image (attention a captioner or vision-language model wrote
out, with the image as a FILE; a .txt or .json token list FILE after a .npy
does the same):
  --words A.npy|A.safetensors  --tokens T.txt|T.json (default: beside A)
  --tensor NAME  --grid COLS,ROWS  --key-offset K  --word I[,J...] (averaged)
  --layer L|mean  --head h|mean|max|min  --smooth none|bilinear|gaussian
  --word-scale word|shared
The bundled captioner (a scene of shapes it draws, or the image FILE):
  --captioner  --scene N (which drawn scene)  --captioner-step S (the weights
  of a training step; default: the final ones)
Compare (the image view as A | B | A - B; B is A with these changed):
  --compare KEY=VALUE[,KEY=VALUE...]   keys: temperature, head (a number or
                         mean), layer (a number or last), score, norm, mask,
                         image (B on another photo), model (another ViT)
Scripting and tests:
  --screenshot OUT.png   render the whole window after --frames N (default 5), save it, exit
  --export-overlay OUT.png   save the overlay at the image's resolution after --frames N, exit
  --export-weights W.npy|W.csv  --export-sheet HEADS.png|.svg|.pdf  --export-words GRID.png|.svg|.pdf
  --export-compare AB.png|.svg|.pdf   (with --compare)
  --export-data          exports also write their numbers: BASE.npy, .csv, .json
  --save-session S.json  likewise
  --hover COL,ROW        scripted runs: hover this patch (its tooltip shows); by
                         default they show no hover state wherever the pointer is
  --dump-state OUT.json  write the state when the first picture is ready and again at exit
  --bench-frames N       move the query for N/2 frames, then sweep the temperature for
                         N/2 frames; print the median and p99 frame times and the
                         delay from each change to the heatmap showing it; exit
  --drop FILE [--drop-frame N]   handle FILE as if it had been dropped on the
                         window at frame N (default 3)
  --no-persist           neither read nor write the saved settings
  --version              print the version and exit
)";

bool wants_no_persist(int argc, char** argv) {
  for (int i = 1; i < argc; ++i)
    for (const char* flag : {"--no-persist", "--screenshot", "--export-overlay", "--export-weights", "--export-sheet",
                             "--export-words", "--export-compare", "--save-session", "--bench-frames"})
      if (!std::strcmp(argv[i], flag)) return true;
  return false;
}

namespace {

// A file manager's "Open with" passes every selected file (the .desktop
// entry's %F); more than this many is surely a mistake.
constexpr int kMaxFiles = 256;

std::pair<int, int> cell_flag(const app::Args& a, const char* name) {
  const auto [c, r] = app::parse_pair(*a.get(name), std::string("--") + name);
  if (c < 0 || r < 0 || c > (1 << 20) || r > (1 << 20)) throw attn::Error(std::string("--") + name + ": out of range");
  return {static_cast<int>(c), static_cast<int>(r)};
}

}  // namespace

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
                     {"hover"},
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
                     {"scale-includes-query", false},
                     {"no-grid", false},
                     {"ui-scale"},
                     {"light", false},
                     {"fullscreen", false},
                     {"present", false},
                     {"matrix", false},
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
                     {"keep-mass"},
                     {"include-cls", false},
                     {"ignore-norms"},
                     {"checkpoint-key"},
                     {"words"},
                     {"tokens"},
                     {"tensor"},
                     {"grid"},
                     {"key-offset"},
                     {"word"},
                     {"smooth"},
                     {"word-scale"},
                     {"export-words"},
                     {"compare"},
                     {"export-compare"},
                     {"export-data", false},
                     {"include-registers", false},
                     {"captioner", false},
                     {"scene"},
                     {"captioner-step"}},
                    kMaxFiles);
  o.help = a.help();
  o.version = a.has("version");
  for (const auto& path : a.positionals()) open_path(s, path);
  if (a.has("q") || a.has("k") || a.has("v")) {
    if (!a.has("q") || !a.has("k")) throw app::UsageError("--q and --k go together");
    TokenSettings& t = s.tokens;
    t.source = Source::Files;
    t.q_path = *a.get("q");
    t.k_path = *a.get("k");
    t.v_path = a.get("v").value_or("");
    s.selection.queries.clear();
    s.attention.hidden_keys.clear();
  }
  if (const auto w = a.get("weights")) {
    s.tokens.source = Source::Vit;
    s.model.weights = *w;
    s.selection.queries.clear();
    s.attention.hidden_keys.clear();
  }
  if (const auto w = a.get("words")) {
    open_words(s, *w);
    if (const auto t = a.get("tokens")) open_words(s, *t);
    if (s.tokens.words_tokens.empty())
      throw attn::Error(*w + ": no token list beside it (STEM.txt, STEM.json, tokens.txt, tokens.json); give --tokens");
  } else if (a.has("tokens")) {
    open_words(s, *a.get("tokens"));
  }
  if (const auto n = a.get("tensor")) s.tokens.words_tensor = *n;
  if (a.has("grid")) {
    const auto [c, r] = cell_flag(a, "grid");
    if (c < 1 || r < 1) throw attn::Error("--grid: columns and rows must be at least 1");
    s.tokens.words_cols = c, s.tokens.words_rows = r;
  }
  if (a.has("key-offset")) s.tokens.words_key_offset = static_cast<int>(a.get_int("key-offset", 0, 0, 1 << 30));
  if (const auto w = a.get("word")) {
    s.selection.words.clear();
    size_t start = 0;
    while (start <= w->size()) {
      const size_t end = std::min(w->find(',', start), w->size());
      try {
        size_t used = 0;
        const std::string part = w->substr(start, end - start);
        const int i = std::stoi(part, &used);
        if (used != part.size() || i < 0) throw std::invalid_argument(part);
        s.selection.words.push_back(i);
      } catch (const std::exception&) {
        throw attn::Error("--word: expected word numbers counted from 0, e.g. 2 or 1,3; got '" + *w + "'");
      }
      start = end + 1;
    }
  }
  if (a.has("captioner") || a.has("scene") || a.has("captioner-step")) {
    TokenSettings& t = s.tokens;
    const bool image = std::any_of(a.positionals().begin(), a.positionals().end(),
                                   [](const std::string& p) { return file_kind(p) == FileKind::Image; });
    if (!image) t.image_path.clear();
    t.source = Source::Captioner;
    if (a.has("scene")) t.captioner_scene = static_cast<std::uint64_t>(a.get_int("scene", 1, 0, 1LL << 53));
    if (a.has("captioner-step")) t.captioner_step = static_cast<int>(a.get_int("captioner-step", -1, -1, 1 << 30));
  }
  s.view.word_smooth = a.get_enum("smooth", s.view.word_smooth);
  s.view.word_scale = a.get_enum("word-scale", s.view.word_scale);
  s.tokens.source = a.get_enum("source", s.tokens.source);

  ModelSettings& m = s.model;
  m.heads = static_cast<int>(a.get_int("vit-heads", m.heads, 0, 4096));
  if (const auto v = a.get("vit-size"))
    m.size = *v == "keep" ? -1 : static_cast<int>(a.get_int("vit-size", 0, 16, 16384));
  m.temperature = a.get_double("model-temperature", m.temperature);
  attn::check_temperature(m.temperature, "--model-temperature");

  ViewSettings& view = s.view;
  view.query = a.get_enum("vit-view", view.query);
  if (a.get("layer") == "mean")
    view.mean_of_layers = true;
  else
    view.layer = static_cast<int>(a.get_int("layer", view.layer, -1, 4095));
  view.fusion = a.get_enum("fusion", view.fusion);
  view.discard = a.get_double("discard", view.discard);
  attn::check_discard(view.discard, "--discard");
  view.keep_mass = a.get_double("keep-mass", view.keep_mass);
  attn::check_keep_mass(view.keep_mass, "--keep-mass");
  if (a.has("include-cls")) view.include_cls = true;
  view.ignore_top_norms = static_cast<int>(a.get_int("ignore-norms", view.ignore_top_norms, 0, 4096));
  if (const auto k = a.get("checkpoint-key")) m.checkpoint_key = *k;
  if (a.has("include-registers")) view.include_registers = true;
  if (const auto h = a.get("head")) {
    if (const auto f = attn::from_name<attn::HeadFusion>(*h))
      view.head = -1, view.fusion = *f;
    else
      view.head = static_cast<int>(a.get_int("head", 0, 0, 4095));
  }

  TokenSettings& t = s.tokens;
  t.patch = static_cast<int>(a.get_int("patch", t.patch, 1, 4096));
  t.d_model = static_cast<int>(a.get_int("d-model", t.d_model, 1, 4096));
  t.heads = static_cast<int>(a.get_int("heads", t.heads, 1, 4096));
  t.seed = static_cast<std::uint64_t>(a.get_int("seed", static_cast<long long>(t.seed), 0, 1LL << 53));
  if (a.has("pos-encoding")) t.position_encoding = true;
  t.token_side = static_cast<int>(a.get_int("tokens-per-side", t.token_side, 1, 256));

  AttentionSettings& at = s.attention;
  at.temperature = a.get_double("temperature", at.temperature);
  attn::check_temperature(at.temperature, "--temperature");
  at.score = a.get_enum("score", at.score);
  at.norm = a.get_enum("norm", at.norm);
  at.mask = a.get_enum("mask", at.mask);
  at.radius = static_cast<int>(a.get_int("radius", at.radius, 0, 1 << 20));

  DisplaySettings& d = s.display;
  d.colormap = a.get_enum("colormap", d.colormap);
  d.opacity = static_cast<float>(a.get_double("opacity", d.opacity));
  if (!(d.opacity >= 0 && d.opacity <= 1)) throw attn::Error("--opacity must be in [0, 1]");
  d.upsample = a.get_enum("upsample", d.upsample);
  d.scale = a.get_enum("scale", d.scale);
  if (a.has("no-grid")) d.grid = false;
  if (a.has("scale-includes-query")) d.scale_includes_query = true;

  WindowSettings& w = s.window;
  w.ui_scale = static_cast<float>(a.get_double("ui-scale", w.ui_scale));
  if (!(w.ui_scale >= 1 && w.ui_scale <= 3)) throw attn::Error("--ui-scale must be in [1, 3]");
  if (a.has("light")) w.light_theme = true;
  if (a.has("present")) w.presentation = true;
  if (a.has("matrix")) w.show_matrix = true, w.show_steps = true;

  if (a.has("query")) o.query = cell_flag(a, "query");
  if (a.has("hover")) o.hover = cell_flag(a, "hover");
  o.screenshot = a.get("screenshot").value_or("");
  o.export_overlay = a.get("export-overlay").value_or("");
  o.export_weights = a.get("export-weights").value_or("");
  o.export_sheet = a.get("export-sheet").value_or("");
  o.export_words = a.get("export-words").value_or("");
  o.export_compare = a.get("export-compare").value_or("");
  if (const auto c = a.get("compare")) s.compare.parse(*c);
  if (a.has("export-data")) s.window.export_data = true;
  if (!o.export_compare.empty() && !s.compare.on) throw app::UsageError("--export-compare needs --compare");
  o.save_session = a.get("save-session").value_or("");
  o.frames = static_cast<int>(a.get_int("frames", 5, 1, 100000));
  o.bench_frames = static_cast<int>(a.get_int("bench-frames", 0, 0, 1000000));
  o.dump_state = a.get("dump-state").value_or("");
  if (const auto drop = a.get("drop")) o.drops.push_back(*drop);
  o.drop_frame = static_cast<int>(a.get_int("drop-frame", 3, 1, 100000));
  o.persist = !a.has("no-persist") && !o.scripted();
  o.fullscreen = a.has("fullscreen");
  o.frame_times = a.has("frame-times");
  return o;
}

}  // namespace gui
