#include "safetensors.hpp"

#include <algorithm>
#include <bit>
#include <cstring>
#include <nlohmann/json.hpp>
#include <set>

#include "error.hpp"
#include "io.hpp"

namespace attn {
namespace {

using nlohmann::json;
constexpr int kMaxDepth = 4;

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

int dtype_size(const std::string& d) {
  if (d == "F32") return 4;
  if (d == "F16" || d == "BF16") return 2;
  if (d == "F64") return 8;
  return 0;
}

}  // namespace

SafeTensors parse_safetensors(std::span<const std::uint8_t> bytes, const std::string& name,
                              const SafeTensorsLimits& limits) {
  if (bytes.size() < 8) throw Error(name + ": not a safetensors file (shorter than its 8-byte header length)");
  std::uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = n << 8 | bytes[static_cast<size_t>(i)];
  if (n > limits.max_header_bytes)
    throw Error(name + ": safetensors header length " + std::to_string(n) + " is over the limit of " +
                std::to_string(limits.max_header_bytes) + " bytes");
  if (n > bytes.size() - 8)
    throw Error(name + ": safetensors header length " + std::to_string(n) + " runs past the end of the file");
  const std::string header(reinterpret_cast<const char*>(bytes.data() + 8), n);
  const std::span<const std::uint8_t> data = bytes.subspan(8 + n);

  std::vector<std::set<std::string>> keys;
  json j;
  try {
    j = json::parse(header, [&](int depth, json::parse_event_t event, json& parsed) {
      if (depth > kMaxDepth) throw Error(name + ": safetensors header nested deeper than " + std::to_string(kMaxDepth));
      if (event == json::parse_event_t::object_start) keys.emplace_back();
      if (event == json::parse_event_t::object_end) keys.pop_back();
      if (event == json::parse_event_t::key && !keys.back().insert(parsed.get<std::string>()).second)
        throw Error(name + ": duplicate name \"" + printable(parsed.get<std::string>()) +
                    "\" in the safetensors header");
      return true;
    });
  } catch (const json::exception& e) {
    throw Error(name + ": safetensors header is not valid UTF-8 JSON (" + printable(e.what(), 160) + ")");
  }
  if (!j.is_object()) throw Error(name + ": safetensors header is not a JSON object");

  SafeTensors st;
  struct Span {
    std::uint64_t begin, end;
    std::string name;
  };
  std::vector<Span> spans;
  for (const auto& [key, v] : j.items()) {
    const std::string where = name + ": tensor \"" + printable(key) + "\"";
    if (key == "__metadata__") {
      if (!v.is_object()) throw Error(name + ": __metadata__ must be an object of strings");
      for (const auto& [mk, mv] : v.items()) {
        if (!mv.is_string()) throw Error(name + ": __metadata__ value \"" + printable(mk) + "\" is not a string");
        st.metadata[mk] = mv.get<std::string>();
      }
      continue;
    }
    if (!v.is_object() || !v.contains("dtype") || !v.contains("shape") || !v.contains("data_offsets") || v.size() != 3)
      throw Error(where + R"( must have exactly "dtype", "shape" and "data_offsets")");
    if (!v["dtype"].is_string()) throw Error(where + ": dtype is not a string");
    NamedTensor t;
    t.dtype = v["dtype"].get<std::string>();
    const int size = dtype_size(t.dtype);
    if (!size) throw Error(where + ": dtype " + printable(t.dtype) + " is not supported; only F32, F16, BF16 and F64");
    if (!v["shape"].is_array()) throw Error(where + ": shape is not an array");
    std::uint64_t count = 1;
    for (const auto& d : v["shape"]) {
      if (!d.is_number_unsigned()) throw Error(where + ": shape must hold non-negative integers");
      const auto dim = d.get<std::uint64_t>();
      if (dim > static_cast<std::uint64_t>(INT64_MAX) || __builtin_mul_overflow(count, dim, &count))
        throw Error(where + ": shape's element count overflows 64 bits");
      t.shape.push_back(static_cast<std::int64_t>(dim));
    }
    const auto& off = v["data_offsets"];
    if (!off.is_array() || off.size() != 2 || !off[0].is_number_unsigned() || !off[1].is_number_unsigned())
      throw Error(where + ": data_offsets must be [begin, end] with non-negative integers");
    const auto begin = off[0].get<std::uint64_t>(), end = off[1].get<std::uint64_t>();
    if (end < begin) throw Error(where + ": data_offsets run backwards");
    std::uint64_t bytes_needed = 0;
    if (__builtin_mul_overflow(count, static_cast<std::uint64_t>(size), &bytes_needed))
      throw Error(where + ": shape's byte size overflows 64 bits");
    if (end - begin != bytes_needed)
      throw Error(where + ": data_offsets cover " + std::to_string(end - begin) + " bytes but shape x dtype needs " +
                  std::to_string(bytes_needed));
    if (end > data.size()) throw Error(where + ": data runs past the end of the file (file truncated?)");
    spans.push_back({begin, end, key});
    t.data.resize(count);
    const std::uint8_t* p = data.data() + begin;
    for (std::uint64_t i = 0; i < count; ++i) {
      if (t.dtype == "F32") {
        std::memcpy(&t.data[i], p + 4 * i, 4);
      } else if (t.dtype == "F64") {
        double d;
        std::memcpy(&d, p + 8 * i, 8);
        t.data[i] = static_cast<float>(d);
      } else {
        std::uint16_t h;
        std::memcpy(&h, p + 2 * i, 2);
        t.data[i] = t.dtype == "F16" ? half_to_float(h) : std::bit_cast<float>(static_cast<std::uint32_t>(h) << 16);
      }
    }
    st.tensors.emplace(key, std::move(t));
  }
  // The tensors tile the data exactly: sorted by offset, each starts where
  // the previous ended, the first at 0, the last at the end of the file.
  std::sort(spans.begin(), spans.end(),
            [](const Span& a, const Span& b) { return a.begin != b.begin ? a.begin < b.begin : a.end < b.end; });
  std::uint64_t at = 0;
  for (const Span& s : spans) {
    if (s.begin < at) throw Error(name + ": tensor \"" + printable(s.name) + "\" overlaps the one before it");
    if (s.begin > at)
      throw Error(name + ": a gap of " + std::to_string(s.begin - at) + " bytes before tensor \"" + printable(s.name) +
                  "\"");
    at = s.end;
  }
  if (at != data.size()) throw Error(name + ": " + std::to_string(data.size() - at) + " bytes after the last tensor");
  return st;
}

SafeTensors read_safetensors(const std::string& path, const SafeTensorsLimits& limits) {
  return parse_safetensors(read_file(path, limits.max_file_bytes), path, limits);
}

std::vector<std::uint8_t> encode_safetensors(const std::map<std::string, NamedTensor>& tensors) {
  json header = json::object();
  std::uint64_t offset = 0;
  for (const auto& [key, t] : tensors) {
    const std::uint64_t bytes = t.data.size() * 4;
    header[key] = {{"dtype", "F32"}, {"shape", t.shape}, {"data_offsets", {offset, offset + bytes}}};
    offset += bytes;
  }
  std::string text = header.dump();
  text.append((8 - text.size() % 8) % 8, ' ');
  std::vector<std::uint8_t> out;
  out.reserve(8 + text.size() + offset);
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<std::uint8_t>(text.size() >> (8 * i)));
  out.insert(out.end(), text.begin(), text.end());
  for (const auto& [key, t] : tensors) {
    const auto* p = reinterpret_cast<const std::uint8_t*>(t.data.data());
    out.insert(out.end(), p, p + t.data.size() * 4);
  }
  return out;
}

}  // namespace attn
