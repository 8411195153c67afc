// The seeded generator gives the same numbers on every machine.
#include <gtest/gtest.h>

#include <cmath>

#include "core/rng.hpp"

namespace {

TEST(Rng, KnownValuesForSeedZero) {
  // Pinned: a change here changes every "random" picture users have saved.
  attn::Rng rng(0, 0);
  const std::uint64_t first = rng.next();
  attn::Rng again(0, 0);
  EXPECT_EQ(again.next(), first);
  attn::Rng other_stream(0, 1);
  EXPECT_NE(other_stream.next(), first);
  attn::Rng u(42, 7);
  const float a = u.uniform();
  EXPECT_GE(a, 0.0f);
  EXPECT_LT(a, 1.0f);
  EXPECT_EQ(attn::random_matrix(3, 3, attn::Distribution::Gaussian, 5, 1),
            attn::random_matrix(3, 3, attn::Distribution::Gaussian, 5, 1));
}

TEST(Rng, PinnedSequence) {
  // The documented algorithms give these numbers on any machine.
  attn::Rng rng(1234, 0);
  const std::uint64_t expect[3] = {0xfa56c25cd040a0ceULL, 0x7ff529d73831d2e2ULL, 0xa95db2f511e98dc1ULL};
  for (auto e : expect) EXPECT_EQ(rng.next(), e);
  attn::Rng g(7, 3);
  const float gauss[4] = {-0.117642276f, 0.644792795f, 0.858531296f, 0.341960669f};
  for (float e : gauss) EXPECT_FLOAT_EQ(g.gaussian(), e);
  attn::Rng u(7, 3);
  EXPECT_FLOAT_EQ(u.uniform(), 0.806703746f);
  EXPECT_FLOAT_EQ(u.uniform(), 0.278721809f);
}

TEST(Rng, DistributionsHaveTheDocumentedMoments) {
  const attn::Matrix g = attn::random_matrix(400, 500, attn::Distribution::Gaussian, 9, 3);
  const double mean = g.cast<double>().mean();
  const double var = (g.cast<double>().array() - mean).square().mean();
  EXPECT_NEAR(mean, 0.0, 0.01);
  EXPECT_NEAR(var, 1.0, 0.01);
  const attn::Matrix u = attn::random_matrix(400, 500, attn::Distribution::Uniform, 9, 3, 2.0f);
  EXPECT_GE(u.minCoeff(), -2.0f);
  EXPECT_LT(u.maxCoeff(), 2.0f);
  EXPECT_NEAR(u.cast<double>().mean(), 0.0, 0.01);
  EXPECT_NEAR(u.cast<double>().array().square().mean(), 4.0 / 3.0, 0.01);
}

}  // namespace
