#pragma once
// Builds PNG files byte by byte for tests: any bit depth and colour type,
// chunk by chunk, so malformed files can be made as easily as valid ones.
#include <cstdint>
#include <string>
#include <vector>

namespace testpng {

using Bytes = std::vector<std::uint8_t>;

std::uint32_t crc32(const std::uint8_t* data, size_t n, std::uint32_t crc = 0);
// A zlib stream of stored (uncompressed) deflate blocks.
Bytes zlib_stored(const Bytes& raw);
// A chunk: length, type, data, CRC. `length_override` writes a false length.
Bytes chunk(const std::string& type, const Bytes& data, long long length_override = -1);
Bytes ihdr(std::uint32_t w, std::uint32_t h, int depth, int color_type);
// Signature + IHDR + (PLTE) + IDAT(scanlines with filter byte 0) + IEND.
// `scanlines` is the raw image data without filter bytes, `row_bytes` per row.
Bytes png(std::uint32_t w, std::uint32_t h, int depth, int color_type, const Bytes& scanlines, size_t row_bytes,
          const Bytes& palette = {});

}  // namespace testpng
