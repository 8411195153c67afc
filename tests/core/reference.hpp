#pragma once
// Plain, readable reference implementations: the oracle the engine is
// tested against. Double precision, no masking tricks, no Eigen products.
#include <vector>

#include "core/attention.hpp"

namespace ref {

using Mat = std::vector<std::vector<double>>;

Mat from(const attn::MatrixRef& m);
// score(q_i, k_j) for every pair, before temperature.
Mat logits(attn::Score score, const Mat& q, const Mat& k, const attn::AdditiveParams* additive = nullptr);
// softmax(z / T) per row over visible keys; fully masked rows are zeros.
Mat softmax(const Mat& z, double t, const attn::Mask& mask);
Mat matmul(const Mat& a, const Mat& b);

// Sparsemax by bisection on tau (a different algorithm from the engine's
// sort-based one): w = max(z - tau, 0) with sum w = 1.
std::vector<double> sparsemax(const std::vector<double>& z);

// Max |a - b| / max(|b|_max, floor): a normalised error.
double rel_error(const attn::MatrixRef& a, const Mat& b, double floor = 1e-6);

attn::Matrix random(int rows, int cols, unsigned seed, float scale = 1.0f);

}  // namespace ref

namespace ref {
// A fresh seed for each run (fresh random inputs every time), or
// ATTNSCOPE_TEST_SEED to replay one. Tests print it with SCOPED_TRACE.
unsigned fresh_seed();
}  // namespace ref
