// Settings and sessions: every field survives a round trip, old spellings
// still open, bad values are refused with the key named; and the command
// line opens several files in turn.
#include <gtest/gtest.h>

#include "core/error.hpp"
#include "options.hpp"
#include "settings.hpp"

namespace {

std::string error_of(const std::string& json) {
  try {
    gui::from_json(json, "s.json");
  } catch (const attn::Error& e) {
    return e.what();
  }
  return "";
}

TEST(Settings, EveryFieldSurvivesARoundTrip) {
  gui::Settings s;
  s.tokens = {gui::Source::Words,
              "a.png",
              "q.npy",
              "k.npy",
              "v.npy",
              8,
              96,
              3,
              77,
              true,
              9,
              "a.npy",
              "t.txt",
              "cross",
              24,
              24,
              5};
  s.model = {"w.pth", "teacher", 6, -1, 0.7};
  s.attention = {0.3, attn::Score::Cosine, attn::Norm::Sparsemax, attn::MaskStructure::Local, 3, {4, 5}};
  s.view = {2,
            attn::ViewQuery::Rollout,
            5,
            attn::HeadFusion::Min,
            0.6,
            0.25,
            true,
            true,
            3,
            true,
            attn::WordSmooth::Gaussian,
            attn::WordScale::Shared};
  s.selection.queries = {1, 2, 3};
  s.selection.words = {0, 4};
  s.display = {attn::Colormap::Diverging, 0.4f, attn::Upsample::Nearest, attn::MapScale::MinMax, false, true};
  gui::CompareSettings& c = s.compare;
  c.on = c.temperature = c.head = c.layer = c.score = c.norm = c.mask = c.image = c.model = true;
  c.b_temperature = 0.25, c.b_head = 3, c.b_layer = 7, c.b_score = attn::Score::Raw, c.b_norm = attn::Norm::None;
  c.b_mask = attn::MaskStructure::Local, c.b_image = "b.png", c.b_weights = "clip/model.safetensors";
  s.window = {2.0f, true, false, true, false, true, true, true, 1280, 720, {"x.png", "y.png"}};
  const gui::Settings back = gui::from_json(gui::to_json(s), "round trip");
  EXPECT_TRUE(back == s) << gui::to_json(back);
  // Every field was written under a key: none is missing from the JSON.
  gui::Settings defaults;
  int fields = 0;
  defaults.visit([&](const char*, auto&, auto&&...) { ++fields; });
  const std::string json = gui::to_json(s);
  int keys = 0;
  for (size_t i = json.find("\n  \""); i != std::string::npos; i = json.find("\n  \"", i + 1)) ++keys;
  EXPECT_EQ(keys, fields + 1);  // and "format"
}

TEST(Settings, OldSpellingsStillOpen) {
  // Sessions of attnscope 0.1 spell the class-token view "class-token";
  // the command line said "cls": both are the same value everywhere.
  const std::string head = R"({"format": "attnscope-session-1", )";
  EXPECT_EQ(gui::from_json(head + R"("vit_view": "class-token"})", "a").view.query, attn::ViewQuery::ClassToken);
  EXPECT_EQ(gui::from_json(head + R"("vit_view": "cls"})", "a").view.query, attn::ViewQuery::ClassToken);
  EXPECT_EQ(gui::from_json(head + R"("colormap": "gray"})", "a").display.colormap, attn::Colormap::Greyscale);
  // Keys a newer or older version does not know are ignored; missing ones keep their defaults.
  const gui::Settings s = gui::from_json(head + R"("patch": 8, "future_setting": 1})", "a");
  EXPECT_EQ(s.tokens.patch, 8);
  EXPECT_EQ(s.display.scale_includes_query, false);
}

TEST(Settings, BadValuesNameTheirKey) {
  const std::string head = R"({"format": "attnscope-session-1", )";
  EXPECT_NE(error_of(head + R"("patch": 0})").find("\"patch\""), std::string::npos);
  EXPECT_NE(error_of(head + R"("vit_threshold": 0})").find("\"vit_threshold\""), std::string::npos);
  EXPECT_EQ(error_of(head + R"("vit_threshold": 0.001})"), "");  // (0, 1], as the CLI's --threshold
  EXPECT_NE(error_of(head + R"("score": "magic"})").find("scaled-dot"), std::string::npos);  // lists the choices
  EXPECT_NE(error_of(head + R"("queries": [1, -2]})").find("\"queries\""), std::string::npos);
  EXPECT_NE(error_of(head + R"("opacity": 1e300})").find("\"opacity\""), std::string::npos);
  EXPECT_NE(error_of(R"({"patch": 8})").find("not an attnscope session"), std::string::npos);
}

gui::Options parse(std::vector<std::string> args) {
  std::vector<char*> argv;
  static std::string name = "attnscope";
  argv.push_back(name.data());
  for (auto& a : args) argv.push_back(a.data());
  return gui::parse_options(static_cast<int>(argv.size()), argv.data(), gui::Settings{});
}

TEST(Options, SeveralFilesOpenInTurn) {
  // An image and weights, as a file manager passes them.
  const gui::Options o = parse({"photo.jpg", "model.safetensors"});
  EXPECT_EQ(o.settings.tokens.source, gui::Source::Vit);
  EXPECT_EQ(o.settings.tokens.image_path, "photo.jpg");
  EXPECT_EQ(o.settings.model.weights, "model.safetensors");
  // Q, then K, then V.
  const gui::Options t = parse({"q.npy", "k.npy", "v.csv"});
  EXPECT_EQ(t.settings.tokens.source, gui::Source::Files);
  EXPECT_EQ(t.settings.tokens.q_path, "q.npy");
  EXPECT_EQ(t.settings.tokens.k_path, "k.npy");
  EXPECT_EQ(t.settings.tokens.v_path, "v.csv");
  EXPECT_THROW(parse({"--vit-view", "sideways"}), attn::Error);
  EXPECT_EQ(parse({"--vit-view", "cls"}).settings.view.query, attn::ViewQuery::ClassToken);
  EXPECT_EQ(parse({"--colormap", "diverging"}).settings.display.colormap, attn::Colormap::Diverging);
  EXPECT_THROW(parse({"--keep-mass", "0"}), attn::Error);
  EXPECT_EQ(parse({"--hover", "3,4"}).hover, std::make_pair(3, 4));
}

}  // namespace
