#include "tensor_file.hpp"

#include <array>
#include <bit>
#include <cassert>
#include <cmath>
#include <cstring>
#include <limits>

#include "error.hpp"

namespace attn {

template <>
std::span<const EnumName<DType>> enum_names<DType>() {
  static constexpr std::array<EnumName<DType>, 20> kNames = {{
      {DType::Bool, "BOOL", "bool", "Booleans, one byte each."},
      {DType::U8, "U8", "uint8", "Unsigned 8-bit integers."},
      {DType::I8, "I8", "int8", "Signed 8-bit integers."},
      {DType::I16, "I16", "int16", "Signed 16-bit integers."},
      {DType::U16, "U16", "uint16", "Unsigned 16-bit integers."},
      {DType::I32, "I32", "int32", "Signed 32-bit integers."},
      {DType::U32, "U32", "uint32", "Unsigned 32-bit integers."},
      {DType::I64, "I64", "int64", "Signed 64-bit integers (position ids, counters)."},
      {DType::U64, "U64", "uint64", "Unsigned 64-bit integers."},
      {DType::F16, "F16", "float16", "IEEE half precision."},
      {DType::BF16, "BF16", "bfloat16", "bfloat16: float32's range, 8 bits of precision."},
      {DType::F32, "F32", "float32", "IEEE single precision."},
      {DType::F64, "F64", "float64", "IEEE double precision."},
      {DType::F8_E4M3, "F8_E4M3", "float8 e4m3", "8-bit float, 4 exponent bits, 3 mantissa bits (no infinities)."},
      {DType::F8_E5M2, "F8_E5M2", "float8 e5m2", "8-bit float, 5 exponent bits, 2 mantissa bits."},
      {DType::F8_E8M0, "F8_E8M0", "float8 e8m0", "8-bit power-of-two scale (microscaling formats)."},
      {DType::C64, "C64", "complex64", "Complex numbers of two float32."},
      {DType::F4, "F4", "float4", "4-bit float (two to a byte)."},
      {DType::F6_E2M3, "F6_E2M3", "float6 e2m3", "6-bit float, 2 exponent bits."},
      {DType::F6_E3M2, "F6_E3M2", "float6 e3m2", "6-bit float, 3 exponent bits."},
  }};
  return kNames;
}

int dtype_bits(DType d) {
  switch (d) {
    case DType::Bool:
    case DType::U8:
    case DType::I8:
    case DType::F8_E4M3:
    case DType::F8_E5M2:
    case DType::F8_E8M0:
      return 8;
    case DType::I16:
    case DType::U16:
    case DType::F16:
    case DType::BF16:
      return 16;
    case DType::I32:
    case DType::U32:
    case DType::F32:
      return 32;
    case DType::I64:
    case DType::U64:
    case DType::F64:
    case DType::C64:
      return 64;
    case DType::F4:
      return 4;
    case DType::F6_E2M3:
    case DType::F6_E3M2:
      return 6;
  }
  return 0;
}

bool converts_to_float(DType d) {
  switch (d) {
    case DType::C64:
    case DType::F8_E8M0:
    case DType::F4:
    case DType::F6_E2M3:
    case DType::F6_E3M2:
      return false;
    default:
      return true;
  }
}

float half_to_float(std::uint16_t h) {
  const std::uint32_t sign = static_cast<std::uint32_t>(h & 0x8000) << 16;
  std::uint32_t exp = (h >> 10) & 0x1f, mant = h & 0x3ff;
  std::uint32_t bits;
  if (exp == 0) {
    if (mant == 0) {
      bits = sign;
    } else {  // subnormal: renormalise
      int e = -1;
      do {
        ++e;
        mant <<= 1;
      } while (!(mant & 0x400));
      bits = sign | static_cast<std::uint32_t>(127 - 15 - e) << 23 | (mant & 0x3ff) << 13;
    }
  } else if (exp == 31) {
    bits = sign | 0x7f800000u | mant << 13;
  } else {
    bits = sign | (exp + 127 - 15) << 23 | mant << 13;
  }
  return std::bit_cast<float>(bits);
}

float bfloat16_to_float(std::uint16_t b) { return std::bit_cast<float>(static_cast<std::uint32_t>(b) << 16); }

std::uint16_t float_to_bfloat16(float f) {
  const std::uint32_t u = std::bit_cast<std::uint32_t>(f);
  if (std::isnan(f)) return static_cast<std::uint16_t>((u >> 16) | 0x40);  // stays a NaN
  const std::uint32_t rounded = u + 0x7fff + ((u >> 16) & 1);              // to nearest, ties to even
  return static_cast<std::uint16_t>(rounded >> 16);
}

std::uint16_t float_to_half(float f) {
  const std::uint32_t u = std::bit_cast<std::uint32_t>(f);
  const std::uint32_t sign = (u >> 16) & 0x8000;
  const std::uint32_t abs = u & 0x7fffffff;
  if (abs > 0x7f800000) return static_cast<std::uint16_t>(sign | 0x7e00);   // NaN
  if (abs >= 0x477ff000) return static_cast<std::uint16_t>(sign | 0x7c00);  // rounds past 65504: infinity
  if (abs < 0x38800000) {
    // Subnormal (or zero) half: value = m · 2^-24, m rounded to nearest even.
    const float a = std::bit_cast<float>(abs);
    const float scaled = a * 16777216.0f;  // exact: a power of two
    return static_cast<std::uint16_t>(sign | static_cast<std::uint32_t>(std::nearbyint(scaled)));
  }
  // Normal: drop 13 mantissa bits with round to nearest even.
  const std::uint32_t rebias = abs - (static_cast<std::uint32_t>(127 - 15) << 23);
  const std::uint32_t rounded = rebias + 0xfff + ((rebias >> 13) & 1);
  return static_cast<std::uint16_t>(sign | (rounded >> 13));
}

namespace {

// float8 e4m3 ("fn": no infinities; S.1111.111 is NaN), bias 7.
float e4m3_to_float(std::uint8_t b) {
  const float sign = b & 0x80 ? -1.0f : 1.0f;
  const int exp = (b >> 3) & 0xf, mant = b & 7;
  if (exp == 15 && mant == 7) return std::numeric_limits<float>::quiet_NaN();
  if (exp == 0) return sign * std::ldexp(static_cast<float>(mant), -9);  // subnormal: m/8 · 2^-6
  return sign * std::ldexp(1.0f + static_cast<float>(mant) / 8.0f, exp - 7);
}

// One element at `index` (elements from the storage's start) as float.
float element(DType d, const std::uint8_t* p) {
  auto load = [&](auto zero) {
    decltype(zero) v;
    std::memcpy(&v, p, sizeof v);  // little-endian files on a little-endian machine
    return v;
  };
  switch (d) {
    case DType::Bool:
      return p[0] ? 1.0f : 0.0f;
    case DType::U8:
      return static_cast<float>(p[0]);
    case DType::I8:
      return static_cast<float>(static_cast<std::int8_t>(p[0]));
    case DType::I16:
      return static_cast<float>(load(std::int16_t{}));
    case DType::U16:
      return static_cast<float>(load(std::uint16_t{}));
    case DType::I32:
      return static_cast<float>(load(std::int32_t{}));
    case DType::U32:
      return static_cast<float>(load(std::uint32_t{}));
    case DType::I64:
      return static_cast<float>(load(std::int64_t{}));
    case DType::U64:
      return static_cast<float>(load(std::uint64_t{}));
    case DType::F16:
      return half_to_float(load(std::uint16_t{}));
    case DType::BF16:
      return bfloat16_to_float(load(std::uint16_t{}));
    case DType::F32:
      return load(float{});
    case DType::F64:
      return static_cast<float>(load(double{}));
    case DType::F8_E4M3:
      return e4m3_to_float(p[0]);
    case DType::F8_E5M2:
      return half_to_float(static_cast<std::uint16_t>(p[0] << 8));
    default:
      return 0.0f;  // not reached: converts_to_float() is checked first
  }
}

}  // namespace

std::int64_t StoredTensor::elements() const {
  std::int64_t n = 1;
  for (std::int64_t d : shape) n *= d;
  return n;
}

void StoredTensor::to_float(std::span<float> out, const std::string& name) const {
  if (!converts_to_float(dtype))
    throw Error("tensor \"" + name + "\" is " + std::string(name_of(dtype)) + ", which does not convert to float32");
  const std::int64_t n = elements();
  assert(static_cast<std::int64_t>(out.size()) == n);
  const int size = dtype_bits(dtype) / 8;
  const bool contiguous = strides.empty();
  if (file) {
    // Read on demand: F32 straight into `out`, anything else through a
    // buffer of the stored bytes converted as from memory.
    if (contiguous && dtype == DType::F32) {
      file->read_at(file_offset + static_cast<std::uint64_t>(offset) * 4,
                    std::span(reinterpret_cast<std::uint8_t*>(out.data()), static_cast<size_t>(n) * 4));
      return;
    }
    auto bytes = std::make_shared<std::vector<std::uint8_t>>(file_bytes);
    file->read_at(file_offset, *bytes);
    StoredTensor loaded = *this;
    loaded.file.reset();
    loaded.storage = *bytes;
    loaded.owner = bytes;
    return loaded.to_float(out, name);
  }
  if (contiguous && dtype == DType::F32) {
    if (n > 0) std::memcpy(out.data(), storage.data() + offset * 4, static_cast<size_t>(n) * 4);
    return;
  }
  if (contiguous) {
    const std::uint8_t* p = storage.data() + offset * size;
    for (std::int64_t i = 0; i < n; ++i) out[static_cast<size_t>(i)] = element(dtype, p + i * size);
    return;
  }
  // Strided: walk C order, keeping the storage index of the current element.
  const size_t rank = shape.size();
  std::vector<std::int64_t> index(rank, 0);
  std::int64_t at = offset;
  for (std::int64_t i = 0; i < n; ++i) {
    out[static_cast<size_t>(i)] = element(dtype, storage.data() + at * size);
    for (size_t d = rank; d-- > 0;) {
      if (++index[d] < shape[d]) {
        at += strides[d];
        break;
      }
      at -= strides[d] * (shape[d] - 1);
      index[d] = 0;
    }
  }
}

std::vector<float> StoredTensor::to_float(const std::string& name) const {
  std::vector<float> out(static_cast<size_t>(elements()));
  to_float(out, name);
  return out;
}

}  // namespace attn
