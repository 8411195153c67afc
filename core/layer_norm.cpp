#include "layer_norm.hpp"

#include <cmath>

#include "parallel.hpp"

namespace attn {

void layer_norm(const Matrix& x, const Vector& w, const Vector& b, double eps, Matrix& out) {
  out.resize(x.rows(), x.cols());
  const auto d = static_cast<double>(x.cols());
  parallel_for(static_cast<int>(x.rows()), [&](int i) {
    double mean = 0, var = 0;
    for (Eigen::Index j = 0; j < x.cols(); ++j) mean += x(i, j);
    mean /= d;
    for (Eigen::Index j = 0; j < x.cols(); ++j) var += (x(i, j) - mean) * (x(i, j) - mean);
    const double inv = 1.0 / std::sqrt(var / d + eps);
    for (Eigen::Index j = 0; j < x.cols(); ++j) out(i, j) = static_cast<float>((x(i, j) - mean) * inv) * w[j] + b[j];
  });
}

}  // namespace attn
