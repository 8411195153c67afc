// The views of core/attention_views.hpp on fresh random attention: a
// query's row, several queries averaged, head fusion, the display
// temperature, the patches with the special tokens' shares, keep-mass,
// against direct double-precision computations; and the token sets.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "core/attention_views.hpp"
#include "core/overlay.hpp"

namespace {

attn::AttentionRecord record_of(const attn::TokenSet& tokens, attn::AttentionStack stack) {
  attn::AttentionRecord r;
  r.token_sets.push_back(tokens);
  r.attention.push_back({"encoder", attn::AttentionRole::EncoderSelf, 0, 0, std::move(stack)});
  return r;
}

// Random softmax rows: [L, H, N, N] with each row a distribution.
attn::AttentionStack random_stack(int L, int H, int N, std::mt19937& rng) {
  std::normal_distribution<double> z(0.0, 2.0);
  attn::AttentionStack s(L, H, N, N);
  for (int l = 0; l < L; ++l)
    for (int h = 0; h < H; ++h) {
      attn::Matrix m(N, N);
      for (int i = 0; i < N; ++i) {
        double sum = 0;
        for (int j = 0; j < N; ++j) sum += m(i, j) = static_cast<float>(std::exp(z(rng)));
        m.row(i) /= static_cast<float>(sum);
      }
      s.set(l, h, m);
    }
  return s;
}

TEST(Tokens, AVitsOrderAndCells) {
  const attn::TokenKind prefix[] = {attn::TokenKind::Class, attn::TokenKind::Distillation};
  const attn::TokenSet t = attn::TokenSet::vit({16, 3, 2}, prefix, 4);
  ASSERT_EQ(t.size(), 2 + 6 + 4);
  EXPECT_EQ(t.first_of(attn::TokenKind::Class), 0);
  EXPECT_EQ(t.first_of(attn::TokenKind::Distillation), 1);
  EXPECT_EQ(t.indices_of(attn::TokenKind::Register), (std::vector<int>{8, 9, 10, 11}));
  for (int c = 0; c < 6; ++c) {
    EXPECT_EQ(t.token_at_cell(c), 2 + c);
    EXPECT_EQ(t[2 + c].cell, c);
  }
  EXPECT_EQ(t.token_at_cell(6), -1);
  const attn::TokenSet words = attn::TokenSet::text({"a", "red", "circle"});
  EXPECT_EQ(words[1].text, "red");
  EXPECT_EQ(words.token_at_cell(0), -1);
}

TEST(Views, MapsEqualDirectComputationsOnRandomAttention) {
  std::mt19937 rng(std::random_device{}());
  for (int trial = 0; trial < 20; ++trial) {
    std::uniform_int_distribution<int> pick(1, 5);
    const int L = pick(rng), H = pick(rng), cols = pick(rng) + 1, rows = pick(rng), R = pick(rng) - 1;
    const attn::TokenKind prefix[] = {attn::TokenKind::Class};
    const attn::TokenSet tokens = attn::TokenSet::vit({8, cols, rows}, prefix, R);
    const int N = tokens.size(), P = cols * rows;
    const attn::AttentionRecord rec = record_of(tokens, random_stack(L, H, N, rng));
    const attn::NamedAttention& a = rec.attention.front();
    attn::MapRequest r;
    r.query = attn::ViewQuery::Patches;
    r.queries = {1 + std::uniform_int_distribution<int>(0, P - 1)(rng), 1 + (trial % P)};
    r.layer = std::uniform_int_distribution<int>(-1, L - 1)(rng);
    r.fusion = static_cast<attn::HeadFusion>(trial % 3);
    r.head = trial % 4 == 0 ? H - 1 : -1;
    r.display_temperature = trial % 2 ? 0.5 : 1.0;
    const attn::MapView v = attn::attention_map(rec, r);
    const int layer = r.layer < 0 ? L - 1 : r.layer;
    // Direct: per head, the queries' mean (double); fused; sharpened; over the patches.
    std::vector<std::vector<double>> per_head(static_cast<size_t>(H), std::vector<double>(static_cast<size_t>(N)));
    std::vector<float> line(static_cast<size_t>(N));
    for (int h = 0; h < H; ++h)
      for (int q : r.queries) {
        a.weights.row(layer, h, q, line);
        for (int j = 0; j < N; ++j)
          per_head[static_cast<size_t>(h)][static_cast<size_t>(j)] += line[static_cast<size_t>(j)] / 2.0;
      }
    std::vector<double> row(static_cast<size_t>(N));
    for (int j = 0; j < N; ++j) {
      double acc = r.fusion == attn::HeadFusion::Mean ? 0.0 : per_head[0][static_cast<size_t>(j)];
      for (int h = 0; h < H; ++h) {
        const double w = per_head[static_cast<size_t>(h)][static_cast<size_t>(j)];
        if (r.head >= 0) continue;
        if (r.fusion == attn::HeadFusion::Mean) acc += w / H;
        if (r.fusion == attn::HeadFusion::Max) acc = std::max(acc, w);
        if (r.fusion == attn::HeadFusion::Min) acc = std::min(acc, w);
      }
      row[static_cast<size_t>(j)] = r.head >= 0 ? per_head[static_cast<size_t>(r.head)][static_cast<size_t>(j)] : acc;
    }
    double total = 0;
    for (double& w : row) total += (w = std::pow(w, 1.0 / r.display_temperature));
    for (double& w : row) w /= total;
    double patches = 0;
    for (int c = 0; c < P; ++c) patches += row[static_cast<size_t>(1 + c)];
    for (int c = 0; c < P; ++c)
      EXPECT_NEAR(v.map[static_cast<size_t>(c)], row[static_cast<size_t>(1 + c)] / patches, 2e-5) << trial;
    EXPECT_NEAR(v.class_share, row[0], 2e-5);
    double regs = 0;
    for (int j = 1 + P; j < N; ++j) regs += row[static_cast<size_t>(j)];
    EXPECT_NEAR(v.register_share, regs, 2e-5);
    EXPECT_EQ(v.head_maps.rows(), H);
    if (r.head >= 0) {
      for (int c = 0; c < P; ++c) EXPECT_FLOAT_EQ(v.map[static_cast<size_t>(c)], v.head_maps(r.head, c));
    }
  }
}

TEST(Views, SharpenIsSoftmaxOfTheLogitsOverT) {
  // For w = softmax(z): w^(1/T) / sum = softmax(z / T).
  const std::vector<double> z = {1.0, -0.5, 2.0, 0.3};
  for (double T : {0.25, 0.5, 2.0, 5.0}) {
    std::vector<float> w(z.size());
    double s = 0, sT = 0;
    for (double x : z) s += std::exp(x), sT += std::exp(x / T);
    for (size_t j = 0; j < z.size(); ++j) w[j] = static_cast<float>(std::exp(z[j]) / s);
    attn::sharpen(w, T);
    for (size_t j = 0; j < z.size(); ++j) EXPECT_NEAR(w[j], std::exp(z[j] / T) / sT, 1e-6);
  }
}

TEST(Views, KeptSpecialTokensLeaveThePatchesUnnormalised) {
  const attn::TokenKind prefix[] = {attn::TokenKind::Class};
  const attn::TokenSet t = attn::TokenSet::vit({8, 2, 1}, prefix, 1);  // class, 2 patches, 1 register
  const std::vector<float> row = {0.4f, 0.1f, 0.3f, 0.2f};
  const auto renorm = attn::to_patch_map(row, t, false, false);
  EXPECT_NEAR(renorm.values[0], 0.25f, 1e-6);
  EXPECT_NEAR(renorm.values[1], 0.75f, 1e-6);
  EXPECT_NEAR(renorm.class_share, 0.4, 1e-6);
  EXPECT_NEAR(renorm.register_share, 0.2, 1e-6);
  const auto raw = attn::to_patch_map(row, t, true, false);
  EXPECT_FLOAT_EQ(raw.values[0], 0.1f);
  EXPECT_FLOAT_EQ(raw.values[1], 0.3f);
}

TEST(Views, ClassTokenViewNeedsAClassToken) {
  std::mt19937 rng(1);
  const attn::TokenSet patches = attn::TokenSet::patches({8, 2, 2});
  attn::AttentionRecord rec = record_of(patches, random_stack(1, 2, 4, rng));
  EXPECT_THROW(attn::attention_map(rec, {}), attn::Error);
  attn::MapRequest r;
  r.query = attn::ViewQuery::Patches;
  r.queries = {9};
  EXPECT_THROW(attn::attention_map(rec, r), attn::Error);
  r.queries = {2};
  EXPECT_NO_THROW(attn::attention_map(rec, r));
  r.query = attn::ViewQuery::DistillationToken;
  EXPECT_THROW(attn::attention_map(rec, r), attn::Error);
  // With a pooling probe, the class-token view is the probe's attention.
  attn::TokenSet probe;
  probe.tokens.push_back({attn::TokenKind::Probe, -1, {}});
  rec.token_sets.push_back(probe);
  attn::AttentionStack pool(1, 2, 1, 4);
  attn::Matrix a(1, 4), b(1, 4);
  a << 0.1f, 0.2f, 0.3f, 0.4f;
  b << 0.4f, 0.3f, 0.2f, 0.1f;
  pool.set(0, 0, a);
  pool.set(0, 1, b);
  rec.attention.push_back({"pool", attn::AttentionRole::Pool, 1, 0, pool});
  const attn::MapView v = attn::attention_map(rec, {});
  for (int c = 0; c < 4; ++c) EXPECT_NEAR(v.map[static_cast<size_t>(c)], 0.25f, 1e-6);  // the mean of the two heads
  EXPECT_NEAR(v.head_maps(0, 3), 0.4f, 1e-6);
  r.query = attn::ViewQuery::Rollout;
  EXPECT_THROW(attn::attention_map(rec, r), attn::Error);  // rollout follows a class token
}

TEST(Views, KeepMassRangeIsOneRule) {
  EXPECT_THROW(attn::check_keep_mass(0.0, "x"), attn::Error);
  EXPECT_THROW(attn::check_keep_mass(1.01, "x"), attn::Error);
  EXPECT_NO_THROW(attn::check_keep_mass(0.001, "x"));
  EXPECT_NO_THROW(attn::check_keep_mass(1.0, "x"));
}

TEST(Overlay, TheScaleLeavesTheQueriesOut) {
  // The query's weight on itself (0.6) would make every other patch dim.
  const std::vector<float> map = {0.1f, 0.6f, 0.2f, 0.1f};
  const int query[] = {1};
  const auto with = attn::scale_map(map, attn::MapScale::Max);
  const auto without = attn::scale_map(map, attn::MapScale::Max, query);
  EXPECT_NEAR(with[2], 0.2f / 0.6f, 1e-6);
  EXPECT_NEAR(without[2], 1.0f, 1e-6);  // the strongest other patch is the top colour
  EXPECT_NEAR(without[0], 0.5f, 1e-6);
  EXPECT_EQ(without[1], 1.0f);  // the query itself is clamped to the top
  const auto minmax = attn::scale_map(map, attn::MapScale::MinMax, query);
  EXPECT_NEAR(minmax[0], 0.0f, 1e-6);
  EXPECT_NEAR(minmax[2], 1.0f, 1e-6);
  // Every entry excluded: the scale falls back to all of them.
  const int all[] = {0, 1, 2, 3};
  EXPECT_NEAR(attn::scale_map(map, attn::MapScale::Max, all)[2], 0.2f / 0.6f, 1e-6);
}

}  // namespace

namespace {

// Class, 2x2 patches, one register; one layer, one head.
attn::AttentionRecord sink_record() {
  const attn::TokenKind prefix[] = {attn::TokenKind::Class};
  attn::AttentionRecord rec;
  rec.token_sets.push_back(attn::TokenSet::vit({8, 2, 2}, prefix, 1));
  attn::Matrix a(6, 6);
  // Every query gives 0.1 to the class token, 0.5 to patch 3 (token 4, the
  // long one), 0.2 to the register, 0.2 / 3 to each other patch.
  for (int q = 0; q < 6; ++q) a.row(q) << 0.1f, 0.2f / 3, 0.2f / 3, 0.2f / 3, 0.5f, 0.2f;
  rec.attention.push_back(
      {"encoder", attn::AttentionRole::EncoderSelf, 0, 0, attn::AttentionStack::from_layers({{a}})});
  rec.token_norms.resize(2, 6);
  rec.token_norms << 1, 1, 1.1f, 0.9f, 9, 1,  //
      2, 2, 2, 2, 30, 2;
  return rec;
}

}  // namespace

TEST(Views, TokenNormsFindTheArtefacts) {
  const attn::AttentionRecord rec = sink_record();
  EXPECT_EQ(attn::high_norm_tokens(rec, 0), std::vector<int>{4});
  EXPECT_EQ(attn::top_norm_tokens(rec, 0, 2), (std::vector<int>{4, 2}));
  // The norms view: each patch's norm after the layer.
  attn::MapRequest r;
  r.query = attn::ViewQuery::TokenNorms;
  const attn::MapView v = attn::attention_map(rec, r);
  EXPECT_EQ(v.map, (std::vector<float>{2, 2, 2, 30}));
  // Where the attention goes: the class token, the register, the outlier.
  const attn::AttentionSinks s = attn::attention_sinks(rec);
  EXPECT_NEAR(s.class_share(0, 0), 0.1f, 1e-6);
  EXPECT_NEAR(s.register_share(0, 0), 0.2f, 1e-6);
  EXPECT_EQ(s.outlier[0], 4);
  EXPECT_NEAR(s.outlier_share(0, 0), 0.5f, 1e-6);
}

TEST(Views, IgnoringTheLongestTokensRenormalisesTheRest) {
  const attn::AttentionRecord rec = sink_record();
  attn::MapRequest r;  // the class token's view
  const attn::MapView all = attn::attention_map(rec, r);
  EXPECT_NEAR(all.map[3], 0.5f / 0.7f, 1e-6);  // the artefact dominates the patches
  r.ignore_top_norms = 1;
  const attn::MapView rest = attn::attention_map(rec, r);
  EXPECT_EQ(rest.map[3], 0.0f);
  for (int c = 0; c < 3; ++c) EXPECT_NEAR(rest.map[static_cast<size_t>(c)], 1.0f / 3, 1e-6);
  EXPECT_NEAR(rest.class_share, 0.1, 1e-6);  // shares are of the whole row, as before
}

TEST(Views, TokenNormsNeedNoClassToken) {
  // A model pooled by averaging (no class token, no probe) still has norms.
  attn::AttentionRecord rec;
  rec.token_sets.push_back(attn::TokenSet::vit({8, 2, 1}, {}, 0));
  attn::Matrix a(2, 2);
  a << 0.5f, 0.5f, 0.5f, 0.5f;
  rec.attention.push_back(
      {"encoder", attn::AttentionRole::EncoderSelf, 0, 0, attn::AttentionStack::from_layers({{a}})});
  rec.token_norms.resize(2, 2);
  rec.token_norms << 1, 2, 3, 4;
  attn::MapRequest r;
  r.query = attn::ViewQuery::TokenNorms;
  EXPECT_EQ(attn::attention_map(rec, r).map, (std::vector<float>{3, 4}));
  r.query = attn::ViewQuery::ClassToken;
  EXPECT_THROW(attn::attention_map(rec, r), attn::Error);
}
