// Imported word attention: the files (attention tensors, token lists), where
// the image's keys sit, and each word's map, against simple references on
// fresh random inputs.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "core/tensor_file.hpp"  // float_to_half
#include "core/word_files.hpp"
#include "core/word_views.hpp"

namespace {

std::vector<std::uint8_t> bytes_of(const std::string& s) { return {s.begin(), s.end()}; }

// A .npy file of `dtype` ('<f4', '<f8', '<f2', '<i4') in C order.
std::vector<std::uint8_t> npy(const std::vector<std::int64_t>& shape, const std::vector<float>& values,
                              const std::string& dtype = "<f4") {
  std::string dims;
  for (auto d : shape) dims += std::to_string(d) + ",";
  if (shape.size() > 1) dims.pop_back();
  std::string header = "{'descr': '" + dtype + "', 'fortran_order': False, 'shape': (" + dims + "), }";
  while ((10 + header.size() + 1) % 64) header += ' ';
  header += '\n';
  std::vector<std::uint8_t> out = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0};
  out.push_back(static_cast<std::uint8_t>(header.size() & 0xff));
  out.push_back(static_cast<std::uint8_t>(header.size() >> 8));
  out.insert(out.end(), header.begin(), header.end());
  for (float v : values) {
    std::uint8_t b[8];
    if (dtype == "<f8") {
      const double d = v;
      std::memcpy(b, &d, 8);
      out.insert(out.end(), b, b + 8);
    } else if (dtype == "<f2") {
      const std::uint16_t h = attn::float_to_half(v);
      std::memcpy(b, &h, 2);
      out.insert(out.end(), b, b + 2);
    } else if (dtype == "<i4") {
      const auto i = static_cast<std::int32_t>(v);
      std::memcpy(b, &i, 4);
      out.insert(out.end(), b, b + 4);
    } else {
      std::memcpy(b, &v, 4);
      out.insert(out.end(), b, b + 4);
    }
  }
  return out;
}

// A safetensors file of F32 tensors {name: (shape, values)}.
std::vector<std::uint8_t> safetensors(
    const std::vector<std::pair<std::string, std::pair<std::vector<std::int64_t>, std::vector<float>>>>& tensors) {
  std::string header = "{";
  std::vector<std::uint8_t> data;
  for (const auto& [name, t] : tensors) {
    std::string dims;
    for (auto d : t.first) {
      if (!dims.empty()) dims += ',';
      dims += std::to_string(d);
    }
    const size_t begin = data.size();
    for (float v : t.second) {
      std::uint8_t b[4];
      std::memcpy(b, &v, 4);
      data.insert(data.end(), b, b + 4);
    }
    if (header.size() > 1) header += ",";
    header += "\"" + name + "\":{\"dtype\":\"F32\",\"shape\":[" + dims + "],\"data_offsets\":[" +
              std::to_string(begin) + "," + std::to_string(data.size()) + "]}";
  }
  header += "}";
  std::vector<std::uint8_t> out;
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<std::uint8_t>(header.size() >> (8 * i)));
  out.insert(out.end(), header.begin(), header.end());
  out.insert(out.end(), data.begin(), data.end());
  return out;
}

std::vector<float> random_weights(size_t n, std::uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(0.0f, 1.0f);
  std::vector<float> v(n);
  for (float& x : v) x = u(rng);
  return v;
}

template <typename F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const attn::Error& e) {
    return e.what();
  }
  return "(no error)";
}

#define EXPECT_MENTIONS(text, part) EXPECT_NE(std::string(text).find(part), std::string::npos) << (text)

TEST(WordFiles, EveryRankAndFloatTypeReadsBackExactly) {
  const std::vector<float> v = random_weights(2 * 3 * 4 * 5, 1);
  for (const std::string dtype : {"<f4", "<f8", "<f2"}) {
    const auto f = attn::parse_word_attention_npy(npy({2, 3, 4, 5}, v, dtype), "a.npy");
    ASSERT_EQ(f.weights.layers(), 2);
    ASSERT_EQ(f.weights.heads(), 3);
    ASSERT_EQ(f.weights.queries(), 4);
    ASSERT_EQ(f.weights.keys(), 5);
    EXPECT_EQ(f.shape, (std::vector<std::int64_t>{2, 3, 4, 5}));
    EXPECT_FALSE(f.negative);
    std::vector<float> row(5);
    for (int l = 0; l < 2; ++l)
      for (int h = 0; h < 3; ++h)
        for (int t = 0; t < 4; ++t) {
          f.weights.row(l, h, t, row);
          for (int n = 0; n < 5; ++n) {
            const float want = v[static_cast<size_t>(((l * 3 + h) * 4 + t) * 5 + n)];
            EXPECT_NEAR(row[static_cast<size_t>(n)], want, dtype == "<f2" ? 1e-3f : 0.0f) << dtype;
          }
        }
  }
  // [T, N] and [H, T, N]: the missing leading dimensions are 1.
  const auto two = attn::parse_word_attention_npy(npy({4, 5}, std::vector<float>(v.begin(), v.begin() + 20)), "b.npy");
  EXPECT_EQ(two.weights.layers(), 1);
  EXPECT_EQ(two.weights.heads(), 1);
  const auto three =
      attn::parse_word_attention_npy(npy({3, 4, 5}, std::vector<float>(v.begin(), v.begin() + 60)), "c.npy");
  EXPECT_EQ(three.weights.layers(), 1);
  EXPECT_EQ(three.weights.heads(), 3);
  // safetensors: the one candidate tensor, or the named one among several.
  const auto st = attn::parse_word_attention_safetensors(
      safetensors({{"cross", {{4, 5}, {v.begin(), v.begin() + 20}}}, {"scale", {{1}, {1.0f}}}}), "a.safetensors");
  EXPECT_EQ(st.tensor, "cross");
  const auto several = safetensors(
      {{"layer0", {{4, 5}, {v.begin(), v.begin() + 20}}}, {"layer1", {{3, 4, 5}, {v.begin(), v.begin() + 60}}}});
  EXPECT_MENTIONS(error_of([&] { attn::parse_word_attention_safetensors(several, "s.safetensors"); }), "--tensor");
  EXPECT_EQ(attn::parse_word_attention_safetensors(several, "s.safetensors", "layer1").weights.heads(), 3);
  EXPECT_MENTIONS(error_of([&] { attn::parse_word_attention_safetensors(several, "s.safetensors", "nope"); }),
                  "no tensor \"nope\"");
}

TEST(WordFiles, BadAttentionSaysWhatIsWrong) {
  EXPECT_MENTIONS(error_of([] { attn::parse_word_attention_npy(npy({5}, random_weights(5, 2)), "r1.npy"); }), "rank 1");
  EXPECT_MENTIONS(error_of([] { attn::parse_word_attention_npy(npy({0, 5}, {}), "t0.npy"); }), "empty");
  EXPECT_MENTIONS(error_of([] {
                    attn::parse_word_attention_npy(npy({2, 2}, {1, 2, 3, 4}, "<i4"), "int.npy");
                  }),
                  "int.npy");
  std::vector<float> v = random_weights(2 * 3 * 4, 3);
  v[7] = NAN;
  EXPECT_MENTIONS(error_of([&] { attn::parse_word_attention_npy(npy({2, 3, 4}, v), "nan.npy"); }), "[0, 1, 3]");
  v[7] = INFINITY;
  EXPECT_MENTIONS(error_of([&] { attn::parse_word_attention_npy(npy({2, 3, 4}, v), "inf.npy"); }), "+Inf");
  // Negative values load, flagged (a difference, a relevance score).
  v[7] = -0.5f;
  EXPECT_TRUE(attn::parse_word_attention_npy(npy({2, 3, 4}, v), "neg.npy").negative);
  // Over the memory limit: refused before anything is kept.
  attn::WordFileLimits small;
  small.max_attention_bytes = 16;
  EXPECT_MENTIONS(error_of([&] {
                    attn::parse_word_attention_npy(npy({2, 3, 4}, random_weights(24, 4)), "big.npy", small);
                  }),
                  "half precision");
}

TEST(WordFiles, TokensAsLinesOrJson) {
  using V = std::vector<std::string>;
  EXPECT_EQ(attn::parse_tokens(bytes_of("a\nred\ncircle\n"), "t.txt"), (V{"a", "red", "circle"}));
  EXPECT_EQ(attn::parse_tokens(bytes_of("a\r\nred\r\ncircle"), "t.txt"), (V{"a", "red", "circle"}));
  EXPECT_EQ(attn::parse_tokens(bytes_of("\xef\xbb\xbf"
                                        "caf\xc3\xa9\n \xe2\x96\x81the\n"),
                               "t.txt"),
            (V{"caf\xc3\xa9", " \xe2\x96\x81the"}));
  EXPECT_EQ(attn::parse_tokens(bytes_of(R"([" a", "", "\n", "<image>"])"), "t.json"), (V{" a", "", "\n", "<image>"}));
  EXPECT_MENTIONS(error_of([] { attn::parse_tokens(bytes_of("a\n\nb\n"), "t.txt"); }), "line 2 is empty");
  EXPECT_MENTIONS(error_of([] { attn::parse_tokens(bytes_of("a\nb\xff\n"), "t.txt"); }), "line 2 is not valid UTF-8");
  EXPECT_MENTIONS(error_of([] { attn::parse_tokens(bytes_of("a\n\xc0\xaf\n"), "t.txt"); }), "UTF-8");  // overlong
  EXPECT_MENTIONS(error_of([] { attn::parse_tokens(bytes_of(std::string("a\0b", 3)), "t.txt"); }), "NUL");
  EXPECT_MENTIONS(error_of([] { attn::parse_tokens(bytes_of("[1, 2, 3]"), "t.json"); }), "convert_ids_to_tokens");
  EXPECT_MENTIONS(error_of([] { attn::parse_tokens(bytes_of(R"(["a", ["b"]])"), "t.json"); }),
                  "element 1 is not a string");
  const std::string bomb = std::string(100000, '[') + std::string(100000, ']');
  EXPECT_MENTIONS(error_of([&] { attn::parse_tokens(bytes_of(bomb), "t.json"); }), "nests deeper");
  EXPECT_MENTIONS(error_of([] { attn::parse_tokens(bytes_of(R"(["a", null])"), "t.json"); }), "element 1");
  EXPECT_MENTIONS(error_of([] { attn::parse_tokens(bytes_of(R"(["a", )"), "t.json"); }), "not a valid JSON");
  EXPECT_MENTIONS(error_of([] { attn::parse_tokens(bytes_of(""), "t.txt"); }), "no tokens");
  attn::WordFileLimits limits;
  limits.max_token_bytes = 4;
  EXPECT_MENTIONS(error_of([&] { attn::parse_tokens(bytes_of("a\nlonger\n"), "t.txt", limits); }), "line 2");
  limits.max_tokens = 2;
  EXPECT_MENTIONS(error_of([&] { attn::parse_tokens(bytes_of("a\nb\nc\n"), "t.txt", limits); }), "more than 2");
}

TEST(ImageKeys, InferredFromTheAspectOrGiven) {
  // 24 x 24 patches and a class token (577 keys) on a square image.
  auto k = attn::place_image_keys(577, 336, 336, std::nullopt, std::nullopt);
  EXPECT_EQ(k.cols, 24);
  EXPECT_EQ(k.rows, 24);
  EXPECT_EQ(k.offset, 1);
  EXPECT_TRUE(k.grid_inferred);
  // All the keys: 16 x 16 on a square image (255 after a class token would be 15 x 17).
  k = attn::place_image_keys(256, 224, 224, std::nullopt, std::nullopt);
  EXPECT_EQ(k.cols * k.rows, 256);
  EXPECT_EQ(k.offset, 0);
  // The closer aspect wins: 10 x 8 after a class token on a 5:4 image, not 9 x 9.
  k = attn::place_image_keys(81, 160, 128, std::nullopt, std::nullopt);
  EXPECT_EQ(k.cols, 10);
  EXPECT_EQ(k.rows, 8);
  EXPECT_EQ(k.offset, 1);
  // Given: a prompt of 5 text tokens, 6 x 4 patches, then 3 more words.
  k = attn::place_image_keys(32, 300, 200, std::array<int, 2>{6, 4}, 5);
  EXPECT_EQ(k.offset, 5);
  EXPECT_FALSE(k.grid_inferred);
  // An offset alone: the grid from the rest.
  k = attn::place_image_keys(5 + 36, 100, 100, std::nullopt, 5);
  EXPECT_EQ(k.cols, 6);
  EXPECT_EQ(k.offset, 5);
  // What does not fit.
  EXPECT_MENTIONS(error_of([] { attn::place_image_keys(32, 300, 200, std::array<int, 2>{6, 4}, 9); }), "run past");
  EXPECT_MENTIONS(error_of([] { attn::place_image_keys(32, 300, 200, std::nullopt, 32); }), "past the last");
  EXPECT_MENTIONS(error_of([] {
                    attn::place_image_keys(10, 300, 200, std::array<int, 2>{6, 4}, std::nullopt);
                  }),
                  "more than");
  EXPECT_MENTIONS(error_of([] {
                    attn::place_image_keys(40, 300, 200, std::array<int, 2>{6, 4}, std::nullopt);
                  }),
                  "--key-offset");
  EXPECT_MENTIONS(error_of([] { attn::place_image_keys(38, 100, 100, std::nullopt, std::nullopt); }), "--grid");
}

// The reference: every word's map by plain loops over the file's values.
TEST(WordViews, MapsEqualASimpleReferenceForEveryLayerAndHeadChoice) {
  const int L = 3, H = 4, T = 5, offset = 2, cols = 4, rows = 3, N = offset + cols * rows + 3;
  const std::vector<float> v = random_weights(static_cast<size_t>(L * H * T * N), 7);
  auto f = attn::parse_word_attention_npy(npy({L, H, T, N}, v), "a.npy");
  const attn::ImageKeys keys = attn::place_image_keys(N, 40, 30, std::array<int, 2>{cols, rows}, offset);
  const attn::PatchGrid grid{10, cols, rows};
  const std::vector<std::string> words = {"a", "b", "c", "d", "e"};
  const attn::AttentionRecord record = attn::word_record(std::move(f.weights), words, keys, grid);
  auto at = [&](int l, int h, int t, int n) { return v[static_cast<size_t>(((l * H + h) * T + t) * N + n)]; };
  for (int layer : {-1, 0, 1, 3}) {
    for (int head : {-1, 0, 2}) {
      for (auto fusion : {attn::HeadFusion::Mean, attn::HeadFusion::Max, attn::HeadFusion::Min}) {
        attn::WordRequest r;
        r.mean_of_layers = layer == 3;
        r.layer = layer == 3 ? -1 : layer;
        r.head = head;
        r.fusion = fusion;
        const attn::Matrix m = attn::word_maps(record, r);
        ASSERT_EQ(m.rows(), T);
        ASSERT_EQ(m.cols(), cols * rows);
        std::vector<int> layers;
        if (layer == 3)
          layers = {0, 1, 2};
        else
          layers = {layer < 0 ? L - 1 : layer};
        for (int t = 0; t < T; ++t)
          for (int c = 0; c < cols * rows; ++c) {
            double want = 0;
            for (int l : layers) {
              double x = head >= 0 ? at(l, head, t, offset + c) : at(l, 0, t, offset + c);
              if (head < 0) {
                for (int h = 1; h < H; ++h) {
                  const double y = at(l, h, t, offset + c);
                  x = fusion == attn::HeadFusion::Mean  ? x + y
                      : fusion == attn::HeadFusion::Max ? std::max(x, y)
                                                        : std::min(x, y);
                }
                if (fusion == attn::HeadFusion::Mean) x /= H;
              }
              want += x;
            }
            want /= static_cast<double>(layers.size());
            EXPECT_NEAR(m(t, c), want, 1e-6) << layer << " " << head << " " << t << " " << c;
          }
      }
    }
  }
  attn::WordRequest bad;
  bad.head = H;
  EXPECT_MENTIONS(error_of([&] { attn::word_maps(record, bad); }), "out of range");
  // The tokens must be as many as the queries.
  auto g = attn::parse_word_attention_npy(npy({L, H, T, N}, v), "a.npy");
  EXPECT_MENTIONS(error_of([&] {
                    attn::word_record(std::move(g.weights), {"a", "b"}, keys, grid);
                  }),
                  "token list has 2");
}

TEST(WordViews, SelectionReverseViewAndDisplayScales) {
  attn::Matrix maps(3, 4);
  maps << 1, 2, 3, 4,  //
      0, 0, 0, 8,      //
      2, 2, 2, 2;
  const std::vector<int> sel = {0, 2};
  EXPECT_EQ(attn::mean_word_map(maps, sel), (std::vector<float>{1.5f, 2, 2.5f, 3}));
  EXPECT_EQ(attn::words_at_cell(maps, 3), (std::vector<float>{4, 8, 2}));
  const attn::PatchGrid grid{8, 2, 2};
  attn::Matrix own = attn::display_maps(maps, grid, attn::WordSmooth::None, attn::WordScale::Word);
  EXPECT_FLOAT_EQ(own(0, 3), 1);
  EXPECT_FLOAT_EQ(own(0, 0), 0.25f);
  EXPECT_FLOAT_EQ(own(2, 0), 1);
  attn::Matrix shared = attn::display_maps(maps, grid, attn::WordSmooth::None, attn::WordScale::Shared);
  EXPECT_FLOAT_EQ(shared(1, 3), 1);
  EXPECT_FLOAT_EQ(shared(0, 3), 0.5f);
  EXPECT_FLOAT_EQ(shared(2, 0), 0.25f);
  // Signed maps: symmetric about 0.5.
  maps(1, 0) = -16;
  EXPECT_TRUE(attn::signed_maps(maps));
  attn::Matrix sym = attn::display_maps(maps, grid, attn::WordSmooth::None, attn::WordScale::Word);
  EXPECT_FLOAT_EQ(sym(1, 0), 0.0f);
  EXPECT_FLOAT_EQ(sym(1, 3), 0.75f);
  EXPECT_FLOAT_EQ(sym(1, 1), 0.5f);
  // The Gaussian blur keeps a constant map and the mass of a spike, and
  // spreads it symmetrically.
  std::vector<float> spike(81, 0.0f), flat(25, 3.0f);
  spike[40] = 1;  // the centre of 9 x 9: every tap stays inside
  const auto b = attn::gaussian_blur(spike, 9, 9, 1.0);
  double sum = 0;
  for (float x : b) sum += x;
  EXPECT_NEAR(sum, 1.0, 1e-4);
  EXPECT_FLOAT_EQ(b[39], b[41]);
  EXPECT_FLOAT_EQ(b[31], b[49]);
  EXPECT_GT(b[40], b[39]);
  for (float x : attn::gaussian_blur(flat, 5, 5, 1.0)) EXPECT_NEAR(x, 3.0f, 1e-5);
}

TEST(WordViews, OverlaysOnACanvasOfWholeCells) {
  attn::Image img = attn::Image::blank(101, 77);
  const attn::ImageKeys keys = attn::place_image_keys(20, 101, 77, std::array<int, 2>{5, 4}, 0);
  const attn::WordCanvas c = attn::word_canvas(img, keys);
  EXPECT_EQ(c.image.width, 5 * c.grid.patch);
  EXPECT_EQ(c.image.height, 4 * c.grid.patch);
  EXPECT_EQ(c.grid.cols, 5);
  attn::Matrix display = attn::Matrix::Zero(2, 20);
  display(1, 7) = 1;
  const auto overlays = attn::word_overlays(c, display, attn::WordSmooth::None, attn::OverlayStyle{});
  ASSERT_EQ(overlays.size(), 2u);
  // Word 1's hot cell (col 2, row 1) is brighter than word 0's there.
  const int x = 2 * c.grid.patch + c.grid.patch / 2, y = c.grid.patch + c.grid.patch / 2;
  const auto* hot = overlays[1].pixel(x, y);
  const auto* cold = overlays[0].pixel(x, y);
  EXPECT_GT(hot[0] + hot[1] + hot[2], cold[0] + cold[1] + cold[2]);
}

}  // namespace

namespace {

TEST(WordViews, StatisticsOfASelectionOverEveryKey) {
  // 2 words over 6 keys: 2 text keys, then a 2 x 2 image.
  attn::Matrix rows(2, 6);
  rows << 0.2f, 0.2f, 0.6f, 0.0f, 0.0f, 0.0f,  //
      0.0f, 0.0f, 0.25f, 0.25f, 0.25f, 0.25f;
  const attn::ImageKeys keys{2, 2, 2};
  const int first[] = {0}, second[] = {1}, both[] = {0, 1};
  const auto a = attn::word_statistics(rows, keys, first);
  EXPECT_NEAR(a.image_share, 0.6, 1e-6);
  EXPECT_NEAR(a.spread, 1.0, 1e-6);  // one patch takes everything
  EXPECT_EQ(a.peak_cell, 0);
  EXPECT_NEAR(a.peak, 0.6, 1e-6);
  const auto b = attn::word_statistics(rows, keys, second);
  EXPECT_NEAR(b.image_share, 1.0, 1e-6);
  EXPECT_NEAR(b.spread, 4.0, 1e-5);                         // uniform over the four patches
  const auto ab = attn::word_statistics(rows, keys, both);  // the mean row: 0.1 0.1 0.425 0.125 0.125 0.125
  EXPECT_NEAR(ab.image_share, 0.8, 1e-6);
  EXPECT_NEAR(ab.peak, 0.425, 1e-6);
  EXPECT_EQ(attn::word_statistics(rows, keys, {}).spread, 0.0);
}

TEST(WordViews, ASelectionsMapOnEitherScale) {
  attn::Matrix maps(2, 4);
  maps << 1, 2, 0, 0,  //
      0, 0, 4, 8;
  const attn::PatchGrid grid{4, 2, 2};
  const int both[] = {0, 1};
  // Its own scale: the mean (0.5, 1, 2, 4) over its maximum.
  EXPECT_EQ(attn::selection_map(maps, grid, both, attn::WordSmooth::None, attn::WordScale::Word),
            (std::vector<float>{0.125f, 0.25f, 0.5f, 1.0f}));
  // The shared scale: the mean over the largest weight of any word (8).
  EXPECT_EQ(attn::selection_map(maps, grid, both, attn::WordSmooth::None, attn::WordScale::Shared),
            (std::vector<float>{0.0625f, 0.125f, 0.25f, 0.5f}));
}

}  // namespace
