#pragma once
// Every setting a user can change, grouped by concern. Each group is a
// plain struct with ==, and lists its fields once, in visit(): sessions,
// the settings file and their checks are derived from that list, and so is
// what decides which work a change needs (app_state.hpp).
//
// visit(v) calls v(key, field) for each field, or v(key, field, Range) for a
// number whose valid values sessions check. Keys are the session file's.
#include <cstdint>
#include <string>
#include <vector>

#include "core/attention.hpp"
#include "core/attention_views.hpp"
#include "core/enum_names.hpp"
#include "core/overlay.hpp"
#include "core/word_views.hpp"

namespace gui {

enum class Source {
  Similarity,    // image patches, colour/texture descriptor, W_q = W_k
  Random,        // image patches, independent random projections
  Pixels,        // image patches' own pixels
  RandomTokens,  // no image: seeded random Q, K, V on a grid of tokens
  Files,         // Q, K, V from .npy or CSV files
  Vit,           // a Vision Transformer's own attention (safetensors weights) on the image
  Words,         // a model's exported word-to-image attention over the image, with its words
  Captioner,     // the bundled captioner on the image, or on a scene of shapes it draws
};
bool is_image_source(Source s);  // Similarity, Random or Pixels

// The interval a number must lie in: [lo, hi], or (lo, hi] when open_lo.
struct Range {
  double lo, hi;
  bool open_lo = false;
};

// What the tokens are.
struct TokenSettings {
  Source source = Source::Similarity;
  std::string image_path;              // empty: the bundled sample
  std::string q_path, k_path, v_path;  // Source::Files
  int patch = 16;
  int d_model = 64;
  int heads = 4;
  std::uint64_t seed = 0;
  bool position_encoding = false;
  int token_side = 16;  // Source::RandomTokens: side x side tokens
  // Source::Words: the attention file, its words, and where the image's keys sit.
  std::string words_attn, words_tokens, words_tensor;
  int words_cols = 0, words_rows = 0;  // the image's patch grid; 0: inferred from its aspect
  int words_key_offset = -1;           // the first image key; -1: inferred
  // Source::Captioner: the weights of a training step (-1: the final ones),
  // and the scene drawn when image_path is empty.
  int captioner_step = -1;
  std::uint64_t captioner_scene = 1;

  bool operator==(const TokenSettings&) const = default;
  template <typename V>
  void visit(V&& v) {
    v("source", source);
    v("image", image_path);
    v("q", q_path);
    v("k", k_path);
    v("v", v_path);
    v("patch", patch, Range{1, 4096});
    v("d_model", d_model, Range{1, 4096});
    v("heads", heads, Range{1, 4096});
    v("seed", seed);
    v("position_encoding", position_encoding);
    v("token_side", token_side, Range{1, 256});
    v("words_attn", words_attn);
    v("words_tokens", words_tokens);
    v("words_tensor", words_tensor);
    v("words_cols", words_cols, Range{0, 65536});
    v("words_rows", words_rows, Range{0, 65536});
    v("words_key_offset", words_key_offset, Range{-1, 1 << 30});
    v("captioner_step", captioner_step, Range{-1, 1 << 30});
    v("captioner_scene", captioner_scene);
  }
};

// The Vision Transformer (Source::Vit) and how it runs.
struct ModelSettings {
  std::string weights;         // .safetensors, a sharded index, or a PyTorch checkpoint (configs beside it are read)
  std::string checkpoint_key;  // the state dict inside a nested checkpoint ("": the usual ones)
  int heads = 0;               // 0: config.json, else width / 64
  int size = 0;                // shorter side in pixels; 0: the model's own size; -1: the image's own size
  double temperature = 1.0;    // inside every layer's softmax (propagates)

  bool operator==(const ModelSettings&) const = default;
  template <typename V>
  void visit(V&& v) {
    v("vit_weights", weights);
    v("vit_checkpoint_key", checkpoint_key);
    v("vit_heads", heads, Range{0, 4096});
    v("vit_size", size, Range{-1, 16384});
    v("vit_temperature", temperature, Range{1e-30, 1e30});
  }
};

// How queries and keys become weights.
struct AttentionSettings {
  double temperature = 1.0;  // for a ViT: the display temperature (this layer only)
  attn::Score score = attn::Score::ScaledDot;
  attn::Norm norm = attn::Norm::Softmax;
  attn::MaskStructure mask = attn::MaskStructure::None;
  int radius = 2;
  std::vector<int> hidden_keys;  // painted: cells hidden from every query

  bool operator==(const AttentionSettings&) const = default;
  template <typename V>
  void visit(V&& v) {
    v("temperature", temperature, Range{1e-30, 1e30});
    v("score", score);
    v("norm", norm);
    v("mask", mask);
    v("radius", radius, Range{0, 1 << 20});
    v("hidden_keys", hidden_keys, Range{0, 1 << 28});
  }
};

// Which attention is shown: a head or all of them, and for a ViT whose
// rows, which layer and how the special tokens count.
struct ViewSettings {
  int head = -1;  // the head shown; -1: all heads (mean, or `fusion` for a ViT)
  attn::ViewQuery query = attn::ViewQuery::ClassToken;
  int layer = -1;  // -1: the last layer
  attn::HeadFusion fusion = attn::HeadFusion::Mean;
  double keep_mass = 1.0;  // show only the patches holding this share of the mass (1: off)
  double discard = 0.0;    // rollout: share of the smallest weights dropped per layer
  bool include_cls = false, include_registers = false;
  int ignore_top_norms = 0;     // leave out the k longest patch tokens (artefacts) and renormalise
  bool mean_of_layers = false;  // words: the layers averaged
  attn::WordSmooth word_smooth = attn::WordSmooth::Bilinear;  // words: how maps are smoothed
  attn::WordScale word_scale = attn::WordScale::Word;         // words: each to its own max, or shared

  bool operator==(const ViewSettings&) const = default;
  template <typename V>
  void visit(V&& v) {
    v("head", head, Range{-1, 4095});
    v("vit_view", query);
    v("vit_layer", layer, Range{-1, 4095});
    v("vit_fusion", fusion);
    v("vit_threshold", keep_mass, Range{0, 1, true});
    v("vit_discard", discard, Range{0, 0.99});
    v("vit_include_cls", include_cls);
    v("vit_include_registers", include_registers);
    v("vit_ignore_norms", ignore_top_norms, Range{0, 4096});
    v("mean_of_layers", mean_of_layers);
    v("word_smooth", word_smooth);
    v("word_scale", word_scale);
  }
  // Imported words: which layer and heads their maps come from.
  attn::WordRequest word_request() const {
    attn::WordRequest r;
    r.layer = layer, r.mean_of_layers = mean_of_layers, r.head = head, r.fusion = fusion;
    return r;
  }
};

// The selected query cells (grid cells, row-major); empty: the centre one.
// With words: the selected words (their maps averaged); empty: the first.
struct SelectionSettings {
  std::vector<int> queries;
  std::vector<int> words;

  bool operator==(const SelectionSettings&) const = default;
  template <typename V>
  void visit(V&& v) {
    v("queries", queries, Range{0, 1 << 28});
    v("words", words, Range{0, 1 << 28});
  }
};

// How the map is drawn.
struct DisplaySettings {
  attn::Colormap colormap = attn::Colormap::Inferno;
  float opacity = 0.8f;
  attn::Upsample upsample = attn::Upsample::Bilinear;
  attn::MapScale scale = attn::MapScale::Max;
  bool grid = true;
  bool scale_includes_query = false;  // the queries' own patches count in the colour scale

  bool operator==(const DisplaySettings&) const = default;
  template <typename V>
  void visit(V&& v) {
    v("colormap", colormap);
    v("opacity", opacity, Range{0, 1});
    v("upsample", upsample);
    v("scale", scale);
    v("grid", grid);
    v("scale_includes_query", scale_includes_query);
  }
  attn::OverlayStyle overlay_style() const {
    attn::OverlayStyle s;
    s.colormap = colormap;
    s.opacity = opacity;
    s.upsample = upsample;
    s.scale = scale;
    s.grid = grid;
    s.scale_includes_outlined = scale_includes_query;
    return s;
  }
};

// Compare mode: the image view splits into A | B | A - B. A is what every
// other control sets; B is A with the settings ticked here set to the
// values here (all the others follow A, the queries included).
struct CompareSettings {
  // B's values, used for the settings ticked below. b_image and b_weights
  // are B's own image or own Vision Transformer (DINO against CLIP on one
  // photo, with and without registers): B then has its own scene, and
  // where its grid differs from A's, B's map is resampled onto A's grid for
  // A - B.
  double b_temperature = 2.0;
  std::string b_image;  // "": the bundled sample
  std::string b_weights;
  int b_head = -1;   // -1: all heads
  int b_layer = -1;  // a ViT's or imported words' layer; -1: the last
  attn::Score b_score = attn::Score::Cosine;
  attn::Norm b_norm = attn::Norm::Sparsemax;
  attn::MaskStructure b_mask = attn::MaskStructure::Causal;
  // Compare mode on, and which settings B changes.
  bool on = false;
  bool temperature = false, head = false, layer = false, score = false, norm = false, mask = false;
  bool image = false, model = false;

  bool operator==(const CompareSettings&) const = default;
  template <typename V>
  void visit(V&& v) {
    v("compare", on);
    v("compare_temperature", temperature);
    v("compare_b_temperature", b_temperature, Range{1e-30, 1e30});
    v("compare_head", head);
    v("compare_b_head", b_head, Range{-1, 4095});
    v("compare_layer", layer);
    v("compare_b_layer", b_layer, Range{-1, 4095});
    v("compare_score", score);
    v("compare_b_score", b_score);
    v("compare_norm", norm);
    v("compare_b_norm", b_norm);
    v("compare_mask", mask);
    v("compare_b_mask", b_mask);
    v("compare_image", image);
    v("compare_b_image", b_image);
    v("compare_model", model);
    v("compare_b_weights", b_weights);
  }
  // Whether any setting differs.
  bool any() const { return temperature || head || layer || score || norm || mask || image || model; }
  // Compare mode on or off; turned on with nothing ticked, B's temperature
  // is ticked at 4 x A's `temperature` (something to see from the start).
  void toggle(double temperature);
  // "KEY=VALUE[,KEY=VALUE...]" (keys: temperature, head, layer, score, norm,
  // mask, image, model; head and layer take a number or "mean"/"last";
  // image and model a file's path, without commas) ticks those
  // settings with those values and turns compare mode on. attn::Error
  // naming --compare otherwise.
  void parse(const std::string& pairs);
};

// The window and its panels.
struct WindowSettings {
  float ui_scale = 1.0f;
  bool light_theme = false;
  bool show_controls = true, show_heads = true, show_steps = true, show_matrix = false;
  bool presentation = false;  // the picture takes most of the screen
  bool export_data = false;   // exports also write their numbers (.npy, .csv, .json)
  int width = 1600, height = 1000;
  std::vector<std::string> recent_files;  // most recent first, at most 8

  bool operator==(const WindowSettings&) const = default;
  template <typename V>
  void visit(V&& v) {
    v("ui_scale", ui_scale, Range{1, 3});
    v("light_theme", light_theme);
    v("show_controls", show_controls);
    v("show_heads", show_heads);
    v("show_steps", show_steps);
    v("show_matrix", show_matrix);
    v("presentation", presentation);
    v("export_data", export_data);
    v("window_width", width, Range{320, 16384});
    v("window_height", height, Range{240, 16384});
    v("recent_files", recent_files);
  }
};

struct Settings {
  TokenSettings tokens;
  ModelSettings model;
  AttentionSettings attention;
  ViewSettings view;
  SelectionSettings selection;
  DisplaySettings display;
  CompareSettings compare;
  WindowSettings window;

  bool operator==(const Settings&) const = default;
  template <typename V>
  void visit(V&& v) {
    tokens.visit(v);
    model.visit(v);
    attention.visit(v);
    view.visit(v);
    selection.visit(v);
    display.visit(v);
    compare.visit(v);
    window.visit(v);
  }
};

// B's settings in compare mode: `a` with the compared settings changed.
Settings side_b(const Settings& a);
// What the compared settings are on each side, e.g. "T = 1, head 2" and
// "T = 5, mean of heads"; `heads_word` names the fused heads ("mean").
std::pair<std::string, std::string> compare_labels(const Settings& a, const std::string& heads_word);

// JSON text of every setting.
std::string to_json(const Settings& s);
// Parses JSON written by to_json() (missing keys keep `base`'s values).
// Throws attn::Error naming `name` on malformed JSON, nesting deeper than 8,
// duplicate keys, unknown enum names or out-of-range values.
Settings from_json(const std::string& text, const std::string& name, const Settings& base = {});

// Writes/reads a session file (atomic write; attn::Error on failure).
void save_settings(const std::string& path, const Settings& s);
Settings load_settings(const std::string& path, const Settings& base = {});

// Where settings persist: $XDG_CONFIG_HOME/attnscope (or ~/.config/attnscope).
std::string config_dir();

void remember_file(WindowSettings& w, const std::string& path);

}  // namespace gui

template <>
std::span<const attn::EnumName<gui::Source>> attn::enum_names<gui::Source>();
