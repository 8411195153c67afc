#include "attention_record.hpp"

#include <algorithm>
#include <array>
#include <cassert>

namespace attn {

template <>
std::span<const EnumName<AttentionRole>> enum_names<AttentionRole>() {
  static constexpr std::array<EnumName<AttentionRole>, 4> kNames = {{
      {AttentionRole::EncoderSelf, "encoder", "encoder self-attention", "The image's tokens attending to each other."},
      {AttentionRole::DecoderSelf, "decoder", "decoder self-attention",
       "Each word attending to the words before it (causal)."},
      {AttentionRole::Cross, "cross", "cross-attention", "Each word attending to the image's tokens."},
      {AttentionRole::Pool, "pool", "pooling probe", "A pooling head's probe attending to every token."},
  }};
  return kNames;
}

AttentionStack::AttentionStack(int layers, int heads, int queries, int keys)
    : layers_(layers),
      heads_(heads),
      queries_(queries),
      keys_(keys),
      data_(static_cast<size_t>(layers) * heads * static_cast<size_t>(queries) * keys) {
  assert(layers >= 0 && heads >= 0 && queries >= 0 && keys >= 0);
}

AttentionStack AttentionStack::from_layers(const std::vector<std::vector<Matrix>>& layers) {
  assert(!layers.empty() && !layers.front().empty());
  const Matrix& first = layers.front().front();
  AttentionStack s(static_cast<int>(layers.size()), static_cast<int>(layers.front().size()),
                   static_cast<int>(first.rows()), static_cast<int>(first.cols()));
  for (size_t l = 0; l < layers.size(); ++l)
    for (size_t h = 0; h < layers[l].size(); ++h) s.set(static_cast<int>(l), static_cast<int>(h), layers[l][h]);
  return s;
}

void AttentionStack::set(int layer, int head, const MatrixRef& m) {
  assert(m.rows() == queries_ && m.cols() == keys_);
  Eigen::Map<Matrix>(data_.data() + offset(layer, head), queries_, keys_) = m;
}

Matrix AttentionStack::head(int layer, int head) const {
  assert(layer >= 0 && layer < layers_ && head >= 0 && head < heads_);
  return Eigen::Map<const Matrix>(data_.data() + offset(layer, head), queries_, keys_);
}

std::vector<Matrix> AttentionStack::layer(int layer) const {
  std::vector<Matrix> out;
  out.reserve(static_cast<size_t>(heads_));
  for (int h = 0; h < heads_; ++h) out.push_back(head(layer, h));
  return out;
}

std::span<const float> AttentionStack::row(int layer, int head, int query) const {
  assert(query >= 0 && query < queries_);
  return {data_.data() + offset(layer, head) + static_cast<size_t>(query) * keys_, static_cast<size_t>(keys_)};
}

const NamedAttention* AttentionRecord::find(AttentionRole role) const {
  const auto it = std::find_if(attention.begin(), attention.end(), [&](const auto& a) { return a.role == role; });
  return it == attention.end() ? nullptr : &*it;
}

}  // namespace attn
