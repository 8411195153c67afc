// .npy reading: every format variant numpy writes, and every malformed case
// of the bad-inputs reference.
#include <gtest/gtest.h>

#include <cstring>

#include "core/error.hpp"
#include "core/npy.hpp"

namespace {

using Bytes = std::vector<std::uint8_t>;

// A .npy file from parts: version, header text (padded and newline-ended
// unless `raw_header`), payload.
Bytes make(int major, const std::string& header, const Bytes& payload, bool raw_header = false) {
  std::string h = header;
  if (!raw_header) {
    const size_t prefix = major == 1 ? 10 : 12;
    h.append((64 - (prefix + h.size() + 1) % 64) % 64, ' ');
    h += '\n';
  }
  Bytes b = {0x93, 'N', 'U', 'M', 'P', 'Y', static_cast<std::uint8_t>(major), 0};
  const auto n = static_cast<std::uint32_t>(h.size());
  b.push_back(n & 0xff);
  b.push_back((n >> 8) & 0xff);
  if (major != 1) {
    b.push_back((n >> 16) & 0xff);
    b.push_back((n >> 24) & 0xff);
  }
  b.insert(b.end(), h.begin(), h.end());
  b.insert(b.end(), payload.begin(), payload.end());
  return b;
}

template <typename T>
Bytes payload(const std::vector<T>& v, bool big_endian = false) {
  Bytes b(v.size() * sizeof(T));
  std::memcpy(b.data(), v.data(), b.size());
  if (big_endian)
    for (size_t i = 0; i < b.size(); i += sizeof(T))
      std::reverse(b.begin() + static_cast<long>(i), b.begin() + static_cast<long>(i + sizeof(T)));
  return b;
}

std::string error_of(const Bytes& b) {
  try {
    attn::parse_npy(b, "x.npy");
  } catch (const attn::Error& e) {
    return e.what();
  }
  return "";
}

const std::vector<float> kSix = {1, 2, 3, 4, 5, 6};

TEST(Npy, EncodeParseRoundTrip) {
  const std::vector<std::int64_t> shape = {2, 3};
  const Bytes b = attn::encode_npy(shape, kSix);
  EXPECT_EQ((10 + b[8] + (b[9] << 8)) % 64, 0) << "data aligned to 64 bytes as numpy does";
  const attn::Array a = attn::parse_npy(b, "x");
  EXPECT_EQ(a.shape, shape);
  EXPECT_EQ(a.data, kSix);
  const std::vector<std::int64_t> one = {6};
  EXPECT_EQ(attn::parse_npy(attn::encode_npy(one, kSix), "x").shape, one);
}

TEST(Npy, VersionsEndiannessDtypesAndFortranOrder) {
  for (int v : {1, 2, 3}) {
    const auto a =
        attn::parse_npy(make(v, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", payload(kSix)), "x");
    EXPECT_EQ(a.data, kSix) << "version " << v;
  }
  const std::vector<double> six_d = {1, 2, 3, 4, 5, 6};
  EXPECT_EQ(
      attn::parse_npy(make(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), }", payload(six_d)), "x").data,
      kSix);
  EXPECT_EQ(
      attn::parse_npy(make(1, "{'descr': '>f4', 'fortran_order': False, 'shape': (2, 3), }", payload(kSix, true)), "x")
          .data,
      kSix);
  EXPECT_EQ(
      attn::parse_npy(make(1, "{'descr': '>f8', 'fortran_order': False, 'shape': (2, 3), }", payload(six_d, true)), "x")
          .data,
      kSix);
  // Fortran order: the file holds columns; the result is C order.
  const std::vector<float> columns = {1, 4, 2, 5, 3, 6};
  EXPECT_EQ(
      attn::parse_npy(make(1, "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }", payload(columns)), "x")
          .data,
      kSix);
  // 3-D Fortran: element (i, j, k) at i + 2 (j + 2 k) for shape (2, 2, 2).
  std::vector<float> f3(8), c3(8);
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 2; ++j)
      for (int k = 0; k < 2; ++k) {
        const float v = static_cast<float>(100 * i + 10 * j + k);
        f3[static_cast<size_t>(i + 2 * (j + 2 * k))] = v;
        c3[static_cast<size_t>((i * 2 + j) * 2 + k)] = v;
      }
  EXPECT_EQ(
      attn::parse_npy(make(1, "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2, 2), }", payload(f3)), "x").data,
      c3);
  // Key order and quotes are free; a trailing comma in the shape is optional.
  EXPECT_EQ(
      attn::parse_npy(make(1, "{\"shape\": (6,), \"fortran_order\": False, \"descr\": \"<f4\"}", payload(kSix)), "x")
          .data,
      kSix);
}

TEST(Npy, HalfPrecisionAndRankFourInFortranOrder) {
  // float16 (attention exported by half-precision models), either byte order.
  const std::vector<std::uint16_t> halves = {0x3c00, 0x4000, 0x4200, 0x4400, 0x4500, 0x4600};  // 1 .. 6
  EXPECT_EQ(
      attn::parse_npy(make(1, "{'descr': '<f2', 'fortran_order': False, 'shape': (2, 3), }", payload(halves)), "x")
          .data,
      kSix);
  EXPECT_EQ(
      attn::parse_npy(make(1, "{'descr': '>f2', 'fortran_order': False, 'shape': (6,), }", payload(halves, true)), "x")
          .data,
      kSix);
  // Rank 4 (an attention stack [L, H, T, N]) when the caller allows it, in
  // Fortran order: element (a, b, c, d) of shape (2, 3, 2, 2) at a + 2 (b + 3 (c + 2 d)).
  std::vector<float> f4(24), c4(24);
  for (int a = 0; a < 2; ++a)
    for (int b = 0; b < 3; ++b)
      for (int c = 0; c < 2; ++c)
        for (int d = 0; d < 2; ++d) {
          const float v = static_cast<float>(1000 * a + 100 * b + 10 * c + d);
          f4[static_cast<size_t>(a + 2 * (b + 3 * (c + 2 * d)))] = v;
          c4[static_cast<size_t>(((a * 3 + b) * 2 + c) * 2 + d)] = v;
        }
  attn::NpyLimits four;
  four.max_rank = 4;
  const Bytes file = make(1, "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3, 2, 2), }", payload(f4));
  EXPECT_EQ(attn::parse_npy(file, "x", four).data, c4);
  EXPECT_NE(error_of(file).find("rank 4"), std::string::npos);  // rank 3 at most by default
}

TEST(Npy, BadMagicVersionsAndHeaderLengths) {
  const Bytes good = make(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (6,), }", payload(kSix));
  Bytes b = good;
  b[1] = 'X';
  EXPECT_NE(error_of(b).find("magic"), std::string::npos);
  b = good;
  b[6] = 4;
  EXPECT_NE(error_of(b).find("version 4.0"), std::string::npos);
  b = good;
  b[7] = 1;
  EXPECT_NE(error_of(b).find("version"), std::string::npos);
  b = make(2, "{'descr': '<f4', 'fortran_order': False, 'shape': (6,), }", payload(kSix));
  b[8] = 0xf0, b[9] = 0xff, b[10] = 0xff, b[11] = 0xff;  // 0xFFFFFFF0
  EXPECT_NE(error_of(b).find("header length"), std::string::npos);
  b = good;
  b[8] = 0xff, b[9] = 0x0f;  // longer than the file
  EXPECT_NE(error_of(b).find("past the end"), std::string::npos);
  EXPECT_NE(error_of(Bytes(good.begin(), good.begin() + 9)), "");
  EXPECT_NE(error_of({}), "");
}

TEST(Npy, MalformedHeaderDicts) {
  const Bytes p = payload(kSix);
  const std::pair<std::string, std::string> cases[] = {
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (6,), }", "newline"},  // raw: no newline
  };
  EXPECT_NE(error_of(make(1, cases[0].first, p, true)).find(cases[0].second), std::string::npos);
  const std::pair<std::string, std::string> dicts[] = {
      {"{'descr': '<f4', 'shape': (6,), }", "no 'fortran_order'"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (6,), 'extra': 1, }", "unexpected key 'extra'"},
      {"{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (6,), }", "duplicate key 'descr'"},
      {"['descr', '<f4']", "not a Python dict literal"},
      {"{'descr': '<f4', 'fortran_order': 0, 'shape': (6,), }", "True or False"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (6,)", "header ends early"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': [6], }", "shape"},
  };
  for (const auto& [header, expect] : dicts)
    EXPECT_NE(error_of(make(1, header, p)).find(expect), std::string::npos)
        << header << " -> " << error_of(make(1, header, p));
}

TEST(Npy, UnsupportedDtypesAreNamed) {
  const std::pair<std::string, std::string> dtypes[] = {
      {"'|O'", "pickled"}, {"'<U8'", "unicode"}, {"'<c8'", "complex64"},           {"'<i4'", "int32"},
      {"'|b1'", "bool"},   {"'<i8'", "int64"},   {"[('x', '<f4')]", "structured"},
  };
  for (const auto& [descr, expect] : dtypes) {
    const Bytes b = make(1, "{'descr': " + descr + ", 'fortran_order': False, 'shape': (6,), }", payload(kSix));
    EXPECT_NE(error_of(b).find(expect), std::string::npos) << descr << " -> " << error_of(b);
  }
}

TEST(Npy, BadShapes) {
  const std::pair<std::string, std::string> shapes[] = {
      {"()", "0-d"},
      {"(0, 64)", "empty"},
      {"(1, 1, 1, 6)", "rank 4"},
      {"(10L,)", "Python 2 long"},
      {"(4294967296, 4294967296)", "overflows"},
      {"(3037000500, 3037000500)", "overflows"},
      {"(-6,)", "non-negative"},
      {"(99999999999999999999,)", "too large"},
  };
  for (const auto& [shape, expect] : shapes) {
    const Bytes b = make(1, "{'descr': '<f4', 'fortran_order': False, 'shape': " + shape + ", }", payload(kSix));
    EXPECT_NE(error_of(b).find(expect), std::string::npos) << shape << " -> " << error_of(b);
  }
}

TEST(Npy, DataShorterOrLongerThanDeclared) {
  const std::string h = "{'descr': '<f4', 'fortran_order': False, 'shape': (6,), }";
  EXPECT_NE(error_of(make(1, h, payload(std::vector<float>{1, 2, 3}))).find("truncated"), std::string::npos);
  Bytes longer = payload(kSix);
  longer.push_back(0);
  EXPECT_NE(error_of(make(1, h, longer)).find("trailing"), std::string::npos);
}

}  // namespace
