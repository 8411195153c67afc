// Stored tensors to float32: every dtype that converts, strides and
// offsets honoured, half and bfloat16 rounding as PyTorch does it.
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstring>
#include <random>

#include "core/error.hpp"
#include "core/tensor_file.hpp"

namespace {

attn::StoredTensor tensor(attn::DType d, std::vector<std::int64_t> shape, const std::vector<std::uint8_t>& bytes) {
  attn::StoredTensor t;
  t.dtype = d;
  t.shape = std::move(shape);
  auto owner = std::make_shared<const std::vector<std::uint8_t>>(bytes);
  t.storage = *owner;
  t.owner = owner;
  return t;
}

template <typename T>
std::vector<std::uint8_t> bytes_of(const std::vector<T>& v) {
  std::vector<std::uint8_t> b(v.size() * sizeof(T));
  std::memcpy(b.data(), v.data(), b.size());
  return b;
}

TEST(TensorFile, EveryIntegerAndFloatKindConverts) {
  EXPECT_EQ(tensor(attn::DType::I64, {3}, bytes_of<std::int64_t>({-5, 0, 1LL << 40})).to_float("t"),
            (std::vector<float>{-5.0f, 0.0f, std::ldexp(1.0f, 40)}));
  EXPECT_EQ(tensor(attn::DType::I8, {2}, {0xff, 0x7f}).to_float("t"), (std::vector<float>{-1.0f, 127.0f}));
  EXPECT_EQ(tensor(attn::DType::Bool, {2}, {0, 1}).to_float("t"), (std::vector<float>{0.0f, 1.0f}));
  EXPECT_EQ(tensor(attn::DType::F64, {2}, bytes_of<double>({0.25, -3.0})).to_float("t"),
            (std::vector<float>{0.25f, -3.0f}));
  EXPECT_EQ(tensor(attn::DType::F16, {3}, bytes_of<std::uint16_t>({0x3c00, 0xc000, 0x0001})).to_float("t"),
            (std::vector<float>{1.0f, -2.0f, std::ldexp(1.0f, -24)}));
  EXPECT_EQ(tensor(attn::DType::BF16, {1}, bytes_of<std::uint16_t>({0x3fc0})).to_float("t"),
            (std::vector<float>{1.5f}));
  // float8: e4m3 0x38 = 1.0, 0x7e = 448 (its largest); e5m2 0x3c = 1.0.
  EXPECT_EQ(tensor(attn::DType::F8_E4M3, {2}, {0x38, 0x7e}).to_float("t"), (std::vector<float>{1.0f, 448.0f}));
  EXPECT_EQ(tensor(attn::DType::F8_E5M2, {1}, {0x3c}).to_float("t"), (std::vector<float>{1.0f}));
}

TEST(TensorFile, KindsThatDoNotConvertSayWhichTensor) {
  const auto t = tensor(attn::DType::C64, {1}, std::vector<std::uint8_t>(8, 0));
  try {
    t.to_float("text.logit_scale");
    FAIL();
  } catch (const attn::Error& e) {
    EXPECT_NE(std::string(e.what()).find("text.logit_scale"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("C64"), std::string::npos);
  }
}

TEST(TensorFile, StridesAndOffsetsAreHonoured) {
  // A [3, 4] float storage; the tensor is its transpose's [2:4, 1:3] block.
  std::vector<float> s(12);
  for (int i = 0; i < 12; ++i) s[static_cast<size_t>(i)] = static_cast<float>(i);
  auto t = tensor(attn::DType::F32, {2, 2}, bytes_of(s));
  t.strides = {1, 4};  // element (i, j) = storage[offset + i + 4 j]
  t.offset = 1 * 4 + 2;
  EXPECT_EQ(t.to_float("t"), (std::vector<float>{6, 10, 7, 11}));
  EXPECT_EQ(t.elements(), 4);
  t.shape = {};
  t.strides = {};
  EXPECT_EQ(t.to_float("scalar"), (std::vector<float>{6}));
}

TEST(TensorFile, HalfAndBfloat16RoundToNearestEven) {
  std::mt19937 rng(std::random_device{}());
  std::uniform_real_distribution<float> u(-70000.0f, 70000.0f);
  for (int i = 0; i < 100000; ++i) {
    const float f = i % 2 ? u(rng) : u(rng) * 1e-6f;
    const float h = attn::half_to_float(attn::float_to_half(f));
    const float b = attn::bfloat16_to_float(attn::float_to_bfloat16(f));
    if (std::abs(f) < 65504.0f) {
      // Nearest: no other half lies closer.
      const float up = attn::half_to_float(static_cast<std::uint16_t>(attn::float_to_half(f) + 1));
      EXPECT_LE(std::abs(h - f), std::abs(up - f) + 1e-30f) << f;
    }
    EXPECT_LE(std::abs(b - f), std::abs(f) * (1.0f / 256.0f) + 1e-38f) << f;
  }
  EXPECT_EQ(attn::float_to_half(1.0f), 0x3c00);
  EXPECT_EQ(attn::float_to_half(65520.0f), 0x7c00);               // rounds to infinity
  EXPECT_EQ(attn::float_to_half(std::ldexp(1.0f, -25)), 0x0000);  // a tie: to even (zero)
  EXPECT_EQ(attn::float_to_half(std::ldexp(3.0f, -25)), 0x0002);  // a tie: to even (2)
  EXPECT_EQ(attn::float_to_bfloat16(1.00390625f), 0x3f80);        // 1 + 2^-8: a tie, to even
  EXPECT_TRUE(std::isnan(attn::bfloat16_to_float(attn::float_to_bfloat16(std::nanf("")))));
}

}  // namespace
