#include "app_state.hpp"

#include <algorithm>
#include <cmath>
#include <sstream>
#include <utility>

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

std::string forward_key(const ModelKey& k, const attn::Image* image) {
  std::ostringstream o;
  o << k.vit_weights << '|' << k.vit_heads << '|' << k.vit_size << '|' << k.vit_temperature << '|' << image;
  return o.str();
}

std::shared_ptr<const VitScene> build_vit(const ModelKey& key, const attn::Image& image,
                                          const std::shared_ptr<const attn::Image>& image_ptr,
                                          std::shared_ptr<const VitScene> previous,
                                          const std::vector<std::shared_ptr<const VitScene>>& cache) {
  if (key.vit_weights.empty()) throw attn::Error("open a ViT's .safetensors weights first (File > Open)");
  auto v = std::make_shared<VitScene>();
  const std::string fk = forward_key(key, image_ptr.get());
  for (const auto& c : cache)
    if (c->forward_key == fk) previous = c;
  if (previous && previous->forward_key == fk) {
    v->model = previous->model;
    v->result = previous->result;
    v->stats = previous->stats;
  } else {
    const bool same_model =
        previous && previous->forward_key.rfind(key.vit_weights + '|' + std::to_string(key.vit_heads) + '|', 0) == 0;
    v->model = same_model ? previous->model
                          : std::make_shared<const attn::VitModel>(attn::load_vit_file(key.vit_weights, key.vit_heads));
    attn::VitOptions opt;
    opt.size = key.vit_size == 0 ? v->model->pos_grid * v->model->patch : std::max(0, key.vit_size);
    opt.temperature = key.vit_temperature;
    v->result = std::make_shared<const attn::VitResult>(attn::run_vit(*v->model, image, opt));
    v->stats = attn::head_statistics(v->result->attention, v->result->grid_cols, v->result->grid_rows, v->model->patch);
  }
  v->forward_key = fk;
  if (key.rollout) {
    if (previous && previous->rollout && previous->forward_key == fk && previous->model == v->model &&
        !previous->rollout_key.empty() &&
        previous->rollout_key == std::to_string(static_cast<int>(key.fusion)) + '/' + std::to_string(key.discard))
      v->rollout = previous->rollout;
    else
      v->rollout =
          std::make_shared<const attn::Matrix>(attn::attention_rollout(v->result->attention, key.fusion, key.discard));
    v->rollout_key = std::to_string(static_cast<int>(key.fusion)) + '/' + std::to_string(key.discard);
  }
  return v;
}

Scene build_scene(const ModelKey& key, const std::shared_ptr<const attn::Image>& current_image,
                  const std::string& current_path, const std::shared_ptr<const VitScene>& previous_vit,
                  const std::vector<std::shared_ptr<const VitScene>>& cache) {
  Scene s;
  s.key = key;
  switch (key.source) {
    case Source::Vit: {
      // The untouched image the forward pass starts from (the shown one is
      // resized); a cached run's own image if it is of the same file.
      std::shared_ptr<const attn::Image> source_image;
      if (current_image && current_path == key.image_path) source_image = current_image;
      for (const auto& c : cache)
        if (!source_image && c->image_path == key.image_path) source_image = c->source_image;
      if (!source_image) source_image = load_scene_image(key.image_path);
      auto v = build_vit(key, *source_image, source_image, previous_vit, cache);
      std::const_pointer_cast<VitScene>(v)->image_path = key.image_path;
      std::const_pointer_cast<VitScene>(v)->source_image = source_image;
      const attn::VitResult& r = *v->result;
      s.image = std::make_shared<const attn::Image>(r.input);
      s.grid = {v->model->patch, r.grid_cols, r.grid_rows};
      s.tokens = r.grid_cols * r.grid_rows;
      s.heads = v->model->heads;
      s.width = v->model->width;
      s.vit = std::move(v);
      return s;
    }
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
      Worker::check_cancelled();  // the image is loaded; a newer request makes the rest moot
      s.model = std::make_shared<const attn::PatchModel>(attn::PatchModel::build(*s.image, key.patch, key.heads, opt));
      break;
    }
    default:
      break;
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
  s.grid = s.model->grid;
  s.tokens = s.model->tokens();
  s.heads = s.model->heads();
  s.width = s.model->heads() * static_cast<int>(s.model->q.front().cols());
  return s;
}

}  // namespace

ModelKey ModelKey::of(const Settings& s) {
  ModelKey k{s.source,
             s.image_path,
             s.q_path,
             s.k_path,
             s.v_path,
             s.patch,
             s.d_model,
             s.heads,
             s.token_side,
             s.seed,
             s.position_encoding,
             s.vit_weights,
             s.vit_heads,
             s.vit_size,
             s.vit_temperature,
             false,
             attn::HeadFusion::Mean,
             0.0};
  // Fields the source ignores do not trigger rebuilds.
  const bool image = s.source == Source::Similarity || s.source == Source::Random || s.source == Source::Pixels;
  const bool vit = s.source == Source::Vit;
  if (!image && !vit) k.image_path.clear();
  if (!image) k.patch = 0, k.position_encoding = false;
  if (s.source != Source::Files) k.q_path.clear(), k.k_path.clear(), k.v_path.clear();
  if (s.source != Source::RandomTokens) k.token_side = 0;
  if (s.source == Source::Pixels || s.source == Source::Files || vit) k.d_model = 0;
  if (vit) k.heads = 0, k.seed = 0;
  if (!vit) k.vit_weights.clear(), k.vit_heads = 0, k.vit_size = 0, k.vit_temperature = 1.0;
  k.rollout = vit && s.vit_view == VitView::Rollout;
  k.fusion = k.rollout ? s.vit_fusion : attn::HeadFusion::Mean;
  k.discard = k.rollout ? s.vit_discard : 0.0;
  return k;
}

RowKey RowKey::of(const Settings& s) {
  return {s.queries,
          s.hidden_keys,
          s.temperature,
          s.score,
          s.norm,
          s.mask,
          s.radius,
          s.vit_view,
          s.vit_layer,
          s.vit_fusion,
          s.vit_threshold,
          s.vit_include_cls,
          s.vit_include_registers};
}

AppState::AppState(Settings s) : settings(std::move(s)), latest_request_(settings) {}

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
    const auto& g = scene.grid;
    // The centre token; on the bundled sample, the lake: a first picture
    // that shows at once what attention does.
    int col = g.cols / 2, line = g.rows / 2;
    if (scene.key.image_path.empty() && scene.key.patch > 0 && !scene.vit) col = 136 / g.patch, line = 296 / g.patch;
    out.push_back(std::min(g.index(std::min(col, g.cols - 1), std::min(line, g.rows - 1)), n - 1));
  }
  return out;
}

std::vector<int> AppState::outlined_queries() const {
  if (scene.vit && settings.vit_view != VitView::Patch) return {};
  return effective_queries();
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
    opt.mask.grid_cols = scene.grid.cols;
    if (!settings.hidden_keys.empty()) {
      opt.mask.hidden_keys.assign(static_cast<size_t>(tokens()), 0);
      for (int t : settings.hidden_keys)
        if (t >= 0 && t < tokens()) opt.mask.hidden_keys[static_cast<size_t>(t)] = 1;
    }
  }
  return opt;
}

std::vector<float> AppState::head_map(int head) const {
  std::vector<float> m(scene.model ? static_cast<size_t>(scene.grid.count()) : 0, 0.0f);
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
  } else if (ends_with(path, ".safetensors")) {
    settings.source = Source::Vit;
    settings.vit_weights = path;
    settings.queries.clear();
    settings.hidden_keys.clear();
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
    if (settings.source != Source::Similarity && settings.source != Source::Random &&
        settings.source != Source::Pixels && settings.source != Source::Vit)
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
  previous_request_ = std::exchange(latest_request_, settings);
  // The image on screen is reused when the new scene needs the same file:
  // only an image source's (a ViT shows a resized copy: reuse its original;
  // random tokens and files show a generated canvas: never reuse that).
  std::shared_ptr<const attn::Image> image;
  const Source was = scene.key.source;
  if (scene.vit)
    image = scene.vit->source_image;
  else if (scene.ready() && (was == Source::Similarity || was == Source::Random || was == Source::Pixels))
    image = scene.image;
  const std::string path = scene.key.image_path;
  const Settings snapshot = settings;
  auto vit = scene.vit;
  auto cache = vit_cache_;
  model_worker_.submit([key, image, path, snapshot, vit, cache]() -> std::any {
    Scene s = build_scene(key, image, path, vit, cache);
    s.built_from = snapshot;
    return s;
  });
}

void AppState::compute_row() {
  const auto queries = effective_queries();
  if (queries.empty()) return;
  if (scene.vit) return compute_vit_row();
  try {
    const attn::AttentionOptions opt = attention_options();
    // The cheap path: the same queries, model and score as the kept rows
    // mean only the temperature, normaliser or mask changed, and those
    // renormalise the kept logits (no scores recomputed).
    const RowLogitsKey lk{scene.model.get(), queries, opt.score, opt.seed};
    if (row_logits_key_ && *row_logits_key_ == lk && query_rows_.size() == queries.size()) {
      attn::AttentionOptions o = opt;
      o.mask.grid_cols = scene.model->grid.cols;  // (attend_query fills it in itself)
      for (size_t i = 0; i < queries.size(); ++i)
        attn::renormalise(query_rows_[i], scene.model->v, o, {queries[i], scene.model->tokens()});
    } else {
      row_logits_key_.reset();
      query_rows_.clear();
      for (int q : queries) query_rows_.push_back(attn::attend_query(*scene.model, q, opt));
      row_logits_key_ = lk;
    }
    primary = query_rows_.front();
    // The map, the heads and the exports read only the (mean) weights.
    attn::MultiHeadResult sum;
    for (const attn::HeadResult& h : primary.heads) sum.heads.push_back({{}, h.weights, {}});
    for (size_t i = 1; i < queries.size(); ++i)
      for (size_t h = 0; h < sum.heads.size(); ++h) sum.heads[h].weights += query_rows_[i].heads[h].weights;
    if (queries.size() > 1)
      for (auto& h : sum.heads) h.weights /= static_cast<float>(queries.size());
    row = std::move(sum);
  } catch (const attn::Error& e) {
    post(e.what(), true);
  }
  if (settings.head >= static_cast<int>(row.heads.size())) settings.head = -1;
  map = head_map(settings.head);
  ++map_revision;
}

void AppState::compute_vit_row() {
  const Settings& s = settings;
  const VitScene& v = *scene.vit;
  const attn::VitResult& r = *v.result;
  const int L = static_cast<int>(r.attention.size()), P = scene.tokens, N = r.tokens;
  const int layer = s.vit_layer < 0 || s.vit_layer >= L ? L - 1 : s.vit_layer;
  const auto& heads = r.attention[static_cast<size_t>(layer)];
  // Query tokens: the class token, or the clicked patches (1 + patch index).
  std::vector<int> rows;
  if (s.vit_view == VitView::Patch)
    for (int q : effective_queries()) rows.push_back(1 + q);
  else
    rows.push_back(0);
  // A row of [N] restricted to the patches: renormalised over them unless
  // the class token or registers are kept in, then raw weights (their share
  // is reported beside the picture).
  std::vector<int> patches(static_cast<size_t>(P));
  for (int t = 0; t < P; ++t) patches[static_cast<size_t>(t)] = 1 + t;
  const bool renormalise = !s.vit_include_cls && !s.vit_include_registers;
  auto shown = [&](const attn::Matrix& a) {
    std::vector<double> mean(static_cast<size_t>(N), 0.0);
    for (int q : rows)
      for (int j = 0; j < N; ++j) mean[static_cast<size_t>(j)] += a(q, j) / static_cast<double>(rows.size());
    // The display temperature: softmax(z / T) = w^(1/T), renormalised; this layer only.
    if (s.temperature != 1.0) {
      double sum = 0;
      for (double& w : mean) sum += (w = std::pow(w, 1.0 / s.temperature));
      if (sum > 0)
        for (double& w : mean) w /= sum;
    }
    std::vector<float> f(mean.begin(), mean.end());
    return attn::select_tokens(f, patches, renormalise);
  };
  attn::MultiHeadResult out;
  for (const attn::Matrix& a : heads) {
    attn::HeadResult h;
    const auto values = shown(a);
    h.weights = Eigen::Map<const attn::Matrix>(values.data(), 1, P);
    out.heads.push_back(std::move(h));
  }
  row = std::move(out);
  std::vector<float> m;
  if (s.vit_view == VitView::Rollout && v.rollout) {
    m = shown(*v.rollout);
  } else if (s.head >= 0 && s.head < static_cast<int>(heads.size())) {
    m = shown(heads[static_cast<size_t>(s.head)]);
  } else {
    m = shown(attn::fuse_heads(heads, s.vit_fusion));
  }
  // The class token's and the registers' share of the (fused) row.
  const attn::Matrix fused =
      s.vit_view == VitView::Rollout && v.rollout ? *v.rollout : attn::fuse_heads(heads, attn::HeadFusion::Mean);
  vit_cls_share = fused(rows.front(), 0);
  vit_register_share = 0;
  for (int j = 1 + P; j < N; ++j) vit_register_share += fused(rows.front(), j);
  if (s.vit_threshold < 1.0) {
    const auto keep = attn::keep_mass(m, s.vit_threshold);
    for (size_t i = 0; i < m.size(); ++i) m[i] = keep[i] ? 1.0f : 0.0f;
  }
  m.resize(static_cast<size_t>(scene.grid.count()), 0.0f);
  map = std::move(m);
  ++map_revision;
}

void AppState::request_matrix() {
  if (scene.vit) {  // already computed by the forward pass: just pick it
    const auto& r = *scene.vit->result;
    const int L = static_cast<int>(r.attention.size());
    const int layer = settings.vit_layer < 0 || settings.vit_layer >= L ? L - 1 : settings.vit_layer;
    const auto& heads = r.attention[static_cast<size_t>(layer)];
    matrix = std::make_shared<const attn::Matrix>(settings.head >= 0 && settings.head < static_cast<int>(heads.size())
                                                      ? heads[static_cast<size_t>(settings.head)]
                                                      : attn::fuse_heads(heads, settings.vit_fusion));
    ++matrix_revision;
    return;
  }
  const attn::PatchModel& m = *scene.model;
  const double n = m.tokens();
  const int heads_needed = settings.head < 0 ? m.heads() : 1;
  // Kept logits for each head used, one head's weights and the sum.
  const double bytes = 4.0 * n * n * (heads_needed + (heads_needed > 1 ? 2 : 1));
  if (bytes > kMatrixBudgetBytes) {
    matrix.reset();
    matrix_logits_.reset();
    ++matrix_revision;
    post("the full " + std::to_string(m.tokens()) + " x " + std::to_string(m.tokens()) + " matrix would need " +
             attn::format_bytes(static_cast<std::uint64_t>(bytes)) + ", more than the " +
             attn::format_bytes(static_cast<std::uint64_t>(kMatrixBudgetBytes)) +
             " set aside for it; use a larger patch (fewer tokens) or pick one head",
         true);
    return;
  }
  auto model = scene.model;
  const int head = settings.head;
  const attn::AttentionOptions opt = attention_options();
  // The cheap path: the same model, head(s) and score as the kept logits.
  std::shared_ptr<const MatrixLogits> kept = matrix_logits_;
  if (kept && (kept->model != model.get() || kept->head != head || kept->score != opt.score)) kept.reset();
  matrix_worker_.submit([model, head, opt, kept]() -> std::any {
    MatrixJob out;
    auto logits = std::make_shared<MatrixLogits>();
    logits->model = model.get();
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

void AppState::update(double seconds) {
  now = seconds;
  // A finished model: adopt it, or report why it failed and go back to the
  // settings of the scene on screen (a bad file never replaces a good one).
  if (auto r = model_worker_.take()) {
    if (r->error.empty()) {
      scene = std::any_cast<Scene>(std::move(r->value));
      if (scene.vit) {
        std::erase_if(vit_cache_, [&](const auto& c) { return c->forward_key == scene.vit->forward_key; });
        vit_cache_.insert(vit_cache_.begin(), scene.vit);
        if (vit_cache_.size() > 4) vit_cache_.resize(4);
      }
      if (!scene.key.image_path.empty()) remember_file(settings, scene.key.image_path);
      if (!scene.key.q_path.empty()) remember_file(settings, scene.key.q_path);
    } else {
      post(r->error, true);
      // Every field ModelKey::of reads comes back (a test checks a ViT too):
      // from the scene on screen, or, if none has arrived yet, from the
      // request before the failing one (which is then asked for again).
      const Settings good = scene.ready() ? scene.built_from : previous_request_.value_or(Settings{});
      previous_request_.reset();
      settings.vit_weights = good.vit_weights;
      settings.vit_heads = good.vit_heads;
      settings.vit_size = good.vit_size;
      settings.vit_temperature = good.vit_temperature;
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
      if (scene.ready()) requested_model_ = ModelKey::of(settings);
    }
  }
  const ModelKey want = ModelKey::of(settings);
  if (!requested_model_ || !(*requested_model_ == want)) request_model();
  if (!scene.ready()) return;

  const RowKey rk = RowKey::of(settings);
  const void* identity = scene.vit ? static_cast<const void*>(scene.vit.get()) : scene.model.get();
  const bool row_stale = !row_key_ || !(*row_key_ == rk) || row_model_ != identity;
  if (row_stale) {
    row_key_ = rk;
    row_model_ = identity;
    compute_row();
  } else if (settings.head >= static_cast<int>(row.heads.size())) {
    settings.head = -1;
  }
  // The shown head changed: only the map changes.
  if (map.size() != static_cast<size_t>(scene.grid.count()) || shown_head_ != settings.head) {
    shown_head_ = settings.head;
    if (scene.vit)
      compute_vit_row();
    else
      map = head_map(settings.head);
    ++map_revision;
  }

  if (auto r = matrix_worker_.take()) {
    if (r->error.empty()) {
      auto job = std::any_cast<MatrixJob>(std::move(r->value));
      matrix = std::move(job.matrix);
      matrix_logits_ = std::move(job.logits);
    } else {
      post(r->error, true);
    }
    ++matrix_revision;
  }
  if (settings.show_matrix) {
    const Settings& st = settings;
    const MatrixKey mk{identity, settings.head, st.temperature, st.score,     st.norm,
                       st.mask,  st.radius,     st.hidden_keys, st.vit_layer, st.vit_fusion};
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
