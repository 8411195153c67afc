#include "csv.hpp"

#include <charconv>
#include <cmath>
#include <limits>
#include <string_view>
#include <vector>

#include "error.hpp"
#include "io.hpp"

namespace attn {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '"')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '"')) s.remove_suffix(1);
  return s;
}

std::vector<std::string_view> split(std::string_view line, char sep) {
  std::vector<std::string_view> cells;
  size_t start = 0;
  for (;;) {
    const size_t end = line.find(sep, start);
    cells.push_back(trim(line.substr(start, end == std::string_view::npos ? end : end - start)));
    if (end == std::string_view::npos) return cells;
    start = end + 1;
  }
}

// Parses a whole cell as a double. A number too large for double (1e400)
// comes back as infinity so the caller reports it as out of range.
bool parse_number(std::string_view cell, double& out) {
  if (cell.empty()) return false;
  if (cell.front() == '+') cell.remove_prefix(1);
  const auto r = std::from_chars(cell.data(), cell.data() + cell.size(), out);
  if (r.ptr != cell.data() + cell.size()) return false;
  if (r.ec == std::errc::result_out_of_range) {
    out = std::numeric_limits<double>::infinity();
    return true;
  }
  return r.ec == std::errc();
}

bool looks_non_finite(std::string_view cell) {
  std::string lower;
  for (char c : cell) lower += static_cast<char>(c >= 'A' && c <= 'Z' ? c + 32 : c);
  if (!lower.empty() && (lower[0] == '-' || lower[0] == '+')) lower.erase(0, 1);
  return lower == "nan" || lower == "inf" || lower == "infinity";
}

}  // namespace

Matrix parse_csv(std::span<const std::uint8_t> bytes, const std::string& name) {
  std::string_view text(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);
  if (text.find('\0') != std::string_view::npos) throw Error(name + ": not a text file (contains NUL bytes)");

  std::vector<std::vector<float>> rows;
  char sep = 0;
  size_t cols = 0;
  bool header_allowed = true;
  size_t line_no = 0, pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (trim(line).empty()) continue;
    if (sep == 0)
      sep = line.find(';') != std::string_view::npos ? ';' : line.find('\t') != std::string_view::npos ? '\t' : ',';
    const auto cells = split(line, sep);
    const std::string where = name + ": line " + std::to_string(line_no);

    // A first line with no number in it is a header.
    if (header_allowed) {
      header_allowed = false;
      bool any_number = false;
      double v;
      for (auto c : cells) any_number |= parse_number(c, v) || looks_non_finite(c);
      if (!any_number) {
        cols = cells.size();
        continue;
      }
    }
    if (cols == 0) cols = cells.size();
    if (cells.size() != cols)
      throw Error(where + ": has " + std::to_string(cells.size()) + " cells, expected " + std::to_string(cols) +
                  " (ragged rows)");
    std::vector<float> row;
    row.reserve(cols);
    for (size_t c = 0; c < cells.size(); ++c) {
      const std::string at = where + ", column " + std::to_string(c + 1) + ": ";
      double v = 0.0;
      if (looks_non_finite(cells[c])) throw Error(at + "'" + printable(cells[c]) + "' is not a finite number");
      if (!parse_number(cells[c], v)) {
        if (cells[c].empty()) throw Error(at + "empty cell");
        if (sep != ',' && cells[c].find(',') != std::string_view::npos) {
          std::string dotted(cells[c]);
          for (auto& ch : dotted) ch = ch == ',' ? '.' : ch;
          if (parse_number(dotted, v))
            throw Error(at + "'" + printable(cells[c]) + "' uses a decimal comma; write numbers with a '.'");
        }
        throw Error(at + "'" + printable(cells[c], 40) + "' is not a number");
      }
      if (!std::isfinite(v) || std::abs(v) > std::numeric_limits<float>::max())
        throw Error(at + "'" + printable(cells[c]) + "' is outside the float range");
      row.push_back(static_cast<float>(v));
    }
    rows.push_back(std::move(row));
  }
  if (rows.empty()) throw Error(name + ": no data rows (empty CSV file)");
  Matrix m(static_cast<Eigen::Index>(rows.size()), static_cast<Eigen::Index>(cols));
  for (size_t i = 0; i < rows.size(); ++i)
    for (size_t j = 0; j < cols; ++j) m(static_cast<Eigen::Index>(i), static_cast<Eigen::Index>(j)) = rows[i][j];
  return m;
}

Matrix read_csv(const std::string& path, const CsvLimits& limits) {
  return parse_csv(read_file(path, limits.max_file_bytes), path);
}

}  // namespace attn
