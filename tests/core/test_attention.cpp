// The attention engine against the plain reference, and its properties.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>

#include "core/attention.hpp"
#include "core/error.hpp"
#include "reference.hpp"

namespace {

using attn::Matrix;
using attn::Score;

struct Shape {
  int nq, nk, dk, dv;
};
const Shape kShapes[] = {{1, 1, 1, 1}, {1, 5, 3, 2}, {7, 3, 1, 4}, {16, 16, 8, 8}, {33, 65, 17, 5}, {64, 200, 64, 32}};

TEST(Attention, EveryScoreMatchesTheReferenceOnManyShapes) {
  const unsigned seed = ref::fresh_seed();
  SCOPED_TRACE("seed " + std::to_string(seed));
  for (Score score : {Score::ScaledDot, Score::Dot, Score::Cosine, Score::Additive}) {
    for (const Shape& s : kShapes) {
      for (double t : {0.05, 1.0, 7.0}) {
        const Matrix q = ref::random(s.nq, s.dk, seed + 1), k = ref::random(s.nk, s.dk, seed + 2);
        const Matrix v = ref::random(s.nk, s.dv, seed + 3);
        attn::AttentionOptions opt;
        opt.score = score;
        opt.temperature = t;
        opt.seed = seed;
        const auto r = attn::attend(q, k, v, opt);
        const auto p = attn::AdditiveParams::random(s.dk, s.dk, s.dk, seed);
        const std::string where = "score " + std::to_string(static_cast<int>(score)) + " nq " + std::to_string(s.nq) +
                                  " nk " + std::to_string(s.nk) + " t " + std::to_string(t);
        // Each stage against the reference fed the engine's previous stage, so
        // float32 rounding of the logits (amplified by 1/T) is not blamed on
        // the normaliser; then end to end with that amplification allowed for.
        const auto z = ref::logits(score, ref::from(q), ref::from(k), &p);
        EXPECT_LT(ref::rel_error(r.logits, z), 1e-5) << where;
        EXPECT_LT(ref::rel_error(r.weights, ref::softmax(ref::from(r.logits), t, {})), 1e-5) << where;
        EXPECT_LT(ref::rel_error(r.output, ref::matmul(ref::from(r.weights), ref::from(v))), 1e-5) << where;
        double zmax = 0;
        for (auto& row : z)
          for (double x : row) zmax = std::max(zmax, std::abs(x));
        const double end_to_end = 1e-5 + 1e-6 * zmax / t;
        EXPECT_LT(ref::rel_error(r.weights, ref::softmax(z, t, {})), end_to_end) << where;
      }
    }
  }
}

TEST(Attention, AdditiveScoreAllowsDifferentQueryAndKeyWidths) {
  const Matrix q = ref::random(4, 3, 1), k = ref::random(6, 9, 2);
  attn::AttentionOptions opt;
  opt.score = Score::Additive;
  opt.additive_dim = 5;
  const auto r = attn::attend(q, k, Matrix(), opt);
  const auto p = attn::AdditiveParams::random(3, 9, 5, 0);
  EXPECT_LT(ref::rel_error(r.logits, ref::logits(Score::Additive, ref::from(q), ref::from(k), &p)), 1e-5);
  opt.score = Score::ScaledDot;
  EXPECT_THROW(attn::attend(q, k, Matrix(), opt), attn::Error);  // d_q != d_k for a dot product
}

TEST(Attention, RawScoreIsTheUnnormalisedProduct) {
  const Matrix q = ref::random(3, 4, 5), k = ref::random(6, 4, 6);
  attn::AttentionOptions opt;
  opt.score = Score::Raw;
  const auto r = attn::attend(q, k, Matrix(), opt);
  EXPECT_LT(ref::rel_error(r.weights, ref::from(q * k.transpose())), 1e-6);
}

TEST(Attention, PermutingKeysPermutesWeights) {
  const unsigned seed = ref::fresh_seed();
  SCOPED_TRACE("seed " + std::to_string(seed));
  const Matrix q = ref::random(9, 6, seed), k = ref::random(20, 6, seed + 1);
  std::vector<int> perm(20);
  std::iota(perm.begin(), perm.end(), 0);
  std::shuffle(perm.begin(), perm.end(), std::mt19937(seed));
  Matrix kp(20, 6);
  for (int j = 0; j < 20; ++j) kp.row(j) = k.row(perm[static_cast<size_t>(j)]);
  for (auto norm : {attn::Norm::Softmax, attn::Norm::Sparsemax}) {
    attn::AttentionOptions opt;
    opt.norm = norm;
    const auto a = attn::attend(q, k, Matrix(), opt), b = attn::attend(q, kp, Matrix(), opt);
    for (int i = 0; i < 9; ++i)
      for (int j = 0; j < 20; ++j) EXPECT_NEAR(b.weights(i, j), a.weights(i, perm[static_cast<size_t>(j)]), 1e-6);
  }
}

TEST(Attention, RenormalisingKeptLogitsEqualsRecomputing) {
  const Matrix q = ref::random(12, 8, 1), k = ref::random(12, 8, 2);
  attn::AttentionOptions opt;
  const auto base = attn::attend(q, k, Matrix(), opt);
  opt.temperature = 0.3;
  opt.norm = attn::Norm::Sparsemax;
  opt.mask.structure = attn::MaskStructure::Causal;
  const auto again = attn::attend(q, k, Matrix(), opt);
  const Matrix w = attn::normalise(base.logits, opt.norm, opt.temperature, opt.mask);
  EXPECT_EQ(w, again.weights);
}

TEST(Masks, CausalLocalAndPaintedKeysGetExactlyZero) {
  const int cols = 5, rows = 4, n = cols * rows;
  const Matrix q = ref::random(n, 4, 7), k = ref::random(n, 4, 8);
  attn::AttentionOptions opt;
  opt.mask.structure = attn::MaskStructure::Causal;
  auto r = attn::attend(q, k, Matrix(), opt);
  for (int i = 0; i < n; ++i) {
    EXPECT_NEAR(r.weights.row(i).sum(), 1.0f, 1e-5);
    for (int j = i + 1; j < n; ++j) EXPECT_EQ(r.weights(i, j), 0.0f);
  }
  EXPECT_LT(
      ref::rel_error(r.weights, ref::softmax(ref::logits(Score::ScaledDot, ref::from(q), ref::from(k)), 1.0, opt.mask)),
      1e-5);

  opt.mask.structure = attn::MaskStructure::Local;
  opt.mask.radius = 1;
  opt.mask.grid_cols = cols;
  r = attn::attend(q, k, Matrix(), opt);
  for (int i = 0; i < n; ++i)
    for (int j = 0; j < n; ++j) {
      const bool near = std::abs(i % cols - j % cols) <= 1 && std::abs(i / cols - j / cols) <= 1;
      if (!near)
        EXPECT_EQ(r.weights(i, j), 0.0f) << i << "," << j;
      else
        EXPECT_GT(r.weights(i, j), 0.0f);
    }

  opt.mask.structure = attn::MaskStructure::None;
  opt.mask.hidden_keys.assign(n, 0);
  for (int j = 0; j < n; j += 3) opt.mask.hidden_keys[static_cast<size_t>(j)] = 1;
  r = attn::attend(q, k, Matrix(), opt);
  for (int i = 0; i < n; ++i) {
    EXPECT_NEAR(r.weights.row(i).sum(), 1.0f, 1e-5);
    for (int j = 0; j < n; j += 3) EXPECT_EQ(r.weights(i, j), 0.0f);
  }
  // Every key hidden: zeros, not NaN, and a zero output.
  opt.mask.hidden_keys.assign(n, 1);
  r = attn::attend(q, k, ref::random(n, 3, 9), opt);
  EXPECT_TRUE(r.weights.isZero());
  EXPECT_TRUE(r.output.isZero());
}

TEST(Masks, RowBlocksUseTheirQueryIndex) {
  const Matrix q = ref::random(10, 4, 1), k = ref::random(10, 4, 2);
  attn::AttentionOptions opt;
  opt.mask.structure = attn::MaskStructure::Causal;
  const auto full = attn::attend(q, k, Matrix(), opt);
  const auto row = attn::attend(q.row(6), k, Matrix(), opt, attn::QueryRows{6, 10});
  // Same numbers up to summation order (a row product vs a matrix product).
  EXPECT_TRUE(row.weights.isApprox(Matrix(full.weights.row(6)), 1e-6f));
  for (int j = 7; j < 10; ++j) EXPECT_EQ(row.weights(0, j), 0.0f);
  EXPECT_THROW(attn::attend(q.topRows(4), k, Matrix(), opt), attn::Error);  // causal needs Nq = Nk
}

TEST(MultiHead, SplitAndConcatAreInverse) {
  const Matrix x = ref::random(7, 12, 3);
  for (int h : {1, 2, 3, 4, 6, 12}) {
    const auto heads = attn::split_heads(x, h);
    ASSERT_EQ(static_cast<int>(heads.size()), h);
    for (int i = 0; i < h; ++i) EXPECT_EQ(heads[static_cast<size_t>(i)], Matrix(x.middleCols(i * 12 / h, 12 / h)));
    EXPECT_EQ(attn::concat_heads(heads), x);
  }
  EXPECT_THROW(attn::split_heads(x, 5), attn::Error);
  EXPECT_THROW(attn::split_heads(x, 0), attn::Error);
}

TEST(MultiHead, ProjectedAttentionMatchesHandComputation) {
  const unsigned seed = ref::fresh_seed();
  SCOPED_TRACE("seed " + std::to_string(seed));
  const int n = 11, e = 12, h = 3;
  const Matrix x = ref::random(n, e, seed);
  attn::MultiHeadProjections p;
  p.q = {ref::random(e, e, seed + 1), ref::random(e, 1, seed + 2).col(0)};
  p.k = {ref::random(e, e, seed + 3), ref::random(e, 1, seed + 4).col(0)};
  p.v = {ref::random(e, e, seed + 5), attn::Vector()};
  p.o = {ref::random(e, e, seed + 6), ref::random(e, 1, seed + 7).col(0)};
  const auto r = attn::multi_head_attention(x, x, x, p, h, {});
  const Matrix q = p.q.apply(x), k = p.k.apply(x), v = p.v.apply(x);
  Matrix concat(n, e);
  for (int i = 0; i < h; ++i) {
    const auto w = ref::softmax(
        ref::logits(Score::ScaledDot, ref::from(q.middleCols(i * 4, 4)), ref::from(k.middleCols(i * 4, 4))), 1.0, {});
    EXPECT_LT(ref::rel_error(r.heads[static_cast<size_t>(i)].weights, w), 1e-5);
    const auto o = ref::matmul(w, ref::from(v.middleCols(i * 4, 4)));
    for (int a = 0; a < n; ++a)
      for (int b = 0; b < 4; ++b)
        concat(a, i * 4 + b) = static_cast<float>(o[static_cast<size_t>(a)][static_cast<size_t>(b)]);
  }
  const Matrix expect = p.o.apply(concat);
  EXPECT_LT(ref::rel_error(r.output, ref::from(expect)), 1e-5);
  EXPECT_THROW(attn::multi_head_attention(x, x, x, p, 5, {}), attn::Error);
}

TEST(Validation, MismatchedShapesAndBadNumbersAreClearErrors) {
  attn::AttentionOptions opt;
  EXPECT_THROW(attn::attend(ref::random(3, 4, 1), ref::random(5, 4, 2), ref::random(6, 2, 3), opt), attn::Error);
  opt.temperature = 0;
  EXPECT_THROW(attn::attend(ref::random(3, 4, 1), ref::random(5, 4, 2), Matrix(), opt), attn::Error);
  // Scores beyond the float range are an error, not Inf or NaN.
  Matrix big = Matrix::Constant(2, 2, 1e30f);
  EXPECT_THROW(attn::compute_logits(Score::Dot, big, big), attn::Error);
  Matrix bad = ref::random(4, 4, 1);
  bad(2, 3) = std::nanf("");
  try {
    attn::check_finite(bad, "K", 1);
    FAIL();
  } catch (const attn::Error& e) {
    EXPECT_STREQ(e.what(), "K contains NaN in head 1, at row 2, column 3");
  }
}

TEST(RowStats, EntropyAndEffectiveKeys) {
  const std::vector<float> uniform(64, 1.0f / 64);
  auto s = attn::row_stats(uniform);
  EXPECT_TRUE(s.is_distribution);
  EXPECT_NEAR(s.entropy_nats, std::log(64.0), 1e-6);
  EXPECT_NEAR(s.entropy_bits, 6.0, 1e-6);
  EXPECT_NEAR(s.effective_keys, 64.0, 1e-4);
  const std::vector<float> onehot = {0, 0, 1, 0};
  s = attn::row_stats(onehot);
  EXPECT_EQ(s.argmax, 2);
  EXPECT_EQ(s.max_weight, 1.0f);
  EXPECT_NEAR(s.effective_keys, 1.0, 1e-9);
  s = attn::row_stats(std::vector<float>{2.0f, -1.0f});
  EXPECT_FALSE(s.is_distribution);
  s = attn::row_stats(std::vector<float>{0.0f, 0.0f});
  EXPECT_EQ(s.argmax, -1);
}

}  // namespace
