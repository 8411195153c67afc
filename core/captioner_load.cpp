// The captioner's files: config.json checked field by field, and the
// weights under PyTorch's state_dict names, each checked for shape.
#include <algorithm>
#include <filesystem>

#include "captioner.hpp"
#include "json_reader.hpp"
#include "safetensors.hpp"

namespace attn {
namespace {

using json_config::json;

constexpr std::uint64_t kMaxConfigBytes = 1 << 20;

int required(const json_config::Reader& r, const char* key, int lo, int hi) {
  const auto v = r.integer(key, lo, hi);
  if (!v) throw Error(r.file + ": \"" + key + "\" is missing");
  return *v;
}

std::array<float, 3> required_triple(const json_config::Reader& r, const char* key, bool positive) {
  const auto v = r.triple(key, positive);
  if (!v) throw Error(r.file + ": \"" + key + "\" is missing");
  return *v;
}

std::string shape_text(const std::vector<std::int64_t>& s) {
  std::string out = "[";
  for (size_t i = 0; i < s.size(); ++i) out.append(i ? ", " : "").append(std::to_string(s[i]));
  return out + "]";
}

// Converts one tensor of the expected shape into `out` (its size set here).
class Weights {
 public:
  explicit Weights(const TensorFile& f) : f_(f) {}
  Matrix matrix(const std::string& name, const std::vector<std::int64_t>& shape) const {
    const StoredTensor* t = f_.find(name);
    if (!t) throw Error("the captioner's weights have no tensor \"" + name + "\"");
    if (t->shape != shape)
      throw Error("the captioner's tensor \"" + name + "\" has shape " + shape_text(t->shape) + ", expected " +
                  shape_text(shape));
    std::int64_t rows = shape.empty() ? 1 : shape[0];
    Matrix m(rows, rows ? t->elements() / rows : 0);
    t->to_float(std::span(m.data(), static_cast<size_t>(m.size())), name);
    if (!m.allFinite()) throw Error("the captioner's tensor \"" + name + "\" holds values that are not finite");
    return m;
  }
  Vector vector(const std::string& name, std::int64_t size) const {
    const Matrix m = matrix(name, {size});
    return Eigen::Map<const Vector>(m.data(), size);
  }

 private:
  const TensorFile& f_;
};

CaptionerModel::Attention attention(const Weights& w, const std::string& p, std::int64_t d, int heads) {
  CaptionerModel::Attention a;
  a.in_w = w.matrix(p + ".in_proj_weight", {3 * d, d});
  a.in_b = w.vector(p + ".in_proj_bias", 3 * d);
  a.out_w = w.matrix(p + ".out_proj.weight", {d, d});
  a.out_b = w.vector(p + ".out_proj.bias", d);
  a.heads = heads;
  return a;
}

CaptionerModel::Layer layer(const Weights& w, const std::string& p, const CaptionerConfig& c, bool decoder) {
  const int d = c.width;
  CaptionerModel::Layer l;
  l.norm1_w = w.vector(p + ".norm1.weight", d);
  l.norm1_b = w.vector(p + ".norm1.bias", d);
  l.norm2_w = w.vector(p + ".norm2.weight", d);
  l.norm2_b = w.vector(p + ".norm2.bias", d);
  l.self = attention(w, p + ".self_attn", d, decoder ? c.decoder_heads : c.encoder_heads);
  if (decoder) {
    l.norm3_w = w.vector(p + ".norm3.weight", d);
    l.norm3_b = w.vector(p + ".norm3.bias", d);
    l.cross = attention(w, p + ".multihead_attn", d, c.decoder_heads);
  }
  l.fc1_w = w.matrix(p + ".linear1.weight", {c.mlp, d});
  l.fc1_b = w.vector(p + ".linear1.bias", c.mlp);
  l.fc2_w = w.matrix(p + ".linear2.weight", {d, c.mlp});
  l.fc2_b = w.vector(p + ".linear2.bias", d);
  return l;
}

}  // namespace

CaptionerConfig parse_captioner_config(std::span<const std::uint8_t> bytes, const std::string& name) {
  const json j = json_config::parse_json(std::string(bytes.begin(), bytes.end()), name);
  if (!j.is_object()) throw Error(name + ": not a JSON object");
  const json_config::Reader r{j, name};
  if (r.string("format") != "attnscope-captioner-1")
    throw Error(name + R"(: "format" must be "attnscope-captioner-1" (an attnscope captioner's config.json))");
  CaptionerConfig c;
  c.image_size = required(r, "image_size", 8, 1024);
  c.patch = required(r, "patch", 1, c.image_size);
  if (c.image_size % c.patch) throw Error(name + R"(: "patch" must divide "image_size")");
  c.width = required(r, "width", 1, 4096);
  c.mlp = required(r, "mlp", 1, 16384);
  c.encoder_layers = required(r, "encoder_layers", 1, 64);
  c.encoder_heads = required(r, "encoder_heads", 1, 64);
  c.decoder_layers = required(r, "decoder_layers", 1, 64);
  const json* dh = r.find("decoder_heads");
  if (!dh) throw Error(name + ": \"decoder_heads\" is missing");
  if (dh->is_array()) {
    if (dh->size() != static_cast<size_t>(c.decoder_layers))
      throw Error(name + ": \"decoder_heads\" must list one count per decoder layer");
    for (const json& h : *dh) {
      if (!h.is_number_integer() || h.get<std::int64_t>() < 1 || h.get<std::int64_t>() > 64)
        throw Error(name + ": \"decoder_heads\" must hold integers in [1, 64]");
      if (c.decoder_heads && h.get<int>() != c.decoder_heads)
        throw Error(name + ": attnscope runs decoders whose layers all have the same number of heads");
      c.decoder_heads = h.get<int>();
    }
  } else {
    c.decoder_heads = required(r, "decoder_heads", 1, 64);
  }
  if (c.width % c.encoder_heads || c.width % c.decoder_heads)
    throw Error(name + ": \"width\" must be a multiple of every layer's heads");
  c.max_tokens = required(r, "max_tokens", 1, 1024);
  c.layer_norm_eps = r.number("layer_norm_eps", 0, 1).value_or(1e-5);
  c.mean = required_triple(r, "mean", false);
  c.std = required_triple(r, "std", true);
  if (const std::string act = r.string("activation"); !act.empty() && act != "gelu")
    throw Error(name + R"(: "activation" ")" + act + R"(" is not one the captioner runs (gelu))");
  const json* vocab = r.find("vocab");
  if (!vocab || !vocab->is_array() || vocab->empty() || vocab->size() > 100000)
    throw Error(name + ": \"vocab\" must be a list of 1 to 100000 words");
  for (const json& w : *vocab) {
    if (!w.is_string() || w.get<std::string>().empty() || w.get<std::string>().size() > 256)
      throw Error(name + ": every \"vocab\" entry must be a word of 1 to 256 bytes");
    c.vocab.push_back(w.get<std::string>());
  }
  const int v = static_cast<int>(c.vocab.size());
  c.bos = required(r, "bos", 0, v - 1);
  c.eos = required(r, "eos", 0, v - 1);
  c.pad = r.integer("pad", 0, v - 1).value_or(0);
  if (const json* cps = r.find("checkpoints")) {
    if (!cps->is_array() || cps->size() > 1000) throw Error(name + ": \"checkpoints\" must be a list");
    for (const json& cp : *cps) {
      const json_config::Reader e{cp, name + " (checkpoints)"};
      CaptionerCheckpoint k;
      k.step = required(e, "step", 0, 1 << 30);
      k.file = e.string("file");
      const std::filesystem::path f(k.file);
      if (k.file.empty() || f.is_absolute() || std::find(f.begin(), f.end(), "..") != f.end())
        throw Error(name + ": a checkpoint's \"file\" must be a path inside the model's folder");
      if (!c.checkpoints.empty() && k.step <= c.checkpoints.back().step)
        throw Error(name + ": \"checkpoints\" must be in ascending order of step");
      c.checkpoints.push_back(std::move(k));
    }
  }
  return c;
}

CaptionerModel load_captioner(const TensorFile& weights, const CaptionerConfig& config) {
  const Weights w(weights);
  const CaptionerConfig& c = config;
  const int d = c.width, p = c.patch, v = static_cast<int>(c.vocab.size());
  CaptionerModel m;
  m.config = c;
  m.patch_w = w.matrix("patch_embed.weight", {d, 3, p, p});
  m.patch_b = w.vector("patch_embed.bias", d);
  m.pos = w.matrix("pos_embed", {c.patches(), d});
  for (int i = 0; i < c.encoder_layers; ++i) m.encoder.push_back(layer(w, "encoder." + std::to_string(i), c, false));
  m.encoder_norm_w = w.vector("encoder_norm.weight", d);
  m.encoder_norm_b = w.vector("encoder_norm.bias", d);
  m.token_embed = w.matrix("token_embed.weight", {v, d});
  m.token_pos = w.matrix("token_pos", {c.max_tokens, d});
  for (int i = 0; i < c.decoder_layers; ++i) m.decoder.push_back(layer(w, "decoder." + std::to_string(i), c, true));
  m.decoder_norm_w = w.vector("decoder_norm.weight", d);
  m.decoder_norm_b = w.vector("decoder_norm.bias", d);
  m.head_w = w.matrix("head.weight", {v, d});
  m.head_b = w.vector("head.bias", v);
  return m;
}

CaptionerModel load_captioner_dir(const std::string& dir, std::optional<int> step) {
  const std::string config_path = (std::filesystem::path(dir) / "config.json").string();
  const CaptionerConfig c = parse_captioner_config(read_file(config_path, kMaxConfigBytes), config_path);
  std::string weights = "model.safetensors";
  if (step) {
    const auto it = std::find_if(c.checkpoints.begin(), c.checkpoints.end(),
                                 [&](const CaptionerCheckpoint& k) { return k.step == *step; });
    if (it == c.checkpoints.end()) {
      std::string steps;
      for (const auto& k : c.checkpoints) steps.append(steps.empty() ? "" : ", ").append(std::to_string(k.step));
      throw Error("the captioner in " + dir + " has no checkpoint of step " + std::to_string(*step) +
                  (steps.empty() ? " (it keeps none)" : " (it has " + steps + ")"));
    }
    weights = it->file;
  }
  const std::string path = (std::filesystem::path(dir) / weights).string();
  CaptionerModel m = load_captioner(read_safetensors(path), c);
  m.step = step;
  return m;
}

std::string describe(const CaptionerModel& m) {
  const CaptionerConfig& c = m.config;
  auto plural = [](int n, const char* what) { return std::to_string(n) + " " + what + (n == 1 ? "" : "s"); };
  std::string s = "captioner: " + plural(c.encoder_layers, "encoder layer") + " x " + plural(c.encoder_heads, "head") +
                  ", " + plural(c.decoder_layers, "decoder layer") + " x " + plural(c.decoder_heads, "head") +
                  ", width " + std::to_string(c.width) + ", " + std::to_string(c.grid()) + " x " +
                  std::to_string(c.grid()) + " patches of " + std::to_string(c.patch) + " px";
  if (m.step) {
    s += ", training step " + std::to_string(*m.step);
    if (!c.checkpoints.empty()) s += " of " + std::to_string(c.checkpoints.back().step);
  } else {
    s += ", final weights";
  }
  return s;
}

}  // namespace attn
