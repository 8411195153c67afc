#pragma once
// A scene: what the settings' tokens and model groups produce, built in the
// background (loading files, building Q/K/V, running a ViT) and then shown.
// Identity is by value or by number, never by address: every loaded image
// gets an id, every adopted scene a generation, and caches compare those.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/attention_views.hpp"
#include "core/patch_attention.hpp"
#include "core/tokens.hpp"
#include "core/vit.hpp"
#include "core/word_views.hpp"
#include "settings.hpp"

namespace gui {

// What a scene is built from: the tokens and model groups, with the fields
// the source does not read left at their defaults (so changing them costs
// nothing).
struct SceneKey {
  TokenSettings tokens;
  ModelSettings model;
  bool operator==(const SceneKey&) const = default;
  static SceneKey of(const Settings& s);
};

// An image as loaded, with the number it got then ("" path: the bundled sample).
struct LoadedImage {
  std::shared_ptr<const attn::Image> pixels;
  std::string path;
  std::uint64_t id = 0;
};
// Loads `path` (or the sample), giving it a new id. Throws attn::Error.
LoadedImage load_scene_image(const std::string& path);

// A Vision Transformer's forward pass on an image, and what its views need.
struct VitRun {
  struct Key {
    std::string weights, checkpoint_key;
    int heads = 0, size = 0;
    double temperature = 1.0;
    std::uint64_t image = 0;  // LoadedImage::id
    bool operator==(const Key&) const = default;
  };
  Key key;
  std::shared_ptr<const attn::VitModel> model;
  std::shared_ptr<const attn::VitResult> result;
  std::shared_ptr<const attn::Image> input;  // result->input, shared with the scenes that show it
  attn::HeadStatistics stats;
  attn::AttentionSinks sinks;
  LoadedImage source;  // the image before resizing
};

// Word attention a model wrote out, over its image (Source::Words).
struct WordsRun {
  std::vector<std::string> words;  // [T]
  attn::AttentionRecord record;    // the keys (the image's patches and the others), the words, Cross [L, H, T, N]
  attn::ImageKeys keys;            // where the image's patches sit among the N keys
  std::string description;         // one line: what was read and inferred
  bool negative = false;           // values below zero: drawn on the diverging map
  // Source::Captioner: the model's training steps kept (ascending; the last
  // is the final weights') and, for a drawn scene, a true caption of it and
  // whether the model's caption is one.
  std::vector<int> captioner_steps;
  std::vector<attn::Matrix> cross_q, cross_k;  // the captioner's (attn::Caption)
  std::string scene_truth;
  bool caption_true = false;
  int layers() const { return record.attention.front().weights.layers(); }
};

struct Scene {
  std::uint64_t generation = 0;  // 0: nothing built yet; each adopted scene gets the next number
  SceneKey key;
  std::shared_ptr<const attn::Image> image;       // drawn under the overlay
  LoadedImage source;                             // the image the tokens come from, if any
  attn::TokenSet tokens;                          // the model's tokens; the shown ones are its patches
  attn::PatchGrid grid;                           // where the patches sit
  int cells_used = 0;                             // patch tokens (cells 0 .. cells_used - 1 hold one)
  int heads = 0, width = 0;                       // width: d_model
  std::shared_ptr<const attn::PatchModel> model;  // Q, K, V sources
  std::shared_ptr<const VitRun> vit;              // Source::Vit
  std::shared_ptr<const WordsRun> words;          // Source::Words
  Settings built_from;                            // the settings when it was requested
  bool ready() const { return image != nullptr; }
};

// What earlier scenes loaded and computed, reused by value: images by path,
// ViT models by (file, heads), forward passes by VitRun::Key. Newest first.
struct SceneCache {
  std::vector<LoadedImage> images;
  std::vector<std::shared_ptr<const VitRun>> runs;
  void remember(const Scene& s);  // keeps the last few of each
};

// Builds the scene `key` asks for, reusing what `cache` holds. Runs on a
// worker (checks Worker::check_cancelled between steps); throws attn::Error.
Scene build_scene(const SceneKey& key, const SceneCache& cache);

}  // namespace gui
