#include "reference.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <random>

namespace ref {

Mat from(const attn::MatrixRef& m) {
  Mat out(static_cast<size_t>(m.rows()), std::vector<double>(static_cast<size_t>(m.cols())));
  for (Eigen::Index i = 0; i < m.rows(); ++i)
    for (Eigen::Index j = 0; j < m.cols(); ++j) out[static_cast<size_t>(i)][static_cast<size_t>(j)] = m(i, j);
  return out;
}

static double dot(const std::vector<double>& a, const std::vector<double>& b) {
  double s = 0;
  for (size_t i = 0; i < a.size(); ++i) s += a[i] * b[i];
  return s;
}

Mat logits(attn::Score score, const Mat& q, const Mat& k, const attn::AdditiveParams* additive) {
  Mat s(q.size(), std::vector<double>(k.size()));
  for (size_t i = 0; i < q.size(); ++i)
    for (size_t j = 0; j < k.size(); ++j) {
      switch (score) {
        case attn::Score::ScaledDot:
          s[i][j] = dot(q[i], k[j]) / std::sqrt(static_cast<double>(k[j].size()));
          break;
        case attn::Score::Dot:
        case attn::Score::Raw:
          s[i][j] = dot(q[i], k[j]);
          break;
        case attn::Score::Cosine: {
          const double nq = std::sqrt(dot(q[i], q[i])), nk = std::sqrt(dot(k[j], k[j]));
          s[i][j] = nq > 0 && nk > 0 ? dot(q[i], k[j]) / (nq * nk) : 0.0;
          break;
        }
        case attn::Score::Additive: {
          const auto& p = *additive;
          double acc = 0;
          for (Eigen::Index a = 0; a < p.v.size(); ++a) {
            double u = 0;
            for (size_t c = 0; c < q[i].size(); ++c) u += p.wq(a, static_cast<Eigen::Index>(c)) * q[i][c];
            for (size_t c = 0; c < k[j].size(); ++c) u += p.wk(a, static_cast<Eigen::Index>(c)) * k[j][c];
            acc += p.v[a] * std::tanh(u);
          }
          s[i][j] = acc;
          break;
        }
      }
    }
  return s;
}

Mat softmax(const Mat& z, double t, const attn::Mask& mask) {
  Mat w(z.size(), std::vector<double>(z.empty() ? 0 : z[0].size(), 0.0));
  for (size_t i = 0; i < z.size(); ++i) {
    double m = -INFINITY;
    for (size_t j = 0; j < z[i].size(); ++j)
      if (mask.allows(static_cast<int>(i), static_cast<int>(j))) m = std::max(m, z[i][j]);
    if (m == -INFINITY) continue;
    double sum = 0;
    for (size_t j = 0; j < z[i].size(); ++j)
      if (mask.allows(static_cast<int>(i), static_cast<int>(j))) sum += w[i][j] = std::exp((z[i][j] - m) / t);
    for (auto& x : w[i]) x /= sum;
  }
  return w;
}

Mat matmul(const Mat& a, const Mat& b) {
  Mat c(a.size(), std::vector<double>(b.empty() ? 0 : b[0].size(), 0.0));
  for (size_t i = 0; i < a.size(); ++i)
    for (size_t k = 0; k < b.size(); ++k)
      for (size_t j = 0; j < b[0].size(); ++j) c[i][j] += a[i][k] * b[k][j];
  return c;
}

std::vector<double> sparsemax(const std::vector<double>& z) {
  double lo = *std::min_element(z.begin(), z.end()) - 1.0, hi = *std::max_element(z.begin(), z.end());
  for (int it = 0; it < 200; ++it) {
    const double mid = 0.5 * (lo + hi);
    double s = 0;
    for (double x : z) s += std::max(x - mid, 0.0);
    (s > 1.0 ? lo : hi) = mid;
  }
  std::vector<double> w;
  for (double x : z) w.push_back(std::max(x - 0.5 * (lo + hi), 0.0));
  return w;
}

double rel_error(const attn::MatrixRef& a, const Mat& b, double floor) {
  double max_abs = floor, err = 0;
  for (size_t i = 0; i < b.size(); ++i)
    for (size_t j = 0; j < b[i].size(); ++j) {
      max_abs = std::max(max_abs, std::abs(b[i][j]));
      err = std::max(err, std::abs(a(static_cast<Eigen::Index>(i), static_cast<Eigen::Index>(j)) - b[i][j]));
    }
  return err / max_abs;
}

attn::Matrix random(int rows, int cols, unsigned seed, float scale) {
  std::mt19937 gen(seed);
  std::normal_distribution<float> d(0.0f, scale);
  attn::Matrix m(rows, cols);
  for (Eigen::Index i = 0; i < m.size(); ++i) m.data()[i] = d(gen);
  return m;
}

}  // namespace ref

namespace ref {
unsigned fresh_seed() {
  if (const char* s = std::getenv("ATTNSCOPE_TEST_SEED")) return static_cast<unsigned>(std::strtoul(s, nullptr, 10));
  return std::random_device{}();
}
}  // namespace ref
