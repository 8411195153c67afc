#pragma once
// What practitioners look at in a ViT's attention: fused heads, attention
// rollout, DINO's threshold masks and per-head statistics.
//
// Attention maps are [N, N] row-major (rows: queries), tokens in the order
// class, patches (row-major), registers.
#include <cstdint>
#include <span>
#include <vector>

#include "types.hpp"

namespace attn {

enum class HeadFusion { Mean, Max, Min };

// Element-wise mean, max or min over heads: H x [N, N] -> [N, N].
Matrix fuse_heads(const std::vector<Matrix>& heads, HeadFusion fusion);

// Attention rollout (Abnar & Zuidema 2020): per layer, fuse the heads; zero
// the smallest `discard_ratio` of the fused entries (never the class token's
// attention to itself); A' = (A + I) / 2; divide each row by its sum; then
// multiply the layers from first to last: R = A'_L ... A'_1. Rows of the
// result sum to 1. attention[l][h]: [N, N]. Returns [N, N].
Matrix attention_rollout(const std::vector<std::vector<Matrix>>& attention, HeadFusion fusion, double discard_ratio);

// DINO's threshold: the smallest set of entries whose values hold at least
// `fraction` of the total (largest first; ties broken by index). Returns one
// flag per value, 1 = kept.
std::vector<std::uint8_t> keep_mass(std::span<const float> values, double fraction);

// One row restricted to `tokens` (indices into the row), optionally divided
// by its sum over them (zeros if that sum is 0).
std::vector<float> select_tokens(std::span<const float> row, std::span<const int> tokens, bool renormalise);

// Per layer and head: the mean entropy of the patch queries' rows (nats),
// and the mean attention distance (pixels): for each patch query, the
// distance to each patch key weighted by its attention (renormalised over
// the patch keys), averaged over the patch queries.
struct HeadStatistics {
  Matrix entropy;   // [L, H]
  Matrix distance;  // [L, H]
};
HeadStatistics head_statistics(const std::vector<std::vector<Matrix>>& attention, int grid_cols, int grid_rows,
                               int patch);

}  // namespace attn
