// AppState without a window: each kind of change takes the cheap path it
// should (counted in AppState::work), a bad file changes nothing, a new
// scene invalidates every cache, a ViT's views come from the kept attention.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <thread>

#include "app_state.hpp"
#include "core/io.hpp"
#include "core/rng.hpp"
#include "core/safetensors.hpp"
#include "open_path.hpp"
#include "tests/core/random_vit.hpp"

namespace {

using namespace std::chrono_literals;

// Calls update() until nothing is computing and a scene is shown.
void settle(gui::AppState& s) {
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 6000; ++i) {
    const double t = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    s.update(t);
    if (i > 1 && !s.busy() && s.scene.ready()) {
      s.update(t + 0.001);  // adopt what arrived with the last check
      if (!s.busy()) return;
    }
    std::this_thread::sleep_for(5ms);
  }
  FAIL() << "the app state never settled";
}

gui::WorkCounts counts(const gui::AppState& s) { return s.work; }

TEST(AppState, EachChangeTakesItsCheapestPath) {
  gui::AppState s(gui::Settings{});
  settle(s);
  ASSERT_TRUE(s.scene.ready());
  const auto first = counts(s);
  EXPECT_EQ(first.scenes_adopted, 1);
  EXPECT_EQ(first.rows_computed, 1);  // the default query
  ASSERT_EQ(s.map.size(), static_cast<size_t>(s.scene.grid.count()));

  // A temperature change renormalises the kept logits: no scores recomputed.
  s.settings.attention.temperature = 0.5;
  settle(s);
  EXPECT_EQ(s.work.rows_computed, first.rows_computed);
  EXPECT_EQ(s.work.rows_renormalised, first.rows_renormalised + 1);
  EXPECT_EQ(s.work.scenes_adopted, 1);

  // The shown head: only the maps are recombined.
  const auto before_head = counts(s);
  const std::uint64_t revision = s.map_revision;
  s.settings.view.head = 2;
  settle(s);
  EXPECT_EQ(s.work.rows_computed, before_head.rows_computed);
  EXPECT_EQ(s.work.rows_renormalised, before_head.rows_renormalised);
  EXPECT_EQ(s.work.maps_combined, before_head.maps_combined + 1);
  EXPECT_GT(s.map_revision, revision);
  for (int c = 0; c < s.scene.grid.count(); ++c) EXPECT_EQ(s.map[static_cast<size_t>(c)], s.head_maps(2, c));

  // A click computes the new query's row, nothing else.
  s.select({5});
  settle(s);
  EXPECT_EQ(s.work.rows_computed, before_head.rows_computed + 1);
  EXPECT_EQ(s.work.scenes_adopted, 1);

  // Display settings do no work at all.
  const auto before_display = counts(s);
  const std::uint64_t revision2 = s.map_revision;
  s.settings.display.colormap = attn::Colormap::Viridis;
  s.settings.display.opacity = 0.3f;
  settle(s);
  EXPECT_EQ(s.map_revision, revision2);
  EXPECT_EQ(s.work.maps_combined, before_display.maps_combined);

  // A token setting builds a new scene; its first row is computed afresh.
  s.settings.tokens.d_model = 32;
  settle(s);
  EXPECT_EQ(s.work.scenes_adopted, 2);
  EXPECT_EQ(s.work.rows_computed, before_display.rows_computed + 1);
  EXPECT_EQ(s.scene.width, 32);
}

TEST(AppState, TheMapIsTheMeanOfTheHeadsAndOfTheQueries) {
  gui::AppState s(gui::Settings{});
  s.settings.selection.queries = {10, 300};
  settle(s);
  ASSERT_EQ(s.effective_queries(), (std::vector<int>{10, 300}));
  const int H = s.scene.heads, cells = s.scene.grid.count();
  for (int c = 0; c < cells; c += 37) {
    double mean = 0;
    for (int h = 0; h < H; ++h) mean += s.head_maps(h, c);
    EXPECT_NEAR(s.map[static_cast<size_t>(c)], mean / H, 1e-6);
  }
  // Each head's map is the mean of the two queries' own rows.
  gui::AppState one(gui::Settings{});
  one.settings.selection.queries = {10};
  settle(one);
  gui::AppState other(gui::Settings{});
  other.settings.selection.queries = {300};
  settle(other);
  for (int c = 0; c < cells; c += 41)
    EXPECT_NEAR(s.head_maps(1, c), 0.5 * (one.head_maps(1, c) + other.head_maps(1, c)), 1e-6);
}

TEST(AppState, ABadFileChangesNothing) {
  gui::AppState s(gui::Settings{});
  s.settings.selection.queries = {40};
  settle(s);
  const gui::Settings before = s.settings;
  const std::uint64_t generation = s.scene.generation;
  for (const char* bad : {"/nonexistent/cat.png", "/nonexistent/weights.safetensors", "/nonexistent/q.npy"}) {
    s.open_file(bad);
    settle(s);
    EXPECT_EQ(s.settings.tokens, before.tokens) << bad;
    EXPECT_EQ(s.settings.model, before.model) << bad;
    EXPECT_EQ(s.scene.generation, generation) << bad;
    ASSERT_FALSE(s.messages.empty());
    EXPECT_TRUE(s.messages.back().error);
    EXPECT_NE(s.messages.back().text.find("/nonexistent/"), std::string::npos) << s.messages.back().text;
  }
  EXPECT_FALSE(s.failed_at_start());
  // A session that cannot be read changes no setting at all.
  s.open_file("/nonexistent/session.json");
  settle(s);
  EXPECT_EQ(s.settings.tokens, before.tokens);
  EXPECT_EQ(s.settings.attention, before.attention);
}

TEST(AppState, ABadFileAtStartShowsTheSampleAndSaysSo) {
  gui::Settings start;
  start.tokens.image_path = "/nonexistent/photo.jpg";
  gui::AppState s(start);
  settle(s);
  ASSERT_TRUE(s.scene.ready());
  EXPECT_TRUE(s.failed_at_start());
  EXPECT_EQ(s.scene.key.tokens.image_path, "");  // the bundled sample
  EXPECT_EQ(s.settings.tokens.image_path, "");
  bool said = false;
  for (const auto& m : s.messages) said = said || (m.error && m.text.find("photo.jpg") != std::string::npos);
  EXPECT_TRUE(said);
}

TEST(AppState, ANewSceneInvalidatesEveryCache) {
  gui::AppState s(gui::Settings{});
  s.settings.tokens.patch = 32;  // 14 x 14 tokens: a small matrix
  s.settings.window.show_matrix = true;
  settle(s);
  ASSERT_TRUE(s.matrix);
  EXPECT_EQ(s.work.matrices_computed, 1);
  s.settings.attention.temperature = 2.0;
  settle(s);
  EXPECT_EQ(s.work.matrices_renormalised, 1);  // the kept logits
  EXPECT_EQ(s.work.rows_renormalised, 1);
  const std::uint64_t generation = s.scene.generation;
  const auto before = counts(s);
  s.settings.tokens.seed = 7;  // a new scene of the same shape
  settle(s);
  EXPECT_GT(s.scene.generation, generation);
  // Nothing kept for the old scene is reused: the row and the matrix are
  // computed from the new Q and K, not renormalised from old logits.
  EXPECT_EQ(s.work.rows_computed, before.rows_computed + 1);
  EXPECT_EQ(s.work.rows_renormalised, before.rows_renormalised);
  EXPECT_EQ(s.work.matrices_computed, before.matrices_computed + 1);
  EXPECT_EQ(s.work.matrices_renormalised, before.matrices_renormalised);
  // And the matrix is the new scene's: row q equals the new query row.
  const int q = s.primary_query();
  const auto& row = s.primary.heads;
  ASSERT_FALSE(row.empty());
  double mean_diff = 0;
  for (int j = 0; j < s.tokens(); ++j) {
    double m = 0;
    for (const auto& h : row) m += h.weights(0, j);
    mean_diff = std::max(mean_diff, std::abs(m / static_cast<double>(row.size()) - (*s.matrix)(q, j)));
  }
  EXPECT_LT(mean_diff, 1e-5);
}

// A tiny ViT in timm names: width 16, 2 layers, 2 heads, patch 8, 4x4 positions.
std::string tiny_vit(const std::string& dir) {
  const auto t = testing_vit::random_timm_vit({});
  const std::string path = dir + "/tiny_vit.safetensors";
  attn::write_file_atomic(path, attn::encode_safetensors(t));
  return path;
}

TEST(AppState, AVitsViewsComeFromItsKeptAttention) {
  const std::string dir = testing::TempDir();
  gui::Settings start;
  start.tokens.source = gui::Source::Vit;
  start.model.weights = tiny_vit(dir);
  start.model.heads = 2;
  start.model.size = 32;  // 4 x 4 patches of 8 px
  gui::AppState s(start);
  settle(s);
  ASSERT_TRUE(s.scene.vit);
  EXPECT_EQ(s.tokens(), 16);
  EXPECT_EQ(s.scene.tokens.size(), 17);       // class + patches
  EXPECT_TRUE(s.outlined_queries().empty());  // the class token belongs to no patch
  // The class token's view: the last layer's row 0, heads averaged, renormalised over the patches.
  const auto& a = s.scene.vit->result->attention();
  double patch_sum = 0;
  std::vector<double> mean(17, 0.0);
  std::vector<float> row(17);
  for (int h = 0; h < 2; ++h) {
    a.row(1, h, 0, row);
    for (int j = 0; j < 17; ++j) mean[static_cast<size_t>(j)] += row[static_cast<size_t>(j)] / 2.0;
  }
  for (int j = 1; j < 17; ++j) patch_sum += mean[static_cast<size_t>(j)];
  for (int c = 0; c < 16; ++c)
    EXPECT_NEAR(s.map[static_cast<size_t>(c)], mean[static_cast<size_t>(1 + c)] / patch_sum, 1e-5);
  EXPECT_NEAR(s.class_share, mean[0], 1e-5);
  const int vit_maps = s.work.vit_maps, scenes = s.work.scenes_adopted;
  const auto first_run = s.scene.vit;

  // Selecting a patch (a click or an arrow key) shows that patch's attention.
  s.select({5});
  settle(s);
  EXPECT_EQ(s.settings.view.query, attn::ViewQuery::Patches);
  EXPECT_EQ(s.outlined_queries(), std::vector<int>{5});
  EXPECT_EQ(s.work.vit_maps, vit_maps + 1);
  EXPECT_EQ(s.work.scenes_adopted, scenes);  // the forward pass is not rerun

  // Rollout runs once per (scene, fusion, discard); a head change reuses it.
  s.settings.view.query = attn::ViewQuery::Rollout;
  settle(s);
  EXPECT_EQ(s.work.rollouts, 1);
  s.settings.view.head = 1;
  settle(s);
  EXPECT_EQ(s.work.rollouts, 1);
  s.settings.view.discard = 0.5;
  settle(s);
  EXPECT_EQ(s.work.rollouts, 2);
  // The model temperature reruns the network; the display temperature does not.
  s.settings.attention.temperature = 0.5;
  settle(s);
  EXPECT_EQ(s.work.scenes_adopted, scenes);
  s.settings.model.temperature = 2.0;
  settle(s);
  EXPECT_EQ(s.work.scenes_adopted, scenes + 1);
  EXPECT_EQ(s.work.rollouts, 3);  // a new scene: its own rollout
  // Going back to the first model temperature finds the kept forward pass.
  s.settings.model.temperature = 1.0;
  settle(s);
  EXPECT_EQ(s.scene.vit, first_run);
}

}  // namespace

namespace {

const std::string kWords = std::string(ATTNSCOPE_SOURCE_DIR) + "/tests/data/valid/words/";

// The words' maps as the file holds them: [L, H, T, 1 + 16] over a class
// token and 4 x 4 patches (tests/data/make_bad_inputs.py's words()).
std::vector<float> file_values() {
  const auto bytes = attn::read_file(kWords + "attn.npy", 1 << 20);
  const size_t n = 2 * 2 * 3 * 17;
  std::vector<float> v(n);
  std::memcpy(v.data(), bytes.data() + bytes.size() - n * 4, n * 4);
  return v;
}

}  // namespace

TEST(AppState, ImportedWordsShowTheirMapsAndTheReverseView) {
  gui::Settings start;
  gui::open_path(start, kWords + "attn.npy");     // a .npy alone: Q, for now
  gui::open_path(start, kWords + "tokens.json");  // its words: the .npy was word attention
  ASSERT_EQ(start.tokens.source, gui::Source::Words);
  gui::AppState s(start);
  settle(s);
  ASSERT_TRUE(s.scene.words);
  EXPECT_EQ(s.scene.words->words, (std::vector<std::string>{" a", " red", " circle"}));
  EXPECT_EQ(s.scene.grid.cols, 4);
  EXPECT_EQ(s.scene.words->keys.offset, 1);
  const std::vector<float> v = file_values();
  auto at = [&](int l, int h, int t, int n) { return v[static_cast<size_t>(((l * 2 + h) * 3 + t) * 17 + n)]; };
  // The default: the last layer, the mean of the heads, the first word.
  ASSERT_EQ(s.word_maps.rows(), 3);
  for (int t = 0; t < 3; ++t)
    for (int c = 0; c < 16; ++c) EXPECT_NEAR(s.word_maps(t, c), 0.5 * (at(1, 0, t, 1 + c) + at(1, 1, t, 1 + c)), 1e-6);
  float top = 0;
  for (int c = 0; c < 16; ++c) top = std::max(top, s.word_maps(0, c));
  for (int c = 0; c < 16; ++c) EXPECT_NEAR(s.map[static_cast<size_t>(c)], s.word_maps(0, c) / top, 1e-6);
  EXPECT_EQ(s.overlay_style().scale, attn::MapScale::Fixed);
  EXPECT_TRUE(s.outlined_queries().empty());

  // Two words selected: their mean, scaled to its own maximum; head 1 of layer 0.
  const int before = s.work.word_maps, scenes = s.work.scenes_adopted;
  s.select_words({1, 2});
  s.settings.view.layer = 0;
  s.settings.view.head = 1;
  settle(s);
  EXPECT_EQ(s.work.scenes_adopted, scenes);  // no file read again
  EXPECT_GT(s.work.word_maps, before);
  std::vector<double> mean(16);
  double best = 0;
  for (int c = 0; c < 16; ++c) best = std::max(best, mean[c] = 0.5 * (at(0, 1, 1, 1 + c) + at(0, 1, 2, 1 + c)));
  for (int c = 0; c < 16; ++c) EXPECT_NEAR(s.map[static_cast<size_t>(c)], mean[static_cast<size_t>(c)] / best, 1e-5);
  // The reverse view: every word's raw weight on one patch.
  const auto here = s.words_at(5);
  ASSERT_EQ(here.size(), 3u);
  for (int t = 0; t < 3; ++t) EXPECT_NEAR(here[static_cast<size_t>(t)], at(0, 1, t, 6), 1e-6);
  EXPECT_TRUE(s.words_at(16).empty());

  // One scale for all words: the map is the raw mean over the largest weight of any word.
  s.settings.view.word_scale = attn::WordScale::Shared;
  settle(s);
  const float all_top = s.word_maps.maxCoeff();
  for (int c = 0; c < 16; ++c) EXPECT_NEAR(s.map[static_cast<size_t>(c)], mean[static_cast<size_t>(c)] / all_top, 1e-5);

  // A grid that does not fit: the error is said, the words on screen stay.
  const std::uint64_t generation = s.scene.generation;
  s.settings.tokens.words_cols = 5, s.settings.tokens.words_rows = 5;
  settle(s);
  EXPECT_EQ(s.scene.generation, generation);
  ASSERT_FALSE(s.messages.empty());
  EXPECT_NE(s.messages.back().text.find("more than"), std::string::npos) << s.messages.back().text;
  EXPECT_EQ(s.settings.tokens.words_cols, 0);
}

TEST(AppState, AWordTokenListNeedsItsAttention) {
  gui::Settings s;
  try {
    gui::open_path(s, kWords + "tokens.txt");
    ADD_FAILURE() << "a token list alone was accepted";
  } catch (const attn::Error& e) {
    EXPECT_NE(std::string(e.what()).find("word attention"), std::string::npos) << e.what();
  }
  // An attention file finds the token list beside it.
  gui::open_words(s, kWords + "attn.npy");
  EXPECT_EQ(s.tokens.source, gui::Source::Words);
  EXPECT_EQ(s.tokens.words_tokens, kWords + "tokens.txt");
  EXPECT_EQ(gui::file_kind(kWords + "tokens.json"), gui::FileKind::Tokens);
}
