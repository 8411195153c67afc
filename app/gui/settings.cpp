#include "settings.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <nlohmann/json.hpp>
#include <set>
#include <type_traits>

#include "core/error.hpp"
#include "core/io.hpp"

namespace gui {
namespace {

using nlohmann::json;

constexpr const char* kSources[] = {"similarity", "random", "pixels", "random-tokens", "files", "vit"};
constexpr const char* kVitViews[] = {"class-token", "patch", "rollout"};
constexpr const char* kFusions[] = {"mean", "max", "min"};
constexpr const char* kScores[] = {"scaled-dot", "dot", "cosine", "additive", "raw"};
constexpr const char* kNorms[] = {"softmax", "sparsemax", "none"};
constexpr const char* kMasks[] = {"none", "causal", "local"};
constexpr const char* kUpsample[] = {"nearest", "bilinear"};
constexpr const char* kScales[] = {"max", "minmax", "fixed"};
constexpr const char* kColormaps[] = {"viridis", "magma", "inferno",   "plasma",
                                      "cividis", "turbo", "greyscale", "diverging"};
constexpr int kMaxDepth = 8;

template <size_t N>
int index_of(const char* const (&names)[N], const std::string& v, const std::string& key, const std::string& name) {
  for (size_t i = 0; i < N; ++i)
    if (v == names[i]) return static_cast<int>(i);
  throw attn::Error(name + ": '" + v + "' is not a valid value for \"" + key + "\"");
}

// An enum stored by name.
template <typename E, size_t N>
struct Named {
  E& value;
  const char* const (&names)[N];
};
template <typename E, size_t N>
Named<E, N> named(E& value, const char* const (&names)[N]) {
  return {value, names};
}

// The one list of persisted fields, visited by both directions of the JSON
// conversion: v(key, field) for plain values, v(key, named(...)) for enums.
template <typename V>
void visit_fields(Settings& s, V&& v) {
  v("source", named(s.source, kSources));
  v("image", s.image_path);
  v("q", s.q_path);
  v("k", s.k_path);
  v("v", s.v_path);
  v("patch", s.patch);
  v("d_model", s.d_model);
  v("heads", s.heads);
  v("seed", s.seed);
  v("position_encoding", s.position_encoding);
  v("token_side", s.token_side);
  v("vit_weights", s.vit_weights);
  v("vit_heads", s.vit_heads);
  v("vit_size", s.vit_size);
  v("vit_temperature", s.vit_temperature);
  v("vit_view", named(s.vit_view, kVitViews));
  v("vit_layer", s.vit_layer);
  v("vit_fusion", named(s.vit_fusion, kFusions));
  v("vit_threshold", s.vit_threshold);
  v("vit_discard", s.vit_discard);
  v("vit_include_cls", s.vit_include_cls);
  v("vit_include_registers", s.vit_include_registers);
  v("temperature", s.temperature);
  v("score", named(s.score, kScores));
  v("norm", named(s.norm, kNorms));
  v("mask", named(s.mask, kMasks));
  v("radius", s.radius);
  v("hidden_keys", s.hidden_keys);
  v("queries", s.queries);
  v("head", s.head);
  v("colormap", named(s.colormap, kColormaps));
  v("opacity", s.opacity);
  v("upsample", named(s.upsample, kUpsample));
  v("scale", named(s.scale, kScales));
  v("grid", s.grid);
  v("ui_scale", s.ui_scale);
  v("light_theme", s.light_theme);
  v("show_controls", s.show_controls);
  v("show_heads", s.show_heads);
  v("show_steps", s.show_steps);
  v("show_matrix", s.show_matrix);
  v("window_width", s.window_width);
  v("window_height", s.window_height);
  v("recent_files", s.recent_files);
}

// A JSON value as F, refusing what does not fit before any conversion:
// nlohmann's get<int>() on 8e127 (or get<float>() on 1e300) is an
// out-of-range cast, undefined behaviour (found by fuzzing).
template <typename F>
F convert(const json& v, const char* key, const std::string& name) {
  auto wrong = [&](const char* expected) { return attn::Error(name + ": \"" + key + "\" must be " + expected); };
  if constexpr (std::is_same_v<F, bool>) {
    if (!v.is_boolean()) throw wrong("true or false");
    return v.get<bool>();
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

template <typename T>
struct IsNamed : std::false_type {};
template <typename E, size_t N>
struct IsNamed<Named<E, N>> : std::true_type {};

}  // namespace

std::string to_json(const Settings& settings) {
  json j;
  j["format"] = "attnscope-session-1";
  Settings s = settings;
  visit_fields(s, [&](const char* key, auto&& field) {
    if constexpr (IsNamed<std::decay_t<decltype(field)>>::value)
      j[key] = field.names[static_cast<int>(field.value)];
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
  visit_fields(s, [&](const char* key, auto&& field) {
    if (!j.contains(key)) return;
    using F = std::decay_t<decltype(field)>;
    if constexpr (IsNamed<F>::value)
      field.value = static_cast<std::decay_t<decltype(field.value)>>(
          index_of(field.names, convert<std::string>(j.at(key), key, name), key, name));
    else
      field = convert<F>(j.at(key), key, name);
  });
  auto in_range = [&](const char* key, double v, double lo, double hi) {
    if (!(v >= lo && v <= hi))
      throw attn::Error(name + ": \"" + key + "\" = " + std::to_string(v) + " is outside [" + std::to_string(lo) +
                        ", " + std::to_string(hi) + "]");
  };
  in_range("patch", s.patch, 1, 4096);
  in_range("d_model", s.d_model, 1, 4096);
  in_range("heads", s.heads, 1, 4096);
  in_range("token_side", s.token_side, 1, 256);
  in_range("temperature", s.temperature, 1e-30, 1e30);
  in_range("radius", s.radius, 0, 1 << 20);
  in_range("vit_heads", s.vit_heads, 0, 4096);
  in_range("vit_size", s.vit_size, -1, 16384);
  in_range("vit_temperature", s.vit_temperature, 1e-30, 1e30);
  in_range("vit_layer", s.vit_layer, -1, 4095);
  in_range("vit_threshold", s.vit_threshold, 0.01, 1);
  in_range("vit_discard", s.vit_discard, 0, 0.99);
  in_range("head", s.head, -1, 4095);
  in_range("opacity", s.opacity, 0, 1);
  in_range("ui_scale", s.ui_scale, 1, 3);
  in_range("window_width", s.window_width, 320, 16384);
  in_range("window_height", s.window_height, 240, 16384);
  for (int t : s.queries) in_range("queries", t, 0, 1 << 28);
  for (int t : s.hidden_keys) in_range("hidden_keys", t, 0, 1 << 28);
  if (s.recent_files.size() > 8) s.recent_files.resize(8);
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

void remember_file(Settings& s, const std::string& path) {
  auto& r = s.recent_files;
  r.erase(std::remove(r.begin(), r.end(), path), r.end());
  r.insert(r.begin(), path);
  if (r.size() > 8) r.resize(8);
}

}  // namespace gui
