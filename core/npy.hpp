#pragma once
// NumPy .npy files (format versions 1.0, 2.0 and 3.0).
//
// Reads float16, float32 and float64 arrays of rank 1 to 3 (limits.max_rank), little- or big-endian, C or
// Fortran order; the result is always float32 in C (row-major) order. Every
// field is validated: magic, version, header length, the header's Python dict
// literal (exactly the keys descr, fortran_order, shape), the dtype, the shape
// (no zero or overflowing sizes) and the data length. Anything else throws
// attn::Error naming the file and the problem.
// Writes float32, little-endian, C order, version 1.0 (what numpy.save writes).
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

namespace attn {

struct Array {
  std::vector<std::int64_t> shape;  // rank 1 to 3
  std::vector<float> data;          // C order, product(shape) elements
  std::int64_t dim(int i) const { return shape[static_cast<size_t>(i)]; }
  int rank() const { return static_cast<int>(shape.size()); }
};

struct NpyLimits {
  std::uint64_t max_file_bytes = 4ULL << 30;  // 4 GiB
  std::uint32_t max_header_bytes = 1 << 16;   // numpy itself refuses > 10000 by default
  int max_rank = 3;
};

// `name` is used in messages (usually the path).
Array parse_npy(std::span<const std::uint8_t> bytes, const std::string& name, const NpyLimits& limits = {});
Array read_npy(const std::string& path, const NpyLimits& limits = {});

std::vector<std::uint8_t> encode_npy(std::span<const std::int64_t> shape, std::span<const float> data);
// Atomic: no partial file on failure.
void write_npy(const std::string& path, std::span<const std::int64_t> shape, std::span<const float> data);
// The same for data too large to hold twice: `chunks` pieces in C order,
// piece i from chunk(i, scratch) (which may fill `scratch` and return a view
// of it); their sizes must add up to the shape's element count.
void write_npy_chunked(const std::string& path, std::span<const std::int64_t> shape, std::size_t chunks,
                       const std::function<std::span<const float>(std::size_t, std::vector<float>&)>& chunk);

}  // namespace attn
