// AppState's words (Source::Words, Source::Captioner): which words are selected,
// opening their files, and each word's map from the record the file gave.
#include "app_state.hpp"
#include "core/error.hpp"
#include "open_path.hpp"

namespace gui {

std::vector<int> AppState::effective_words() const {
  const int T = scene.words ? static_cast<int>(scene.words->words.size()) : 0;
  std::vector<int> out;
  for (int w : settings.selection.words)
    if (w >= 0 && w < T && std::find(out.begin(), out.end(), w) == out.end()) out.push_back(w);
  if (out.empty() && T > 0) out.push_back(0);
  return out;
}

void AppState::select_words(std::vector<int> words) { settings.selection.words = std::move(words); }

std::vector<float> AppState::words_at(int cell) const {
  if (cell < 0 || cell >= word_maps.cols()) return {};
  return attn::words_at_cell(word_maps, cell);
}

void AppState::open_word_file(const std::string& path) {
  try {
    open_words(settings, path);
  } catch (const attn::Error& e) {
    post(e.what(), true);
  }
}

void AppState::open_captioner() {
  settings.tokens.source = Source::Captioner;
  settings.tokens.image_path.clear();
  settings.selection.words.clear();
  settings.selection.queries.clear();
}

void AppState::compute_word_maps() {
  const ViewSettings& v = settings.view;
  const WordsRun& w = *scene.words;
  try {
    attn::WordRequest req = v.word_request();
    word_rows = attn::word_rows(w.record, req);
    word_maps = attn::image_maps(w.record, word_rows);
    const auto selected = effective_words();
    map = attn::selection_map(word_maps, scene.grid, selected, v.word_smooth, v.word_scale);
    combined = map;
    // Each head's map of the selection, to its own maximum (the heads panel).
    head_maps.resize(scene.heads, scene.grid.count());
    for (int h = 0; h < scene.heads; ++h) {
      req.head = h;
      const std::vector<float> m = attn::mean_word_map(attn::word_maps(w.record, req), selected);
      head_maps.row(h) = Eigen::Map<const Eigen::RowVectorXf>(m.data(), static_cast<Eigen::Index>(m.size()));
    }
    head_maps = attn::display_maps(head_maps, scene.grid, v.word_smooth, attn::WordScale::Word);
    ++work.word_maps;
  } catch (const attn::Error& e) {
    post(e.what(), true);
  }
}

}  // namespace gui
