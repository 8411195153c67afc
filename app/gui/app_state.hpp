#pragma once
// The one owner of the app's state: the settings, the scene they produced
// (image and model), the attention of the selected queries, and messages.
// Knows nothing of GL or ImGui: panels edit `settings`; update() notices
// what changed, recomputes cheap things at once (a query row: well under a
// millisecond) and hands heavy ones (loading files, building Q/K/V, the full
// matrix) to background workers.
#include <memory>
#include <string>
#include <vector>

#include "core/patch_attention.hpp"
#include "core/vit.hpp"
#include "core/vit_views.hpp"
#include "settings.hpp"
#include "worker.hpp"

namespace gui {

// The settings a model is built from; a change to any of them rebuilds it.
struct ModelKey {
  Source source;
  std::string image_path, q_path, k_path, v_path;
  int patch, d_model, heads, token_side;
  std::uint64_t seed;
  bool position_encoding;
  std::string vit_weights;
  int vit_heads, vit_size;
  double vit_temperature;
  bool rollout;  // the rollout view needs the rollout computed
  attn::HeadFusion fusion;
  double discard;
  bool operator==(const ModelKey&) const = default;
  static ModelKey of(const Settings& s);
};

// The settings a query row depends on, besides the model.
struct RowKey {
  std::vector<int> queries, hidden_keys;
  double temperature;
  attn::Score score;
  attn::Norm norm;
  attn::MaskStructure mask;
  int radius;
  VitView vit_view;
  int vit_layer;
  attn::HeadFusion vit_fusion;
  double vit_threshold;
  bool vit_include_cls, vit_include_registers;
  bool operator==(const RowKey&) const = default;
  static RowKey of(const Settings& s);
};

// A Vision Transformer's run on the image, with what its views need.
struct VitScene {
  std::shared_ptr<const attn::VitModel> model;
  std::shared_ptr<const attn::VitResult> result;
  std::shared_ptr<const attn::Matrix> rollout;  // [N, N], when the rollout view asked for it
  attn::HeadStatistics stats;
  std::string forward_key;                          // what `result` was computed from (to reuse it)
  std::string rollout_key;                          // the fusion and discard ratio `rollout` was computed with
  std::shared_ptr<const attn::Image> source_image;  // the image before resizing
  std::string image_path;                           // its file ("" = the bundled sample)
};

struct Scene {
  std::shared_ptr<const attn::Image> image;       // drawn under the overlay
  attn::PatchGrid grid;                           // where the shown tokens sit
  int tokens = 0;                                 // shown tokens (for a ViT: its patches)
  int heads = 0, width = 0;                       // width: d_model
  std::shared_ptr<const attn::PatchModel> model;  // Q, K, V sources
  std::shared_ptr<const VitScene> vit;            // Source::Vit
  ModelKey key;
  Settings built_from;  // the settings at the time it was requested
  bool ready() const { return image != nullptr; }
};

struct Message {
  std::string text;
  bool error = false;
  double time = 0.0;  // seconds since start, when it was posted
};

class AppState {
 public:
  Settings settings;
  Scene scene;  // empty until the first model is built

  // The selected queries' attention, averaged over the queries: per head,
  // weights [1, N] (and logits [1, N] of the first query, for the steps view).
  attn::MultiHeadResult row;
  attn::MultiHeadResult primary;   // the first selected query alone
  std::vector<float> map;          // what the overlay shows: grid.count() values
  std::uint64_t map_revision = 0;  // bumps whenever `map` or the scene changes

  // The full matrix for the matrix view: weights [Nq, Nk] of the shown head
  // (or their mean), when computed.
  std::shared_ptr<const attn::Matrix> matrix;
  std::uint64_t matrix_revision = 0;

  std::vector<Message> messages;
  double now = 0.0;

  explicit AppState(Settings s);
  // Once per frame, before panels draw.
  void update(double seconds);
  // While a background job has run for more than `after` seconds: its name.
  std::string busy_label(double after = 0.1) const;

  void post(const std::string& text, bool error);
  int tokens() const { return scene.tokens; }
  // For a ViT: the class token's and the registers' share of the shown row
  // (before renormalisation over the patches).
  double vit_cls_share = 0.0, vit_register_share = 0.0;
  // The first selected query (the centre token when none is selected).
  int primary_query() const;
  std::vector<int> effective_queries() const;
  // The tokens outlined in the views: the queries, or none when a ViT shows
  // the class token's attention (or rollout), which belongs to no patch.
  std::vector<int> outlined_queries() const;
  // The options every query row and the matrix use.
  attn::AttentionOptions attention_options() const;
  // A head's map (-1: the mean), grid.count() values.
  std::vector<float> head_map(int head) const;

  // Picks a file by its type: an image, a session (.json), or Q/K/V
  // (.npy/.csv: q, then k, then v as they come). Loading happens in the
  // background; a bad file leaves everything as it was and says why.
  void open_file(const std::string& path);
  void open_tensors(const std::string& q, const std::string& k, const std::string& v);

 private:
  void request_model();
  void compute_row();
  void compute_vit_row();
  void request_matrix();

  Worker model_worker_, matrix_worker_;
  // The last few ViT forward passes, newest first, so going back to an
  // image or a size already seen costs nothing.
  std::vector<std::shared_ptr<const VitScene>> vit_cache_;
  std::optional<ModelKey> requested_model_;
  // The settings of the latest request and of the one before it: when a
  // request fails before any scene is on screen, the one before is what
  // the user last asked for that may still be good.
  std::optional<Settings> latest_request_, previous_request_;
  std::optional<RowKey> row_key_;
  // The rows of the current queries with their logits, and what the logits
  // depend on (a temperature, normaliser or mask change reuses them).
  struct RowLogitsKey {
    const void* model;
    std::vector<int> queries;
    attn::Score score;
    std::uint64_t seed;
    bool operator==(const RowLogitsKey&) const = default;
  };
  std::optional<RowLogitsKey> row_logits_key_;
  std::vector<attn::MultiHeadResult> query_rows_;
  int shown_head_ = -2;
  const void* row_model_ = nullptr;  // the scene the row was computed for
  // What the matrix view's matrix depends on (not the query: a click does
  // not recompute it).
  struct MatrixKey {
    const void* model;
    int head;
    double temperature;
    attn::Score score;
    attn::Norm norm;
    attn::MaskStructure mask;
    int radius;
    std::vector<int> hidden_keys;
    int vit_layer;
    attn::HeadFusion vit_fusion;
    bool operator==(const MatrixKey&) const = default;
  };
  std::optional<MatrixKey> matrix_key_;
  // The logits behind the last full matrix, one [N, N] per head used: a
  // change of temperature, normaliser or mask renormalises these instead of
  // recomputing Q Kᵀ.
  struct MatrixLogits {
    const void* model = nullptr;
    int head = -2;
    attn::Score score{};
    std::vector<attn::Matrix> logits;
  };
  std::shared_ptr<const MatrixLogits> matrix_logits_;
  struct MatrixJob {  // what the matrix worker hands back
    std::shared_ptr<const attn::Matrix> matrix;
    std::shared_ptr<const MatrixLogits> logits;
  };
};

}  // namespace gui
