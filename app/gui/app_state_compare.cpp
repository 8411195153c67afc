// AppState's compare mode: B's map, computed afresh from the scene with
// B's settings (A's kept rows and maps are left alone), and A - B.
#include "app_state.hpp"
#include "core/error.hpp"

namespace gui {

std::vector<float> AppState::map_of(const Settings& s) const {
  const int cells = scene.grid.count();
  if (scene.vit) {
    const attn::VitResult& r = *scene.vit->result;
    const attn::MapRequest req = vit_request(s);
    attn::Matrix rolled;
    const attn::Matrix* rollout = nullptr;
    if (s.view.query == attn::ViewQuery::Rollout) {
      if (rollout_key_ && rollout_key_->fusion == s.view.fusion && rollout_key_->discard == s.view.discard) {
        rollout = rollout_.get();
      } else {
        rolled = attn::attention_rollout(r.attention(), s.view.fusion, s.view.discard,
                                         r.token_set().first_of(attn::TokenKind::Class));
        rollout = &rolled;
      }
    }
    return attn::attention_map(r.record, req, rollout).map;
  }
  if (scene.words) {
    const WordsRun& w = *scene.words;
    const attn::Matrix maps = attn::image_maps(w.record, attn::word_rows(w.record, s.view.word_request()));
    return attn::selection_map(maps, scene.grid, effective_words(), s.view.word_smooth, s.view.word_scale);
  }
  // Patch sources: the queries' rows with B's options, each head's mean
  // over the queries, then the head shown (or their mean).
  const auto queries = effective_queries();
  std::vector<float> out(static_cast<size_t>(cells), 0.0f);
  if (queries.empty()) return out;
  const attn::AttentionOptions opt = attention_options(s);
  attn::Matrix mean;
  for (int q : queries) {
    const attn::Matrix rows = attn::head_rows(attn::attend_query(*scene.model, q, opt));
    mean = mean.size() ? attn::Matrix(mean + rows) : rows;
  }
  mean /= static_cast<float>(queries.size());
  const int head = s.view.head >= 0 && s.view.head < mean.rows() ? s.view.head : -1;
  const std::vector<float> row = attn::combine_heads(mean, head, attn::HeadFusion::Mean);
  std::copy_n(row.begin(), std::min(row.size(), out.size()), out.begin());
  return out;
}

void AppState::compute_compare() {
  try {
    map_b = map_of(side_b(settings));
  } catch (const attn::Error& e) {
    map_b.assign(map.size(), 0.0f);
    post("compare: B cannot be computed: " + std::string(e.what()), true);
  }
  difference.resize(map.size());
  for (size_t i = 0; i < map.size(); ++i) difference[i] = map[i] - (i < map_b.size() ? map_b[i] : 0.0f);
  ++compare_revision;
}

}  // namespace gui
