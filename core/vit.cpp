#include "vit.hpp"

#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "attention_fast.hpp"
#include "error.hpp"
#include "gemm.hpp"
#include "io.hpp"
#include "parallel.hpp"
#include "simd/kernels.hpp"
#include "softmax.hpp"

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

void layer_norm(const Matrix& x, const Vector& w, const Vector& b, double eps, Matrix& out) {
  out.resize(x.rows(), x.cols());
  const double d = static_cast<double>(x.cols());
  parallel_for(static_cast<int>(x.rows()), [&](int i) {
    double mean = 0, var = 0;
    for (Eigen::Index j = 0; j < x.cols(); ++j) mean += x(i, j);
    mean /= d;
    for (Eigen::Index j = 0; j < x.cols(); ++j) var += (x(i, j) - mean) * (x(i, j) - mean);
    const double inv = 1.0 / std::sqrt(var / d + eps);
    for (Eigen::Index j = 0; j < x.cols(); ++j) out(i, j) = static_cast<float>((x(i, j) - mean) * inv) * w[j] + b[j];
  });
}

// y = x wᵀ + b: x [N, in], w [out, in] (PyTorch's layout), b [out].
Matrix linear(const Matrix& x, const Matrix& w, const Vector& b) {
  Matrix y(x.rows(), w.rows());
  gemm(static_cast<int>(x.rows()), static_cast<int>(w.rows()), static_cast<int>(x.cols()), 1.0f,
       {x.data(), x.outerStride(), 1}, {w.data(), 1, w.outerStride()}, y.data(), y.outerStride());
  y.rowwise() += b.transpose();
  return y;
}

bool is_square(std::int64_t n, int* side) {
  const auto s = static_cast<std::int64_t>(std::llround(std::sqrt(static_cast<double>(n))));
  if (s * s != n) return false;
  *side = static_cast<int>(s);
  return true;
}

// Resamples one axis with a triangle filter widened by the shrink factor
// (box-like averaging when shrinking, bilinear when growing). `in` holds
// n_in items of `count` floats each; the result n_out items.
std::vector<float> resample_axis(const std::vector<float>& in, int n_in, int n_out, int count) {
  std::vector<float> out(static_cast<size_t>(n_out) * count);
  const double scale = static_cast<double>(n_in) / n_out;
  const double support = std::max(1.0, scale);
  std::vector<double> w;
  for (int o = 0; o < n_out; ++o) {
    const double centre = (o + 0.5) * scale;
    const int lo = std::max(0, static_cast<int>(std::floor(centre - support)));
    const int hi = std::min(n_in - 1, static_cast<int>(std::ceil(centre + support)));
    double total = 0;
    w.clear();
    for (int i = lo; i <= hi; ++i) {
      w.push_back(std::max(0.0, 1.0 - std::abs((i + 0.5 - centre) / support)));
      total += w.back();
    }
    for (int c = 0; c < count; ++c) {
      double acc = 0;
      for (int i = lo; i <= hi; ++i) acc += w[static_cast<size_t>(i - lo)] * in[static_cast<size_t>(i) * count + c];
      out[static_cast<size_t>(o) * count + c] = static_cast<float>(total > 0 ? acc / total : 0.0);
    }
  }
  return out;
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

Matrix resample_bicubic(const MatrixRef& grid, int rows, int cols, int new_rows, int new_cols) {
  constexpr double A = -0.75;  // PyTorch's cubic convolution coefficient
  auto weights = [](double t, double w[4]) {
    auto near = [](double x) { return ((A + 2) * x - (A + 3)) * x * x + 1; };       // |x| <= 1
    auto far = [](double x) { return ((A * x - 5 * A) * x + 8 * A) * x - 4 * A; };  // 1 < |x| < 2
    w[0] = far(t + 1);
    w[1] = near(t);
    w[2] = near(1 - t);
    w[3] = far(2 - t);
  };
  // Separable: one pass along the columns, then one along the rows. A pass
  // resamples positions 0..n_in-1 to 0..n_out-1 for each of `outer` lines;
  // at(line, position) gives a vector's row index in the source or result.
  const Eigen::Index d = grid.cols();
  auto pass = [&](const Matrix& src, int n_in, int n_out, int outer, auto src_at, auto dst_at) {
    Matrix dst(static_cast<Eigen::Index>(outer) * n_out, d);
    const double scale = static_cast<double>(n_in) / n_out;
    for (int j = 0; j < n_out; ++j) {
      const double from = (j + 0.5) * scale - 0.5;
      const int i0 = static_cast<int>(std::floor(from));
      double w[4];
      weights(from - i0, w);
      for (int line = 0; line < outer; ++line) {
        Eigen::VectorXd acc = Eigen::VectorXd::Zero(d);
        for (int k = 0; k < 4; ++k)
          acc += w[k] * src.row(src_at(line, std::clamp(i0 - 1 + k, 0, n_in - 1))).template cast<double>().transpose();
        dst.row(dst_at(line, j)) = acc.cast<float>().transpose();
      }
    }
    return dst;
  };
  const Matrix tmp = pass(
      grid, cols, new_cols, rows, [&](int r, int c) { return r * cols + c; },
      [&](int r, int c) { return r * new_cols + c; });
  return pass(
      tmp, rows, new_rows, new_cols, [&](int c, int r) { return r * new_cols + c; },
      [&](int c, int r) { return r * new_cols + c; });
}

Image resize_shorter_side(const Image& img, int size) {
  const double s = static_cast<double>(size) / std::min(img.width, img.height);
  const int w = std::max(1, static_cast<int>(std::lround(img.width * s)));
  const int h = std::max(1, static_cast<int>(std::lround(img.height * s)));
  // Along each row (items: pixels of 4 channels), then along the columns
  // (items: whole rows of w pixels).
  std::vector<float> horizontal;
  horizontal.reserve(static_cast<size_t>(img.height) * w * 4);
  for (int y = 0; y < img.height; ++y) {
    const std::vector<float> row(img.rgba.begin() + static_cast<long>(y) * img.width * 4,
                                 img.rgba.begin() + static_cast<long>(y + 1) * img.width * 4);
    const auto r = resample_axis(row, img.width, w, 4);
    horizontal.insert(horizontal.end(), r.begin(), r.end());
  }
  const auto both = resample_axis(horizontal, img.height, h, w * 4);
  Image out = Image::blank(w, h);
  for (size_t i = 0; i < both.size(); ++i)
    out.rgba[i] = static_cast<std::uint8_t>(std::clamp(std::lround(both[i]), 0L, 255L));
  return out;
}

std::array<int, 2> vit_grid(const VitModel& m, int width, int height, const VitOptions& opt) {
  int w = width, h = height;
  if (opt.size > 0) {
    const double s = static_cast<double>(opt.size) / std::min(width, height);
    w = std::max(1, static_cast<int>(std::lround(width * s)));
    h = std::max(1, static_cast<int>(std::lround(height * s)));
  }
  if (w < m.patch || h < m.patch)
    throw Error("the image (" + std::to_string(w) + "x" + std::to_string(h) + " after resizing) is smaller than one " +
                std::to_string(m.patch) + "-pixel patch");
  return {w / m.patch, h / m.patch};
}

VitResult run_vit(const VitModel& m, const Image& img, const VitOptions& opt) {
  check_temperature(opt.temperature, "model temperature");
  const auto [cols, rows] = vit_grid(m, img.width, img.height, opt);
  const int p = m.patch, P = cols * rows, R = m.registers, N = 1 + P + R, D = m.width, H = m.heads, dh = D / H;
  const double attn_bytes = 4.0 * m.depth * H * static_cast<double>(N) * N;
  if (attn_bytes > opt.max_attention_bytes)
    throw Error("keeping the attention of " + std::to_string(N) + " tokens in " + std::to_string(m.depth) +
                " layers x " + std::to_string(H) + " heads needs " +
                format_bytes(static_cast<std::uint64_t>(attn_bytes)) + "; use a smaller image size");
  VitResult r;
  r.grid_cols = cols;
  r.grid_rows = rows;
  r.tokens = N;
  r.registers = R;
  r.input = opt.size > 0 ? resize_shorter_side(img, opt.size) : img;

  // Patch embedding: each patch flattened (channel, row, column), normalised.
  Matrix patches(P, 3 * p * p);
  for (int t = 0; t < P; ++t) {
    const int x0 = (t % cols) * p, y0 = (t / cols) * p;
    for (int c = 0; c < 3; ++c)
      for (int y = 0; y < p; ++y)
        for (int x = 0; x < p; ++x)
          patches(t, (c * p + y) * p + x) =
              (r.input.pixel(x0 + x, y0 + y)[c] / 255.0f - opt.mean[static_cast<size_t>(c)]) /
              opt.std[static_cast<size_t>(c)];
  }
  Matrix x(N, D);
  x.middleRows(1, P) = linear(patches, m.patch_w, m.patch_b);
  const Matrix pos_patches = m.pos.bottomRows(static_cast<Eigen::Index>(m.pos_grid) * m.pos_grid);
  if (rows == m.pos_grid && cols == m.pos_grid)
    x.middleRows(1, P) += pos_patches;
  else
    x.middleRows(1, P) += resample_bicubic(pos_patches, m.pos_grid, m.pos_grid, rows, cols);
  x.row(0) = m.cls.transpose();
  if (m.pos_has_class) x.row(0) += m.pos.row(0);
  if (R > 0) x.bottomRows(R) = m.registers_init;

  const float scale = 1.0f / std::sqrt(static_cast<float>(dh));
  Matrix h, out(N, D);
  r.attention.resize(static_cast<size_t>(m.depth));
  for (int l = 0; l < m.depth; ++l) {
    const VitBlock& b = m.blocks[static_cast<size_t>(l)];
    layer_norm(x, b.norm1_w, b.norm1_b, m.eps, h);
    const Matrix qkv = linear(h, b.qkv_w, b.qkv_b);
    Heads q, k, v;
    for (int i = 0; i < H; ++i) {
      q.push_back(qkv.middleCols(static_cast<Eigen::Index>(i) * dh, dh));
      k.push_back(qkv.middleCols(D + i * dh, dh));
      v.push_back(qkv.middleCols(2 * D + i * dh, dh));
    }
    MultiHeadResult heads;
    detail::attend_dot(q, k, v, scale, Norm::Softmax, opt.temperature, Mask{}, 0, heads);
    for (int i = 0; i < H; ++i) {
      out.middleCols(static_cast<Eigen::Index>(i) * dh, dh) = heads.heads[static_cast<size_t>(i)].output;
      r.attention[static_cast<size_t>(l)].push_back(std::move(heads.heads[static_cast<size_t>(i)].weights));
    }
    Matrix a = linear(out, b.proj_w, b.proj_b);
    if (b.ls1.size()) a = a.array().rowwise() * b.ls1.transpose().array();
    x += a;
    layer_norm(x, b.norm2_w, b.norm2_b, m.eps, h);
    Matrix f = linear(h, b.fc1_w, b.fc1_b);
    const simd::Kernels& kern = simd::kernels();
    parallel_for(static_cast<int>(f.rows()),
                 [&](int i) { kern.gelu_row(f.row(i).data(), static_cast<int>(f.cols())); });
    Matrix g = linear(f, b.fc2_w, b.fc2_b);
    if (b.ls2.size()) g = g.array().rowwise() * b.ls2.transpose().array();
    x += g;
  }
  layer_norm(x, m.norm_w, m.norm_b, m.eps, r.output);
  return r;
}

}  // namespace attn
