// The Vision Transformer's forward pass, keeping every layer's attention
// (and a pooling probe's): tokens in attnscope's order, prefix tokens, then
// patches, then registers. Attention is the same function of its tokens in
// any order, so computing in this order gives the same maps as the models'
// own (DINOv2 puts the registers before the patches).
#include <cmath>

#include "attention_fast.hpp"
#include "error.hpp"
#include "gemm.hpp"
#include "io.hpp"
#include "layer_norm.hpp"
#include "parallel.hpp"
#include "simd/kernels.hpp"
#include "softmax.hpp"
#include "vit.hpp"

namespace attn {
namespace {

// y = x wᵀ + b: x [N, in], w [out, in] (PyTorch's layout), b [out] or
// empty; y [N, out], its storage reused when it already has that shape.
void linear(const Matrix& x, const Matrix& w, const Vector& b, Matrix& y) {
  y.resize(x.rows(), w.rows());
  gemm(static_cast<int>(x.rows()), static_cast<int>(w.rows()), static_cast<int>(x.cols()), 1.0f,
       {x.data(), x.outerStride(), 1}, {w.data(), 1, w.outerStride()}, y.data(), y.outerStride());
  if (b.size()) y.rowwise() += b.transpose();
}

// The same with the weight as read or packed.
void linear(const Matrix& x, const LinearWeight& w, const Vector& b, Matrix& y) {
  if (w.packed.empty()) return linear(x, w.w, b, y);
  y.resize(x.rows(), w.out());
  gemm(static_cast<int>(x.rows()), {x.data(), x.outerStride(), 1}, w.packed, y.data(), y.outerStride());
  if (b.size()) y.rowwise() += b.transpose();
}

Matrix linear(const Matrix& x, const Matrix& w, const Vector& b) {
  Matrix y;
  linear(x, w, b, y);
  return y;
}

// x += y (· gamma, LayerScale, when gamma is not empty): the residual.
void add_residual(Matrix& x, const Matrix& y, const Vector& gamma) {
  if (gamma.size())
    x.array() += y.array().rowwise() * gamma.transpose().array();
  else
    x += y;
}

// The MLP's non-linearity on every element of f, rows in parallel.
void activate(Matrix& f, Activation a) {
  const simd::Kernels& kern = simd::kernels();
  const int n = static_cast<int>(f.cols());
  parallel_for(static_cast<int>(f.rows()), [&](int i) {
    float* x = f.row(i).data();
    switch (a) {
      case Activation::Gelu:
        kern.gelu_row(x, n);
        break;
      case Activation::GeluTanh:
        for (int j = 0; j < n; ++j) {
          const double v = x[j];
          x[j] = static_cast<float>(0.5 * v * (1.0 + std::tanh(0.7978845608028654 * (v + 0.044715 * v * v * v))));
        }
        break;
      case Activation::QuickGelu:
        for (int j = 0; j < n; ++j) x[j] = static_cast<float>(x[j] / (1.0 + std::exp(-1.702 * x[j])));
        break;
    }
  });
}

// SwiGLU: [a | b] (each h wide) -> silu(a) * b, [N, h].
void swiglu(const Matrix& ab, Matrix& out) {
  const Eigen::Index h = ab.cols() / 2;
  out.resize(ab.rows(), h);
  parallel_for(static_cast<int>(ab.rows()), [&](int i) {
    for (Eigen::Index j = 0; j < h; ++j) {
      const double a = ab(i, j);
      out(i, j) = static_cast<float>(a / (1.0 + std::exp(-a)) * ab(i, h + j));
    }
  });
}

// A block's intermediate results, reused from layer to layer: memory
// touched for the first time costs more than the arithmetic on it.
struct BlockBuffers {
  Matrix normed, qkv, heads_out, projected, hidden, gated, mlp_out;
  Heads q, k, v;
};

}  // namespace

void pack_weights(VitBlock& b) {
  for (LinearWeight* lw : {&b.qkv, &b.proj, &b.fc1, &b.fc2}) {
    if (!lw->packed.empty() || lw->w.size() == 0) continue;
    const Matrix& w = lw->w;  // [out, in]: B = wᵀ [in, out] is its transpose
    lw->packed = PackedB({w.data(), 1, w.outerStride()}, static_cast<int>(w.cols()), static_cast<int>(w.rows()));
    lw->w = Matrix();
  }
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
  const int p = m.patch, P = cols * rows, R = m.registers, F = m.prefix_tokens(), N = F + P + R, D = m.width,
            H = m.heads, dh = D / H;
  const double f32_bytes = 4.0 * m.depth * H * static_cast<double>(N) * N;
  const Precision precision =
      opt.attention_precision.value_or(f32_bytes <= opt.max_f32_attention_bytes ? Precision::F32 : Precision::F16);
  const double attn_bytes = precision == Precision::F32 ? f32_bytes : f32_bytes / 2;
  if (attn_bytes > opt.max_attention_bytes)
    throw Error("keeping the attention of " + std::to_string(N) + " tokens in " + std::to_string(m.depth) +
                " layers x " + std::to_string(H) + " heads needs " +
                format_bytes(static_cast<std::uint64_t>(attn_bytes)) +
                " even in half precision; use a smaller image size");
  const std::array<float, 3> mean = opt.mean.value_or(m.mean), std = opt.std.value_or(m.std);
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
              (r.input.pixel(x0 + x, y0 + y)[c] / 255.0f - mean[static_cast<size_t>(c)]) / std[static_cast<size_t>(c)];
  }
  // Tokens: prefix (class, distillation) with their positions, patches with
  // theirs (resampled to this grid), registers with none.
  Matrix x(N, D);
  x.middleRows(F, P) = linear(patches, m.patch_w, m.patch_b);
  const Matrix pos_patches = m.pos.bottomRows(static_cast<Eigen::Index>(m.pos_grid) * m.pos_grid);
  if (rows == m.pos_grid && cols == m.pos_grid)
    x.middleRows(F, P) += pos_patches;
  else
    x.middleRows(F, P) += resample_positions(pos_patches, m.pos_grid, rows, cols, m.resample);
  std::vector<TokenKind> prefix;
  if (m.has_class)
    x.row(static_cast<Eigen::Index>(prefix.size())) = m.cls.transpose(), prefix.push_back(TokenKind::Class);
  if (m.has_distillation)
    x.row(static_cast<Eigen::Index>(prefix.size())) = m.dist.transpose(), prefix.push_back(TokenKind::Distillation);
  if (m.pos_prefix > 0) x.topRows(F) += m.pos.topRows(F);
  if (R > 0) x.bottomRows(R) = m.registers_init;
  if (m.pre_norm_w.size()) {  // CLIP's ln_pre
    Matrix normed;
    layer_norm(x, m.pre_norm_w, m.pre_norm_b, m.eps, normed);
    x = std::move(normed);
  }

  const float scale = 1.0f / std::sqrt(static_cast<float>(dh));
  BlockBuffers buf;
  buf.q.resize(static_cast<size_t>(H)), buf.k.resize(static_cast<size_t>(H)), buf.v.resize(static_cast<size_t>(H));
  r.record.token_sets.push_back(TokenSet::vit({p, cols, rows}, prefix, R));
  r.record.attention.push_back(
      {"encoder", AttentionRole::EncoderSelf, 0, 0, AttentionStack(m.depth, H, N, N, precision)});
  AttentionStack& kept = r.record.attention.back().weights;
  Matrix& norms = r.record.token_norms;
  norms.resize(m.depth + 1, N);
  VitBlock streamed;  // the block read for this layer, when the model streams them (one buffer for all)
  for (int l = 0; l < m.depth; ++l) {
    norms.row(l) = x.rowwise().norm().transpose();
    if (m.streamed) m.streamed->read(l, streamed);
    const VitBlock& b = m.streamed ? streamed : m.blocks[static_cast<size_t>(l)];
    layer_norm(x, b.norm1_w, b.norm1_b, m.eps, buf.normed);
    linear(buf.normed, b.qkv, b.qkv_b, buf.qkv);
    for (size_t i = 0; i < static_cast<size_t>(H); ++i) {
      const auto c = static_cast<Eigen::Index>(i) * dh;
      buf.q[i] = buf.qkv.middleCols(c, dh);
      buf.k[i] = buf.qkv.middleCols(D + c, dh);
      buf.v[i] = buf.qkv.middleCols(2 * static_cast<Eigen::Index>(D) + c, dh);
    }
    detail::attend_dot_weights(buf.q, buf.k, buf.v, scale, opt.temperature, buf.heads_out,
                               [&](int head, int row0, int n, const float* w) { kept.set_rows(l, head, row0, n, w); });
    linear(buf.heads_out, b.proj, b.proj_b, buf.projected);
    add_residual(x, buf.projected, b.ls1);
    layer_norm(x, b.norm2_w, b.norm2_b, m.eps, buf.normed);
    linear(buf.normed, b.fc1, b.fc1_b, buf.hidden);
    if (b.swiglu)
      swiglu(buf.hidden, buf.gated);
    else
      activate(buf.hidden, m.activation);
    linear(b.swiglu ? buf.gated : buf.hidden, b.fc2, b.fc2_b, buf.mlp_out);
    add_residual(x, buf.mlp_out, b.ls2);
  }
  norms.row(m.depth) = x.rowwise().norm().transpose();
  if (m.norm_w.size())
    layer_norm(x, m.norm_w, m.norm_b, m.eps, r.output);
  else
    r.output = std::move(x);

  // The pooling probe: one learned query over every token after the final
  // norm, softmax(q_h k_hᵀ / sqrt(d_head)) per head.
  if (m.probe) {
    const PoolProbe& pr = *m.probe;
    const Matrix q = linear(Matrix(pr.latent.transpose()), pr.q_w, pr.q_b);  // [1, D]
    const Matrix k = linear(r.output, pr.k_w, pr.k_b);                       // [N, D]
    AttentionStack pool(1, H, 1, N);
    for (int i = 0; i < H; ++i) {
      Matrix z = (q.middleCols(static_cast<Eigen::Index>(i) * dh, dh) *
                  k.middleCols(static_cast<Eigen::Index>(i) * dh, dh).transpose()) *
                 scale;
      pool.set(0, i, normalise(z, Norm::Softmax, 1.0, Mask{}));
    }
    TokenSet probe_set;
    probe_set.tokens.push_back({TokenKind::Probe, -1, {}});
    r.record.token_sets.push_back(std::move(probe_set));
    r.record.attention.push_back({"pool", AttentionRole::Pool, 1, 0, std::move(pool)});
  }
  return r;
}

}  // namespace attn
