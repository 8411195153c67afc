// The captioner's forward pass and greedy decoding (captioner.hpp). The
// model is small (64 patches, width 64), so everything is plain Eigen
// products on one thread: a caption takes about a millisecond.
#include "captioner.hpp"

#include <cmath>
#include <limits>

#include "error.hpp"
#include "layer_norm.hpp"

#include "vit.hpp"  // resize_image
#include "word_views.hpp"

namespace attn {
namespace {

// layer_norm into a new matrix.
Matrix normed(const Matrix& x, const Vector& w, const Vector& b, double eps) {
  Matrix out;
  layer_norm(x, w, b, eps, out);
  return out;
}

// y = x wᵀ + b: x [N, in], w [out, in] (PyTorch's layout).
template <typename W>
Matrix linear(const Matrix& x, const W& w, const Eigen::Ref<const Vector>& b) {
  Matrix y = x * w.transpose();
  y.rowwise() += b.transpose();
  return y;
}

// x Φ(x), the exact (erf) GELU, in double.
void gelu(Matrix& x) {
  for (Eigen::Index i = 0; i < x.size(); ++i) {
    const double v = x.data()[i];
    x.data()[i] = static_cast<float>(0.5 * v * (1.0 + std::erf(v / std::sqrt(2.0))));
  }
}

// nn.MultiheadAttention of queries from `q_in` [Lq, D] over keys and values
// from `kv_in` [Lk, D]: the output [Lq, D], and each head's weights [Lq, Lk]
// into `weights` (H of them). `causal`: query i sees keys 0..i only.
Matrix attend(const CaptionerModel::Attention& a, const Matrix& q_in, const Matrix& kv_in, bool causal,
              std::vector<Matrix>& weights, Matrix* q_out = nullptr, Matrix* k_out = nullptr) {
  const Eigen::Index d = q_in.cols(), lq = q_in.rows(), lk = kv_in.rows(), dh = d / a.heads;
  const Matrix q = linear(q_in, a.in_w.topRows(d), a.in_b.head(d));
  const Matrix k = linear(kv_in, a.in_w.middleRows(d, d), a.in_b.segment(d, d));
  const Matrix v = linear(kv_in, a.in_w.bottomRows(d), a.in_b.tail(d));
  const auto scale = static_cast<float>(1.0 / std::sqrt(static_cast<double>(dh)));
  Matrix joined(lq, d);
  weights.resize(static_cast<size_t>(a.heads));
  for (int h = 0; h < a.heads; ++h) {
    Matrix& w = weights[static_cast<size_t>(h)];
    w = (q.middleCols(h * dh, dh) * scale) * k.middleCols(h * dh, dh).transpose();
    for (Eigen::Index i = 0; i < lq; ++i) {
      const Eigen::Index seen = causal ? std::min(i + 1, lk) : lk;
      double top = -std::numeric_limits<double>::infinity(), sum = 0;
      for (Eigen::Index j = 0; j < seen; ++j) top = std::max(top, static_cast<double>(w(i, j)));
      for (Eigen::Index j = 0; j < seen; ++j) sum += std::exp(static_cast<double>(w(i, j)) - top);
      for (Eigen::Index j = 0; j < lk; ++j)
        w(i, j) = j < seen ? static_cast<float>(std::exp(static_cast<double>(w(i, j)) - top) / sum) : 0.0f;
    }
    if (!w.allFinite())
      throw Error("the captioner's weights overflow float32 on this image (an attention map is not finite)");
    joined.middleCols(h * dh, dh) = w * v.middleCols(h * dh, dh);
  }
  if (q_out) *q_out = q;
  if (k_out) *k_out = k;
  return linear(joined, a.out_w, a.out_b);
}

// x += W2 gelu(W1 LN x + b1) + b2.
void mlp(const CaptionerModel::Layer& l, const Vector& nw, const Vector& nb, double eps, Matrix& x) {
  Matrix hidden = linear(normed(x, nw, nb, eps), l.fc1_w, l.fc1_b);
  gelu(hidden);
  x += linear(hidden, l.fc2_w, l.fc2_b);
}

// The image as the encoder's input rows: [N, 3 p p], each patch's values
// in (channel, y, x) order, normalised.
Matrix patch_rows(const CaptionerConfig& c, const Image& input) {
  const Image img = input.width == c.image_size && input.height == c.image_size
                        ? input
                        : resize_image(input, c.image_size, c.image_size);
  const int g = c.grid(), p = c.patch;
  Matrix rows(c.patches(), 3 * p * p);
  for (int cell = 0; cell < c.patches(); ++cell) {
    const int x0 = cell % g * p, y0 = cell / g * p;
    for (int ch = 0; ch < 3; ++ch)
      for (int y = 0; y < p; ++y)
        for (int x = 0; x < p; ++x) {
          const float v = static_cast<float>(img.pixel(x0 + x, y0 + y)[ch]) / 255.0f;
          rows(cell, (ch * p + y) * p + x) = (v - c.mean[static_cast<size_t>(ch)]) / c.std[static_cast<size_t>(ch)];
        }
  }
  return rows;
}

// The encoder: the memory [N, D] (after its final norm); each layer's
// weights into `attention` [L][H] when given.
Matrix encode(const CaptionerModel& m, const Image& image, std::vector<std::vector<Matrix>>& attention) {
  const double eps = m.config.layer_norm_eps;
  Matrix x = linear(patch_rows(m.config, image), m.patch_w, m.patch_b);
  x += m.pos;
  attention.resize(m.encoder.size());
  for (size_t i = 0; i < m.encoder.size(); ++i) {
    const CaptionerModel::Layer& l = m.encoder[i];
    const Matrix y = normed(x, l.norm1_w, l.norm1_b, eps);
    x += attend(l.self, y, y, false, attention[i]);
    mlp(l, l.norm2_w, l.norm2_b, eps, x);
  }
  return normed(x, m.encoder_norm_w, m.encoder_norm_b, eps);
}

struct Decoded {
  Matrix logits;                                     // [L, V]
  std::vector<std::vector<Matrix>> self_w, cross_w;  // [layer][head]: [L, L], [L, N]
  std::vector<Matrix> cross_q, cross_k;              // [layer]: [L, D], [N, D] (projected)
};

// The decoder over input ids [L] (L <= max_tokens).
Decoded decode(const CaptionerModel& m, const std::vector<int>& ids, const Matrix& memory) {
  const double eps = m.config.layer_norm_eps;
  const auto len = static_cast<Eigen::Index>(ids.size());
  Matrix x(len, m.config.width);
  for (Eigen::Index t = 0; t < len; ++t) x.row(t) = m.token_embed.row(ids[static_cast<size_t>(t)]) + m.token_pos.row(t);
  Decoded d;
  d.self_w.resize(m.decoder.size());
  d.cross_w.resize(m.decoder.size());
  d.cross_q.resize(m.decoder.size());
  d.cross_k.resize(m.decoder.size());
  for (size_t i = 0; i < m.decoder.size(); ++i) {
    const CaptionerModel::Layer& l = m.decoder[i];
    Matrix y = normed(x, l.norm1_w, l.norm1_b, eps);
    x += attend(l.self, y, y, true, d.self_w[i]);
    layer_norm(x, l.norm2_w, l.norm2_b, eps, y);
    x += attend(l.cross, y, memory, false, d.cross_w[i], &d.cross_q[i], &d.cross_k[i]);
    mlp(l, l.norm3_w, l.norm3_b, eps, x);
  }
  d.logits = linear(normed(x, m.decoder_norm_w, m.decoder_norm_b, eps), m.head_w, m.head_b);
  if (!d.logits.allFinite())
    throw Error("the captioner's weights overflow float32 on this image (its logits are not finite)");
  return d;
}

// [layer][head] matrices, the top-left rows x cols of each, as a stack.
AttentionStack stack(const std::vector<std::vector<Matrix>>& w, int rows, int cols) {
  const int layers = static_cast<int>(w.size()), heads = layers ? static_cast<int>(w[0].size()) : 0;
  AttentionStack s(layers, heads, rows, cols);
  for (int l = 0; l < layers; ++l)
    for (int h = 0; h < heads; ++h)
      s.set(l, h, w[static_cast<size_t>(l)][static_cast<size_t>(h)].topLeftCorner(rows, cols));
  return s;
}

}  // namespace

Caption run_captioner(const CaptionerModel& m, const Image& image) {
  const CaptionerConfig& c = m.config;
  std::vector<std::vector<Matrix>> encoder_w;
  const Matrix memory = encode(m, image, encoder_w);

  // Greedy: position t (input: <bos>, then the words so far) predicts word t.
  Caption out;
  std::vector<int> ids = {c.bos};
  std::vector<Eigen::RowVectorXf> steps;
  while (static_cast<int>(ids.size()) <= c.max_tokens) {
    const Decoded d = decode(m, ids, memory);
    steps.emplace_back(d.logits.row(d.logits.rows() - 1));
    Eigen::Index next = 0;
    steps.back().maxCoeff(&next);
    if (static_cast<int>(next) == c.eos) break;
    ids.push_back(static_cast<int>(next));
    out.words.push_back(c.vocab[static_cast<size_t>(next)]);
    out.ids.push_back(static_cast<int>(next));
  }
  out.logits.resize(static_cast<Eigen::Index>(steps.size()), static_cast<Eigen::Index>(c.vocab.size()));
  for (size_t s = 0; s < steps.size(); ++s) out.logits.row(static_cast<Eigen::Index>(s)) = steps[s];

  // One pass over the caption gives every step's attention (causal: row t
  // sees inputs 0..t only, exactly as when word t was chosen).
  const int words = static_cast<int>(out.words.size());
  if (static_cast<int>(ids.size()) > c.max_tokens) ids.resize(static_cast<size_t>(c.max_tokens));
  const Decoded d = decode(m, ids, memory);
  const int n = c.patches();
  const PatchGrid grid{c.patch, c.grid(), c.grid()};
  const ImageKeys keys{c.grid(), c.grid(), 0, false, false};
  out.record = word_record(stack(d.cross_w, words, n), out.words, keys, grid);
  for (size_t l = 0; l < m.decoder.size(); ++l) {
    out.cross_q.emplace_back(d.cross_q[l].topRows(words));
    out.cross_k.push_back(d.cross_k[l]);
  }
  out.record.attention.push_back({"encoder", AttentionRole::EncoderSelf, 0, 0, stack(encoder_w, n, n)});
  out.record.attention.push_back({"decoder", AttentionRole::DecoderSelf, 1, 1, stack(d.self_w, words, words)});
  return out;
}

}  // namespace attn
