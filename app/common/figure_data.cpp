#include "figure_data.hpp"

#include <cassert>
#include <cstdio>

#include "core/io.hpp"
#include "core/npy.hpp"

namespace app {
namespace {

// A CSV field: quoted when it holds a comma, a quote or a line break.
std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
  return out;
}

bool ends_with(const std::string& s, const std::string& tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

}  // namespace

std::string data_base(const std::string& path) {
  for (const char* ext : {".npy", ".csv", ".json"})
    if (ends_with(path, ext)) return path.substr(0, path.size() - std::string(ext).size());
  return path;
}

std::string figure_csv(const FigureData& data) {
  assert(data.axes.size() == data.shape.size());
  std::string out;
  for (const FigureAxis& a : data.axes) {
    out.append(csv_field(a.name)).append(",");
    if (!a.labels.empty()) out.append(csv_field(a.name + "_label")).append(",");
  }
  out.append("value\n");
  const size_t dims = data.shape.size();
  std::vector<std::int64_t> index(dims, 0);
  char number[32];
  for (float v : data.values) {
    for (size_t d = 0; d < dims; ++d) {
      out.append(std::to_string(index[d])).append(",");
      const auto& labels = data.axes[d].labels;
      if (!labels.empty()) out.append(csv_field(labels[static_cast<size_t>(index[d])])).append(",");
    }
    std::snprintf(number, sizeof number, "%.9g\n", static_cast<double>(v));
    out.append(number);
    for (size_t d = dims; d-- > 0;) {  // the next index, row-major
      if (++index[d] < data.shape[d]) break;
      index[d] = 0;
    }
  }
  return out;
}

nlohmann::json figure_json(const FigureData& data) {
  nlohmann::json j;
  j["quantity"] = data.quantity;
  j["shape"] = data.shape;
  j["axes"] = nlohmann::json::array();
  for (const FigureAxis& a : data.axes) {
    nlohmann::json axis = {{"name", a.name}};
    if (!a.labels.empty()) axis["labels"] = a.labels;
    j["axes"].push_back(axis);
  }
  j["settings"] = data.settings;
  j["dtype"] = "float32";
  j["order"] = "row-major (C)";
  return j;
}

std::vector<std::string> write_figure_data(const std::string& base, const FigureData& data) {
  std::int64_t count = 1;
  for (std::int64_t s : data.shape) count *= s;
  assert(count == static_cast<std::int64_t>(data.values.size()) && data.axes.size() == data.shape.size());
  (void)count;
  const std::vector<std::uint8_t> npy = attn::encode_npy(data.shape, data.values);
  const std::string csv = figure_csv(data);
  // Invalid UTF-8 in a label (a tokenizer's byte pieces) is replaced, not
  // thrown on.
  const std::string json = figure_json(data).dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  const std::string b = data_base(base);
  std::vector<std::string> paths = {b + ".npy", b + ".csv", b + ".json"};
  attn::write_file_atomic(paths[0], npy);
  attn::write_file_atomic(paths[1], std::span(reinterpret_cast<const std::uint8_t*>(csv.data()), csv.size()));
  attn::write_file_atomic(paths[2], std::span(reinterpret_cast<const std::uint8_t*>(json.data()), json.size()));
  return paths;
}

}  // namespace app
