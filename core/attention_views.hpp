#pragma once
// What people look at in a model's attention, computed once here for the
// CLI and the app alike: a query's row (or several queries' mean), heads
// fused, a display temperature, the row restricted to the image's patches
// with the special tokens' shares, DINO's keep-x%-of-the-mass mask,
// attention rollout, and per-head statistics.
//
// Shapes: rows are [H, Nk] (one per head) or [Nk]; maps are one value per
// cell of the key set's patch grid (row-major); full matrices [Nq, Nk].
#include <cstdint>
#include <functional>
#include <span>
#include <vector>

#include "attention_record.hpp"
#include "enum_names.hpp"
#include "overlay.hpp"
#include "types.hpp"

namespace attn {

enum class HeadFusion { Mean, Max, Min };
template <>
std::span<const EnumName<HeadFusion>> enum_names<HeadFusion>();

// Whose attention a map shows.
enum class ViewQuery {
  ClassToken,         // the class token's row (DINO's maps); a model without one: its pooling probe's
  Patches,            // the selected patch tokens' rows, averaged
  Rollout,            // the class token's row of attention rollout over all layers
  DistillationToken,  // DeiT's distillation token's row
  TokenNorms,         // not attention: every patch token's norm after the layer
};
template <>
std::span<const EnumName<ViewQuery>> enum_names<ViewQuery>();

// Element-wise mean, max or min over heads: H x [Nq, Nk] -> [Nq, Nk].
Matrix fuse_heads(const std::vector<Matrix>& heads, HeadFusion fusion);

// Attention rollout (Abnar & Zuidema 2020) of a self-attention stack
// [L, H, N, N]: per layer, fuse the heads; zero the smallest `discard_ratio`
// of the fused entries (never entry (spared, spared), the class token's
// attention to itself; -1 spares none); A' = (A + I) / 2; divide each row by
// its sum; then multiply the layers from first to last: R = A'_L ... A'_1.
// Rows of the result sum to 1. Returns [N, N].
Matrix attention_rollout(const AttentionStack& attention, HeadFusion fusion, double discard_ratio, int spared = 0);
// The same, calling stage(l, R) with the rollout through layer l, [N, N],
// after each layer l = 0 .. L - 1 (the last is attention_rollout's result):
// how attention flows as the layers add up, in one pass.
void attention_rollout_stages(const AttentionStack& attention, HeadFusion fusion, double discard_ratio, int spared,
                              const std::function<void(int, const Matrix&)>& stage);

// Each head's mean over the rows `queries` of layer `layer`: [H, Nk],
// accumulated in double.
Matrix mean_rows(const AttentionStack& attention, int layer, std::span<const int> queries);
// The mean over the rows `queries` of one matrix [Nq, Nk]: [1, Nk].
Matrix mean_rows(const MatrixRef& m, std::span<const int> queries);

// rows [H, Nk] -> [Nk]: head `head` alone (0 <= head < H), or all heads
// fused by `fusion` (head < 0).
std::vector<float> combine_heads(const MatrixRef& rows, int head, HeadFusion fusion);

// The display temperature: w_j^(1/T) / sum_k w_k^(1/T), which for softmax
// weights is softmax(z / T) without the logits. T = 1 leaves the row alone.
void sharpen(std::span<float> row, double temperature);

// A row over the key tokens shown on their patch grid.
struct PatchMap {
  std::vector<float> values;    // one per grid cell; cells without a token are 0
  double class_share = 0.0;     // the class (and distillation) tokens' share of the row
  double register_share = 0.0;  // the registers' share of the row
};
// row [Nk] over `keys`. Unless the special tokens are kept in (keep_class
// or keep_registers), the patches' values are divided by their own sum
// (zeros if it is 0); kept in, they are shown as they are and the shares
// say what the picture leaves out. Shares are of the row's sum.
PatchMap to_patch_map(std::span<const float> row, const TokenSet& keys, bool keep_class, bool keep_registers);
// The row's values at the patch tokens' cells, nothing renormalised.
std::vector<float> scatter_to_cells(std::span<const float> row, const TokenSet& keys);

// DINO's threshold: the smallest set of entries whose values hold at least
// `fraction` of the total (largest first; ties broken by index). Returns one
// flag per value, 1 = kept.
std::vector<std::uint8_t> keep_mass(std::span<const float> values, double fraction);
// Throws attn::Error unless 0 < fraction <= 1; `what` names the setting.
void check_keep_mass(double fraction, const char* what);
// Throws attn::Error unless 0 <= ratio < 1.
void check_discard(double ratio, const char* what);

// One row restricted to `tokens` (indices into the row), optionally divided
// by its sum over them (zeros if that sum is 0).
std::vector<float> select_tokens(std::span<const float> row, std::span<const int> tokens, bool renormalise);

// Everything a map of one self-attention tensor needs.
struct MapRequest {
  ViewQuery query = ViewQuery::ClassToken;
  std::vector<int> queries;  // ViewQuery::Patches: query token indices, averaged
  int layer = -1;            // -1: the last layer
  int head = -1;             // one head, or -1: all heads fused by `fusion`
  HeadFusion fusion = HeadFusion::Mean;
  double display_temperature = 1.0;
  bool keep_class = false, keep_registers = false;
  double keep_mass = 1.0;  // < 1: show the patches holding this share as 1, the rest 0
  // Leave out the k patch tokens with the largest norms at the shown
  // layer's input (the artefacts), renormalising over the rest.
  int ignore_top_norms = 0;
};

struct MapView {
  std::vector<float> map;       // per grid cell: what the overlay shows
  std::vector<float> combined;  // per grid cell: the heads fused (or rollout), before keep-mass
  Matrix head_maps;             // [H, cells]: each head's map for the same queries and layer
  double class_share = 0.0, register_share = 0.0;
  int layer = 0;  // the layer shown (the request's -1 resolved)
};

// The map `request` asks for, of `record`'s encoder self-attention (a
// model without a class token shows its pooling probe's attention as the
// class-token view). `rollout` ([N, N], from attention_rollout) is needed
// when request.query is Rollout. Throws attn::Error when the model has no
// token the request asks for, or a query is out of range.
MapView attention_map(const AttentionRecord& record, const MapRequest& request, const Matrix* rollout = nullptr);

// The colour scale a view is drawn with: the user's `chosen` one for
// attention; token norms are lengths, not weights, and are spread between
// their smallest and largest (MinMax).
MapScale view_scale(ViewQuery query, MapScale chosen);

// Patch tokens whose norm at row `row` of record.token_norms is far above
// the others' (more than 3 x their median): the "registers" paper's
// high-norm artefacts. Empty when the record has no norms.
std::vector<int> high_norm_tokens(const AttentionRecord& record, int row);
// The k patch tokens with the largest norms at row `row`, largest first.
std::vector<int> top_norm_tokens(const AttentionRecord& record, int row, int k);

// Where each layer's attention goes (attention sinks): per layer and head,
// the mean over every query of the weight on the class (and distillation)
// token, on the registers, and on the layer's outlier, the patch token with
// the largest norm at the layer's input.
struct AttentionSinks {
  Matrix class_share, register_share, outlier_share;  // [L, H]
  std::vector<int> outlier;                           // per layer: that token's index
};
AttentionSinks attention_sinks(const AttentionRecord& record);

// Per layer and head: the mean entropy of the patch queries' rows (nats),
// and the mean attention distance (pixels): for each patch query, the
// distance to each patch key weighted by its attention (renormalised over
// the patch keys), averaged over the patch queries. `tokens` orders both axes.
struct HeadStatistics {
  Matrix entropy;   // [L, H]
  Matrix distance;  // [L, H]
};
HeadStatistics head_statistics(const AttentionStack& attention, const TokenSet& tokens);

}  // namespace attn
