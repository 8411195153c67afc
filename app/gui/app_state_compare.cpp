// AppState's compare mode: B's scene (when B's image or model differs from
// A's), B's map computed afresh with B's settings (A's kept rows and maps
// are left alone), and A - B.
#include "app_state.hpp"
#include "core/error.hpp"

namespace gui {
namespace {

bool same_grid(const attn::PatchGrid& a, const attn::PatchGrid& b) { return a.cols == b.cols && a.rows == b.rows; }

}  // namespace

const Scene* AppState::b_scene() const {
  // B's tokens and model are A's (as asked for: A's scene may be on its way).
  const SceneKey key = SceneKey::of(side_b(settings));
  if (key == SceneKey::of(settings)) return &scene;
  return scene_b.ready() && scene_b.key == key ? &scene_b : nullptr;
}

std::vector<int> AppState::b_queries(const Scene& b) const {
  std::vector<int> cells = effective_queries();
  if (&b == &scene || same_grid(b.grid, scene.grid)) return cells;
  for (int& c : cells) c = std::min(attn::map_cell(c, scene.grid, b.grid), std::max(0, b.cells_used - 1));
  return cells;
}

void AppState::update_scene_b() {
  if (auto r = scene_b_worker_.take()) {
    if (r->error.empty()) {
      scene_b = std::any_cast<Scene>(std::move(r->value));
      scene_b.generation = ++generations_;
      cache_.remember(scene_b);
    } else {
      // B's file cannot be used: say why and stop comparing against it
      // (asking again would fail again).
      post("compare: B: " + r->error, true);
      // A scripted run asked for this B on its command line: it failed.
      if (!scene_b.ready()) failed_at_start_ = true;
      settings.compare.image = settings.compare.model = false;
      requested_b_.reset();
      return;
    }
  }
  const SceneKey key = SceneKey::of(side_b(settings));
  if (key == SceneKey::of(settings) || (requested_b_ && *requested_b_ == key)) return;
  requested_b_ = key;
  const SceneCache cache = cache_;
  const Settings snapshot = side_b(settings);
  scene_b_worker_.submit([key, cache, snapshot]() -> std::any {
    Scene s = build_scene(key, cache);
    s.built_from = snapshot;
    return s;
  });
}

std::vector<float> AppState::map_of(const Settings& s, const Scene& on) const {
  const int cells = on.grid.count();
  const std::vector<int> queries = b_queries(on);
  if (on.vit) {
    const attn::VitResult& r = *on.vit->result;
    const attn::MapRequest req = vit_request(s, on, queries);
    attn::Matrix rolled;
    const attn::Matrix* rollout = nullptr;
    if (s.view.query == attn::ViewQuery::Rollout) {
      if (&on == &scene && rollout_key_ && rollout_key_->fusion == s.view.fusion &&
          rollout_key_->discard == s.view.discard) {
        rollout = rollout_.get();
      } else {
        rolled = attn::attention_rollout(r.attention(), s.view.fusion, s.view.discard,
                                         r.token_set().first_of(attn::TokenKind::Class));
        rollout = &rolled;
      }
    }
    return attn::attention_map(r.record, req, rollout).map;
  }
  if (on.words) {
    const WordsRun& w = *on.words;
    const attn::Matrix maps = attn::image_maps(w.record, attn::word_rows(w.record, s.view.word_request()));
    return attn::selection_map(maps, on.grid, effective_words(), s.view.word_smooth, s.view.word_scale);
  }
  // Patch sources: the queries' rows with B's options, each head's mean
  // over the queries, then the head shown (or their mean).
  std::vector<float> out(static_cast<size_t>(cells), 0.0f);
  if (queries.empty() || !on.model) return out;
  const attn::AttentionOptions opt = attention_options(s, on);
  std::vector<attn::MultiHeadResult> rows;
  rows.reserve(queries.size());
  for (int q : queries) rows.push_back(attn::attend_query(*on.model, q, opt));
  const attn::Matrix mean = attn::mean_head_rows(rows);
  const int head = s.view.head >= 0 && s.view.head < mean.rows() ? s.view.head : -1;
  const std::vector<float> row = attn::combine_heads(mean, head, attn::HeadFusion::Mean);
  std::copy_n(row.begin(), std::min(row.size(), out.size()), out.begin());
  return out;
}

void AppState::compute_compare() {
  const Scene* b = b_scene();
  ++compare_revision;
  if (!b) {  // B's scene is being built: nothing to show for B yet
    map_b.clear();
    difference.clear();
    difference_shown.clear();
    return;
  }
  Settings sb = side_b(settings);
  const bool regrid = !same_grid(b->grid, scene.grid);
  if (regrid) {  // the painted keys, moved onto B's grid
    for (int& k : sb.attention.hidden_keys) k = attn::map_cell(k, scene.grid, b->grid);
    if (sb.view.head >= b->heads) sb.view.head = -1;
  }
  if (sb.view.layer >= 0 && b->vit && sb.view.layer >= b->vit->model->depth) sb.view.layer = -1;
  try {
    map_b = map_of(sb, *b);
  } catch (const attn::Error& e) {
    map_b.assign(static_cast<size_t>(b->grid.count()), 0.0f);
    post("compare: B cannot be computed: " + std::string(e.what()), true);
  }
  const std::vector<float> on_a = regrid ? attn::resample_map(map_b, b->grid, scene.grid) : map_b;
  difference.assign(map.size(), 0.0f);
  for (size_t i = 0; i < map.size() && i < on_a.size(); ++i) difference[i] = map[i] - on_a[i];
  const std::vector<int> rings = scene.words ? std::vector<int>{} : outlined_queries();
  difference_top = attn::signed_top(difference, rings);
  difference_shown = attn::scale_signed(difference, difference_top);
}

}  // namespace gui
