// safetensors validation, the ViT weight mapper's errors, and the views
// (rollout, threshold, fusion) against hand-checked small cases.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <map>

#include "core/attention_views.hpp"
#include "core/error.hpp"
#include "core/io.hpp"
#include "core/rng.hpp"
#include "core/safetensors.hpp"
#include "core/vit.hpp"
#include "tests/core/random_vit.hpp"

namespace {

using Bytes = std::vector<std::uint8_t>;

Bytes file(const std::string& header, size_t data_bytes, std::uint64_t length_override = 0) {
  Bytes b;
  const std::uint64_t n = length_override ? length_override : header.size();
  for (int i = 0; i < 8; ++i) b.push_back(static_cast<std::uint8_t>(n >> (8 * i)));
  b.insert(b.end(), header.begin(), header.end());
  b.resize(b.size() + data_bytes, 0);
  return b;
}

std::string error_of(const Bytes& b) {
  try {
    attn::parse_safetensors(b, "w.safetensors");
  } catch (const attn::Error& e) {
    return e.what();
  }
  return "";
}

TEST(SafeTensors, ReadsEveryDtype) {
  // F32 1.5, F16 -2.0 (0xC000), BF16 3.0 (0x4040), F64 0.25.
  std::string h =
      R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F16","shape":[1],"data_offsets":[4,6]},)"
      R"("c":{"dtype":"BF16","shape":[1],"data_offsets":[6,8]},"d":{"dtype":"F64","shape":[1],"data_offsets":[8,16]},)"
      R"("__metadata__":{"format":"pt"}})";
  Bytes b = file(h, 16);
  const size_t base = 8 + h.size();
  const float f = 1.5f;
  std::memcpy(&b[base], &f, 4);
  b[base + 4] = 0x00, b[base + 5] = 0xC0;
  b[base + 6] = 0x40, b[base + 7] = 0x40;
  const double d = 0.25;
  std::memcpy(&b[base + 8], &d, 8);
  const auto st = attn::parse_safetensors(b, "w");
  EXPECT_EQ(st.tensors.at("a").to_float("a")[0], 1.5f);
  EXPECT_EQ(st.tensors.at("b").to_float("b")[0], -2.0f);
  EXPECT_EQ(st.tensors.at("c").to_float("c")[0], 3.0f);
  EXPECT_EQ(st.tensors.at("d").to_float("d")[0], 0.25f);
  EXPECT_EQ(st.metadata.at("format"), "pt");
  // Round trip through our writer.
  std::map<std::string, attn::NamedTensor> t = {{"x", {{2, 2}, {1, 2, 3, 4}, "F32"}}};
  EXPECT_EQ(attn::parse_safetensors(attn::encode_safetensors(t), "w").tensors.at("x").to_float("x"), t["x"].data);
  // Every dtype the format defines is accepted; converting one that does not
  // convert names the tensor (only a tensor a model uses is converted).
  const std::string all =
      R"({"i":{"dtype":"I64","shape":[1],"data_offsets":[0,8]},"b":{"dtype":"BOOL","shape":[1],"data_offsets":[8,9]},)"
      R"("e":{"dtype":"F8_E4M3","shape":[1],"data_offsets":[9,10]},"c":{"dtype":"C64","shape":[1],"data_offsets":[10,18]},)"
      R"("f":{"dtype":"F4","shape":[2],"data_offsets":[18,19]}})";
  const auto odd = attn::parse_safetensors(file(all, 19), "odd");
  EXPECT_EQ(odd.tensors.size(), 5u);
  EXPECT_EQ(odd.tensors.at("i").to_float("i")[0], 0.0f);
  EXPECT_THROW(odd.tensors.at("c").to_float("c"), attn::Error);
}

TEST(SafeTensors, EveryMalformedCaseIsAClearError) {
  const std::string ok = R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})";
  const std::pair<Bytes, std::string> cases[] = {
      {Bytes{1, 2, 3}, "shorter than its 8-byte header length"},
      {file(ok, 8, ~0ULL), "over the limit"},
      {file(ok, 8, 200'000'000), "over the limit"},
      {file(ok, 8, 5000), "past the end of the file"},
      {file("\xff\xfe not utf8 {", 0), "not valid UTF-8 JSON"},
      {file("{not json", 0), "not valid UTF-8 JSON"},
      {file("[1, 2]", 0), "not a JSON object"},
      {file(std::string(100000, '[') + std::string(100000, ']'), 0), "nested deeper"},
      {file(
           R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})",
           8),
       "duplicate name \"a\""},
      {file(R"({"__metadata__":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})", 4), "__metadata__ value"},
      {file(R"({"__metadata__":{"k":1}})", 0), "not a string"},
      {file(
           R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})",
           12),
       "overlaps"},
      {file(
           R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}})",
           12),
       "gap of 4 bytes"},
      {file(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[8,4]}})", 8), "run backwards"},
      {file(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})", 8), "gap of 4 bytes"},
      {file(R"({"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", 8), "needs 12"},
      {file(R"({"a":{"dtype":"F32","shape":[2,9223372036854775807],"data_offsets":[0,8]}})", 8), "overflows"},
      {file(ok, 12), "4 bytes after the last tensor"},
      {file(ok, 4), "past the end of the file"},
      {file(R"({"a":{"dtype":"Q4","shape":[1],"data_offsets":[0,1]}})", 1), "dtype Q4 is not one safetensors defines"},
      {file(R"({"a":{"dtype":"F4","shape":[3],"data_offsets":[0,2]}})", 2), "whole bytes"},
      {file(R"({"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}})", 4), "non-negative"},
      {file(R"({"a":{"dtype":"F32","shape":[1]}})", 4), "exactly"},
  };
  for (const auto& [bytes, expect] : cases) {
    const std::string e = error_of(bytes);
    EXPECT_NE(e.find(expect), std::string::npos) << "expected '" << expect << "', got '" << e << "'";
  }
}

TEST(VitWeights, MissingOrMisShapedTensorsAreNamed) {
  std::map<std::string, attn::NamedTensor> t;
  auto add = [&](const std::string& n, std::vector<std::int64_t> shape) {
    std::int64_t c = 1;
    for (auto d : shape) c *= d;
    t[n] = {shape, std::vector<float>(static_cast<size_t>(c), 0.1f), "F32"};
  };
  EXPECT_THROW(attn::load_vit(attn::parse_safetensors(attn::encode_safetensors({{"x", {{1}, {1}, "F32"}}}), "w")),
               attn::Error);
  add("cls_token", {1, 1, 8});
  add("pos_embed", {1, 5, 8});
  add("patch_embed.proj.weight", {8, 3, 2, 2});
  add("patch_embed.proj.bias", {8});
  add("blocks.0.attn.qkv.weight", {24, 8});
  auto load = [&] { return attn::load_vit(attn::parse_safetensors(attn::encode_safetensors(t), "w"), 2); };
  auto error = [&] {
    try {
      load();
    } catch (const attn::Error& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  EXPECT_NE(error().find("\"blocks.0.norm1.weight\""), std::string::npos) << error();
  for (const char* n : {"norm1", "norm2"}) {
    add(std::string("blocks.0.") + n + ".weight", {8});
    add(std::string("blocks.0.") + n + ".bias", {8});
  }
  add("blocks.0.attn.qkv.bias", {24});
  add("blocks.0.attn.proj.weight", {8, 8});
  add("blocks.0.attn.proj.bias", {7});  // wrong
  EXPECT_NE(error().find("\"blocks.0.attn.proj.bias\" has shape [7], expected [8]"), std::string::npos) << error();
  add("blocks.0.attn.proj.bias", {8});
  add("blocks.0.mlp.fc1.weight", {32, 8});
  add("blocks.0.mlp.fc1.bias", {32});
  add("blocks.0.mlp.fc2.weight", {8, 32});
  add("blocks.0.mlp.fc2.bias", {8});
  add("norm.weight", {8});
  add("norm.bias", {8});
  const attn::VitModel m = load();
  EXPECT_EQ(m.naming, "timm");
  EXPECT_EQ(m.width, 8);
  EXPECT_EQ(m.depth, 1);
  EXPECT_EQ(m.patch, 2);
  EXPECT_EQ(m.pos_grid, 2);
  EXPECT_EQ(m.heads, 2);
  // A config.json with values no conversion can hold is an error, not a cast.
  const auto st = attn::parse_safetensors(attn::encode_safetensors(t), "w");
  for (const char* cfg :
       {R"({"num_attention_heads": 8e127})", R"({"hidden_size": -1})", R"({"layer_norm_eps": "x"})", R"([1, 2])"}) {
    if (std::string(cfg) == "[1, 2]") {
      EXPECT_NO_THROW(attn::load_vit(st, 2, {cfg, "", ""}));  // not an object: nothing to read
    } else {
      EXPECT_THROW(attn::load_vit(st, 0, {cfg, "", ""}), attn::Error) << cfg;
    }
  }
  // Width 8 cannot be split into heads by the width/64 rule.
  EXPECT_THROW(attn::load_vit(attn::parse_safetensors(attn::encode_safetensors(t), "w")), attn::Error);
  // The forward pass on a 4x6 image: 2x3 patches from a 2x2 position grid.
  attn::Image img = attn::Image::blank(6, 4);
  const auto r = attn::run_vit(m, img);
  EXPECT_EQ(r.tokens, 7);
  for (const auto& h : r.attention().layer(0))
    for (int i = 0; i < 7; ++i) EXPECT_NEAR(h.row(i).sum(), 1.0f, 1e-5);
}

TEST(VitViews, RolloutOfAHandCheckedCase) {
  // Two tokens, one layer, one head: A = [[0.5, 0.5], [0, 1]].
  attn::Matrix a(2, 2);
  a << 0.5f, 0.5f, 0.0f, 1.0f;
  // (A + I) / 2 = [[0.75, 0.25], [0, 1]]: rows already sum to 1.
  attn::Matrix r = attn::attention_rollout(attn::AttentionStack::from_layers({{a}}), attn::HeadFusion::Mean, 0.0);
  EXPECT_NEAR(r(0, 0), 0.75f, 1e-6);
  EXPECT_NEAR(r(0, 1), 0.25f, 1e-6);
  EXPECT_NEAR(r(1, 1), 1.0f, 1e-6);
  // Two layers multiply: R = A' A' = [[0.5625, 0.4375], [0, 1]].
  r = attn::attention_rollout(attn::AttentionStack::from_layers({{a}, {a}}), attn::HeadFusion::Mean, 0.0);
  EXPECT_NEAR(r(0, 0), 0.5625f, 1e-6);
  EXPECT_NEAR(r(0, 1), 0.4375f, 1e-6);
  // Rows that do not sum to 1 are renormalised per row (not per column).
  attn::Matrix b(2, 2);
  b << 0.2f, 0.2f, 0.6f, 0.2f;
  r = attn::attention_rollout(attn::AttentionStack::from_layers({{b}}), attn::HeadFusion::Mean, 0.0);
  // Row 0: (0.6, 0.1) / 0.7; row 1: (0.3, 0.6) / 0.9.
  EXPECT_NEAR(r(0, 0), 0.6f / 0.7f, 1e-6);
  EXPECT_NEAR(r(1, 0), 0.3f / 0.9f, 1e-6);
  EXPECT_NEAR(r.row(1).sum(), 1.0f, 1e-6);
  // Discarding the smallest quarter zeroes b(0,1)=0.2 (b(0,0) is spared: class to class).
  attn::Matrix c(2, 2);
  c << 0.1f, 0.3f, 0.2f, 0.4f;
  r = attn::attention_rollout(attn::AttentionStack::from_layers({{c}}), attn::HeadFusion::Mean,
                              0.5);  // two smallest: c(0,0)=0.1 (spared), c(1,0)=0.2
  EXPECT_NEAR(r(1, 0), 0.0f, 1e-6);
  EXPECT_NEAR(r(1, 1), 1.0f, 1e-6);
  EXPECT_NEAR(r(0, 0), 0.55f / 0.7f, 1e-6);
}

TEST(VitViews, FusionAndThreshold) {
  attn::Matrix a(1, 3), b(1, 3);
  a << 0.1f, 0.5f, 0.4f;
  b << 0.3f, 0.3f, 0.4f;
  EXPECT_NEAR(attn::fuse_heads({a, b}, attn::HeadFusion::Mean)(0, 0), 0.2f, 1e-6);
  EXPECT_EQ(attn::fuse_heads({a, b}, attn::HeadFusion::Max)(0, 1), 0.5f);
  EXPECT_EQ(attn::fuse_heads({a, b}, attn::HeadFusion::Min)(0, 1), 0.3f);
  // Values 0.4, 0.3, 0.2, 0.1: 60% of the mass needs the two largest (0.7);
  // 35% needs only the largest; 100% needs all but zeros.
  const std::vector<float> v = {0.2f, 0.4f, 0.1f, 0.3f, 0.0f};
  EXPECT_EQ(attn::keep_mass(v, 0.6), (std::vector<std::uint8_t>{0, 1, 0, 1, 0}));
  EXPECT_EQ(attn::keep_mass(v, 0.35), (std::vector<std::uint8_t>{0, 1, 0, 0, 0}));
  EXPECT_EQ(attn::keep_mass(v, 0.41), (std::vector<std::uint8_t>{0, 1, 0, 1, 0}));
  EXPECT_EQ(attn::keep_mass(v, 1.0), (std::vector<std::uint8_t>{1, 1, 1, 1, 0}));
  const int tokens[] = {1, 3};
  const auto s = attn::select_tokens(v, tokens, true);
  EXPECT_NEAR(s[0], 0.4f / 0.7f, 1e-6);
  EXPECT_NEAR(s[1], 0.3f / 0.7f, 1e-6);
}

TEST(VitViews, HeadStatistics) {
  // 2x1 patches + class token; each patch attends fully to the other patch.
  attn::Matrix a = attn::Matrix::Zero(3, 3);
  a(0, 0) = 1;
  a(1, 2) = 1;
  a(2, 1) = 1;
  const attn::TokenKind prefix[] = {attn::TokenKind::Class};
  const auto s =
      attn::head_statistics(attn::AttentionStack::from_layers({{a}}), attn::TokenSet::vit({16, 2, 1}, prefix, 0));
  EXPECT_NEAR(s.distance(0, 0), 16.0f, 1e-5);
  EXPECT_NEAR(s.entropy(0, 0), 0.0f, 1e-6);
}

TEST(Vit, BicubicResamplingKeepsASizeAndAConstant) {
  attn::Matrix g(4, 2);
  g << 1, 5, 2, 5, 3, 5, 4, 5;  // a 2x2 grid, two channels
  EXPECT_TRUE(attn::resample_bicubic(g, 2, 2, 2, 2).isApprox(g));
  const attn::Matrix up = attn::resample_bicubic(g, 2, 2, 3, 5);
  EXPECT_EQ(up.rows(), 15);
  for (int i = 0; i < 15; ++i) EXPECT_NEAR(up(i, 1), 5.0f, 1e-5);
}

}  // namespace

namespace {

// A small random ViT in timm names (width 32, 2 layers, 4 heads, patch 4,
// 4 x 4 positions, 2 registers), with attention far from uniform: its
// tensors, and the model loaded from them.
auto random_vit_tensors() {
  testing_vit::Spec spec;
  spec.width = 32, spec.patch = 4, spec.registers = 2, spec.qkv_scale = 0.8f, spec.patch_scale = 0.3f, spec.seed = 11;
  return testing_vit::random_timm_vit(spec);
}

attn::VitModel random_vit() {
  return attn::load_vit(attn::parse_safetensors(attn::encode_safetensors(random_vit_tensors()), "w"), 4);
}

attn::Image random_image(int w, int h) {
  attn::Image img = attn::Image::blank(w, h);
  attn::Rng rng(5);
  for (size_t i = 0; i < img.rgba.size(); ++i) img.rgba[i] = static_cast<std::uint8_t>(rng.uniform() * 255.0f);
  return img;
}

}  // namespace

TEST(Vit, HalfPrecisionMapsAreTheFloatMapsRounded) {
  const attn::VitModel m = random_vit();
  const attn::Image img = random_image(24, 20);  // 6 x 5 patches: positions resampled
  attn::VitOptions f32, f16;
  f16.attention_precision = attn::Precision::F16;
  const attn::VitResult a = attn::run_vit(m, img, f32), b = attn::run_vit(m, img, f16);
  ASSERT_EQ(a.attention().precision(), attn::Precision::F32);
  ASSERT_EQ(b.attention().precision(), attn::Precision::F16);
  EXPECT_EQ(b.attention().bytes() * 2, a.attention().bytes());
  for (int l = 0; l < 2; ++l)
    for (int h = 0; h < 4; ++h) {
      const attn::Matrix x = a.attention().head(l, h), y = b.attention().head(l, h);
      // Half precision: relative 2^-11 above 6e-5, an absolute 6e-8 below.
      EXPECT_LE(((x - y).array().abs() - x.array().abs() * (1.0f / 2048) - 6e-8f).maxCoeff(), 0.0f) << l << h;
    }
  // A view on either is the same picture within that precision.
  attn::MapRequest r;
  r.ignore_top_norms = 1;
  const attn::MapView va = attn::attention_map(a.record, r), vb = attn::attention_map(b.record, r);
  for (size_t c = 0; c < va.map.size(); ++c) EXPECT_NEAR(va.map[c], vb.map[c], 2e-3 * va.map[c] + 1e-6);
  // The norms: every token at each layer's input, then after the last.
  ASSERT_EQ(a.record.token_norms.rows(), 3);
  ASSERT_EQ(a.record.token_norms.cols(), a.tokens);
  EXPECT_GT(a.record.token_norms.minCoeff(), 0.0f);
}

TEST(Vit, StreamedBlocksGiveTheSameAttention) {
  // The same weights kept in memory (packed for the gemm when loaded) and
  // read from the file as the forward pass reaches them (as read): the
  // same sums in the same order, so the same attention to the bit.
  const std::string path = testing::TempDir() + "/streamed.safetensors";
  attn::write_file_atomic(path, attn::encode_safetensors(random_vit_tensors()));
  const attn::VitModel resident = attn::load_vit_file(path, 4, "", /*stream_blocks=*/false);
  const attn::VitModel streamed = attn::load_vit_file(path, 4, "", /*stream_blocks=*/true);
  ASSERT_EQ(resident.blocks.size(), static_cast<size_t>(resident.depth));
  for (const attn::VitBlock& b : resident.blocks)
    for (const attn::LinearWeight* w : {&b.qkv, &b.proj, &b.fc1, &b.fc2}) {
      EXPECT_FALSE(w->packed.empty());
      EXPECT_EQ(w->w.size(), 0) << "the weights as read are freed once packed";
    }
  EXPECT_EQ(resident.blocks[0].qkv.out(), 3 * resident.width);
  EXPECT_TRUE(streamed.blocks.empty());
  ASSERT_TRUE(streamed.streamed);
  const attn::Image img = random_image(16, 16);
  const attn::VitResult a = attn::run_vit(resident, img), b = attn::run_vit(streamed, img);
  for (int l = 0; l < resident.depth; ++l)
    for (int h = 0; h < resident.heads; ++h) EXPECT_EQ(a.attention().head(l, h), b.attention().head(l, h));
  EXPECT_EQ(a.output, b.output);
}
