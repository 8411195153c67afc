#pragma once
// The numbers behind a figure, written beside it so that it can be
// re-plotted elsewhere: BASE.npy (float32, the shape below), BASE.csv (one
// row per value: its index on every axis, the axes' labels where they have
// them, the value) and BASE.json (the shape, the axes and their labels, the
// settings the figure was drawn with, what the values are).
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace app {

struct FigureAxis {
  std::string name;                 // e.g. "panel", "row", "col", "word"
  std::vector<std::string> labels;  // one per index, or empty
};

// clang-tidy 14 reads the noexcept move of nlohmann::json, which asserts its
// invariant, as able to throw; the implicit moves below cannot.
struct FigureData {              // NOLINT(bugprone-exception-escape)
  std::string quantity;          // what the values are, e.g. "attention weight"
  std::vector<FigureAxis> axes;  // one per dimension
  std::vector<std::int64_t> shape;
  std::vector<float> values;                           // row-major, the product of `shape` long
  nlohmann::json settings = nlohmann::json::object();  // every setting the figure was drawn with
};

// BASE without a trailing .npy, .csv or .json.
std::string data_base(const std::string& path);
// The three files' bytes are made first, then each is written atomically.
// Returns the paths written.
std::vector<std::string> write_figure_data(const std::string& base, const FigureData& data);

// The CSV (header line, then one line per value), for tests and the app.
std::string figure_csv(const FigureData& data);
nlohmann::json figure_json(const FigureData& data);

}  // namespace app
