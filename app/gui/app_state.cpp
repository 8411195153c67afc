#include "app_state.hpp"

#include <algorithm>
#include <utility>

#include "core/budget.hpp"
#include "core/error.hpp"
#include "open_path.hpp"

namespace gui {
namespace {

// [rows, n] -> [rows, cells]: cells past n (a grid's empty cells) are 0.
attn::Matrix pad_columns(const attn::Matrix& m, int cells) {
  attn::Matrix out = attn::Matrix::Zero(m.rows(), cells);
  out.leftCols(std::min<Eigen::Index>(m.cols(), cells)) = m.leftCols(std::min<Eigen::Index>(m.cols(), cells));
  return out;
}

}  // namespace

AppState::AppState(Settings s, const std::function<void()>& wake)
    : settings(std::move(s)),
      scene_worker_(wake),
      matrix_worker_(wake),
      rollout_worker_(wake),
      scene_b_worker_(wake),
      initial_(SceneKey::of(settings)),
      latest_request_(settings) {}

void AppState::post(const std::string& text, bool error) {
  messages.push_back({text, error, now});
  if (messages.size() > 50) messages.erase(messages.begin());
}

int AppState::primary_query() const {
  const auto q = effective_queries();
  return q.empty() ? -1 : q.front();
}

std::vector<int> AppState::effective_queries() const {
  std::vector<int> out;
  const int n = tokens();
  for (int t : settings.selection.queries)
    if (t >= 0 && t < n) out.push_back(t);
  if (out.empty() && n > 0) {
    const auto& g = scene.grid;
    // The centre token; on the bundled sample, the lake: a first picture
    // that shows at once what attention does.
    int col = g.cols / 2, line = g.rows / 2;
    if (scene.key.tokens.image_path.empty() && is_image_source(scene.key.tokens.source))
      col = 136 / g.patch, line = 296 / g.patch;
    out.push_back(std::min(g.index(std::min(col, g.cols - 1), std::min(line, g.rows - 1)), n - 1));
  }
  return out;
}

std::vector<int> AppState::outlined_queries() const {
  if (scene.words) return {};  // the queries are words, shown in the strip
  if (!scene.vit || settings.view.query == attn::ViewQuery::Patches) return effective_queries();
  if (settings.view.query != attn::ViewQuery::TokenNorms) return {};
  // The norms view rings the high-norm artefacts.
  const attn::VitResult& r = *scene.vit->result;
  const int L = r.attention().layers();
  const int layer = settings.view.layer < 0 || settings.view.layer >= L ? L - 1 : settings.view.layer;
  std::vector<int> cells;
  for (int t : attn::high_norm_tokens(r.record, layer + 1)) cells.push_back(r.token_set()[t].cell);
  return cells;
}

void AppState::select(std::vector<int> cells) {
  settings.selection.queries = std::move(cells);
  // A ViT shows the class token's attention until a patch is picked.
  if (settings.tokens.source == Source::Vit) settings.view.query = attn::ViewQuery::Patches;
}

attn::AttentionOptions AppState::attention_options() const { return attention_options(settings, scene); }

attn::AttentionOptions AppState::attention_options(const Settings& s, const Scene& on) {
  const AttentionSettings& a = s.attention;
  attn::AttentionOptions opt;
  opt.score = a.score;
  opt.norm = a.norm;
  opt.temperature = a.temperature;
  opt.seed = s.tokens.seed;
  opt.mask.structure = a.mask;
  opt.mask.radius = a.radius;
  if (on.model) {
    opt.mask.grid_cols = on.grid.cols;
    if (!a.hidden_keys.empty()) {
      opt.mask.hidden_keys.assign(static_cast<size_t>(on.cells_used), 0);
      for (int t : a.hidden_keys)
        if (t >= 0 && t < on.cells_used) opt.mask.hidden_keys[static_cast<size_t>(t)] = 1;
    }
  }
  return opt;
}

attn::OverlayStyle AppState::overlay_style() const {
  attn::OverlayStyle style = settings.display.overlay_style();
  if (scene.vit) style.scale = attn::view_scale(settings.view.query, style.scale);
  if (scene.words) {  // the maps arrive scaled and smoothed (compute_word_maps)
    style.scale = attn::MapScale::Fixed;
    style.upsample = attn::upsample_of(settings.view.word_smooth);
    if (scene.words->negative) style.colormap = attn::Colormap::Diverging, style.signed_values = true;
  }
  return style;
}

std::vector<float> AppState::head_map(int head) const {
  if (head >= 0 && head < head_maps.rows())
    return {head_maps.row(head).data(), head_maps.row(head).data() + head_maps.cols()};
  return combined;
}

void AppState::open_file(const std::string& path) {
  try {
    open_path(settings, path);
  } catch (const attn::Error& e) {
    return post(e.what(), true);
  }
  if (file_kind(path) == FileKind::Session) {
    remember_file(settings.window, path);
    post("loaded session " + path, false);
  }
}

void AppState::open_tensors(const std::string& q, const std::string& k, const std::string& v) {
  settings.tokens.source = Source::Files;
  settings.tokens.q_path = q;
  settings.tokens.k_path = k;
  settings.tokens.v_path = v;
  settings.selection.queries.clear();
  settings.attention.hidden_keys.clear();
}

void AppState::request_scene(const SceneKey& key) {
  requested_ = key;
  ++work.scenes_requested;
  previous_request_ = std::exchange(latest_request_, settings);
  const Settings snapshot = settings;
  const SceneCache cache = cache_;
  scene_worker_.submit([key, cache, snapshot]() -> std::any {
    Scene s = build_scene(key, cache);
    s.built_from = snapshot;
    return s;
  });
}

void AppState::adopt_scene() {
  auto r = scene_worker_.take();
  if (!r) return;
  if (r->error.empty()) {
    scene = std::any_cast<Scene>(std::move(r->value));
    scene.generation = ++generations_;
    ++work.scenes_adopted;
    cache_.remember(scene);
    // Whatever was kept for the scene before is moot: free it now.
    query_rows_.clear();
    rows_key_.reset();
    matrix_logits_.reset();
    rollout_.reset();
    rollout_key_.reset();
    primary = {};
    if (!scene.key.tokens.image_path.empty()) remember_file(settings.window, scene.key.tokens.image_path);
    if (!scene.key.tokens.q_path.empty()) remember_file(settings.window, scene.key.tokens.q_path);
    if (scene.words) post(scene.words->description, false);
    return;
  }
  // It failed: say why and go back to the scene on screen (a bad file
  // never replaces a good one), or, before any scene has arrived, to the
  // request before the failing one (then asked for again), else to the
  // defaults: the bundled sample.
  post(r->error, true);
  ++work.scenes_failed;
  if (!scene.ready() && requested_ == initial_) failed_at_start_ = true;
  std::optional<Settings> before = std::exchange(previous_request_, std::nullopt);
  if (before && SceneKey::of(*before) == *requested_) before.reset();  // the same request would fail again
  const Settings good = scene.ready() ? scene.built_from : before.value_or(Settings{});
  settings.tokens = good.tokens;
  settings.model = good.model;
  if (scene.ready()) requested_ = SceneKey::of(settings);  // that scene is on screen already
}

void AppState::update(double seconds) {
  now = seconds;
  adopt_scene();
  const SceneKey want = SceneKey::of(settings);
  if (!requested_ || !(*requested_ == want)) request_scene(want);
  if (!scene.ready()) return;

  if (auto r = rollout_worker_.take()) {
    rollout_requested_.reset();
    if (r->error.empty()) {
      auto [key, rolled] = std::any_cast<std::pair<RolloutKey, std::shared_ptr<const attn::Matrix>>>(r->value);
      if (key.generation == scene.generation) rollout_key_ = key, rollout_ = std::move(rolled);
    } else {
      post(r->error, true);
    }
    map_inputs_.reset();  // the maps waiting for it
  }
  if (settings.view.head >= scene.heads) settings.view.head = -1;
  const MapInputs in{scene.generation, settings.attention, settings.view, settings.selection};
  if (!map_inputs_ || !(*map_inputs_ == in)) {
    map_inputs_ = in;
    compute_maps();
  }
  if (settings.compare.on) {
    update_scene_b();
    const Scene* b = b_scene();
    const CompareInputs c{scene.generation,   map_revision,  b ? b->generation : 0, settings.compare,
                          settings.attention, settings.view, settings.selection};
    if (!compare_inputs_ || !(*compare_inputs_ == c)) {
      compare_inputs_ = c;
      compute_compare();
    }
  }

  if (auto r = matrix_worker_.take()) {
    if (r->error.empty()) {
      auto job = std::any_cast<MatrixJob>(std::move(r->value));
      matrix = std::move(job.matrix);
      if (job.logits && job.logits->generation == scene.generation) matrix_logits_ = std::move(job.logits);
    } else {
      post(r->error, true);
    }
    ++matrix_revision;
  }
  if (settings.window.show_matrix) {
    const ViewSettings& v = settings.view;
    const MatrixInputs mi{scene.generation, settings.attention, v.head, v.layer, v.fusion};
    if (!matrix_inputs_ || !(*matrix_inputs_ == mi)) {
      matrix_inputs_ = mi;
      request_matrix();
    }
  }
}

void AppState::compute_maps() {
  if (scene.vit)
    compute_vit_maps();
  else if (scene.words)
    compute_word_maps();
  else
    compute_patch_maps();
  ++map_revision;
}

void AppState::compute_patch_maps() {
  const auto queries = effective_queries();
  if (queries.empty()) return;
  const int cells = scene.grid.count();
  try {
    const attn::AttentionOptions opt = attention_options();
    // The same queries, scene and score as the kept rows: only the
    // temperature, normaliser or mask can have changed, and those
    // renormalise the kept logits (no scores recomputed); or nothing did
    // (the shown head), and the maps are recombined from the rows.
    const RowsKey key{scene.generation, queries, opt.score, opt.seed};
    if (rows_key_ && *rows_key_ == key && query_rows_.size() == queries.size()) {
      if (!(rows_attention_ && *rows_attention_ == settings.attention)) {
        for (size_t i = 0; i < queries.size(); ++i)
          attn::renormalise(query_rows_[i], scene.model->v, opt, {queries[i], scene.model->tokens()});
        work.rows_renormalised += static_cast<int>(queries.size());
      }
    } else {
      rows_key_.reset();
      query_rows_.clear();
      for (int q : queries) query_rows_.push_back(attn::attend_query(*scene.model, q, opt));
      work.rows_computed += static_cast<int>(queries.size());
      rows_key_ = key;
    }
    rows_attention_ = settings.attention;
    primary = query_rows_.front();
    // Each head's mean over the queries, [H, N], then on the grid.
    head_maps = pad_columns(attn::mean_head_rows(query_rows_), cells);
    combined = attn::combine_heads(head_maps, -1, attn::HeadFusion::Mean);
    map = head_map(settings.view.head);
    ++work.maps_combined;
  } catch (const attn::Error& e) {
    post(e.what(), true);
  }
}

attn::MapRequest AppState::vit_request(const Settings& s, const Scene& on, const std::vector<int>& cells) {
  const ViewSettings& v = s.view;
  attn::MapRequest req;
  req.query = v.query;
  req.layer = v.layer;
  req.head = v.head;
  req.fusion = v.fusion;
  req.display_temperature = s.attention.temperature;
  req.keep_class = v.include_cls;
  req.keep_registers = v.include_registers;
  req.keep_mass = v.keep_mass;
  req.ignore_top_norms = v.ignore_top_norms;
  if (v.query == attn::ViewQuery::Patches)
    for (int cell : cells) req.queries.push_back(on.tokens.token_at_cell(cell));
  return req;
}

void AppState::compute_vit_maps() {
  const ViewSettings& v = settings.view;
  const attn::VitResult& r = *scene.vit->result;
  const attn::MapRequest req = vit_request(settings, scene, effective_queries());
  const attn::Matrix* rollout = nullptr;
  if (v.query == attn::ViewQuery::Rollout) {
    const RolloutKey want{scene.generation, v.fusion, v.discard};
    if (!(rollout_key_ && *rollout_key_ == want)) {
      if (!(rollout_requested_ && *rollout_requested_ == want)) request_rollout(want);
      return;  // the maps follow when it arrives
    }
    rollout = rollout_.get();
  }
  try {
    attn::MapView view = attn::attention_map(r.record, req, rollout);
    head_maps = std::move(view.head_maps);
    combined = std::move(view.combined);
    map = std::move(view.map);
    class_share = view.class_share;
    register_share = view.register_share;
    ++work.vit_maps;
  } catch (const attn::Error& e) {
    post(e.what(), true);
  }
}

void AppState::request_rollout(const RolloutKey& key) {
  rollout_requested_ = key;
  ++work.rollouts;
  auto result = scene.vit->result;
  const int spared = result->token_set().first_of(attn::TokenKind::Class);
  rollout_worker_.submit([key, result, spared]() -> std::any {
    auto m = std::make_shared<const attn::Matrix>(
        attn::attention_rollout(result->attention(), key.fusion, key.discard, spared));
    return std::make_pair(key, std::shared_ptr<const attn::Matrix>(std::move(m)));
  });
}

void AppState::request_matrix() {
  const int head = settings.view.head;
  if (scene.vit || scene.words) {  // kept: pick the layer's head, or fuse them
    // The attention kept by the forward pass or read from the file, and what keeps it alive.
    std::shared_ptr<const attn::AttentionStack> stack =
        scene.vit
            ? std::shared_ptr<const attn::AttentionStack>(scene.vit->result, &scene.vit->result->attention())
            : std::shared_ptr<const attn::AttentionStack>(scene.words, &scene.words->record.attention.front().weights);
    const int L = stack->layers();
    const int layer = settings.view.layer < 0 || settings.view.layer >= L ? L - 1 : settings.view.layer;
    const attn::HeadFusion fusion = settings.view.fusion;
    ++work.matrices_picked;
    matrix_worker_.submit([stack, layer, head, fusion]() -> std::any {
      const auto& a = *stack;
      MatrixJob out;
      out.matrix = std::make_shared<const attn::Matrix>(head >= 0 ? a.head(layer, head)
                                                                  : attn::fuse_heads(a.layer(layer), fusion));
      return out;
    });
    return;
  }
  const attn::PatchModel& m = *scene.model;
  const double n = m.tokens();
  const int heads_needed = head < 0 ? m.heads() : 1;
  try {
    // Kept logits for each head used, one head's weights and the sum.
    attn::check_budget(attn::matrix_bytes(heads_needed + (heads_needed > 1 ? 2 : 1), n, n), attn::kMatrixBudgetBytes,
                       "the full " + std::to_string(m.tokens()) + " x " + std::to_string(m.tokens()) + " matrix",
                       "set aside for it", "use a larger patch (fewer tokens) or pick one head");
  } catch (const attn::Error& e) {
    matrix.reset();
    matrix_logits_.reset();
    ++matrix_revision;
    post(e.what(), true);
    return;
  }
  auto model = scene.model;
  const std::uint64_t generation = scene.generation;
  const attn::AttentionOptions opt = attention_options();
  // The cheap path: the same scene, head(s) and score as the kept logits.
  std::shared_ptr<const MatrixLogits> kept = matrix_logits_;
  if (kept && (kept->generation != generation || kept->head != head || kept->score != opt.score)) kept.reset();
  ++(kept ? work.matrices_renormalised : work.matrices_computed);
  matrix_worker_.submit([model, generation, head, opt, kept]() -> std::any {
    MatrixJob out;
    auto logits = std::make_shared<MatrixLogits>();
    logits->generation = generation;
    logits->head = head;
    logits->score = opt.score;
    attn::Matrix sum, w;
    for (int h = 0, used = 0; h < model->heads(); ++h) {
      if (head >= 0 && h != head) continue;
      Worker::check_cancelled();
      if (kept) {
        attn::normalise_into(kept->logits[static_cast<size_t>(used)], attn::effective_norm(opt), opt.temperature,
                             opt.mask, {}, w);
      } else {
        attn::HeadResult r =
            attn::attend(model->q[static_cast<size_t>(h)], model->k[static_cast<size_t>(h)], attn::Matrix(), opt);
        w = std::move(r.weights);
        logits->logits.push_back(std::move(r.logits));
      }
      if (sum.size())
        sum += w;
      else
        sum = w;
      ++used;
    }
    if (head < 0) sum /= static_cast<float>(model->heads());
    out.matrix = std::make_shared<const attn::Matrix>(std::move(sum));
    out.logits = kept ? kept : std::shared_ptr<const MatrixLogits>(std::move(logits));
    return out;
  });
}

std::string AppState::busy_label(double after) const {
  double t = 0;
  if (scene_worker_.busy(&t) && t >= after) return "building Q, K, V";
  if (rollout_worker_.busy(&t) && t >= after) return "computing attention rollout";
  if (matrix_worker_.busy(&t) && t >= after) return "computing the full matrix";
  if (scene_b_worker_.busy(&t) && t >= after) return "building B's scene";
  return "";
}

}  // namespace gui
