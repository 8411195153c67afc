// libFuzzer target: CSV parsing.
#include <cmath>
#include <cstdint>

#include "core/csv.hpp"
#include "core/error.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, size_t size) {
  try {
    const attn::Matrix m = attn::parse_csv({data, size}, "fuzz");
    if (m.size() == 0 || !m.allFinite()) __builtin_trap();  // the parser promises finite, non-empty data
  } catch (const attn::Error&) {
  }
  return 0;
}
