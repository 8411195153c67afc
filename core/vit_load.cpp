// Vision Transformer weights: which naming a file uses, and the model its
// tensors make (vit.hpp documents the layouts).
#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "error.hpp"
#include "io.hpp"
#include "vit.hpp"

namespace attn {
namespace {

std::string shape_text(const std::vector<std::int64_t>& s) {
  std::string out = "[";
  for (size_t i = 0; i < s.size(); ++i) out += (i ? ", " : "") + std::to_string(s[i]);
  return out + "]";
}

// Looks tensors up by name and checks their shapes; every failure names the tensor.
class Tensors {
 public:
  explicit Tensors(const SafeTensors& st) : st_(st) {}
  bool has(const std::string& n) const { return st_.has(n); }
  const NamedTensor& get(const std::string& n, const std::vector<std::int64_t>& shape) const {
    const auto it = st_.tensors.find(n);
    if (it == st_.tensors.end()) throw Error("the weights have no tensor \"" + n + "\"");
    if (it->second.shape != shape)
      throw Error("tensor \"" + n + "\" has shape " + shape_text(it->second.shape) + ", expected " + shape_text(shape));
    return it->second;
  }
  Matrix matrix(const std::string& n, std::int64_t rows, std::int64_t cols) const {
    return Eigen::Map<const Matrix>(get(n, {rows, cols}).data.data(), rows, cols);
  }
  Vector vector(const std::string& n, std::int64_t size) const {
    return Eigen::Map<const Vector>(get(n, {size}).data.data(), size);
  }
  const NamedTensor* find(const std::string& n) const {
    const auto it = st_.tensors.find(n);
    return it == st_.tensors.end() ? nullptr : &it->second;
  }

 private:
  const SafeTensors& st_;
};

// The names of one layout; {i} is replaced by the block index.
struct Names {
  std::string layout, cls, pos, patch_w, patch_b, norm_w, norm_b;
  std::string n1w, n1b, n2w, n2b, qkv_w, qkv_b, q_w, q_b, k_w, k_b, v_w, v_b, proj_w, proj_b, fc1_w, fc1_b, fc2_w,
      fc2_b, ls1, ls2, reg;
  std::string fc1_alt_w, fc1_alt_b, fc2_alt_w, fc2_alt_b;
};

std::string at(std::string pattern, int i) {
  const auto p = pattern.find("{i}");
  if (p != std::string::npos) pattern.replace(p, 3, std::to_string(i));
  return pattern;
}

Names detect(const Tensors& t) {
  if (t.has("blocks.0.attn.qkv.weight"))
    return {"timm",
            "cls_token",
            "pos_embed",
            "patch_embed.proj.weight",
            "patch_embed.proj.bias",
            "norm.weight",
            "norm.bias",
            "blocks.{i}.norm1.weight",
            "blocks.{i}.norm1.bias",
            "blocks.{i}.norm2.weight",
            "blocks.{i}.norm2.bias",
            "blocks.{i}.attn.qkv.weight",
            "blocks.{i}.attn.qkv.bias",
            "",
            "",
            "",
            "",
            "",
            "",
            "blocks.{i}.attn.proj.weight",
            "blocks.{i}.attn.proj.bias",
            "blocks.{i}.mlp.fc1.weight",
            "blocks.{i}.mlp.fc1.bias",
            "blocks.{i}.mlp.fc2.weight",
            "blocks.{i}.mlp.fc2.bias",
            "blocks.{i}.ls1.gamma",
            "blocks.{i}.ls2.gamma",
            "reg_token",
            "",
            "",
            "",
            ""};
  for (const std::string prefix : {"", "vit."}) {
    if (!t.has(prefix + "encoder.layer.0.attention.attention.query.weight")) continue;
    const std::string l = prefix + "encoder.layer.{i}.";
    return {"huggingface",
            prefix + "embeddings.cls_token",
            prefix + "embeddings.position_embeddings",
            prefix + "embeddings.patch_embeddings.projection.weight",
            prefix + "embeddings.patch_embeddings.projection.bias",
            prefix + "layernorm.weight",
            prefix + "layernorm.bias",
            l + "layernorm_before.weight",
            l + "layernorm_before.bias",
            l + "layernorm_after.weight",
            l + "layernorm_after.bias",
            "",
            "",
            l + "attention.attention.query.weight",
            l + "attention.attention.query.bias",
            l + "attention.attention.key.weight",
            l + "attention.attention.key.bias",
            l + "attention.attention.value.weight",
            l + "attention.attention.value.bias",
            l + "attention.output.dense.weight",
            l + "attention.output.dense.bias",
            l + "intermediate.dense.weight",
            l + "intermediate.dense.bias",
            l + "output.dense.weight",
            l + "output.dense.bias",
            "",
            "",
            "",
            "",
            "",
            "",
            ""};
  }
  if (t.has("encoder.layers.encoder_layer_0.self_attention.in_proj_weight")) {
    const std::string l = "encoder.layers.encoder_layer_{i}.";
    return {"torchvision",
            "class_token",
            "encoder.pos_embedding",
            "conv_proj.weight",
            "conv_proj.bias",
            "encoder.ln.weight",
            "encoder.ln.bias",
            l + "ln_1.weight",
            l + "ln_1.bias",
            l + "ln_2.weight",
            l + "ln_2.bias",
            l + "self_attention.in_proj_weight",
            l + "self_attention.in_proj_bias",
            "",
            "",
            "",
            "",
            "",
            "",
            l + "self_attention.out_proj.weight",
            l + "self_attention.out_proj.bias",
            l + "mlp.0.weight",
            l + "mlp.0.bias",
            l + "mlp.3.weight",
            l + "mlp.3.bias",
            "",
            "",
            "",
            l + "mlp.linear_1.weight",
            l + "mlp.linear_1.bias",
            l + "mlp.linear_2.weight",
            l + "mlp.linear_2.bias"};
  }
  throw Error(
      "not a Vision Transformer in a known layout: found neither \"blocks.0.attn.qkv.weight\" (timm, DINO), "
      "\"encoder.layer.0.attention.attention.query.weight\" (Hugging Face) nor "
      "\"encoder.layers.encoder_layer_0.self_attention.in_proj_weight\" (torchvision)");
}

bool is_square(std::int64_t n, int* side) {
  const auto s = static_cast<std::int64_t>(std::llround(std::sqrt(static_cast<double>(n))));
  if (s * s != n) return false;
  *side = static_cast<int>(s);
  return true;
}

}  // namespace

VitModel load_vit(const SafeTensors& st, int heads, const std::string& config_json) {
  const Tensors t(st);
  const Names n = detect(t);
  VitModel m;
  m.layout = n.layout;
  const NamedTensor* cls = t.find(n.cls);
  if (!cls) throw Error("the weights have no class token \"" + n.cls + "\"");
  if (cls->shape.size() != 3 || cls->shape[0] != 1 || cls->shape[1] != 1)
    throw Error("tensor \"" + n.cls + "\" has shape " + shape_text(cls->shape) + ", expected [1, 1, D]");
  const std::int64_t D = cls->shape[2];
  m.width = static_cast<int>(D);
  m.cls = Eigen::Map<const Vector>(cls->data.data(), D);

  const NamedTensor* pw = t.find(n.patch_w);
  if (!pw) throw Error("the weights have no patch embedding \"" + n.patch_w + "\"");
  if (pw->shape.size() != 4 || pw->shape[0] != D || pw->shape[1] != 3 || pw->shape[2] != pw->shape[3])
    throw Error("tensor \"" + n.patch_w + "\" has shape " + shape_text(pw->shape) + ", expected [" + std::to_string(D) +
                ", 3, p, p]");
  m.patch = static_cast<int>(pw->shape[2]);
  m.patch_w = Eigen::Map<const Matrix>(pw->data.data(), D, 3 * static_cast<Eigen::Index>(m.patch) * m.patch);
  m.patch_b = t.vector(n.patch_b, D);

  const NamedTensor* pos = t.find(n.pos);
  if (!pos) throw Error("the weights have no position embeddings \"" + n.pos + "\"");
  if (pos->shape.size() != 3 || pos->shape[0] != 1 || pos->shape[2] != D)
    throw Error("tensor \"" + n.pos + "\" has shape " + shape_text(pos->shape) + ", expected [1, tokens, " +
                std::to_string(D) + "]");
  const std::int64_t rows = pos->shape[1];
  int side = 0;
  if (rows > 1 && is_square(rows - 1, &side))
    m.pos_has_class = true;
  else if (is_square(rows, &side))
    m.pos_has_class = false;
  else
    throw Error("tensor \"" + n.pos + "\" has " + std::to_string(rows) +
                " positions: not a square grid (plus a class position)");
  m.pos_grid = side;
  m.pos = Eigen::Map<const Matrix>(pos->data.data(), rows, D);

  if (!n.reg.empty())
    if (const NamedTensor* reg = t.find(n.reg)) {
      if (reg->shape.size() != 3 || reg->shape[0] != 1 || reg->shape[2] != D)
        throw Error("tensor \"" + n.reg + "\" has shape " + shape_text(reg->shape) + ", expected [1, R, " +
                    std::to_string(D) + "]");
      m.registers = static_cast<int>(reg->shape[1]);
      m.registers_init = Eigen::Map<const Matrix>(reg->data.data(), m.registers, D);
    }

  // Depth: blocks 0, 1, ... as long as they exist.
  const std::string probe = n.qkv_w.empty() ? n.q_w : n.qkv_w;
  while (t.has(at(probe, m.depth))) ++m.depth;
  for (int i = 0; i < m.depth; ++i) {
    VitBlock b;
    b.norm1_w = t.vector(at(n.n1w, i), D);
    b.norm1_b = t.vector(at(n.n1b, i), D);
    b.norm2_w = t.vector(at(n.n2w, i), D);
    b.norm2_b = t.vector(at(n.n2b, i), D);
    if (!n.qkv_w.empty()) {
      b.qkv_w = t.matrix(at(n.qkv_w, i), 3 * D, D);
      b.qkv_b = t.vector(at(n.qkv_b, i), 3 * D);
    } else {
      b.qkv_w.resize(3 * D, D);
      b.qkv_b.resize(3 * D);
      b.qkv_w << t.matrix(at(n.q_w, i), D, D), t.matrix(at(n.k_w, i), D, D), t.matrix(at(n.v_w, i), D, D);
      b.qkv_b << t.vector(at(n.q_b, i), D), t.vector(at(n.k_b, i), D), t.vector(at(n.v_b, i), D);
    }
    b.proj_w = t.matrix(at(n.proj_w, i), D, D);
    b.proj_b = t.vector(at(n.proj_b, i), D);
    std::string f1w = at(n.fc1_w, i), f1b = at(n.fc1_b, i), f2w = at(n.fc2_w, i), f2b = at(n.fc2_b, i);
    if (!t.has(f1w) && !n.fc1_alt_w.empty()) {  // older torchvision names
      f1w = at(n.fc1_alt_w, i), f1b = at(n.fc1_alt_b, i), f2w = at(n.fc2_alt_w, i), f2b = at(n.fc2_alt_b, i);
    }
    const NamedTensor* fc1 = t.find(f1w);
    if (!fc1) throw Error("the weights have no tensor \"" + f1w + "\"");
    if (fc1->shape.size() != 2 || fc1->shape[1] != D)
      throw Error("tensor \"" + f1w + "\" has shape " + shape_text(fc1->shape) + ", expected [M, " + std::to_string(D) +
                  "]");
    const std::int64_t M = fc1->shape[0];
    b.fc1_w = t.matrix(f1w, M, D);
    b.fc1_b = t.vector(f1b, M);
    b.fc2_w = t.matrix(f2w, D, M);
    b.fc2_b = t.vector(f2b, D);
    if (!n.ls1.empty() && t.has(at(n.ls1, i))) {
      b.ls1 = t.vector(at(n.ls1, i), D);
      b.ls2 = t.vector(at(n.ls2, i), D);
    }
    m.blocks.push_back(std::move(b));
  }
  if (m.depth == 0) throw Error("the weights have no transformer blocks");
  m.norm_w = t.vector(n.norm_w, D);
  m.norm_b = t.vector(n.norm_b, D);

  if (!config_json.empty()) {
    try {
      const auto cfg = nlohmann::json::parse(config_json);
      // Types and ranges checked before converting: get<int>() on 8e127 is undefined behaviour.
      auto integer = [&](const char* key) {
        const auto& v = cfg.at(key);
        if (!v.is_number_integer() || v.get<std::int64_t>() < 0 || v.get<std::int64_t>() > (1 << 20))
          throw Error(std::string("config.json: \"") + key + "\" is not a reasonable integer");
        return v.get<std::int64_t>();
      };
      if (cfg.is_object() && cfg.contains("num_attention_heads") && heads == 0)
        heads = static_cast<int>(integer("num_attention_heads"));
      if (cfg.is_object() && cfg.contains("layer_norm_eps")) {
        if (!cfg["layer_norm_eps"].is_number() || !(cfg["layer_norm_eps"].get<double>() > 0) ||
            !(cfg["layer_norm_eps"].get<double>() < 1))
          throw Error("config.json: \"layer_norm_eps\" must be a number in (0, 1)");
        m.eps = cfg["layer_norm_eps"].get<double>();
      }
      if (cfg.is_object() && cfg.contains("hidden_size") && integer("hidden_size") != D)
        throw Error("config.json says hidden_size " + std::to_string(integer("hidden_size")) +
                    " but the weights have width " + std::to_string(D));
    } catch (const nlohmann::json::exception& e) {
      throw Error("config.json is not valid: " + std::string(e.what()));
    }
  }
  if (heads == 0) {
    if (D % 64 != 0)
      throw Error("cannot infer the number of heads for width " + std::to_string(D) + "; give it (--heads)");
    heads = static_cast<int>(D / 64);
  }
  if (heads < 1 || D % heads != 0)
    throw Error("width " + std::to_string(D) + " is not divisible by " + std::to_string(heads) + " heads");
  m.heads = heads;
  return m;
}

VitModel load_vit_file(const std::string& path, int heads) {
  const SafeTensors st = read_safetensors(path);
  std::string config;
  const auto cfg = std::filesystem::path(path).parent_path() / "config.json";
  std::error_code ec;
  if (std::filesystem::is_regular_file(cfg, ec)) {
    const auto bytes = read_file(cfg.string(), 1 << 20);
    config.assign(bytes.begin(), bytes.end());
  }
  try {
    return load_vit(st, heads, config);
  } catch (const Error& e) {
    throw Error(path + ": " + e.what());
  }
}

}  // namespace attn
