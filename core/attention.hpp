#pragma once
// Attention: weights = normalise(score(Q, K) / T), output = weights · V.
//
// Shapes (all row-major):
//   Q [Nq, d_q]   K [Nk, d_k]   V [Nk, d_v]
//   logits, weights [Nq, Nk]    output [Nq, d_v]
// Nq, Nk, d_k and d_v may all differ. d_q must equal d_k except for the
// additive score, which projects both into a shared space.
//
// The scores before temperature ("logits") are kept: a change of temperature,
// mask or normaliser calls normalise() on them again without recomputing QKᵀ.
#include <cstdint>
#include <optional>
#include <string>

#include "enum_names.hpp"
#include "mask.hpp"
#include "softmax.hpp"
#include "types.hpp"

namespace attn {

enum class Score {
  ScaledDot,  // q·k / sqrt(d_k)  (Vaswani et al. 2017)
  Dot,        // q·k
  Cosine,     // q·k / (|q| |k|); a zero vector scores 0
  Additive,   // vᵀ tanh(W_q q + W_k k)  (Bahdanau, Cho & Bengio 2014)
  Raw,        // q·k used as the weights directly: no softmax, no scaling
};
template <>
std::span<const EnumName<Score>> enum_names<Score>();

// Parameters of the additive score, drawn from a seed.
//   wq [d_a, d_q], wk [d_a, d_k], v [d_a]
struct AdditiveParams {
  Matrix wq, wk;
  Vector v;
  // W entries ~ N(0, 1/d_in), v ~ N(0, 1/d_a), streams of Rng(seed).
  static AdditiveParams random(int d_q, int d_k, int d_a, std::uint64_t seed);
};

struct AttentionOptions {
  Score score = Score::ScaledDot;
  Norm norm = Norm::Softmax;
  double temperature = 1.0;
  Mask mask;
  std::uint64_t seed = 0;  // for the additive score's parameters
  int additive_dim = 0;    // d_a for the additive score; 0 means d_k
};

// The normaliser actually applied: Score::Raw forces Norm::None.
Norm effective_norm(const AttentionOptions& opt);

// Scores before temperature and masking. Q [Nq, d_q], K [Nk, d_k] -> [Nq, Nk].
// Throws attn::Error on mismatched widths or scores that overflow float.
// `additive` is required for Score::Additive and ignored otherwise.
Matrix compute_logits(Score score, const MatrixRef& q, const MatrixRef& k, const AdditiveParams* additive = nullptr);

// Which queries a block of rows holds: row r is query `first + r` of a
// problem with `total` queries (-1: the block is the whole problem). This
// lets one row of a large problem be computed alone, with the right mask.
struct QueryRows {
  int first = 0;
  int total = -1;
};

// Weights from logits [Nq, Nk] -> [Nq, Nk]. Validates the temperature and
// the mask against the whole problem (attn::Error).
Matrix normalise(const MatrixRef& logits, Norm norm, double temperature, const Mask& mask, QueryRows rows = {});
// The same into `weights`, whose storage is reused when it already has the
// logits' shape: what a temperature drag on a kept matrix should cost (no
// fresh pages to fault in). `weights` must not alias `logits`.
void normalise_into(const MatrixRef& logits, Norm norm, double temperature, const Mask& mask, QueryRows rows,
                    Matrix& weights);

// One head, end to end. V may be empty (0 columns): then output is empty.
struct HeadResult {
  Matrix logits;   // [Nq, Nk]
  Matrix weights;  // [Nq, Nk]
  Matrix output;   // [Nq, d_v]
};
HeadResult attend(const MatrixRef& q, const MatrixRef& k, const MatrixRef& v, const AttentionOptions& opt,
                  QueryRows rows = {});

// Several heads, each attended independently; the per-head outputs are
// concatenated: output [Nq, sum of d_v over heads]. All heads must have the
// same Nq and Nk. q, k, v: one [N, d_head] matrix per head (v may be empty).
struct MultiHeadResult {
  std::vector<HeadResult> heads;
  Matrix output;  // [Nq, H * d_v] (heads concatenated), empty if v was
};
MultiHeadResult attend_heads(const Heads& q, const Heads& k, const Heads& v, const AttentionOptions& opt,
                             QueryRows rows = {});

// A new temperature, normaliser or mask on a result's kept logits: every
// head's weights and output are recomputed in place, without Q Kᵀ (the
// cheap path behind a temperature drag). v: the heads' V, or empty. The
// score in `opt` is ignored: the logits already hold it.
void renormalise(MultiHeadResult& r, const Heads& v, const AttentionOptions& opt, QueryRows rows = {});

// The same output without any Nq x Nk matrix: [Nq, H * d_v]. Softmax rows
// are computed online over blocks of keys (memory O(N · d) per head); other
// normalisers over blocks of whole rows (O(block · Nk)). V is required.
Matrix attend_heads_output(const Heads& q, const Heads& k, const Heads& v, const AttentionOptions& opt,
                           QueryRows rows = {});

// Splits X [N, H * d] into H matrices [N, d] (columns [h*d, (h+1)*d)), as
// multi-head attention does. Throws attn::Error if the width is not divisible.
Heads split_heads(const MatrixRef& x, int heads, const char* what = "input");
// Inverse of split_heads: H × [N, d] -> [N, H * d].
Matrix concat_heads(const Heads& heads);

// Projection weights in PyTorch nn.Linear layout: y = x Wᵀ + b,
// W [d_out, d_in], b [d_out] (empty b means no bias).
struct Linear {
  Matrix w;
  Vector b;
  Matrix apply(const MatrixRef& x) const;  // [N, d_in] -> [N, d_out]
};

// Multi-head attention with projections, as torch.nn.MultiheadAttention:
//   Q = xq Wqᵀ + bq, K = xk Wkᵀ + bk, V = xv Wvᵀ + bv (each [N, d_model]),
//   split into H heads, attended, concatenated, then out = concat Woᵀ + bo.
struct MultiHeadProjections {
  Linear q, k, v, o;
};
MultiHeadResult multi_head_attention(const MatrixRef& xq, const MatrixRef& xk, const MatrixRef& xv,
                                     const MultiHeadProjections& proj, int heads, const AttentionOptions& opt);

// Statistics of one row of weights (length Nk).
struct RowStats {
  bool is_distribution = false;  // non-negative and sums to 1 (softmax, sparsemax)
  double entropy_nats = 0.0;     // -sum w ln w (only when is_distribution)
  double entropy_bits = 0.0;
  double effective_keys = 0.0;  // exp(entropy): 1 for one-hot, Nk for uniform
  float max_weight = 0.0f;
  int argmax = -1;  // -1 for an empty or all-zero row
};
RowStats row_stats(std::span<const float> w);

// Throws attn::Error naming the tensor, head, row and column of the first
// NaN or Inf in m. head < 0 leaves the head out of the message.
void check_finite(const MatrixRef& m, const std::string& name, int head = -1);

namespace testing {
// While on, every result matrix the engine allocates starts as NaN, so a
// test catches any element a fast path forgets to write.
void poison_outputs(bool on);
}  // namespace testing

}  // namespace attn
