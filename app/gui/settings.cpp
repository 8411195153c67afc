#include "settings.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <nlohmann/json.hpp>
#include <set>
#include <type_traits>

#include "core/error.hpp"
#include "core/io.hpp"

template <>
std::span<const attn::EnumName<gui::Source>> attn::enum_names<gui::Source>() {
  using gui::Source;
  static constexpr std::array<EnumName<Source>, 8> kNames = {{
      {Source::Similarity, "similarity", "image: similarity",
       "Each patch described by its colour and texture, with W_q = W_k: similar patches attend to each other."},
      {Source::Random, "random", "image: random projections",
       "The same descriptions through independent random W_q, W_k, W_v: what an untrained layer does."},
      {Source::Pixels, "pixels", "image: raw pixels", "Each patch's own pixels as its query, key and value."},
      {Source::RandomTokens, "random-tokens", "random tokens (no image)",
       "Seeded random queries, keys and values laid out on a square grid."},
      {Source::Files, "files", "Q, K, V from files", "Your own queries, keys and values from .npy or CSV files."},
      {Source::Vit, "vit", "Vision Transformer (weights)",
       "A Vision Transformer's own attention on the image, from its .safetensors weights."},
      {Source::Words, "words", "words over the image (attention file)",
       "Where each word of a caption looks: cross-attention a captioner or vision-language model wrote out, with "
       "its words."},
      {Source::Captioner, "captioner", "captioner (bundled)",
       "attnscope's own captioner writes a caption of the image, or of a scene of shapes it draws: see where each "
       "word looked while it was written."},
  }};
  return kNames;
}

namespace gui {
namespace {

using nlohmann::json;

constexpr int kMaxDepth = 8;

// A JSON value as F, refusing what does not fit before any conversion:
// nlohmann's get<int>() on 8e127 (or get<float>() on 1e300) is an
// out-of-range cast, undefined behaviour (found by fuzzing).
template <typename F>
F convert(const json& v, const char* key, const std::string& name) {
  auto wrong = [&](const char* expected) { return attn::Error(name + ": \"" + key + "\" must be " + expected); };
  if constexpr (std::is_same_v<F, bool>) {
    if (!v.is_boolean()) throw wrong("true or false");
    return v.get<bool>();
  } else if constexpr (std::is_enum_v<F>) {
    if (!v.is_string()) throw wrong("a string");
    const auto e = attn::from_name<F>(v.get<std::string>());
    if (!e)
      throw attn::Error(name + ": '" + attn::printable(v.get<std::string>(), 40) + "' is not a valid value for \"" +
                        key + "\" (" + attn::enum_choices<F>(", ") + ")");
    return *e;
  } else if constexpr (std::is_integral_v<F>) {
    if (!v.is_number_integer()) throw wrong("an integer");
    if (v.is_number_unsigned()) {
      const auto u = v.get<std::uint64_t>();
      if (u > static_cast<std::uint64_t>(std::numeric_limits<F>::max())) throw wrong("a smaller integer");
      return static_cast<F>(u);
    }
    const auto i = v.get<std::int64_t>();
    if (i < static_cast<std::int64_t>(std::numeric_limits<F>::min()) ||
        (i > 0 && static_cast<std::uint64_t>(i) > static_cast<std::uint64_t>(std::numeric_limits<F>::max())))
      throw wrong("an integer in range");
    return static_cast<F>(i);
  } else if constexpr (std::is_floating_point_v<F>) {
    if (!v.is_number()) throw wrong("a number");
    const double d = v.get<double>();
    if (!std::isfinite(d) || std::abs(d) > static_cast<double>(std::numeric_limits<F>::max()))
      throw wrong("a number in range");
    return static_cast<F>(d);
  } else if constexpr (std::is_same_v<F, std::string>) {
    if (!v.is_string()) throw wrong("a string");
    return v.get<std::string>();
  } else {  // a vector
    if (!v.is_array()) throw wrong("an array");
    F out;
    for (const auto& e : v) out.push_back(convert<typename F::value_type>(e, key, name));
    return out;
  }
}

void check_range(const std::string& name, const char* key, double v, const Range& r) {
  if (!(r.open_lo ? v > r.lo : v >= r.lo) || !(v <= r.hi))
    throw attn::Error(name + ": \"" + key + "\" = " + std::to_string(v) + " is outside " + (r.open_lo ? "(" : "[") +
                      std::to_string(r.lo) + ", " + std::to_string(r.hi) + "]");
}

template <typename F>
void check_field(const std::string& name, const char* key, const F& field, const Range& r) {
  if constexpr (std::is_arithmetic_v<F>) {
    check_range(name, key, static_cast<double>(field), r);
  } else {
    for (const auto& e : field) check_range(name, key, static_cast<double>(e), r);
  }
}

}  // namespace

bool is_image_source(Source s) { return s == Source::Similarity || s == Source::Random || s == Source::Pixels; }

std::string to_json(const Settings& settings) {
  json j;
  j["format"] = "attnscope-session-1";
  Settings s = settings;
  s.visit([&](const char* key, auto& field, auto&&...) {
    using F = std::decay_t<decltype(field)>;
    if constexpr (std::is_enum_v<F>)
      j[key] = std::string(attn::name_of(field));
    else
      j[key] = field;
  });
  return j.dump(2) + "\n";
}

Settings from_json(const std::string& text, const std::string& name, const Settings& base) {
  // A plain DOM parse keeps the last of duplicate keys and recurses without
  // limit; the callback refuses both while parsing.
  std::vector<std::set<std::string>> keys;
  json j;
  try {
    j = json::parse(text, [&](int depth, json::parse_event_t event, json& parsed) {
      if (depth > kMaxDepth) throw attn::Error(name + ": JSON nested deeper than " + std::to_string(kMaxDepth));
      if (event == json::parse_event_t::object_start) keys.emplace_back();
      if (event == json::parse_event_t::object_end) keys.pop_back();
      if (event == json::parse_event_t::key && !keys.back().insert(parsed.get<std::string>()).second)
        throw attn::Error(name + ": duplicate key \"" + parsed.get<std::string>() + "\"");
      return true;
    });
  } catch (const json::exception& e) {
    throw attn::Error(name + ": not valid JSON (" + attn::printable(e.what(), 160) + ")");
  }
  if (!j.is_object()) throw attn::Error(name + ": a session file is a JSON object");
  // Checked by type first: value() would throw on a "format" that is not a string.
  const auto format = j.find("format");
  if (format == j.end() || !format->is_string() || format->get<std::string>() != "attnscope-session-1")
    throw attn::Error(name + R"(: not an attnscope session (missing "format": "attnscope-session-1"))");

  Settings s = base;
  s.visit([&](const char* key, auto& field, auto&&... range) {
    if (j.contains(key)) field = convert<std::decay_t<decltype(field)>>(j.at(key), key, name);
    (check_field(name, key, field, range), ...);
  });
  if (s.window.recent_files.size() > 8) s.window.recent_files.resize(8);
  return s;
}

void save_settings(const std::string& path, const Settings& s) {
  const std::string text = to_json(s);
  attn::write_file_atomic(path, std::span(reinterpret_cast<const std::uint8_t*>(text.data()), text.size()));
}

Settings load_settings(const std::string& path, const Settings& base) {
  const auto bytes = attn::read_file(path, 1 << 20);
  return from_json(std::string(bytes.begin(), bytes.end()), path, base);
}

std::string config_dir() {
  if (const char* x = std::getenv("XDG_CONFIG_HOME"); x && *x) return std::string(x) + "/attnscope";
  if (const char* h = std::getenv("HOME"); h && *h) return std::string(h) + "/.config/attnscope";
  return ".attnscope";
}

void remember_file(WindowSettings& w, const std::string& path) {
  auto& r = w.recent_files;
  r.erase(std::remove(r.begin(), r.end(), path), r.end());
  r.insert(r.begin(), path);
  if (r.size() > 8) r.resize(8);
}

}  // namespace gui
