#pragma once
// Reading config files (config.json and friends) in core/: JSON parsed with a
// depth limit, and values read with their types and ranges checked before
// converting (get<int>() on 8e127 would be undefined behaviour). Every
// problem is an attn::Error naming the file and the key. Included by core's
// .cpp files only (nlohmann_json is a private dependency of the engine).
#include <array>
#include <cmath>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <string>

#include "error.hpp"
#include "io.hpp"

namespace attn::json_config {

using nlohmann::json;

// A config file's JSON, nested at most 32 deep (a bomb is an error, not a crash).
inline json parse_json(const std::string& text, const std::string& file) {
  try {
    return json::parse(text, [&](int depth, json::parse_event_t, json&) {
      if (depth > 32) throw Error(file + ": nested deeper than 32");
      return true;
    });
  } catch (const json::exception& e) {
    throw Error(file + " is not valid JSON: " + printable(e.what(), 160));
  }
}

// Values of one JSON object, read with their types and ranges checked.
struct Reader {
  const json& j;
  std::string file;
  const json* find(const char* key) const {
    if (!j.is_object()) return nullptr;
    const auto it = j.find(key);
    return it == j.end() || it->is_null() ? nullptr : &*it;
  }
  std::optional<int> integer(const char* key, int lo, int hi) const {
    const json* v = find(key);
    if (!v) return std::nullopt;
    if (!v->is_number_integer() || v->get<std::int64_t>() < lo || v->get<std::int64_t>() > hi)
      throw Error(file + ": \"" + key + "\" must be an integer in [" + std::to_string(lo) + ", " + std::to_string(hi) +
                  "]");
    return static_cast<int>(v->get<std::int64_t>());
  }
  std::optional<double> number(const char* key, double lo, double hi) const {
    const json* v = find(key);
    if (!v) return std::nullopt;
    if (!v->is_number() || !(v->get<double>() > lo) || !(v->get<double>() < hi)) {
      std::ostringstream range;
      range << "(" << lo << ", " << hi << ")";
      throw Error(file + ": \"" + key + "\" must be a number in " + range.str());
    }
    return v->get<double>();
  }
  std::string string(const char* key) const {
    const json* v = find(key);
    if (!v) return "";
    if (!v->is_string()) throw Error(file + ": \"" + key + "\" must be a string");
    return printable(v->get<std::string>(), 200);
  }
  bool boolean(const char* key) const {
    const json* v = find(key);
    if (!v) return false;
    if (!v->is_boolean()) throw Error(file + ": \"" + key + "\" must be true or false");
    return v->get<bool>();
  }
  Reader sub(const char* key) const {
    static const json kEmpty = json::object();
    const json* v = find(key);
    return {v && v->is_object() ? *v : kEmpty, file};
  }
  // A mean or std: three numbers (one number means all three).
  std::optional<std::array<float, 3>> triple(const char* key, bool positive) const {
    const json* v = find(key);
    if (!v) return std::nullopt;
    std::array<float, 3> out{};
    const bool one = v->is_number();
    if (!one && !(v->is_array() && v->size() == 3))
      throw Error(file + ": \"" + key + "\" must be three numbers (R, G, B)");
    for (int c = 0; c < 3; ++c) {
      const json& x = one ? *v : (*v)[static_cast<size_t>(c)];
      if (!x.is_number() || !std::isfinite(x.get<double>()) || std::abs(x.get<double>()) > 1e6 ||
          (positive && !(x.get<double>() > 0)))
        throw Error(file + ": \"" + key + "\" must be three " + (positive ? "positive " : "") + "numbers");
      out[static_cast<size_t>(c)] = static_cast<float>(x.get<double>());
    }
    return out;
  }
};

}  // namespace attn::json_config
