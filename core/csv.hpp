#pragma once
// CSV matrices: one row per line, one number per cell.
//
// Accepted: ',' ';' or tab as the separator (detected from the first data
// line), an optional UTF-8 byte-order mark, LF or CRLF line ends, blank lines
// (skipped), and one header line whose cells are all non-numeric (skipped).
// Refused with attn::Error naming the file, line and column: ragged rows,
// non-numeric cells, decimal commas ("1,5" with ';' separators), nan, inf and
// values outside the float range (1e400), an empty file, and files over the
// size limit (checked before reading).
#include <cstdint>
#include <span>
#include <string>

#include "types.hpp"

namespace attn {

struct CsvLimits {
  std::uint64_t max_file_bytes = 256ULL << 20;  // 256 MiB
};

// Returns [rows, cols]. `name` is used in messages.
Matrix parse_csv(std::span<const std::uint8_t> bytes, const std::string& name);
Matrix read_csv(const std::string& path, const CsvLimits& limits = {});

}  // namespace attn
