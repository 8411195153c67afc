#include "attention_record.hpp"

#include "memory.hpp"
#include "simd/kernels.hpp"

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

AttentionStack::AttentionStack(int layers, int heads, int queries, int keys, Precision precision)
    : layers_(layers), heads_(heads), queries_(queries), keys_(keys), precision_(precision) {
  assert(layers >= 0 && heads >= 0 && queries >= 0 && keys >= 0);
  const size_t n = static_cast<size_t>(layers) * heads * static_cast<size_t>(queries) * keys;
  // Large buffers ask for 2 MiB pages: first touches cost far fewer faults.
  if (precision == Precision::F32)
    f32_ = detail::large_vector<float>(n);
  else
    f16_ = detail::large_vector<std::uint16_t>(n);
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
  const size_t at = offset(layer, head), n = static_cast<size_t>(queries_) * keys_;
  if (precision_ == Precision::F32) {
    Eigen::Map<Matrix>(f32_.data() + at, queries_, keys_) = m;
    return;
  }
  const simd::Kernels& k = simd::kernels();
  if (m.outerStride() == keys_) {
    k.to_half(m.data(), f16_.data() + at, n);
  } else {
    for (Eigen::Index r = 0; r < m.rows(); ++r)
      k.to_half(m.row(r).data(), f16_.data() + at + static_cast<size_t>(r) * keys_, static_cast<size_t>(keys_));
  }
}

void AttentionStack::set_rows(int layer, int head, int row0, int rows, const float* w) {
  assert(row0 >= 0 && rows >= 0 && row0 + rows <= queries_);
  const size_t at = offset(layer, head) + static_cast<size_t>(row0) * keys_, n = static_cast<size_t>(rows) * keys_;
  if (precision_ == Precision::F32)
    std::copy(w, w + n, f32_.data() + at);
  else
    simd::kernels().to_half(w, f16_.data() + at, n);
}

Matrix AttentionStack::head(int layer, int head) const {
  assert(layer >= 0 && layer < layers_ && head >= 0 && head < heads_);
  if (precision_ == Precision::F32) return Eigen::Map<const Matrix>(f32_.data() + offset(layer, head), queries_, keys_);
  Matrix m(queries_, keys_);
  simd::kernels().from_half(f16_.data() + offset(layer, head), m.data(), static_cast<size_t>(m.size()));
  return m;
}

std::vector<Matrix> AttentionStack::layer(int layer) const {
  std::vector<Matrix> out;
  out.reserve(static_cast<size_t>(heads_));
  for (int h = 0; h < heads_; ++h) out.push_back(head(layer, h));
  return out;
}

void AttentionStack::row(int layer, int head, int query, std::span<float> out) const {
  assert(query >= 0 && query < queries_ && static_cast<int>(out.size()) == keys_);
  const size_t at = offset(layer, head) + static_cast<size_t>(query) * keys_;
  if (precision_ == Precision::F32)
    std::copy_n(f32_.data() + at, keys_, out.data());
  else
    simd::kernels().from_half(f16_.data() + at, out.data(), static_cast<size_t>(keys_));
}

std::span<const float> AttentionStack::head_values(int layer, int head, std::vector<float>& scratch) const {
  const size_t n = static_cast<size_t>(queries_) * keys_, at = offset(layer, head);
  if (precision_ == Precision::F32) return {f32_.data() + at, n};
  scratch.resize(n);
  simd::kernels().from_half(f16_.data() + at, scratch.data(), n);
  return scratch;
}

const NamedAttention* AttentionRecord::find(AttentionRole role) const {
  const auto it = std::find_if(attention.begin(), attention.end(), [&](const auto& a) { return a.role == role; });
  return it == attention.end() ? nullptr : &*it;
}

}  // namespace attn
