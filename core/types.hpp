#pragma once
// Matrix types used across the engine. Everything is row-major float: a row
// is a token (a query, a key, a patch), as in the papers' notation.
#include <Eigen/Core>
#include <cstdint>
#include <vector>

namespace attn {

using Matrix = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using MatrixD = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using Vector = Eigen::VectorXf;
using MatrixRef = Eigen::Ref<const Matrix>;

// One matrix per head: heads[h] is [N, d_head].
using Heads = std::vector<Matrix>;

}  // namespace attn
