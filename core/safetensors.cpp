#include "safetensors.hpp"

#include <algorithm>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>

#include "error.hpp"
#include "io.hpp"

namespace attn {
namespace {

using nlohmann::json;
constexpr int kMaxDepth = 4;

struct Entry {
  std::string name;
  DType dtype;
  std::vector<std::int64_t> shape;
  std::uint64_t begin, end;  // relative to the end of the header
};

struct Header {
  std::vector<Entry> entries;
  std::map<std::string, std::string> metadata;
};

// The header's JSON, checked against a data section of `data_size` bytes.
Header parse_header(const std::string& text, std::uint64_t data_size, const std::string& name) {
  std::vector<std::set<std::string>> keys;
  json j;
  try {
    j = json::parse(text, [&](int depth, json::parse_event_t event, json& parsed) {
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

  Header h;
  for (const auto& [key, v] : j.items()) {
    const std::string where = name + ": tensor \"" + printable(key) + "\"";
    if (key == "__metadata__") {
      if (!v.is_object()) throw Error(name + ": __metadata__ must be an object of strings");
      for (const auto& [mk, mv] : v.items()) {
        if (!mv.is_string()) throw Error(name + ": __metadata__ value \"" + printable(mk) + "\" is not a string");
        h.metadata[mk] = mv.get<std::string>();
      }
      continue;
    }
    if (!v.is_object() || !v.contains("dtype") || !v.contains("shape") || !v.contains("data_offsets") || v.size() != 3)
      throw Error(where + R"( must have exactly "dtype", "shape" and "data_offsets")");
    if (!v["dtype"].is_string()) throw Error(where + ": dtype is not a string");
    Entry e;
    e.name = key;
    const std::string dtype = v["dtype"].get<std::string>();
    const auto d = from_name<DType>(dtype);
    if (!d)
      throw Error(where + ": dtype " + printable(dtype) + " is not one safetensors defines (" +
                  enum_choices<DType>(", ") + ")");
    e.dtype = *d;
    if (!v["shape"].is_array()) throw Error(where + ": shape is not an array");
    std::uint64_t count = 1;
    for (const auto& dim_json : v["shape"]) {
      if (!dim_json.is_number_unsigned()) throw Error(where + ": shape must hold non-negative integers");
      const auto dim = dim_json.get<std::uint64_t>();
      if (dim > static_cast<std::uint64_t>(INT64_MAX) || __builtin_mul_overflow(count, dim, &count))
        throw Error(where + ": shape's element count overflows 64 bits");
      e.shape.push_back(static_cast<std::int64_t>(dim));
    }
    const auto& off = v["data_offsets"];
    if (!off.is_array() || off.size() != 2 || !off[0].is_number_unsigned() || !off[1].is_number_unsigned())
      throw Error(where + ": data_offsets must be [begin, end] with non-negative integers");
    e.begin = off[0].get<std::uint64_t>();
    e.end = off[1].get<std::uint64_t>();
    if (e.end < e.begin) throw Error(where + ": data_offsets run backwards");
    std::uint64_t bits = 0;
    if (__builtin_mul_overflow(count, static_cast<std::uint64_t>(dtype_bits(e.dtype)), &bits))
      throw Error(where + ": shape's byte size overflows 64 bits");
    if (bits % 8 != 0) {
      std::string msg = where;
      msg.append(": ").append(dtype).append(" elements of this shape do not fill whole bytes");
      throw Error(msg);
    }
    if (e.end - e.begin != bits / 8)
      throw Error(where + ": data_offsets cover " + std::to_string(e.end - e.begin) +
                  " bytes but shape x dtype needs " + std::to_string(bits / 8));
    if (e.end > data_size) throw Error(where + ": data runs past the end of the file (file truncated?)");
    h.entries.push_back(std::move(e));
  }
  // The tensors tile the data exactly: sorted by offset, each starts where
  // the previous ended, the first at 0, the last at the end of the file.
  std::vector<const Entry*> order;
  for (const Entry& e : h.entries) order.push_back(&e);
  std::sort(order.begin(), order.end(), [](const Entry* a, const Entry* b) {
    return a->begin != b->begin ? a->begin < b->begin : a->end < b->end;
  });
  std::uint64_t at = 0;
  for (const Entry* e : order) {
    if (e->begin < at) throw Error(name + ": tensor \"" + printable(e->name) + "\" overlaps the one before it");
    if (e->begin > at)
      throw Error(name + ": a gap of " + std::to_string(e->begin - at) + " bytes before tensor \"" +
                  printable(e->name) + "\"");
    at = e->end;
  }
  if (at != data_size) throw Error(name + ": " + std::to_string(data_size - at) + " bytes after the last tensor");
  return h;
}

// The header length from the first 8 bytes, checked.
std::uint64_t header_length(std::span<const std::uint8_t> first8, std::uint64_t file_size, const std::string& name,
                            const SafeTensorsLimits& limits) {
  std::uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = n << 8 | first8[static_cast<size_t>(i)];
  if (n > limits.max_header_bytes)
    throw Error(name + ": safetensors header length " + std::to_string(n) + " is over the limit of " +
                std::to_string(limits.max_header_bytes) + " bytes");
  if (n > file_size - 8)
    throw Error(name + ": safetensors header length " + std::to_string(n) + " runs past the end of the file");
  return n;
}

StoredTensor stored(const Entry& e) {
  StoredTensor t;
  t.dtype = e.dtype;
  t.shape = e.shape;
  return t;
}

}  // namespace

TensorFile parse_safetensors(std::span<const std::uint8_t> bytes, const std::string& name,
                             const SafeTensorsLimits& limits) {
  if (bytes.size() < 8) throw Error(name + ": not a safetensors file (shorter than its 8-byte header length)");
  const std::uint64_t n = header_length(bytes.first(8), bytes.size(), name, limits);
  const Header h =
      parse_header(std::string(reinterpret_cast<const char*>(bytes.data() + 8), n), bytes.size() - 8 - n, name);
  auto owner = std::make_shared<const std::vector<std::uint8_t>>(bytes.begin() + 8 + static_cast<long>(n), bytes.end());
  TensorFile f;
  f.format = "safetensors";
  f.metadata = h.metadata;
  for (const Entry& e : h.entries) {
    StoredTensor t = stored(e);
    t.storage = std::span(*owner).subspan(e.begin, e.end - e.begin);
    t.owner = owner;
    f.tensors.emplace(e.name, std::move(t));
  }
  return f;
}

TensorFile read_safetensors(const std::string& path, const SafeTensorsLimits& limits) {
  auto file = std::make_shared<const ReadOnlyFile>(path, limits.max_file_bytes);
  if (file->size() < 8) throw Error(path + ": not a safetensors file (shorter than its 8-byte header length)");
  std::uint8_t first8[8];
  file->read_at(0, first8);
  const std::uint64_t n = header_length(first8, file->size(), path, limits);
  std::string text(n, '\0');
  file->read_at(8, std::span(reinterpret_cast<std::uint8_t*>(text.data()), n));
  const Header h = parse_header(text, file->size() - 8 - n, path);
  TensorFile f;
  f.format = "safetensors";
  f.metadata = h.metadata;
  for (const Entry& e : h.entries) {
    StoredTensor t = stored(e);
    t.file = file;
    t.file_offset = 8 + n + e.begin;
    t.file_bytes = e.end - e.begin;
    f.tensors.emplace(e.name, std::move(t));
  }
  return f;
}

std::map<std::string, std::vector<std::string>> parse_safetensors_index(const std::string& text,
                                                                        const std::string& path,
                                                                        const SafeTensorsLimits& limits) {
  json j;
  try {
    j = json::parse(text, [&](int depth, json::parse_event_t, json&) {
      if (depth > 8) throw Error(path + ": nested deeper than 8");
      return true;
    });
  } catch (const json::exception& e) {
    throw Error(path + ": not valid JSON (" + printable(e.what(), 160) + ")");
  }
  if (!j.is_object() || !j.contains("weight_map") || !j["weight_map"].is_object())
    throw Error(path + R"(: a sharded checkpoint's index has a "weight_map" object {tensor: file})");
  std::map<std::string, std::vector<std::string>> shards;  // file -> the tensors the map puts there
  for (const auto& [tensor, file] : j["weight_map"].items()) {
    if (!file.is_string()) throw Error(path + ": weight_map[\"" + printable(tensor) + "\"] is not a file name");
    const std::string f = file.get<std::string>();
    if (f.empty() || f.find('/') != std::string::npos || f.find('\0') != std::string::npos || f == "." || f == "..")
      throw Error(path + ": shard \"" + printable(f) + "\" is not a file name beside the index");
    shards[f].push_back(tensor);
  }
  if (shards.empty()) throw Error(path + ": the weight_map names no tensors");
  if (static_cast<int>(shards.size()) > limits.max_shards)
    throw Error(path + ": " + std::to_string(shards.size()) + " shards, more than the limit of " +
                std::to_string(limits.max_shards));
  return shards;
}

TensorFile read_safetensors_index(const std::string& path, const SafeTensorsLimits& limits) {
  const auto bytes = read_file(path, 64 << 20);
  const auto shards = parse_safetensors_index(std::string(bytes.begin(), bytes.end()), path, limits);
  const std::filesystem::path dir = std::filesystem::path(path).parent_path();
  TensorFile out;
  out.format = "safetensors (" + std::to_string(shards.size()) + " shards)";
  for (const auto& [file, names] : shards) {
    TensorFile shard = read_safetensors((dir / file).string(), limits);
    for (const std::string& n : names)
      if (!shard.has(n))
        throw Error((dir / file).string() + ": has no tensor \"" + printable(n) + "\" (the index puts it there)");
    for (auto& [n, t] : shard.tensors)
      if (!out.tensors.emplace(n, std::move(t)).second)
        throw Error(path + ": tensor \"" + printable(n) + "\" is in more than one shard");
    out.metadata.insert(shard.metadata.begin(), shard.metadata.end());
  }
  return out;
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
