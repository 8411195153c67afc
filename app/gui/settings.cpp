#include "settings.hpp"

#include <algorithm>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <set>

#include "core/error.hpp"
#include "core/io.hpp"

namespace gui {
namespace {

using nlohmann::json;

constexpr const char* kSources[] = {"similarity", "random", "pixels", "random-tokens", "files"};
constexpr const char* kScores[] = {"scaled-dot", "dot", "cosine", "additive", "raw"};
constexpr const char* kNorms[] = {"softmax", "sparsemax", "none"};
constexpr const char* kMasks[] = {"none", "causal", "local"};
constexpr const char* kUpsample[] = {"nearest", "bilinear"};
constexpr const char* kScales[] = {"max", "minmax", "fixed"};
constexpr int kMaxDepth = 8;

template <size_t N>
int index_of(const char* const (&names)[N], const std::string& v, const std::string& key, const std::string& name) {
  for (size_t i = 0; i < N; ++i)
    if (v == names[i]) return static_cast<int>(i);
  throw attn::Error(name + ": '" + v + "' is not a valid value for \"" + key + "\"");
}

}  // namespace

std::string to_json(const Settings& s) {
  json j;
  j["format"] = "attnscope-session-1";
  j["source"] = kSources[static_cast<int>(s.source)];
  j["image"] = s.image_path;
  j["q"] = s.q_path;
  j["k"] = s.k_path;
  j["v"] = s.v_path;
  j["patch"] = s.patch;
  j["d_model"] = s.d_model;
  j["heads"] = s.heads;
  j["seed"] = s.seed;
  j["position_encoding"] = s.position_encoding;
  j["token_side"] = s.token_side;
  j["temperature"] = s.temperature;
  j["score"] = kScores[static_cast<int>(s.score)];
  j["norm"] = kNorms[static_cast<int>(s.norm)];
  j["mask"] = kMasks[static_cast<int>(s.mask)];
  j["radius"] = s.radius;
  j["hidden_keys"] = s.hidden_keys;
  j["queries"] = s.queries;
  j["head"] = s.head;
  j["colormap"] = std::string(attn::colormap_name(s.colormap));
  j["opacity"] = s.opacity;
  j["upsample"] = kUpsample[static_cast<int>(s.upsample)];
  j["scale"] = kScales[static_cast<int>(s.scale)];
  j["grid"] = s.grid;
  j["ui_scale"] = s.ui_scale;
  j["light_theme"] = s.light_theme;
  j["show_controls"] = s.show_controls;
  j["show_heads"] = s.show_heads;
  j["show_steps"] = s.show_steps;
  j["show_matrix"] = s.show_matrix;
  j["window_width"] = s.window_width;
  j["window_height"] = s.window_height;
  j["recent_files"] = s.recent_files;
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
    throw attn::Error(name + ": not valid JSON (" + std::string(e.what()) + ")");
  }
  if (!j.is_object()) throw attn::Error(name + ": a session file is a JSON object");
  if (j.value("format", std::string()) != "attnscope-session-1")
    throw attn::Error(name + ": not an attnscope session (missing \"format\": \"attnscope-session-1\")");

  Settings s = base;
  auto get = [&](const char* key, auto& out) {
    if (!j.contains(key)) return;
    try {
      out = j.at(key).get<std::remove_reference_t<decltype(out)>>();
    } catch (const json::exception&) {
      throw attn::Error(name + ": \"" + key + "\" has the wrong type");
    }
  };
  auto get_enum = [&](const char* key, const auto& names, auto& out) {
    std::string v;
    get(key, v);
    if (!v.empty()) out = static_cast<std::remove_reference_t<decltype(out)>>(index_of(names, v, key, name));
  };
  auto in_range = [&](const char* key, double v, double lo, double hi) {
    if (!(v >= lo && v <= hi))
      throw attn::Error(name + ": \"" + key + "\" = " + std::to_string(v) + " is outside [" + std::to_string(lo) + ", " +
                        std::to_string(hi) + "]");
  };
  get_enum("source", kSources, s.source);
  get("image", s.image_path);
  get("q", s.q_path);
  get("k", s.k_path);
  get("v", s.v_path);
  get("patch", s.patch);
  get("d_model", s.d_model);
  get("heads", s.heads);
  get("seed", s.seed);
  get("position_encoding", s.position_encoding);
  get("token_side", s.token_side);
  get("temperature", s.temperature);
  get_enum("score", kScores, s.score);
  get_enum("norm", kNorms, s.norm);
  get_enum("mask", kMasks, s.mask);
  get("radius", s.radius);
  get("hidden_keys", s.hidden_keys);
  get("queries", s.queries);
  get("head", s.head);
  std::string cmap;
  get("colormap", cmap);
  if (!cmap.empty()) {
    const auto m = attn::colormap_from_name(cmap);
    if (!m) throw attn::Error(name + ": unknown colormap '" + cmap + "'");
    s.colormap = *m;
  }
  get("opacity", s.opacity);
  get_enum("upsample", kUpsample, s.upsample);
  get_enum("scale", kScales, s.scale);
  get("grid", s.grid);
  get("ui_scale", s.ui_scale);
  get("light_theme", s.light_theme);
  get("show_controls", s.show_controls);
  get("show_heads", s.show_heads);
  get("show_steps", s.show_steps);
  get("show_matrix", s.show_matrix);
  get("window_width", s.window_width);
  get("window_height", s.window_height);
  get("recent_files", s.recent_files);
  in_range("patch", s.patch, 1, 4096);
  in_range("d_model", s.d_model, 1, 4096);
  in_range("heads", s.heads, 1, 4096);
  in_range("token_side", s.token_side, 1, 256);
  in_range("temperature", s.temperature, 1e-30, 1e30);
  in_range("radius", s.radius, 0, 1 << 20);
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
