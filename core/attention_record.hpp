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

// Weights of L layers x H heads, each [Nq, Nk] row-major, in one buffer in
// C order [L, H, Nq, Nk] (the layout of --attn-out files).
class AttentionStack {
 public:
  AttentionStack() = default;
  // Storage for the given shape, contents unspecified until set.
  AttentionStack(int layers, int heads, int queries, int keys);
  // layers[l][h]: [Nq, Nk], every one the same shape (tests, small models).
  static AttentionStack from_layers(const std::vector<std::vector<Matrix>>& layers);

  int layers() const { return layers_; }
  int heads() const { return heads_; }
  int queries() const { return queries_; }
  int keys() const { return keys_; }
  bool empty() const { return data_.empty(); }
  std::uint64_t bytes() const { return data_.size() * sizeof(float); }

  // Writes head h of layer l: m is [Nq, Nk].
  void set(int layer, int head, const MatrixRef& m);
  // Head h of layer l, [Nq, Nk] (a copy).
  Matrix head(int layer, int head) const;
  // Every head of layer l: H x [Nq, Nk] (copies).
  std::vector<Matrix> layer(int layer) const;
  // Row q of head h of layer l: Nk weights.
  std::span<const float> row(int layer, int head, int query) const;
  // Every weight, [L, H, Nq, Nk] in C order.
  std::span<const float> values() const { return data_; }

 private:
  size_t offset(int layer, int head) const {
    return (static_cast<size_t>(layer) * heads_ + head) * static_cast<size_t>(queries_) * keys_;
  }
  int layers_ = 0, heads_ = 0, queries_ = 0, keys_ = 0;
  std::vector<float> data_;
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

  // The first tensor with `role`, or nullptr.
  const NamedAttention* find(AttentionRole role) const;
  const TokenSet& queries(const NamedAttention& a) const { return token_sets[static_cast<size_t>(a.query_set)]; }
  const TokenSet& keys(const NamedAttention& a) const { return token_sets[static_cast<size_t>(a.key_set)]; }
};

}  // namespace attn
