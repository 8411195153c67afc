// The captioner's scenes (from their written specification), captions and
// C++ run on the tiny valid model in tests/data/valid; the bundled model's
// numbers are checked against PyTorch by tests/torch/captioner_crosscheck.py.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <set>

#include "core/captioner.hpp"
#include "core/captioner_scene.hpp"
#include "core/error.hpp"
#include "core/io.hpp"
#include "core/word_views.hpp"

namespace {

const std::string kTiny = std::string(ATTNSCOPE_SOURCE_DIR) + "/tests/data/valid/captioner_tiny";

attn::SceneObject object(const char* colour, const char* shape, int x, int y, int side) {
  attn::SceneObject o;
  o.colour = colour, o.shape = shape, o.x = x, o.y = y, o.side = side;
  return o;
}

TEST(CaptionScenes, FollowTheSpecification) {
  std::set<size_t> counts;
  for (std::uint64_t seed = 0; seed < 300; ++seed) {
    const attn::CaptionScene s = attn::draw_caption_scene(seed);
    ASSERT_EQ(s.image.width, 128);
    ASSERT_EQ(s.image.height, 128);
    ASSERT_GE(s.objects.size(), 1u);
    ASSERT_LE(s.objects.size(), 3u);
    counts.insert(s.objects.size());
    for (size_t i = 0; i < s.objects.size(); ++i) {
      const attn::SceneObject& a = s.objects[i];
      EXPECT_GE(a.side, 24);
      EXPECT_LE(a.side, 40);
      EXPECT_TRUE(a.x >= 0 && a.y >= 0 && a.x + a.side <= 128 && a.y + a.side <= 128);
      for (size_t j = 0; j < i; ++j) {
        const attn::SceneObject& b = s.objects[j];
        EXPECT_FALSE(a.colour == b.colour && a.shape == b.shape) << "seed " << seed;
        const int gx = std::max(b.x - (a.x + a.side), a.x - (b.x + b.side));
        const int gy = std::max(b.y - (a.y + a.side), a.y - (b.y + b.side));
        EXPECT_GE(std::max(gx, gy), 4) << "seed " << seed;
      }
      // The object's colour is at its centre (the square and circle cover it).
      if (a.shape != "triangle") {
        const std::uint8_t* p = s.image.pixel(static_cast<int>(a.cx()), static_cast<int>(a.cy()));
        const bool red = p[0] > 150 && p[1]<90, blue = p[2]> 150 && p[0] < 90;
        if (a.colour == "red") {
          EXPECT_TRUE(red) << "seed " << seed;
        }
        if (a.colour == "blue") {
          EXPECT_TRUE(blue) << "seed " << seed;
        }
      }
    }
  }
  EXPECT_EQ(counts.size(), 3u);
  // The same scene on every run.
  EXPECT_EQ(attn::draw_caption_scene(42).image.rgba, attn::draw_caption_scene(42).image.rgba);
}

TEST(CaptionScenes, CaptionsFollowTheRules) {
  const auto one = attn::valid_captions({object("red", "circle", 10, 10, 30)});
  EXPECT_EQ(one, (std::vector<std::string>{"a red circle"}));
  // dx = -50, dy = 20: horizontal, the first is left of the second.
  const auto two = attn::valid_captions({object("red", "circle", 10, 40, 30), object("blue", "square", 60, 20, 30)});
  EXPECT_EQ(std::set<std::string>(two.begin(), two.end()),
            (std::set<std::string>{"a red circle left of a blue square", "a blue square right of a red circle"}));
  // |dx| = |dy|: horizontal. |dy| > |dx|: above / below.
  const auto tie = attn::valid_captions({object("red", "circle", 0, 0, 30), object("blue", "square", 40, 40, 30)});
  EXPECT_NE(std::find(tie.begin(), tie.end(), "a red circle left of a blue square"), tie.end());
  const auto vertical =
      attn::valid_captions({object("green", "triangle", 50, 0, 30), object("yellow", "circle", 40, 80, 30)});
  EXPECT_NE(std::find(vertical.begin(), vertical.end(), "a green triangle above a yellow circle"), vertical.end());
  EXPECT_NE(std::find(vertical.begin(), vertical.end(), "a yellow circle below a green triangle"), vertical.end());
  const auto three = attn::valid_captions(
      {object("red", "circle", 0, 0, 30), object("blue", "square", 50, 0, 30), object("green", "triangle", 0, 60, 30)});
  EXPECT_EQ(three.size(), 6u);
  EXPECT_NE(std::find(three.begin(), three.end(), "a blue square , a green triangle and a red circle"), three.end());
}

TEST(CaptionScenes, ObjectCellsAreTheCoveredPatches) {
  // A square filling cells (1..2, 1..2) of an 8 x 8 grid of 16 px.
  EXPECT_EQ(attn::object_cells(object("red", "square", 16, 16, 32), 8), (std::vector<int>{9, 10, 17, 18}));
  // Half a pixel into a cell does not cover it (coverage below 0.5 there).
  const auto cells = attn::object_cells(object("red", "circle", 20, 20, 24), 8);
  EXPECT_FALSE(cells.empty());
  for (int c : cells) EXPECT_TRUE(c / 8 >= 1 && c / 8 <= 2 && c % 8 >= 1 && c % 8 <= 2) << c;
}

TEST(Captioner, RunsTheTinyModel) {
  const attn::CaptionerModel m = attn::load_captioner_dir(kTiny);
  EXPECT_FALSE(m.step.has_value());
  EXPECT_NE(attn::describe(m).find("1 encoder layer x 2 heads"), std::string::npos) << attn::describe(m);
  const attn::Caption c = attn::run_captioner(m, attn::draw_caption_scene(3).image);
  const int T = static_cast<int>(c.words.size());
  ASSERT_LE(T, m.config.max_tokens);
  EXPECT_TRUE(c.logits.rows() == T || c.logits.rows() == T + 1);
  ASSERT_EQ(c.record.token_sets.size(), 2u);
  EXPECT_EQ(c.record.token_sets[0].tokens.size(), 4u);
  EXPECT_EQ(static_cast<int>(c.record.token_sets[1].tokens.size()), T);
  const attn::NamedAttention* cross = c.record.find(attn::AttentionRole::Cross);
  const attn::NamedAttention* dec = c.record.find(attn::AttentionRole::DecoderSelf);
  const attn::NamedAttention* enc = c.record.find(attn::AttentionRole::EncoderSelf);
  ASSERT_TRUE(cross && dec && enc);
  EXPECT_EQ(cross->weights.queries(), T);
  EXPECT_EQ(cross->weights.keys(), 4);
  EXPECT_EQ(enc->weights.queries(), 4);
  for (const attn::NamedAttention* a : {cross, dec, enc})
    for (int l = 0; l < a->weights.layers(); ++l)
      for (int h = 0; h < a->weights.heads(); ++h) {
        const attn::Matrix w = a->weights.head(l, h);
        for (Eigen::Index i = 0; i < w.rows(); ++i) EXPECT_NEAR(w.row(i).sum(), 1.0f, 1e-5f);
        if (a == dec) {
          for (Eigen::Index i = 0; i < w.rows(); ++i)
            for (Eigen::Index j = i + 1; j < w.cols(); ++j) EXPECT_EQ(w(i, j), 0.0f);
        }
      }
  // Each word is the argmax of its step's logits.
  for (int t = 0; t < T; ++t) {
    Eigen::Index best = 0;
    c.logits.row(t).maxCoeff(&best);
    EXPECT_EQ(m.config.vocab[static_cast<size_t>(best)], c.words[static_cast<size_t>(t)]);
  }
  // A checkpoint by step; an unknown one names the steps there are.
  EXPECT_EQ(attn::load_captioner_dir(kTiny, 10).step, 10);
  try {
    attn::load_captioner_dir(kTiny, 3);
    ADD_FAILURE() << "step 3 loaded";
  } catch (const attn::Error& e) {
    EXPECT_NE(std::string(e.what()).find("0, 10"), std::string::npos) << e.what();
  }
}

TEST(Captioner, AnEmptyCaptionHasEmptyMapsAndNoNaN) {
  // A model whose first step says <eos>: no words, and every view of them
  // is empty or zero (found by UBSan: Eigen's col() on an empty matrix).
  attn::CaptionerModel m = attn::load_captioner_dir(kTiny);
  m.head_b[m.config.eos] = 1000.0f;
  const attn::Caption c = attn::run_captioner(m, attn::draw_caption_scene(1).image);
  EXPECT_TRUE(c.words.empty());
  EXPECT_EQ(c.logits.rows(), 1);
  const attn::Matrix maps = attn::word_maps(c.record, {});
  EXPECT_EQ(maps.rows(), 0);
  EXPECT_EQ(maps.cols(), 4);
  const attn::PatchGrid grid{16, 2, 2};
  const std::vector<float> sel = attn::selection_map(maps, grid, {}, attn::WordSmooth::Bilinear, attn::WordScale::Word);
  ASSERT_EQ(sel.size(), 4u);
  for (float v : sel) EXPECT_TRUE(std::isfinite(v));
  EXPECT_EQ(attn::display_maps(maps, grid, attn::WordSmooth::Gaussian, attn::WordScale::Shared).rows(), 0);
}

TEST(Captioner, ConfigRefusesWhatDoesNotFit) {
  const auto good = attn::read_file(kTiny + "/config.json", 1 << 20);
  EXPECT_EQ(attn::parse_captioner_config(good, "c").vocab.size(), 6u);
  std::string text(good.begin(), good.end());
  const auto refuses = [](std::string t, const char* what) {
    try {
      attn::parse_captioner_config(std::span(reinterpret_cast<const std::uint8_t*>(t.data()), t.size()), "c");
      ADD_FAILURE() << "accepted: " << t.substr(0, 80);
    } catch (const attn::Error& e) {
      EXPECT_NE(std::string(e.what()).find(what), std::string::npos) << e.what();
    }
  };
  refuses(std::string(text).replace(text.find("\"patch\": 16"), 11, "\"patch\": 1e300"), "patch");
  refuses(std::string(text).replace(text.find("\"max_tokens\": 4"), 15, "\"max_tokens\": -4"), "max_tokens");
  refuses(std::string(text).replace(text.find("\"eos\": 2"), 8, "\"eos\": 99"), "eos");
  refuses("", "not valid JSON");
}

}  // namespace
