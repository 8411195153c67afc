#pragma once
// Where Q, K and V come from: seeded random numbers, or an image's patches.
//
// All results are [N, d_model] row-major; split_heads() cuts them into heads.
#include <cstdint>
#include <string_view>

#include "enum_names.hpp"
#include "image.hpp"
#include "patches.hpp"
#include "rng.hpp"
#include "types.hpp"

namespace attn {

struct QKV {
  Matrix q, k, v;  // each [N, d_model]
};

// Independent Q, K, V of N rows: Gaussian N(0, 1) or uniform U[-1, 1),
// from streams 11, 12 and 13 of Rng(seed).
QKV random_qkv(int n, int d_model, Distribution dist, std::uint64_t seed);

enum class Projection {
  // W_q = W_k = W, each head's block of W a random orthonormal basis (of a
  // subspace of the features when d_head < d_f): q·k is then the features'
  // dot product within that subspace, so patches with similar features
  // score high against each other. Scaled so that, under the scaled dot
  // product at T = 1, a patch identical to the query (unit-length features
  // fully inside the head's subspace) scores kSimilaritySharpness.
  // V = X W_v (Gaussian).
  Similarity,
  // Independent W_q, W_k, W_v: what an untrained layer does.
  Random,
  // Q = K = V = X: d_model is the feature dimension.
  Identity,
};

inline constexpr float kSimilaritySharpness = 12.0f;

// Projects features X [N, d_f] to Q, K, V [N, d_model] (Identity ignores
// d_model and heads). Random W entries are N(0, 1/d_f) from streams 1 (W_q;
// Similarity orthonormalises it per head), 2 (W_k for Random) and 3 (W_v) of
// Rng(seed). d_model must be divisible by heads.
QKV project(const MatrixRef& x, Projection proj, int d_model, int heads, std::uint64_t seed);

// The ready-made sources the CLI and the app offer for an image.
enum class ImageSource {
  Similarity,  // descriptor features, Projection::Similarity
  Random,      // descriptor features, Projection::Random
  Pixels,      // pixel features, Projection::Identity
};
template <>
std::span<const EnumName<ImageSource>> enum_names<ImageSource>();

struct ImageSourceOptions {
  ImageSource source = ImageSource::Similarity;
  int d_model = 64;  // ignored by Pixels (d_model = 3 p^2)
  int heads = 4;     // the projections are made per head
  std::uint64_t seed = 0;
  bool position_encoding = false;  // append 16 dims of 2-D position encoding to the features
};

QKV image_qkv(const Image& img, const PatchGrid& grid, const ImageSourceOptions& opt);

}  // namespace attn
