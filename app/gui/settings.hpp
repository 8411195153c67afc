#pragma once
// Every setting a user can change, as one plain struct: what sessions save
// and load, what persists between runs, and what command-line flags set.
#include <cstdint>
#include <string>
#include <vector>

#include "core/attention.hpp"
#include "core/overlay.hpp"
#include "core/vit_views.hpp"

namespace gui {

enum class Source {
  Similarity,    // image patches, colour/texture descriptor, W_q = W_k
  Random,        // image patches, independent random projections
  Pixels,        // image patches' own pixels
  RandomTokens,  // no image: seeded random Q, K, V on a grid of tokens
  Files,         // Q, K, V from .npy or CSV files
  Vit,           // a Vision Transformer's own attention (safetensors weights) on the image
};

enum class VitView { ClassToken, Patch, Rollout };

struct Settings {
  // What the tokens are.
  Source source = Source::Similarity;
  std::string image_path;              // empty: the bundled sample
  std::string q_path, k_path, v_path;  // Source::Files
  int patch = 16;
  int d_model = 64;
  int heads = 4;
  std::uint64_t seed = 0;
  bool position_encoding = false;
  int token_side = 16;  // Source::RandomTokens: side x side tokens

  // Source::Vit
  std::string vit_weights;       // .safetensors (a config.json beside it is read)
  int vit_heads = 0;             // 0: config.json, else width / 64
  int vit_size = 0;              // shorter side in pixels; 0: the model's own size; -1: the image's own size
  double vit_temperature = 1.0;  // inside every layer's softmax (propagates); `temperature` is display-only
  VitView vit_view = VitView::ClassToken;
  int vit_layer = -1;                                    // -1: the last layer
  attn::HeadFusion vit_fusion = attn::HeadFusion::Mean;  // how "all heads" are combined
  double vit_threshold = 1.0;    // show only the patches holding this fraction of the mass (1: off)
  double vit_discard = 0.0;      // rollout: fraction of the smallest weights dropped per layer
  bool vit_include_cls = false;  // keep the class token's share out of the patches' renormalisation
  bool vit_include_registers = false;

  // How they attend.
  double temperature = 1.0;
  attn::Score score = attn::Score::ScaledDot;
  attn::Norm norm = attn::Norm::Softmax;
  attn::MaskStructure mask = attn::MaskStructure::None;
  int radius = 2;
  std::vector<int> hidden_keys;  // painted: token indices hidden from every query
  std::vector<int> queries;      // selected query tokens; empty = the centre one
  int head = -1;                 // the head shown; -1 = mean over heads

  // How it is drawn.
  attn::Colormap colormap = attn::Colormap::Inferno;
  float opacity = 0.8f;
  attn::Upsample upsample = attn::Upsample::Bilinear;
  attn::MapScale scale = attn::MapScale::Max;
  bool grid = true;

  // The window.
  float ui_scale = 1.0f;
  bool light_theme = false;
  bool show_controls = true, show_heads = true, show_steps = true, show_matrix = false;
  int window_width = 1600, window_height = 1000;
  std::vector<std::string> recent_files;  // most recent first, at most 8

  attn::OverlayStyle overlay_style() const { return {colormap, opacity, upsample, scale, grid}; }
};

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

void remember_file(Settings& s, const std::string& path);

}  // namespace gui
