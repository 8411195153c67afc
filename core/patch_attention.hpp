#pragma once
// Attention between an image's patches: the pipeline behind `attnscope-cli
// render` and the app's image view.
//
//   image -> patch grid -> features -> Q, K, V [N, d_model] -> H heads
//   -> for one query patch: logits and weights [H, N]
//
// The expensive part (features and projections) is done once by
// PatchModel; each query row is then O(H · N · d_head).
#include <span>

#include "attention.hpp"
#include "sources.hpp"

namespace attn {

struct PatchModel {
  // Where the tokens sit: token t at column t % cols, row t / cols. For an
  // image these are its patches (tokens() == grid.count()); tokens that come
  // from files or random numbers are laid out on a grid with possibly a few
  // empty cells at the end (tokens() <= grid.count()).
  PatchGrid grid;
  Heads q, k, v;  // H × [N, d_head]

  // Throws attn::Error for impossible settings (patch larger than the image,
  // d_model not divisible by heads, ...).
  static PatchModel build(const Image& img, int patch, int heads, const ImageSourceOptions& source);
  // Tokens given directly (per head [N, d_head], all heads alike), laid out
  // on the smallest near-square grid of `cell`-pixel cells that holds them.
  static PatchModel from_heads(Heads q, Heads k, Heads v, int cell);

  int heads() const { return static_cast<int>(q.size()); }
  int tokens() const { return static_cast<int>(q.front().rows()); }
  int d_model() const { return heads() * static_cast<int>(q.front().cols()); }
};

// One query's attention in every head. opt.mask's grid is filled in from the
// model. Result: per head, logits and weights [1, N] (and output [1, d_head]).
MultiHeadResult attend_query(const PatchModel& model, int query, AttentionOptions opt);

// Row `row` of every head's weights: [H, Nk] (the layout attention_views.hpp's
// combine_heads() takes).
Matrix head_rows(const MultiHeadResult& r, int row = 0);
// Several queries' rows (one attend_query() each) averaged: [H, Nk], each
// head's mean over the queries (the map of a selection). rows not empty.
Matrix mean_head_rows(std::span<const MultiHeadResult> rows);
// The mean over heads of each head's row 0 of weights: [N].
std::vector<float> mean_over_heads(const MultiHeadResult& r);

}  // namespace attn
