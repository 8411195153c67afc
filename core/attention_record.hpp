#pragma once
// The attention a model produced, kept for the views: named tensors of
// weights [L, H, Nq, Nk] with the token sets of their queries and keys.
//
//   encoder self-attention   [L, H, N, N]   queries and keys: the image's tokens
//   decoder self-attention   [L, H, T, T]   the caption's tokens
//   cross-attention          [L, H, T, N]   words as queries, image tokens as keys
//   a pooling probe          [1, H, 1, N]   the probe over the image's tokens
//
// Every source that runs a model fills one AttentionRecord; the views
// (attention_views.hpp), the CLI and the app read only this.
#include <span>
#include <string>
#include <vector>

#include "enum_names.hpp"
#include "tokens.hpp"
#include "types.hpp"

namespace attn {

enum class AttentionRole { EncoderSelf, DecoderSelf, Cross, Pool };
template <>
std::span<const EnumName<AttentionRole>> enum_names<AttentionRole>();

// How an AttentionStack stores its weights: float32, or IEEE half (half
// the memory; relative precision 2^-11 ≈ 5e-4 for weights above 6e-5, an
// absolute 6e-8 below; a ViT-L's 24 x 16 maps of 1374 tokens are 2.9 GB in
// float32, 1.45 GB in half).
enum class Precision { F32, F16 };

// Weights of L layers x H heads, each [Nq, Nk] row-major, in one buffer in
// C order [L, H, Nq, Nk] (the layout of --attn-out files).
class AttentionStack {
 public:
  AttentionStack() = default;
  // Storage for the given shape, contents unspecified until set.
  AttentionStack(int layers, int heads, int queries, int keys, Precision precision = Precision::F32);
  // layers[l][h]: [Nq, Nk], every one the same shape (tests, small models).
  static AttentionStack from_layers(const std::vector<std::vector<Matrix>>& layers);

  int layers() const { return layers_; }
  int heads() const { return heads_; }
  int queries() const { return queries_; }
  int keys() const { return keys_; }
  Precision precision() const { return precision_; }
  bool empty() const { return layers_ == 0 || heads_ == 0; }
  std::uint64_t bytes() const { return f32_.size() * sizeof(float) + f16_.size() * sizeof(std::uint16_t); }

  // Writes head h of layer l: m is [Nq, Nk] (rounded to half when stored so).
  void set(int layer, int head, const MatrixRef& m);
  // Writes rows [row0, row0 + rows) of head h of layer l from `w` (rows x
  // Nk, row-major). Threads may write disjoint rows at once.
  void set_rows(int layer, int head, int row0, int rows, const float* w);
  // Head h of layer l, [Nq, Nk] (a copy).
  Matrix head(int layer, int head) const;
  // Every head of layer l: H x [Nq, Nk] (copies).
  std::vector<Matrix> layer(int layer) const;
  // Row q of head h of layer l: Nk weights into `out`.
  void row(int layer, int head, int query, std::span<float> out) const;
  // Head h of layer l, Nq x Nk floats in C order: a view of the storage, or
  // (half) converted into `scratch`. Walking (l, h) in order gives every
  // weight in [L, H, Nq, Nk] order (what --attn-out writes).
  std::span<const float> head_values(int layer, int head, std::vector<float>& scratch) const;

 private:
  size_t offset(int layer, int head) const {
    return (static_cast<size_t>(layer) * heads_ + head) * static_cast<size_t>(queries_) * keys_;
  }
  int layers_ = 0, heads_ = 0, queries_ = 0, keys_ = 0;
  Precision precision_ = Precision::F32;
  std::vector<float> f32_;
  std::vector<std::uint16_t> f16_;
};

struct NamedAttention {
  std::string name;  // e.g. "encoder", "cross"
  AttentionRole role = AttentionRole::EncoderSelf;
  int query_set = 0, key_set = 0;  // indices into AttentionRecord::token_sets
  AttentionStack weights;
};

struct AttentionRecord {
  std::vector<TokenSet> token_sets;
  std::vector<NamedAttention> attention;
  // The L2 norm of every token of set 0 at each layer's input, [L + 1, N]
  // (row L: after the last layer, before any final norm), when the model
  // gives them: high-norm tokens are the artefacts that soak up attention
  // (Darcet et al. 2023, "Vision Transformers Need Registers").
  Matrix token_norms;

  // The first tensor with `role`, or nullptr.
  const NamedAttention* find(AttentionRole role) const;
  const TokenSet& queries(const NamedAttention& a) const { return token_sets[static_cast<size_t>(a.query_set)]; }
  const TokenSet& keys(const NamedAttention& a) const { return token_sets[static_cast<size_t>(a.key_set)]; }
};

}  // namespace attn
