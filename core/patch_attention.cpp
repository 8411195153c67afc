#include "patch_attention.hpp"

#include <string>

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

MultiHeadResult attend_query(const PatchModel& model, int query, AttentionOptions opt) {
  if (query < 0 || query >= model.tokens())
    throw Error("query patch " + std::to_string(query) + " is outside the grid of " + std::to_string(model.tokens()) +
                " patches");
  opt.mask.grid_cols = model.grid.cols;
  Heads q;
  for (const Matrix& h : model.q) q.push_back(h.row(query));
  return attend_heads(q, model.k, model.v, opt, QueryRows{query, model.tokens()});
}

std::vector<float> mean_over_heads(const MultiHeadResult& r) {
  std::vector<float> mean(static_cast<size_t>(r.heads.front().weights.cols()), 0.0f);
  for (const HeadResult& h : r.heads)
    for (size_t j = 0; j < mean.size(); ++j) mean[j] += h.weights(0, static_cast<Eigen::Index>(j));
  for (float& v : mean) v /= static_cast<float>(r.heads.size());
  return mean;
}

}  // namespace attn
