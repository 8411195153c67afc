#include "scene.hpp"

#include <algorithm>
#include <atomic>

#include <filesystem>

#include "common/resources.hpp"
#include "common/tensors.hpp"
#include "core/captioner.hpp"
#include "core/captioner_scene.hpp"
#include "core/error.hpp"
#include "core/word_files.hpp"
#include "sample_image.hpp"
#include "worker.hpp"

namespace gui {
namespace {

constexpr size_t kKeptImages = 4, kKeptRuns = 4;

// A plain dark canvas for tokens that have no image: one cell per token.
std::shared_ptr<const attn::Image> canvas(const attn::PatchGrid& g, int tokens) {
  attn::Image img = attn::Image::blank(g.cols * g.patch, g.rows * g.patch);
  for (int y = 0; y < img.height; ++y)
    for (int x = 0; x < img.width; ++x) {
      const bool token = g.index(x / g.patch, y / g.patch) < tokens;
      std::uint8_t* p = img.pixel(x, y);
      p[0] = p[1] = p[2] = static_cast<std::uint8_t>(token ? 70 : 30);
    }
  return std::make_shared<const attn::Image>(std::move(img));
}

std::shared_ptr<const VitRun> run_vit(const SceneKey& key, const LoadedImage& source, const SceneCache& cache) {
  const ModelSettings& m = key.model;
  const VitRun::Key want{m.weights, m.checkpoint_key, m.heads, m.size, m.temperature, source.id};
  for (const auto& r : cache.runs)
    if (r->key == want) return r;
  auto run = std::make_shared<VitRun>();
  run->key = want;
  run->source = source;
  for (const auto& r : cache.runs)
    if (r->key.weights == m.weights && r->key.checkpoint_key == m.checkpoint_key && r->key.heads == m.heads)
      run->model = r->model;
  if (!run->model)
    run->model = std::make_shared<const attn::VitModel>(attn::load_vit_file(m.weights, m.heads, m.checkpoint_key));
  Worker::check_cancelled();
  attn::VitOptions opt;
  opt.size = m.size == 0 ? run->model->pos_grid * run->model->patch : std::max(0, m.size);
  opt.temperature = m.temperature;
  run->result = std::make_shared<const attn::VitResult>(attn::run_vit(*run->model, *source.pixels, opt));
  run->input = std::shared_ptr<const attn::Image>(run->result, &run->result->input);
  Worker::check_cancelled();
  run->stats = attn::head_statistics(run->result->attention(), run->result->token_set());
  Worker::check_cancelled();
  run->sinks = attn::attention_sinks(run->result->record);
  return run;
}

// The bundled captioner on the image, or on the scene it draws when there is
// none: the caption as the words, every attention it has in the record.
void build_captioner_scene(const TokenSettings& t, const LoadedImage& image, Scene& s) {
  const std::string dir = (std::filesystem::path(app::data_dir()) / "captioner").string();
  const std::optional<int> step = t.captioner_step >= 0 ? std::optional<int>(t.captioner_step) : std::nullopt;
  const attn::CaptionerModel model = attn::load_captioner_dir(dir, step);
  std::vector<attn::SceneObject> objects;
  std::shared_ptr<const attn::Image> pixels;
  if (t.image_path.empty()) {  // a drawn scene: not kept in the cache of loaded images
    attn::CaptionScene scene = attn::draw_caption_scene(t.captioner_scene);
    pixels = std::make_shared<const attn::Image>(std::move(scene.image));
    objects = std::move(scene.objects);
  } else {
    s.source = image;
    pixels = s.source.pixels;
  }
  Worker::check_cancelled();
  attn::Caption caption = attn::run_captioner(model, *pixels);
  auto run = std::make_shared<WordsRun>();
  run->words = caption.words;
  const int g = model.config.grid();
  run->keys = attn::ImageKeys{g, g, 0, false, false};
  attn::WordCanvas canvas = attn::word_canvas(*pixels, run->keys);
  run->record = std::move(caption.record);
  run->cross_q = std::move(caption.cross_q);
  run->cross_k = std::move(caption.cross_k);
  run->record.token_sets[0].grid = canvas.grid;  // the keys' cells as drawn
  for (const auto& k : model.config.checkpoints) run->captioner_steps.push_back(k.step);
  run->description = attn::describe(model);
  if (!objects.empty()) {
    const auto valid = attn::valid_captions(objects);
    run->scene_truth = valid.front();
    std::string line;
    for (const auto& w : caption.words) line.append(line.empty() ? "" : " ").append(w);
    run->caption_true = std::find(valid.begin(), valid.end(), line) != valid.end();
  }
  const int heads = run->record.find(attn::AttentionRole::Cross)->weights.heads();
  s.image = std::make_shared<const attn::Image>(std::move(canvas.image));
  s.grid = canvas.grid;
  s.cells_used = s.grid.count();
  s.tokens = attn::TokenSet::patches(s.grid, s.cells_used);
  s.heads = heads;
  s.width = model.config.width;
  s.words = std::move(run);
}

}  // namespace

SceneKey SceneKey::of(const Settings& s) {
  SceneKey k;
  const TokenSettings& t = s.tokens;
  k.tokens.source = t.source;
  switch (t.source) {
    case Source::Vit:
      k.tokens.image_path = t.image_path;
      k.model = s.model;
      break;
    case Source::Words:
      k.tokens.image_path = t.image_path;
      k.tokens.words_attn = t.words_attn;
      k.tokens.words_tokens = t.words_tokens;
      k.tokens.words_tensor = t.words_tensor;
      k.tokens.words_cols = t.words_cols;
      k.tokens.words_rows = t.words_rows;
      k.tokens.words_key_offset = t.words_key_offset;
      break;
    case Source::Captioner:
      k.tokens.image_path = t.image_path;
      k.tokens.captioner_step = t.captioner_step;
      if (t.image_path.empty()) k.tokens.captioner_scene = t.captioner_scene;
      break;
    case Source::Similarity:
    case Source::Random:
    case Source::Pixels:
      k.tokens = t;
      k.tokens.words_attn = k.tokens.words_tokens = k.tokens.words_tensor = "";
      k.tokens.words_cols = k.tokens.words_rows = 0;
      k.tokens.words_key_offset = -1;
      k.tokens.q_path = k.tokens.k_path = k.tokens.v_path = "";
      k.tokens.token_side = TokenSettings{}.token_side;
      break;
    case Source::RandomTokens:
      k.tokens.token_side = t.token_side;
      k.tokens.d_model = t.d_model;
      k.tokens.heads = t.heads;
      k.tokens.seed = t.seed;
      break;
    case Source::Files:
      k.tokens.q_path = t.q_path;
      k.tokens.k_path = t.k_path;
      k.tokens.v_path = t.v_path;
      k.tokens.heads = t.heads;
      break;
  }
  return k;
}

LoadedImage load_scene_image(const std::string& path) {
  static std::atomic<std::uint64_t> next_id{0};
  LoadedImage im;
  im.pixels = std::make_shared<const attn::Image>(path.empty() ? sample_image() : attn::load_image(path));
  im.path = path;
  im.id = ++next_id;
  return im;
}

void SceneCache::remember(const Scene& s) {
  if (s.source.pixels) {
    std::erase_if(images, [&](const LoadedImage& i) { return i.path == s.source.path; });
    images.insert(images.begin(), s.source);
    if (images.size() > kKeptImages) images.resize(kKeptImages);
  }
  if (s.vit) {
    std::erase_if(runs, [&](const auto& r) { return r->key == s.vit->key; });
    runs.insert(runs.begin(), s.vit);
    if (runs.size() > kKeptRuns) runs.resize(kKeptRuns);
  }
}

Scene build_scene(const SceneKey& key, const SceneCache& cache) {
  Scene s;
  s.key = key;
  const TokenSettings& t = key.tokens;
  auto image = [&](const std::string& path) {
    for (const auto& im : cache.images)
      if (im.path == path) return im;
    return load_scene_image(path);
  };
  switch (t.source) {
    case Source::Vit: {
      if (key.model.weights.empty())
        throw attn::Error("open a Vision Transformer's weights first (.safetensors, .pth, ...: File > Open)");
      s.source = image(t.image_path);
      Worker::check_cancelled();
      s.vit = run_vit(key, s.source, cache);
      const attn::VitResult& r = *s.vit->result;
      s.image = s.vit->input;
      s.tokens = r.token_set();
      s.grid = s.tokens.grid;
      s.cells_used = s.grid.count();
      s.heads = s.vit->model->heads;
      s.width = s.vit->model->width;
      return s;
    }
    case Source::Words: {
      if (t.words_attn.empty() || t.words_tokens.empty())
        throw attn::Error(
            "open a word attention file and its words first (.npy or .safetensors, with a .txt or .json token list: "
            "File > Open word attention)");
      s.source = image(t.image_path);
      Worker::check_cancelled();
      auto run = std::make_shared<WordsRun>();
      attn::WordAttentionFile file = attn::read_word_attention(t.words_attn, t.words_tensor);
      run->words = attn::read_tokens(t.words_tokens);
      run->negative = file.negative;
      if (static_cast<int>(run->words.size()) != file.weights.queries())
        throw attn::Error(t.words_tokens + " has " + std::to_string(run->words.size()) + " tokens but " + t.words_attn +
                          " has " + std::to_string(file.weights.queries()) + " queries (its second-to-last dimension)");
      const attn::Image& pixels = *s.source.pixels;
      std::optional<std::array<int, 2>> grid;
      if (t.words_cols > 0 && t.words_rows > 0) grid = std::array<int, 2>{t.words_cols, t.words_rows};
      std::optional<int> offset;
      if (t.words_key_offset >= 0) offset = t.words_key_offset;
      const int N = file.weights.keys(), H = file.weights.heads();
      run->keys = attn::place_image_keys(N, pixels.width, pixels.height, grid, offset);
      Worker::check_cancelled();
      attn::WordCanvas canvas = attn::word_canvas(pixels, run->keys);
      run->description = std::to_string(run->words.size()) + " words over " + attn::describe(run->keys, N) + "; " +
                         std::to_string(file.weights.layers()) + " layers, " + std::to_string(H) + " heads";
      run->record = attn::word_record(std::move(file.weights), run->words, run->keys, canvas.grid);
      s.image = std::make_shared<const attn::Image>(std::move(canvas.image));
      s.grid = canvas.grid;
      s.cells_used = s.grid.count();
      s.tokens = attn::TokenSet::patches(s.grid, s.cells_used);
      s.heads = H;
      s.width = 0;
      s.words = std::move(run);
      return s;
    }
    case Source::Captioner:
      build_captioner_scene(t, t.image_path.empty() ? LoadedImage{} : image(t.image_path), s);
      return s;
    case Source::Similarity:
    case Source::Random:
    case Source::Pixels: {
      s.source = image(t.image_path);
      s.image = s.source.pixels;
      attn::ImageSourceOptions opt;
      opt.source = t.source == Source::Similarity ? attn::ImageSource::Similarity
                   : t.source == Source::Random   ? attn::ImageSource::Random
                                                  : attn::ImageSource::Pixels;
      opt.d_model = t.d_model;
      opt.seed = t.seed;
      opt.position_encoding = t.position_encoding;
      Worker::check_cancelled();  // the image is loaded; a newer request makes the rest moot
      s.model = std::make_shared<const attn::PatchModel>(attn::PatchModel::build(*s.image, t.patch, t.heads, opt));
      break;
    }
    case Source::RandomTokens: {
      const int n = t.token_side * t.token_side;
      const attn::QKV qkv = attn::random_qkv(n, t.d_model, attn::Distribution::Gaussian, t.seed);
      s.model = std::make_shared<const attn::PatchModel>(attn::PatchModel::from_heads(
          attn::split_heads(qkv.q, t.heads, "d_model"), attn::split_heads(qkv.k, t.heads, "d_model"),
          attn::split_heads(qkv.v, t.heads, "d_model"), 16));
      break;
    }
    case Source::Files: {
      if (t.q_path.empty() || t.k_path.empty()) throw attn::Error("load Q and K files (.npy or .csv) first");
      const attn::Array qa = app::load_tensor(t.q_path), ka = app::load_tensor(t.k_path);
      const int heads = qa.rank() == 3 ? static_cast<int>(qa.dim(0)) : t.heads;
      auto to_heads = [&](const attn::Array& a, const std::string& what) {
        attn::Heads h = app::to_heads(a, heads, what);
        for (size_t i = 0; i < h.size(); ++i) attn::check_finite(h[i], what, static_cast<int>(i));
        return h;
      };
      attn::Heads v;
      if (!t.v_path.empty()) v = to_heads(app::load_tensor(t.v_path), t.v_path);
      auto m = attn::PatchModel::from_heads(to_heads(qa, t.q_path), to_heads(ka, t.k_path), std::move(v), 16);
      if (m.tokens() > 65536) throw attn::Error("more than 65536 tokens: too many to show");
      s.model = std::make_shared<const attn::PatchModel>(std::move(m));
      break;
    }
  }
  if (!s.image) s.image = canvas(s.model->grid, s.model->tokens());
  s.grid = s.model->grid;
  s.cells_used = s.model->tokens();
  s.tokens = attn::TokenSet::patches(s.grid, s.cells_used);
  s.heads = s.model->heads();
  s.width = s.model->d_model();
  return s;
}

}  // namespace gui
