// Vision Transformer weights to a model: the tensors vit_names.cpp found,
// checked for shape and converted to float32 once, into their place.
#include <array>
#include <cmath>
#include <filesystem>
#include <regex>
#include <sstream>

#include "error.hpp"
#include "io.hpp"
#include "safetensors.hpp"
#include "vit.hpp"
#include "vit_names.hpp"
#include "weights_file.hpp"

namespace attn {

template <>
std::span<const EnumName<Activation>> enum_names<Activation>() {
  static constexpr std::array<EnumName<Activation>, 3> kNames = {{
      {Activation::Gelu, "gelu", "GELU", "x Φ(x), the exact (erf) form."},
      {Activation::GeluTanh, "gelu-tanh", "GELU (tanh)", "GELU's tanh approximation (gelu_pytorch_tanh)."},
      {Activation::QuickGelu, "quick-gelu", "QuickGELU", "x σ(1.702 x), OpenAI's CLIP."},
  }};
  return kNames;
}

template <>
std::span<const EnumName<PosResample>> enum_names<PosResample>() {
  static constexpr std::array<EnumName<PosResample>, 3> kNames = {{
      {PosResample::Size, "size", "bicubic to the grid", "F.interpolate(size=grid, mode=bicubic)."},
      {PosResample::SizeAntialias, "size-antialias", "bicubic, antialiased",
       "F.interpolate(size=grid, mode=bicubic, antialias=True), as timm and open_clip."},
      {PosResample::Offset, "offset", "bicubic, scale (n + 0.1) / G",
       "F.interpolate(scale_factor=(n + 0.1) / G, mode=bicubic), as DINO's and DINOv2's own code."},
  }};
  return kNames;
}

namespace {

std::string shape_text(const std::vector<std::int64_t>& s) {
  std::string out = "[";
  for (size_t i = 0; i < s.size(); ++i) out += (i ? ", " : "") + std::to_string(s[i]);
  return out + "]";
}

// Looks tensors up by name, checks their shapes and converts them; every
// failure names the tensor.
class Tensors {
 public:
  explicit Tensors(const TensorFile& f) : f_(f) {}
  bool has(const std::string& n) const { return !n.empty() && f_.has(n); }
  const StoredTensor& get(const std::string& n) const {
    const StoredTensor* t = f_.find(n);
    if (!t) throw Error("the weights have no tensor \"" + n + "\"");
    return *t;
  }
  // Any shape whose elements are `rows` x `cols` in C order, when `shapes`
  // lists the accepted ones.
  Matrix matrix(const std::string& n, std::int64_t rows, std::int64_t cols,
                const std::vector<std::vector<std::int64_t>>& shapes = {}) const {
    Matrix m;
    into(n, rows, cols, m, shapes);
    return m;
  }
  Vector vector(const std::string& n, std::int64_t size, std::vector<std::vector<std::int64_t>> shapes = {}) const {
    if (shapes.empty()) shapes = {{size}};
    return matrix(n, 1, size, shapes).row(0).transpose();
  }
  // The same into `out`, whose memory is reused when it has that shape
  // already (a streamed model's blocks, read layer after layer).
  void into(const std::string& n, std::int64_t rows, std::int64_t cols, Matrix& out,
            const std::vector<std::vector<std::int64_t>>& shapes = {}) const {
    out.resize(rows, cols);
    to_float(n, shapes.empty() ? std::vector<std::vector<std::int64_t>>{{rows, cols}} : shapes,
             std::span(out.data(), static_cast<size_t>(out.size())));
  }
  void into(const std::string& n, std::int64_t size, Vector& out) const {
    out.resize(size);
    to_float(n, {{size}}, std::span(out.data(), static_cast<size_t>(out.size())));
  }
  // Tensor n, of one of `shapes`, converted into `out` (its element count).
  void to_float(const std::string& n, const std::vector<std::vector<std::int64_t>>& shapes,
                std::span<float> out) const {
    const StoredTensor& t = get(n);
    if (std::find(shapes.begin(), shapes.end(), t.shape) == shapes.end())
      throw Error("tensor \"" + n + "\" has shape " + shape_text(t.shape) + ", expected " + shape_text(shapes.front()));
    t.to_float(out, n);
  }
  const std::vector<std::int64_t>& shape(const std::string& n) const { return get(n).shape; }
  // The same checks as matrix() and vector(), without converting anything.
  void check(const std::string& n, const std::vector<std::int64_t>& shape) const {
    if (get(n).shape != shape)
      throw Error("tensor \"" + n + "\" has shape " + shape_text(get(n).shape) + ", expected " + shape_text(shape));
  }

 private:
  const TensorFile& f_;
};

bool is_square(std::int64_t n, int* side) {
  const auto s = static_cast<std::int64_t>(std::llround(std::sqrt(static_cast<double>(n))));
  if (s * s != n) return false;
  *side = static_cast<int>(s);
  return true;
}

// DINOv2 training checkpoints with block chunks name block i of chunk c
// "blocks.c.i." (i global): the same tensors under "blocks.i.".
TensorFile unchunk(const TensorFile& f) {
  static const std::regex chunked(R"(^((?:visual\.trunk\.)?blocks\.)[0-9]+\.([0-9]+\..*)$)");
  if (f.has("blocks.0.norm1.weight") || f.has("visual.trunk.blocks.0.norm1.weight")) return f;
  TensorFile out;
  out.format = f.format;
  out.metadata = f.metadata;
  bool any = false;
  for (const auto& [name, t] : f.tensors) {
    std::smatch m;
    std::string renamed = name;
    if (std::regex_match(name, m, chunked)) renamed = m[1].str() + m[2].str(), any = true;
    if (!out.tensors.emplace(renamed, t).second) throw Error("tensor \"" + renamed + "\" is in two block chunks");
  }
  return any ? out : f;
}

// Block i's tensors into `b`: shapes checked always, values converted when
// `convert`, into b's matrices (their memory reused when they already have
// the shapes: a streamed model reads every block into the same one).
// `hidden` gets the MLP's hidden width.
void read_block(const Tensors& t, const VitNames& n, int i, std::int64_t D, bool convert, VitBlock& b,
                int* hidden = nullptr) {
  auto at = [&](const std::string& pattern) { return block_name(pattern, i); };
  // A vector or matrix checked for shape, and converted only when asked.
  auto vec = [&](const std::string& name, std::int64_t size, Vector& out) {
    if (convert)
      t.into(name, size, out);
    else
      t.check(name, {size});
  };
  auto mat = [&](const std::string& name, std::int64_t rows, std::int64_t cols, Matrix& out) {
    if (convert)
      t.into(name, rows, cols, out);
    else
      t.check(name, {rows, cols});
  };
  vec(at(n.ln1_w), D, b.norm1_w);
  vec(at(n.ln1_b), D, b.norm1_b);
  vec(at(n.ln2_w), D, b.norm2_w);
  vec(at(n.ln2_b), D, b.norm2_b);
  if (!n.qkv_w.empty()) {
    mat(at(n.qkv_w), 3 * D, D, b.qkv.w);
    vec(at(n.qkv_b), 3 * D, b.qkv_b);
  } else if (convert) {  // Q, K and V stacked: each converted into its rows
    b.qkv.w.resize(3 * D, D);
    b.qkv_b.resize(3 * D);
    const std::array<const std::string*, 3> ws = {&n.q_w, &n.k_w, &n.v_w}, bs = {&n.q_b, &n.k_b, &n.v_b};
    for (size_t j = 0; j < 3; ++j) {
      const auto r0 = static_cast<std::int64_t>(j) * D;
      t.to_float(at(*ws[j]), {{D, D}}, std::span(b.qkv.w.row(r0).data(), static_cast<size_t>(D * D)));
      t.to_float(at(*bs[j]), {{D}}, std::span(b.qkv_b.data() + r0, static_cast<size_t>(D)));
    }
  } else {
    for (const std::string* w : {&n.q_w, &n.k_w, &n.v_w}) t.check(at(*w), {D, D});
    for (const std::string* v : {&n.q_b, &n.k_b, &n.v_b}) t.check(at(*v), {D});
  }
  mat(at(n.o_w), D, D, b.proj.w);
  vec(at(n.o_b), D, b.proj_b);
  std::string f1w = at(n.fc1_w), f1b = at(n.fc1_b), f2w = at(n.fc2_w), f2b = at(n.fc2_b);
  b.swiglu = false;
  if (!t.has(f1w) && t.has(at(n.w12_w))) {  // SwiGLU: w12 [2h, D] (a | b), w3 [D, h]
    b.swiglu = true;
    f1w = at(n.w12_w), f1b = at(n.w12_b), f2w = at(n.w3_w), f2b = at(n.w3_b);
  } else if (!t.has(f1w) && t.has(at(n.fc1_alt_w))) {  // older torchvision names
    f1w = at(n.fc1_alt_w), f1b = at(n.fc1_alt_b), f2w = at(n.fc2_alt_w), f2b = at(n.fc2_alt_b);
  }
  const auto& fc1 = t.shape(f1w);
  if (fc1.size() != 2 || fc1[1] != D || (b.swiglu && fc1[0] % 2))
    throw Error("tensor \"" + f1w + "\" has shape " + shape_text(fc1) + ", expected [" + (b.swiglu ? "2 h" : "M") +
                ", " + std::to_string(D) + "]");
  const std::int64_t M = fc1[0], h = b.swiglu ? M / 2 : M;
  if (hidden) *hidden = static_cast<int>(h);
  mat(f1w, M, D, b.fc1.w);
  vec(f1b, M, b.fc1_b);
  mat(f2w, D, h, b.fc2.w);
  vec(f2b, D, b.fc2_b);
  if (t.has(at(n.ls1))) {
    if (convert) {
      t.into(at(n.ls1), D, b.ls1);
    } else {
      t.check(at(n.ls1), {D});
      b.ls1 = Vector::Zero(D);  // its size says the model has LayerScale
    }
    vec(at(n.ls2), D, b.ls2);
  } else {
    b.ls1.resize(0), b.ls2.resize(0);
  }
}

// A model's blocks left in its weights file, read one at a time.
class StreamedBlocks : public BlockReader {
 public:
  StreamedBlocks(TensorFile f, VitNames n, std::int64_t d) : file_(std::move(f)), names_(std::move(n)), d_(d) {}
  void read(int i, VitBlock& into) const override { read_block(Tensors(file_), names_, i, d_, true, into); }

 private:
  TensorFile file_;
  VitNames names_;
  std::int64_t d_;
};

std::string read_beside(const std::filesystem::path& dir, const char* name) {
  const auto p = dir / name;
  std::error_code ec;
  if (!std::filesystem::is_regular_file(p, ec)) return "";
  const auto bytes = read_file(p.string(), 8 << 20);
  return {bytes.begin(), bytes.end()};
}

std::string number(double v) {
  std::ostringstream o;
  o << v;
  return o.str();
}

}  // namespace

std::string VitModel::describe() const {
  std::string s = family;
  if (registers) s += " with " + std::to_string(registers) + " registers";
  if (has_distillation) s += " (distilled)";
  s += ", " + naming + " names, width " + std::to_string(width) + ", " + std::to_string(depth) + " layers, " +
       std::to_string(heads) + " heads (" + heads_from + "), patch " + std::to_string(patch) + ", LayerNorm eps " +
       number(eps) + " (" + eps_from + "), " + std::string(entry_of(activation).label);
  if (swiglu) s += " (SwiGLU)";
  if (layer_scale) s += ", LayerScale";
  if (probe) s += ", a pooling probe";
  return s;
}

VitModel load_vit(const TensorFile& file, int heads, const VitConfigs& configs, bool stream_blocks) {
  const TensorFile f = unchunk(file);
  const Tensors t(f);
  const ParsedConfigs c = parse_configs(configs);
  const VitNames n = detect_vit_names(f, c);
  VitModel m;
  m.family = n.family;
  m.naming = n.naming;
  m.eps = n.eps;
  m.eps_from = n.eps_from;
  m.activation = n.activation;
  m.resample = n.resample;
  m.mean = c.mean.value_or(n.mean);
  m.std = c.std.value_or(n.std);
  if (c.mean) m.mean_from = c.mean_from;

  // The patch embedding gives the width and the patch size.
  const auto& pw = t.shape(n.patch_w);
  if (pw.size() != 4 || pw[1] != 3 || pw[2] != pw[3] || pw[0] < 1)
    throw Error("tensor \"" + n.patch_w + "\" has shape " + shape_text(pw) + ", expected [D, 3, p, p]");
  const std::int64_t D = pw[0];
  m.width = static_cast<int>(D);
  m.patch = static_cast<int>(pw[2]);
  const std::int64_t pp = 3 * pw[2] * pw[3];
  m.patch_w = t.matrix(n.patch_w, D, pp, {pw});
  if (t.has(n.patch_b)) m.patch_b = t.vector(n.patch_b, D);
  if (c.hidden_size && *c.hidden_size != D)
    throw Error("config.json says hidden_size " + std::to_string(*c.hidden_size) + " but the weights have width " +
                std::to_string(D));

  // Prefix tokens: [1, 1, D] in most namings, [D] in CLIP's.
  m.has_class = t.has(n.cls);
  if (m.has_class) m.cls = t.vector(n.cls, D, {{1, 1, D}, {D}});
  m.has_distillation = t.has(n.dist);
  if (m.has_distillation) m.dist = t.vector(n.dist, D, {{1, 1, D}, {D}});
  if (t.has(n.reg)) {
    const auto& r = t.shape(n.reg);
    if (r.size() != 3 || r[0] != 1 || r[2] != D)
      throw Error("tensor \"" + n.reg + "\" has shape " + shape_text(r) + ", expected [1, R, " + std::to_string(D) +
                  "]");
    m.registers = static_cast<int>(r[1]);
    m.registers_init = t.matrix(n.reg, r[1], D, {r});
  }

  // Position embeddings: [1, rows, D] or [rows, D]; rows = prefix + G².
  const auto& ps = t.shape(n.pos);
  const bool batched = ps.size() == 3 && ps[0] == 1;
  if (!(batched || ps.size() == 2) || ps.back() != D)
    throw Error("tensor \"" + n.pos + "\" has shape " + shape_text(ps) + ", expected [1, tokens, " + std::to_string(D) +
                "]");
  const std::int64_t rows = ps[ps.size() - 2];
  const int prefix = m.prefix_tokens();
  int side = 0;
  if (rows > prefix && is_square(rows - prefix, &side))
    m.pos_prefix = prefix;
  else if (is_square(rows, &side))
    m.pos_prefix = 0;  // the prefix tokens get no position (timm's no_embed_class)
  else
    throw Error("tensor \"" + n.pos + "\" has " + std::to_string(rows) + " positions: not a square grid (plus " +
                std::to_string(prefix) + " prefix positions)");
  m.pos_grid = side;
  m.pos = t.matrix(n.pos, rows, D, {ps});

  if (t.has(n.pre_w)) {
    m.pre_norm_w = t.vector(n.pre_w, D);
    m.pre_norm_b = t.vector(n.pre_b, D);
  }
  if (t.has(n.norm_w)) {
    m.norm_w = t.vector(n.norm_w, D);
    m.norm_b = t.vector(n.norm_b, D);
  }

  // Blocks 0, 1, ... as long as they exist: every shape checked now; the
  // weights converted now, or (streamed) when the forward pass reaches them.
  const std::string first = n.qkv_w.empty() ? n.q_w : n.qkv_w;
  while (t.has(block_name(first, m.depth))) ++m.depth;
  if (m.depth == 0) throw Error("the weights have no transformer blocks (no \"" + block_name(first, 0) + "\")");
  for (int i = 0; i < m.depth; ++i) {
    int block_hidden = 0;
    VitBlock b;
    read_block(t, n, i, D, !stream_blocks, b, &block_hidden);
    if (i == 0) m.swiglu = b.swiglu, m.layer_scale = b.ls1.size() > 0, m.mlp_hidden = block_hidden;
    if (!stream_blocks) {  // a model kept in memory packs its weights now, once
      pack_weights(b);
      m.blocks.push_back(std::move(b));
    }
  }
  if (stream_blocks) m.streamed = std::make_shared<const StreamedBlocks>(f, n, D);

  // The pooling probe: Q from the latent, K from the tokens.
  if (t.has(n.probe)) {
    PoolProbe p;
    p.latent = t.vector(n.probe, D, {{1, 1, D}, {D}});
    if (!n.probe_in_w.empty()) {  // Hugging Face: nn.MultiheadAttention's in_proj (Q, K, V)
      const Matrix w = t.matrix(n.probe_in_w, 3 * D, D);
      const Vector bias = t.vector(n.probe_in_b, 3 * D);
      p.q_w = w.topRows(D), p.k_w = w.middleRows(D, D);
      p.q_b = bias.head(D), p.k_b = bias.segment(D, D);
    } else {  // timm: q [D, D], kv [2D, D] (K rows, then V rows)
      p.q_w = t.matrix(n.probe_q_w, D, D);
      p.q_b = t.vector(n.probe_q_b, D);
      const Matrix kv = t.matrix(n.probe_kv_w, 2 * D, D);
      const Vector kvb = t.vector(n.probe_kv_b, 2 * D);
      p.k_w = kv.topRows(D), p.k_b = kvb.head(D);
    }
    m.probe = std::move(p);
  }

  // Heads: the caller's, else the configs', else width / 64.
  if (heads > 0) {
    m.heads_from = "--heads";
  } else if (c.heads) {
    heads = *c.heads, m.heads_from = "config.json";
  } else if (c.open_clip && c.timm_model_name.empty() && D % c.head_width.value_or(64) == 0) {
    heads = static_cast<int>(D / c.head_width.value_or(64));
    m.heads_from = "open_clip_config.json: width / head_width";
  } else if (D % 64 == 0) {
    heads = static_cast<int>(D / 64), m.heads_from = "width / 64";
  } else {
    throw Error("cannot infer the number of heads for width " + std::to_string(D) + "; give it (--heads)");
  }
  if (heads < 1 || D % heads != 0)
    throw Error("width " + std::to_string(D) + " is not divisible by " + std::to_string(heads) + " heads");
  m.heads = heads;
  return m;
}

VitModel load_vit_file(const std::string& path, int heads, const std::string& checkpoint_key, bool stream_blocks) {
  const TensorFile f = read_weights(path, checkpoint_key);
  const auto dir = std::filesystem::path(path).parent_path();
  const VitConfigs configs{read_beside(dir, "config.json"), read_beside(dir, "open_clip_config.json"),
                           read_beside(dir, "preprocessor_config.json")};
  try {
    return load_vit(f, heads, configs, stream_blocks);
  } catch (const Error& e) {
    throw Error(path + ": " + e.what());
  }
}

}  // namespace attn
