#include "patch_attention.hpp"

#include <cassert>

#include <cmath>
#include <string>

#include "attention_views.hpp"
#include "error.hpp"

namespace attn {

PatchModel PatchModel::build(const Image& img, int patch, int heads, const ImageSourceOptions& source) {
  PatchModel m;
  m.grid = make_grid(img.width, img.height, patch);
  ImageSourceOptions opt = source;
  opt.heads = heads;
  const QKV qkv = image_qkv(img, m.grid, opt);
  const char* what = source.source == ImageSource::Pixels ? "pixel features (3 x patch^2)" : "d_model";
  m.q = split_heads(qkv.q, heads, what);
  m.k = split_heads(qkv.k, heads, what);
  m.v = split_heads(qkv.v, heads, what);
  return m;
}

PatchModel PatchModel::from_heads(Heads q, Heads k, Heads v, int cell) {
  if (q.empty() || q.size() != k.size() || (!v.empty() && v.size() != q.size()))
    throw Error("Q, K and V must have the same number of heads");
  const auto n = q.front().rows();
  for (size_t h = 0; h < q.size(); ++h) {
    if (q[h].rows() != n || k[h].rows() != n || (!v.empty() && v[h].rows() != n))
      throw Error("self-attention over a token grid needs Q, K and V with the same number of tokens");
    if (q[h].cols() != k[h].cols()) throw Error("Q and K must have the same width d_k");
  }
  PatchModel m;
  const int cols = static_cast<int>(std::ceil(std::sqrt(static_cast<double>(n))));
  m.grid = {cell, cols, static_cast<int>((n + cols - 1) / cols)};
  m.q = std::move(q);
  m.k = std::move(k);
  m.v = std::move(v);
  return m;
}

MultiHeadResult attend_query(const PatchModel& model, int query, AttentionOptions opt) {
  if (query < 0 || query >= model.tokens())
    throw Error("query patch " + std::to_string(query) + " is outside the grid of " + std::to_string(model.tokens()) +
                " patches");
  opt.mask.grid_cols = model.grid.cols;
  Heads q;
  for (const Matrix& h : model.q) q.push_back(h.row(query));
  return attend_heads(q, model.k, model.v, opt, QueryRows{query, model.tokens()});
}

Matrix head_rows(const MultiHeadResult& r, int row) {
  Matrix out(static_cast<Eigen::Index>(r.heads.size()), r.heads.empty() ? 0 : r.heads.front().weights.cols());
  for (size_t h = 0; h < r.heads.size(); ++h) out.row(static_cast<Eigen::Index>(h)) = r.heads[h].weights.row(row);
  return out;
}

Matrix mean_head_rows(std::span<const MultiHeadResult> rows) {
  assert(!rows.empty());
  Matrix mean = head_rows(rows.front());
  for (size_t i = 1; i < rows.size(); ++i) mean += head_rows(rows[i]);
  if (rows.size() > 1) mean /= static_cast<float>(rows.size());
  return mean;
}

std::vector<float> mean_over_heads(const MultiHeadResult& r) {
  return combine_heads(head_rows(r), -1, HeadFusion::Mean);
}

}  // namespace attn
