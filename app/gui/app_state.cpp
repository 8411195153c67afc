#include "app_state.hpp"

#include <algorithm>
#include <cmath>

#include "common/tensors.hpp"
#include "core/error.hpp"
#include "core/io.hpp"
#include "sample_image.hpp"

namespace gui {
namespace {

// The full matrix view refuses more than this (weights and logits, floats).
constexpr double kMatrixBudgetBytes = 1024.0 * 1024 * 1024;

bool ends_with(const std::string& s, const char* suffix) {
  const size_t n = std::char_traits<char>::length(suffix);
  if (s.size() < n) return false;
  for (size_t i = 0; i < n; ++i)
    if (std::tolower(static_cast<unsigned char>(s[s.size() - n + i])) != suffix[i]) return false;
  return true;
}

std::shared_ptr<const attn::Image> load_scene_image(const std::string& path) {
  if (path.empty()) return std::make_shared<const attn::Image>(sample_image());
  return std::make_shared<const attn::Image>(attn::load_image(path));
}

// A plain dark canvas for tokens that have no image: one cell per token.
std::shared_ptr<const attn::Image> canvas(const attn::PatchGrid& g) {
  attn::Image img = attn::Image::blank(g.cols * g.patch, g.rows * g.patch);
  for (int y = 0; y < img.height; ++y)
    for (int x = 0; x < img.width; ++x) {
      const bool token = g.index(x / g.patch, y / g.patch) < g.count();
      std::uint8_t* p = img.pixel(x, y);
      p[0] = p[1] = p[2] = static_cast<std::uint8_t>(token ? 70 : 30);
    }
  return std::make_shared<const attn::Image>(std::move(img));
}

Scene build_scene(const ModelKey& key, std::shared_ptr<const attn::Image> current_image, const std::string& current_path) {
  Scene s;
  s.key = key;
  switch (key.source) {
    case Source::Similarity:
    case Source::Random:
    case Source::Pixels: {
      s.image = current_image && current_path == key.image_path ? current_image : load_scene_image(key.image_path);
      attn::ImageSourceOptions opt;
      opt.source = key.source == Source::Similarity ? attn::ImageSource::Similarity
                   : key.source == Source::Random   ? attn::ImageSource::Random
                                                    : attn::ImageSource::Pixels;
      opt.d_model = key.d_model;
      opt.seed = key.seed;
      opt.position_encoding = key.position_encoding;
      s.model = std::make_shared<const attn::PatchModel>(attn::PatchModel::build(*s.image, key.patch, key.heads, opt));
      break;
    }
    case Source::RandomTokens: {
      const int n = key.token_side * key.token_side;
      const attn::QKV qkv = attn::random_qkv(n, key.d_model, attn::Distribution::Gaussian, key.seed);
      auto m = attn::PatchModel::from_heads(attn::split_heads(qkv.q, key.heads, "d_model"),
                                            attn::split_heads(qkv.k, key.heads, "d_model"),
                                            attn::split_heads(qkv.v, key.heads, "d_model"), 16);
      s.image = canvas(m.grid);
      s.model = std::make_shared<const attn::PatchModel>(std::move(m));
      break;
    }
    case Source::Files: {
      if (key.q_path.empty() || key.k_path.empty()) throw attn::Error("load Q and K files (.npy or .csv) first");
      const attn::Array qa = app::load_tensor(key.q_path), ka = app::load_tensor(key.k_path);
      const int heads = qa.rank() == 3 ? static_cast<int>(qa.dim(0)) : key.heads;
      auto to_heads = [&](const attn::Array& a, const std::string& what) {
        attn::Heads h = app::to_heads(a, heads, what);
        for (size_t i = 0; i < h.size(); ++i) attn::check_finite(h[i], what, static_cast<int>(i));
        return h;
      };
      attn::Heads v;
      if (!key.v_path.empty()) v = to_heads(app::load_tensor(key.v_path), key.v_path);
      auto m = attn::PatchModel::from_heads(to_heads(qa, key.q_path), to_heads(ka, key.k_path), std::move(v), 16);
      if (m.tokens() > 65536) throw attn::Error("more than 65536 tokens: too many to show");
      s.image = canvas(m.grid);
      s.model = std::make_shared<const attn::PatchModel>(std::move(m));
      break;
    }
  }
  return s;
}

}  // namespace

ModelKey ModelKey::of(const Settings& s) {
  ModelKey k{s.source, s.image_path, s.q_path, s.k_path, s.v_path, s.patch, s.d_model, s.heads, s.token_side,
             s.seed, s.position_encoding};
  // Fields the source ignores do not trigger rebuilds.
  const bool image = s.source == Source::Similarity || s.source == Source::Random || s.source == Source::Pixels;
  if (!image) k.image_path.clear(), k.patch = 0, k.position_encoding = false;
  if (s.source != Source::Files) k.q_path.clear(), k.k_path.clear(), k.v_path.clear();
  if (s.source != Source::RandomTokens) k.token_side = 0;
  if (s.source == Source::Pixels || s.source == Source::Files) k.d_model = 0;
  return k;
}

RowKey RowKey::of(const Settings& s) {
  return {s.queries, s.hidden_keys, s.temperature, s.score, s.norm, s.mask, s.radius};
}

AppState::AppState(Settings s) : settings(std::move(s)) {}

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
  for (int t : settings.queries)
    if (t >= 0 && t < n) out.push_back(t);
  if (out.empty() && n > 0) {
    const auto& g = scene.model->grid;
    // The centre token; on the bundled sample, the lake: a first picture
    // that shows at once what attention does.
    int col = g.cols / 2, line = g.rows / 2;
    if (scene.key.image_path.empty() && scene.key.patch > 0) col = 136 / g.patch, line = 296 / g.patch;
    out.push_back(std::min(g.index(std::min(col, g.cols - 1), std::min(line, g.rows - 1)), n - 1));
  }
  return out;
}

attn::AttentionOptions AppState::attention_options() const {
  attn::AttentionOptions opt;
  opt.score = settings.score;
  opt.norm = settings.norm;
  opt.temperature = settings.temperature;
  opt.seed = settings.seed;
  opt.mask.structure = settings.mask;
  opt.mask.radius = settings.radius;
  if (scene.model) {
    opt.mask.grid_cols = scene.model->grid.cols;
    if (!settings.hidden_keys.empty()) {
      opt.mask.hidden_keys.assign(static_cast<size_t>(tokens()), 0);
      for (int t : settings.hidden_keys)
        if (t >= 0 && t < tokens()) opt.mask.hidden_keys[static_cast<size_t>(t)] = 1;
    }
  }
  return opt;
}

std::vector<float> AppState::head_map(int head) const {
  std::vector<float> m(scene.model ? static_cast<size_t>(scene.model->grid.count()) : 0, 0.0f);
  if (row.heads.empty()) return m;
  const int n = std::min<int>(tokens(), static_cast<int>(m.size()));
  for (int h = 0; h < static_cast<int>(row.heads.size()); ++h) {
    if (head >= 0 && h != head) continue;
    for (int j = 0; j < n; ++j) m[static_cast<size_t>(j)] += row.heads[static_cast<size_t>(h)].weights(0, j);
  }
  if (head < 0)
    for (float& v : m) v /= static_cast<float>(row.heads.size());
  return m;
}

void AppState::open_file(const std::string& path) {
  if (ends_with(path, ".json")) {
    try {
      Settings s = load_settings(path, settings);
      s.ui_scale = settings.ui_scale;  // presentation stays as the presenter set it
      s.window_width = settings.window_width;
      s.window_height = settings.window_height;
      settings = s;
      remember_file(settings, path);
      post("loaded session " + path, false);
    } catch (const attn::Error& e) {
      post(e.what(), true);
    }
  } else if (ends_with(path, ".npy") || ends_with(path, ".csv")) {
    // Q, then K, then V; a new Q starts over.
    if (settings.source != Source::Files || !settings.v_path.empty() || settings.q_path.empty())
      open_tensors(path, path, "");
    else if (settings.k_path == settings.q_path)
      open_tensors(settings.q_path, path, "");
    else
      open_tensors(settings.q_path, settings.k_path, path);
  } else {
    settings.image_path = path;
    if (settings.source != Source::Similarity && settings.source != Source::Random && settings.source != Source::Pixels)
      settings.source = Source::Similarity;
    settings.queries.clear();
    settings.hidden_keys.clear();
  }
}

void AppState::open_tensors(const std::string& q, const std::string& k, const std::string& v) {
  settings.source = Source::Files;
  settings.q_path = q;
  settings.k_path = k;
  settings.v_path = v;
  settings.queries.clear();
  settings.hidden_keys.clear();
}

void AppState::request_model() {
  const ModelKey key = ModelKey::of(settings);
  requested_model_ = key;
  auto image = scene.image;
  const std::string path = scene.key.image_path;
  const Settings snapshot = settings;
  model_worker_.submit([key, image, path, snapshot]() -> std::any {
    Scene s = build_scene(key, image, path);
    s.built_from = snapshot;
    return s;
  });
}

void AppState::compute_row() {
  const auto queries = effective_queries();
  if (queries.empty()) return;
  try {
    const attn::AttentionOptions opt = attention_options();
    attn::MultiHeadResult sum;
    for (size_t i = 0; i < queries.size(); ++i) {
      attn::MultiHeadResult r = attn::attend_query(*scene.model, queries[i], opt);
      if (i == 0) {
        primary = r;
        sum = std::move(r);
      } else {
        for (size_t h = 0; h < sum.heads.size(); ++h) sum.heads[h].weights += r.heads[h].weights;
      }
    }
    for (auto& h : sum.heads) h.weights /= static_cast<float>(queries.size());
    row = std::move(sum);
  } catch (const attn::Error& e) {
    post(e.what(), true);
  }
  if (settings.head >= static_cast<int>(row.heads.size())) settings.head = -1;
  map = head_map(settings.head);
  ++map_revision;
}

void AppState::request_matrix() {
  const attn::PatchModel& m = *scene.model;
  const double n = m.tokens();
  const int heads_needed = settings.head < 0 ? m.heads() : 1;
  if (2.0 * 4.0 * n * n * (heads_needed > 1 ? 2 : 1) > kMatrixBudgetBytes) {
    matrix.reset();
    ++matrix_revision;
    post("the full " + std::to_string(m.tokens()) + " x " + std::to_string(m.tokens()) +
             " matrix would need " + attn::format_bytes(static_cast<std::uint64_t>(8.0 * n * n)) +
             "; use a larger patch (fewer tokens) for the matrix view",
         true);
    return;
  }
  auto model = scene.model;
  const int head = settings.head;
  const attn::AttentionOptions opt = attention_options();
  matrix_worker_.submit([model, head, opt]() -> std::any {
    attn::Matrix sum;
    for (int h = 0; h < model->heads(); ++h) {
      if (head >= 0 && h != head) continue;
      attn::Matrix w = attn::attend(model->q[static_cast<size_t>(h)], model->k[static_cast<size_t>(h)], attn::Matrix(), opt).weights;
      sum = sum.size() ? attn::Matrix(sum + w) : std::move(w);
    }
    if (head < 0) sum /= static_cast<float>(model->heads());
    return std::make_shared<const attn::Matrix>(std::move(sum));
  });
}

void AppState::update(double seconds) {
  now = seconds;
  // A finished model: adopt it, or report why it failed and go back to the
  // settings of the scene on screen (a bad file never replaces a good one).
  if (auto r = model_worker_.take()) {
    if (r->error.empty()) {
      scene = std::any_cast<Scene>(std::move(r->value));
      if (!scene.key.image_path.empty()) remember_file(settings, scene.key.image_path);
      if (!scene.key.q_path.empty()) remember_file(settings, scene.key.q_path);
    } else {
      post(r->error, true);
      const Settings& good = scene.model ? scene.built_from : Settings{};
      settings.source = good.source;
      settings.image_path = good.image_path;
      settings.q_path = good.q_path;
      settings.k_path = good.k_path;
      settings.v_path = good.v_path;
      settings.patch = good.patch;
      settings.d_model = good.d_model;
      settings.heads = good.heads;
      settings.seed = good.seed;
      settings.position_encoding = good.position_encoding;
      settings.token_side = good.token_side;
      if (scene.model) requested_model_ = ModelKey::of(settings);
    }
  }
  const ModelKey want = ModelKey::of(settings);
  if (!requested_model_ || !(*requested_model_ == want)) request_model();
  if (!scene.model) return;

  const RowKey rk = RowKey::of(settings);
  const bool row_stale = !row_key_ || !(*row_key_ == rk) || row_model_ != scene.model.get();
  if (row_stale) {
    row_key_ = rk;
    row_model_ = scene.model.get();
    compute_row();
  } else if (settings.head >= static_cast<int>(row.heads.size())) {
    settings.head = -1;
  }
  // The shown head changed: only the map changes.
  if (map.size() != static_cast<size_t>(scene.model->grid.count()) || shown_head_ != settings.head) {
    shown_head_ = settings.head;
    map = head_map(settings.head);
    ++map_revision;
  }

  if (auto r = matrix_worker_.take()) {
    if (r->error.empty()) matrix = std::any_cast<std::shared_ptr<const attn::Matrix>>(r->value);
    else post(r->error, true);
    ++matrix_revision;
  }
  if (settings.show_matrix) {
    const MatrixKey mk{scene.model.get(), settings.head, rk};
    if (!matrix_key_ || !(*matrix_key_ == mk)) {
      matrix_key_ = mk;
      request_matrix();
    }
  }
}

std::string AppState::busy_label(double after) const {
  double t = 0;
  if (model_worker_.busy(&t) && t > after) return "building Q, K, V";
  if (matrix_worker_.busy(&t) && t > after) return "computing the full matrix";
  return "";
}

}  // namespace gui
