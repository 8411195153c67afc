#pragma once
// The one owner of the app's state: the settings, the scene they produced
// (image and model), the attention of the selected queries, and messages.
// Knows nothing of GL or ImGui: panels edit `settings`; update() notices
// which groups changed and does the least work that brings the picture up
// to date (docs/ARCHITECTURE.md):
//   - tokens or model changed: a new scene, built on a worker;
//   - the queries or the score changed: their rows, from Q and K (a click:
//     well under a millisecond);
//   - temperature, normaliser or mask changed: the kept logits renormalised;
//   - the shown head changed: the maps recombined, nothing recomputed;
//   - the matrix view and a ViT's rollout: on their own workers.
// Every cache compares the scene's generation number, never an address.
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "scene.hpp"
#include "settings.hpp"
#include "worker.hpp"

namespace gui {

struct Message {
  std::string text;
  bool error = false;
  double time = 0.0;  // seconds since start, when it was posted
};
// How long the status line shows a message.
inline constexpr double kMessageSeconds = 20.0;

// How often each kind of work ran: what the tests check a change cost.
struct WorkCounts {
  int scenes_requested = 0, scenes_adopted = 0, scenes_failed = 0;
  int rows_computed = 0;      // query rows from Q and K (per query)
  int rows_renormalised = 0;  // kept logits renormalised (per query)
  int maps_combined = 0;      // maps recombined from the kept rows
  int vit_maps = 0;           // a ViT's maps from its kept attention
  int matrices_computed = 0, matrices_renormalised = 0, matrices_picked = 0;
  int rollouts = 0;
  int word_maps = 0;  // imported words' maps from their kept attention
};

class AppState {
 public:
  Settings settings;
  Scene scene;  // generation 0 until the first scene is built

  // The selected queries' attention, averaged over them, per grid cell.
  attn::Matrix head_maps;                          // [H, cells]: each head's map
  std::vector<float> combined;                     // [cells]: the heads combined (mean; a ViT's fusion or rollout)
  std::vector<float> map;                          // [cells]: what the overlay shows
  std::uint64_t map_revision = 0;                  // bumps whenever the maps or the scene change
  attn::MultiHeadResult primary;                   // patch sources: the first query alone, with logits (the steps view)
  double class_share = 0.0, register_share = 0.0;  // a ViT's special tokens' share of the shown row
  // Imported words (Source::Words): every word's map at the shown layer and
  // head choice, [T, cells], raw weights (the reverse view and the numbers
  // on hover read these); and over every key, [T, N] (the word's statistics).
  attn::Matrix word_maps, word_rows;

  // Compare mode (settings.compare.on): B's map (side_b(settings)) over
  // B's scene's cells, and A's minus B's over A's cells (B's map resampled
  // onto A's grid when they differ); compare_revision bumps when they change.
  std::vector<float> map_b, difference;
  // The difference ready to colour (attn::scale_signed), and the magnitude
  // its ends stand for: the largest outside the queries' own patches, whose
  // difference is often the largest, as their own weight is.
  std::vector<float> difference_shown;
  float difference_top = 1.0f;
  std::uint64_t compare_revision = 0;
  // B's own scene, when B's image or model differs from A's (built in the
  // background like A's).
  Scene scene_b;
  // The scene B is drawn on: `scene` when B shares A's tokens and model,
  // else scene_b once it is built for them; nullptr until then.
  const Scene* b_scene() const;
  // B's cells for A's queries (the same cells when the grids agree).
  std::vector<int> b_queries(const Scene& b) const;

  // The full matrix for the matrix view, [Nq, Nk] of the shown head (or the
  // heads combined), when computed.
  std::shared_ptr<const attn::Matrix> matrix;
  std::uint64_t matrix_revision = 0;

  std::vector<Message> messages;
  double now = 0.0;
  WorkCounts work;

  // `wake` is called from a worker's thread when a result is ready (the
  // window's event loop sleeps until then).
  explicit AppState(Settings s, const std::function<void()>& wake = {});
  // Once per frame, before panels draw.
  void update(double seconds);
  // While a background job has run for at least `after` seconds (0: or is
  // waiting to run): its name.
  std::string busy_label(double after = 0.1) const;
  bool busy() const { return !busy_label(0.0).empty(); }
  // Whether the first scene asked for (the command line's files) failed, or
  // compare mode's first B: the app then shows the bundled sample (or A)
  // with the error, and scripted runs exit 3.
  bool failed_at_start() const { return failed_at_start_; }

  void post(const std::string& text, bool error);
  // Cells that hold a token (the selectable ones).
  int tokens() const { return scene.cells_used; }
  // The first selected query cell (the centre one when none is selected).
  int primary_query() const;
  std::vector<int> effective_queries() const;
  // The cells outlined in the views: the queries, or none when a ViT shows
  // the class token's attention (or rollout), which belongs to no patch.
  std::vector<int> outlined_queries() const;
  // Makes `cells` the queries; a ViT showing its class token switches to them.
  void select(std::vector<int> cells);
  // Imported words: the selected ones (the first when none is), and
  // selecting them. Out-of-range indices are dropped.
  std::vector<int> effective_words() const;
  void select_words(std::vector<int> words);
  // Every word's raw weight on one cell, [T]: the reverse view.
  std::vector<float> words_at(int cell) const;
  // The options every query row and the matrix use.
  attn::AttentionOptions attention_options() const;
  // How the maps are drawn: the display settings, except that token norms
  // (not weights) always span their range (min to max).
  attn::OverlayStyle overlay_style() const;
  // A head's map (-1: the heads combined), one value per cell.
  std::vector<float> head_map(int head) const;
  // The map that settings `s` show on the current scene, [cells], computed
  // afresh (no kept rows or maps are touched): B's side in compare mode.
  // attn::Error when it cannot be computed.
  std::vector<float> map_of(const Settings& s, const Scene& on) const;

  // Picks a file by its type: an image, a session (.json), ViT weights
  // (.safetensors) or Q/K/V (.npy/.csv: q, then k, then v as they come), a
  // token list (.txt, or .json holding a list: with the .npy opened before
  // it, imported word attention).
  // Imported words: an attention file (its token list is looked for beside
  // it) or, once the attention is open, its token list.
  void open_word_file(const std::string& path);
  // File > Captioner: the bundled captioner on a scene of shapes it draws.
  void open_captioner();
  // Loading happens in the background; a bad file leaves everything as it
  // was and says why.
  void open_file(const std::string& path);
  void open_tensors(const std::string& q, const std::string& k, const std::string& v);

 private:
  // What the maps depend on besides the scene; the matrix likewise.
  struct MapInputs {
    std::uint64_t generation;
    AttentionSettings attention;
    ViewSettings view;
    SelectionSettings selection;
    bool operator==(const MapInputs&) const = default;
  };
  struct MatrixInputs {
    std::uint64_t generation;
    AttentionSettings attention;
    int head, layer;
    attn::HeadFusion fusion;
    bool operator==(const MatrixInputs&) const = default;
  };
  struct CompareInputs {
    std::uint64_t generation, map_revision, b_generation;
    CompareSettings compare;
    AttentionSettings attention;
    ViewSettings view;
    SelectionSettings selection;
    bool operator==(const CompareInputs&) const = default;
  };
  struct RolloutKey {
    std::uint64_t generation;
    attn::HeadFusion fusion;
    double discard;
    bool operator==(const RolloutKey&) const = default;
  };
  // The query rows of patch sources and what they were computed from.
  struct RowsKey {
    std::uint64_t generation;
    std::vector<int> queries;
    attn::Score score;
    std::uint64_t seed;
    bool operator==(const RowsKey&) const = default;
  };
  // The logits behind the last full matrix (one [N, N] per head used): a
  // change of temperature, normaliser or mask renormalises these instead of
  // recomputing Q Kᵀ.
  struct MatrixLogits {
    std::uint64_t generation = 0;
    int head = -2;
    attn::Score score{};
    std::vector<attn::Matrix> logits;
  };
  struct MatrixJob {  // what the matrix worker hands back
    std::shared_ptr<const attn::Matrix> matrix;
    std::shared_ptr<const MatrixLogits> logits;
  };

  void adopt_scene();
  void request_scene(const SceneKey& key);
  void compute_maps();
  void compute_patch_maps();
  void compute_vit_maps();
  void compute_word_maps();
  void compute_compare();
  static attn::AttentionOptions attention_options(const Settings& s, const Scene& on);
  static attn::MapRequest vit_request(const Settings& s, const Scene& on, const std::vector<int>& cells);
  void update_scene_b();
  void request_rollout(const RolloutKey& key);
  void request_matrix();

  Worker scene_worker_, matrix_worker_, rollout_worker_, scene_b_worker_;
  std::optional<SceneKey> requested_b_;
  SceneCache cache_;
  std::uint64_t generations_ = 0;
  std::optional<SceneKey> requested_;
  SceneKey initial_;  // what the command line asked for
  // The settings of the latest request and of the one before it (at first,
  // the command line's): when a request fails before any scene is on
  // screen, the one before is what the user last asked for that may still
  // be good.
  std::optional<Settings> latest_request_, previous_request_;
  bool failed_at_start_ = false;

  std::optional<MapInputs> map_inputs_;
  std::optional<CompareInputs> compare_inputs_;
  std::optional<RowsKey> rows_key_;
  std::optional<AttentionSettings> rows_attention_;  // what query_rows_' weights were normalised with
  std::vector<attn::MultiHeadResult> query_rows_;

  std::optional<RolloutKey> rollout_key_;  // of `rollout_`
  std::optional<RolloutKey> rollout_requested_;
  std::shared_ptr<const attn::Matrix> rollout_;

  std::optional<MatrixInputs> matrix_inputs_;
  std::shared_ptr<const MatrixLogits> matrix_logits_;
};

}  // namespace gui
