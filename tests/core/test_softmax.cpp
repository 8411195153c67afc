// Properties of the row normalisers, on fresh random inputs.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <numeric>
#include <random>

#include "core/error.hpp"
#include "core/softmax.hpp"
#include "reference.hpp"

namespace {

using attn::Norm;

std::vector<float> random_row(std::mt19937& gen, int n, float scale) {
  std::normal_distribution<float> d(0.0f, scale);
  std::vector<float> z(static_cast<size_t>(n));
  for (auto& x : z) x = d(gen);
  return z;
}

std::vector<float> run(Norm norm, const std::vector<float>& z, double t, std::vector<std::uint8_t> visible = {}) {
  if (visible.empty()) visible.assign(z.size(), 1);
  std::vector<float> w(z.size(), -123.0f);  // poisoned: every element must be written
  attn::normalise_row(norm, z, t, visible, w);
  return w;
}

double sum(const std::vector<float>& w) { return std::accumulate(w.begin(), w.end(), 0.0); }

class NormaliserTest : public ::testing::TestWithParam<Norm> {};

TEST_P(NormaliserTest, RowsSumToOneAndMaskedKeysGetExactlyZero) {
  const unsigned seed = ref::fresh_seed();
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937 gen(seed);
  for (int n : {1, 2, 3, 7, 64, 1000}) {
    for (double t : {0.01, 0.3, 1.0, 10.0, 100.0}) {
      const auto z = random_row(gen, n, 3.0f);
      std::vector<std::uint8_t> visible(static_cast<size_t>(n));
      for (auto& v : visible) v = gen() % 3 != 0;
      visible[gen() % static_cast<unsigned>(n)] = 1;
      const auto w = run(GetParam(), z, t, visible);
      EXPECT_NEAR(sum(w), 1.0, 1e-5) << "n=" << n << " t=" << t;
      for (int j = 0; j < n; ++j) {
        EXPECT_GE(w[static_cast<size_t>(j)], 0.0f);
        if (!visible[static_cast<size_t>(j)]) {
          EXPECT_EQ(w[static_cast<size_t>(j)], 0.0f);
        }
      }
    }
  }
}

TEST_P(NormaliserTest, FullyMaskedRowIsZerosNotNaN) {
  const std::vector<float> z = {1.0f, 2.0f, 3.0f};
  const auto w = run(GetParam(), z, 1.0, {0, 0, 0});
  for (float x : w) EXPECT_EQ(x, 0.0f);
}

TEST_P(NormaliserTest, InvariantToAddingAConstant) {
  const unsigned seed = ref::fresh_seed();
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937 gen(seed);
  auto z = random_row(gen, 50, 2.0f);
  const auto w0 = run(GetParam(), z, 0.7);
  // The shift rounds each score to float spacing at 1000 (6e-5): hence the tolerance.
  for (auto& x : z) x += 1000.0f;
  const auto w1 = run(GetParam(), z, 0.7);
  for (size_t j = 0; j < z.size(); ++j) EXPECT_NEAR(w0[j], w1[j], 2e-4);
}

TEST_P(NormaliserTest, ZeroTemperatureLimitIsArgmaxWithoutNaN) {
  const std::vector<float> z = {0.5f, 2.0f, -1.0f, 1.9999f};
  // The smallest gap is 1e-4: at T = 1e-7 it is 1000 units of T.
  for (double t : {1e-7, 1e-9, 1e-30, std::numeric_limits<double>::denorm_min()}) {
    const auto w = run(GetParam(), z, t);
    EXPECT_NEAR(w[1], 1.0f, 1e-6) << "t=" << t;
    for (size_t j : {0u, 2u, 3u}) EXPECT_NEAR(w[j], 0.0f, 1e-6) << "t=" << t;
  }
  // Ties share the weight in the limit.
  const auto w = run(GetParam(), {3.0f, 1.0f, 3.0f}, 1e-9);
  EXPECT_FLOAT_EQ(w[0], 0.5f);
  EXPECT_FLOAT_EQ(w[2], 0.5f);
  EXPECT_EQ(w[1], 0.0f);
}

TEST_P(NormaliserTest, HugeScoresDoNotOverflow) {
  const std::vector<float> z = {3e38f, -3e38f, 2.9e38f, 1.0f};
  const auto w = run(GetParam(), z, 1.0);
  for (float x : w) EXPECT_TRUE(std::isfinite(x));
  EXPECT_NEAR(sum(w), 1.0, 1e-6);
  EXPECT_FLOAT_EQ(w[0], 1.0f);
}

INSTANTIATE_TEST_SUITE_P(SoftmaxAndSparsemax, NormaliserTest, ::testing::Values(Norm::Softmax, Norm::Sparsemax));

TEST(Softmax, MatchesReferenceAndApproachesUniformAsTemperatureGrows) {
  const unsigned seed = ref::fresh_seed();
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937 gen(seed);
  const auto z = random_row(gen, 200, 4.0f);
  for (double t : {0.05, 1.0, 3.0}) {
    const auto w = run(Norm::Softmax, z, t);
    double m = -1e300, s = 0;
    for (float x : z) m = std::max(m, static_cast<double>(x));
    for (float x : z) s += std::exp((x - m) / t);
    for (size_t j = 0; j < z.size(); ++j) EXPECT_NEAR(w[j], std::exp((z[j] - m) / t) / s, 1e-6);
  }
  const auto w = run(Norm::Softmax, z, 1e6);
  for (float x : w) EXPECT_NEAR(x, 1.0 / 200, 1e-6);
  // Uniform over the visible keys only.
  std::vector<std::uint8_t> visible(200, 0);
  for (int j = 0; j < 200; j += 4) visible[static_cast<size_t>(j)] = 1;
  const auto wm = run(Norm::Softmax, z, 1e9, visible);
  for (int j = 0; j < 200; ++j) EXPECT_NEAR(wm[static_cast<size_t>(j)], j % 4 == 0 ? 1.0 / 50 : 0.0, 1e-6);
}

TEST(Sparsemax, MatchesItsClosedFormAndIsSparse) {
  const unsigned seed = ref::fresh_seed();
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937 gen(seed);
  int zeros = 0;
  for (int trial = 0; trial < 50; ++trial) {
    const int n = 1 + static_cast<int>(gen() % 100);
    const double t = 0.1 + (gen() % 100) / 20.0;
    const auto z = random_row(gen, n, 2.0f);
    const auto w = run(Norm::Sparsemax, z, t);
    std::vector<double> scaled;
    for (float x : z) scaled.push_back(x / t);
    const auto expect = ref::sparsemax(scaled);
    for (int j = 0; j < n; ++j) {
      EXPECT_NEAR(w[static_cast<size_t>(j)], expect[static_cast<size_t>(j)], 1e-5) << "n=" << n << " t=" << t;
      zeros += w[static_cast<size_t>(j)] == 0.0f;
    }
  }
  EXPECT_GT(zeros, 0) << "sparsemax should give exact zeros";
  // A hand-checked case: z = (1, 0.5, -1): support {1, 0.5}, tau = 0.25.
  const auto w = run(Norm::Sparsemax, {1.0f, 0.5f, -1.0f}, 1.0);
  EXPECT_FLOAT_EQ(w[0], 0.75f);
  EXPECT_FLOAT_EQ(w[1], 0.25f);
  EXPECT_EQ(w[2], 0.0f);
}

TEST(NoNormalisation, DividesByTemperatureAndZeroesMaskedKeys) {
  const auto w = run(Norm::None, {2.0f, -4.0f, 6.0f}, 2.0, {1, 1, 0});
  EXPECT_FLOAT_EQ(w[0], 1.0f);
  EXPECT_FLOAT_EQ(w[1], -2.0f);
  EXPECT_EQ(w[2], 0.0f);
  EXPECT_THROW(run(Norm::None, {3e38f}, 1e-3), attn::Error);
}

TEST(Temperature, InvalidValuesAreRejected) {
  for (double t :
       {0.0, -1.0, std::nan(""), std::numeric_limits<double>::infinity(), -std::numeric_limits<double>::infinity()})
    EXPECT_THROW(attn::check_temperature(t), attn::Error) << t;
  EXPECT_NO_THROW(attn::check_temperature(1e-30));
  EXPECT_NO_THROW(attn::check_temperature(1e30));
}

}  // namespace
