// Compare mode's settings: B from A, the sides' labels, and --compare.
#include <cstdio>

#include "common/args.hpp"
#include "core/error.hpp"
#include "core/io.hpp"
#include "settings.hpp"

namespace gui {

Settings side_b(const Settings& a) {
  Settings b = a;
  const CompareSettings& c = a.compare;
  if (c.temperature) b.attention.temperature = c.b_temperature;
  if (c.head) b.view.head = c.b_head;
  if (c.layer) b.view.layer = c.b_layer, b.view.mean_of_layers = false;
  if (c.score) b.attention.score = c.b_score;
  if (c.norm) b.attention.norm = c.b_norm;
  if (c.mask) b.attention.mask = c.b_mask;
  if (c.image) b.tokens.image_path = c.b_image;
  if (c.model) b.model.weights = c.b_weights;
  return b;
}

namespace {

std::string number(double v) {
  char text[32];
  std::snprintf(text, sizeof text, "%g", v);
  return text;
}

// The last part of a path ("model.safetensors" of "dino/model.safetensors";
// a weights file named by its folder when it has the usual name).
std::string file_name(const std::string& path) {
  const size_t slash = path.find_last_of('/');
  std::string name = slash == std::string::npos ? path : path.substr(slash + 1);
  if ((name == "model.safetensors" || name == "pytorch_model.bin" || name == "model.safetensors.index.json") &&
      slash != std::string::npos && slash > 0) {
    const size_t before = path.find_last_of('/', slash - 1);
    name = path.substr(before == std::string::npos ? 0 : before + 1,
                       slash - (before == std::string::npos ? 0 : before + 1));
  }
  return name.empty() ? path : name;
}

std::string head_text(int head, const std::string& heads_word) {
  return head < 0 ? heads_word + " of heads" : "head " + std::to_string(head);
}

std::string describe(const Settings& s, const CompareSettings& c, const std::string& heads_word) {
  std::string out;
  auto add = [&out](const std::string& part) { out += (out.empty() ? "" : ", ") + part; };
  if (c.temperature) add("T = " + number(s.attention.temperature));
  if (c.head) add(head_text(s.view.head, heads_word));
  if (c.layer) add(s.view.layer < 0 ? std::string("last layer") : "layer " + std::to_string(s.view.layer));
  if (c.score) add(std::string(attn::name_of(s.attention.score)));
  if (c.norm) add(std::string(attn::name_of(s.attention.norm)));
  if (c.mask) add("mask " + std::string(attn::name_of(s.attention.mask)));
  if (c.image) add(s.tokens.image_path.empty() ? std::string("the sample") : file_name(s.tokens.image_path));
  if (c.model) add(file_name(s.model.weights));
  return out.empty() ? "the same settings" : out;
}

// A head or layer: a number >= 0, or the word meaning "all" (-1).
int index_or(const std::string& key, const std::string& value, const char* all) {
  if (value == all) return -1;
  try {
    size_t used = 0;
    const int v = std::stoi(value, &used);
    if (used == value.size() && v >= 0 && v <= 4095) return v;
  } catch (const std::exception&) {
  }
  throw attn::Error("--compare: " + key + " takes a number from 0 or '" + all + "', got '" + attn::printable(value) +
                    "'");
}

}  // namespace

std::pair<std::string, std::string> compare_labels(const Settings& a, const std::string& heads_word) {
  return {describe(a, a.compare, heads_word), describe(side_b(a), a.compare, heads_word)};
}

void CompareSettings::toggle(double a_temperature) {
  on = !on;
  if (on && !any()) temperature = true, b_temperature = a_temperature * 4;
}

void CompareSettings::parse(const std::string& pairs) {
  CompareSettings c = *this;
  c.on = true;
  for (const auto& [key, value] :
       app::parse_pairs(pairs, "--compare", "temperature, head, layer, score, norm, mask, image, model")) {
    if (key == "temperature") {
      double t = 0;
      try {
        size_t used = 0;
        t = std::stod(value, &used);
        if (used != value.size()) t = 0;
      } catch (const std::exception&) {
        t = 0;
      }
      if (!(t > 0 && t <= 1e30))
        throw attn::Error("--compare: temperature must be a number > 0, got '" + attn::printable(value) + "'");
      c.temperature = true, c.b_temperature = t;
    } else if (key == "head") {
      c.head = true, c.b_head = index_or(key, value, "mean");
    } else if (key == "layer") {
      c.layer = true, c.b_layer = index_or(key, value, "last");
    } else if (key == "score") {
      c.score = true, c.b_score = attn::parse_enum<attn::Score>(value, "--compare score");
    } else if (key == "norm") {
      c.norm = true, c.b_norm = attn::parse_enum<attn::Norm>(value, "--compare norm");
    } else if (key == "mask") {
      c.mask = true, c.b_mask = attn::parse_enum<attn::MaskStructure>(value, "--compare mask");
    } else if (key == "image") {
      c.image = true, c.b_image = value;
    } else if (key == "model") {
      if (value.empty()) throw attn::Error("--compare: model needs a weights file");
      c.model = true, c.b_weights = value;
    } else {
      throw attn::Error(
          "--compare: '" + attn::printable(key) +
          "' is not a setting B can differ in (temperature, head, layer, score, norm, mask, image, model)");
    }
  }
  *this = c;
}

}  // namespace gui
