#include "vit_views.hpp"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <numeric>

namespace attn {

Matrix fuse_heads(const std::vector<Matrix>& heads, HeadFusion fusion) {
  assert(!heads.empty());
  Matrix out = heads.front();
  for (size_t h = 1; h < heads.size(); ++h) {
    switch (fusion) {
      case HeadFusion::Mean:
        out += heads[h];
        break;
      case HeadFusion::Max:
        out = out.cwiseMax(heads[h]);
        break;
      case HeadFusion::Min:
        out = out.cwiseMin(heads[h]);
        break;
    }
  }
  if (fusion == HeadFusion::Mean) out /= static_cast<float>(heads.size());
  return out;
}

Matrix attention_rollout(const std::vector<std::vector<Matrix>>& attention, HeadFusion fusion, double discard_ratio) {
  assert(!attention.empty());
  const Eigen::Index n = attention.front().front().rows();
  Eigen::MatrixXd result = Eigen::MatrixXd::Identity(n, n);
  for (const auto& layer : attention) {
    Eigen::MatrixXd a = fuse_heads(layer, fusion).cast<double>();
    const auto count = static_cast<Eigen::Index>(std::floor(discard_ratio * static_cast<double>(a.size())));
    if (count > 0) {
      // Flat indices of the `count` smallest entries, sparing entry 0 (class -> class).
      std::vector<Eigen::Index> order(static_cast<size_t>(a.size()));
      std::iota(order.begin(), order.end(), 0);
      const double* v = a.data();  // column-major: flat index c * n + r
      std::nth_element(order.begin(), order.begin() + count - 1, order.end(),
                       [&](auto x, auto y) { return v[x] != v[y] ? v[x] < v[y] : x < y; });
      for (Eigen::Index i = 0; i < count; ++i)
        if (order[static_cast<size_t>(i)] != 0) a.data()[order[static_cast<size_t>(i)]] = 0.0;
    }
    a = (a + Eigen::MatrixXd::Identity(n, n)) * 0.5;
    const Eigen::VectorXd sums = a.rowwise().sum();  // one sum per row: keep the row dimension
    for (Eigen::Index r = 0; r < n; ++r) a.row(r) /= sums[r];
    result = a * result;
  }
  return result.cast<float>();
}

std::vector<std::uint8_t> keep_mass(std::span<const float> values, double fraction) {
  std::vector<std::uint8_t> keep(values.size(), 0);
  double total = 0;
  for (float v : values) total += std::max(0.0f, v);
  if (total <= 0 || values.empty()) return keep;
  std::vector<size_t> order(values.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return values[a] > values[b]; });
  double mass = 0;
  for (size_t i : order) {
    if (mass >= fraction * total) break;
    keep[i] = 1;
    mass += std::max(0.0f, values[i]);
  }
  return keep;
}

std::vector<float> select_tokens(std::span<const float> row, std::span<const int> tokens, bool renormalise) {
  std::vector<float> out;
  out.reserve(tokens.size());
  double sum = 0;
  for (int t : tokens) {
    out.push_back(row[static_cast<size_t>(t)]);
    sum += out.back();
  }
  if (renormalise)
    for (float& v : out) v = sum > 0 ? static_cast<float>(v / sum) : 0.0f;
  return out;
}

HeadStatistics head_statistics(const std::vector<std::vector<Matrix>>& attention, int grid_cols, int grid_rows,
                               int patch) {
  const int L = static_cast<int>(attention.size()), H = static_cast<int>(attention.front().size());
  const int P = grid_cols * grid_rows;
  HeadStatistics s{Matrix::Zero(L, H), Matrix::Zero(L, H)};
  for (int l = 0; l < L; ++l)
    for (int h = 0; h < H; ++h) {
      const Matrix& a = attention[static_cast<size_t>(l)][static_cast<size_t>(h)];
      double entropy = 0, distance = 0;
      for (int i = 1; i <= P; ++i) {  // patch queries
        for (Eigen::Index j = 0; j < a.cols(); ++j) {
          const double w = a(i, j);
          if (w > 0) entropy -= w * std::log(w);
        }
        double mass = 0, dist = 0;
        const int qc = (i - 1) % grid_cols, qr = (i - 1) / grid_cols;
        for (int j = 1; j <= P; ++j) {
          const int kc = (j - 1) % grid_cols, kr = (j - 1) / grid_cols;
          mass += a(i, j);
          dist += a(i, j) * std::hypot(kc - qc, kr - qr) * patch;
        }
        if (mass > 0) distance += dist / mass;
      }
      s.entropy(l, h) = static_cast<float>(entropy / P);
      s.distance(l, h) = static_cast<float>(distance / P);
    }
  return s;
}

}  // namespace attn
