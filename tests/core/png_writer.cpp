#include "png_writer.hpp"

#include <algorithm>

namespace testpng {

std::uint32_t crc32(const std::uint8_t* data, size_t n, std::uint32_t crc) {
  crc = ~crc;
  for (size_t i = 0; i < n; ++i) {
    crc ^= data[i];
    for (int k = 0; k < 8; ++k) crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
  }
  return ~crc;
}

static void put32(Bytes& b, std::uint32_t v) {
  for (int s = 24; s >= 0; s -= 8) b.push_back(static_cast<std::uint8_t>(v >> s));
}

Bytes zlib_stored(const Bytes& raw) {
  Bytes z = {0x78, 0x01};
  size_t pos = 0;
  do {
    const size_t n = std::min<size_t>(65535, raw.size() - pos);
    const bool last = pos + n == raw.size();
    z.push_back(last ? 1 : 0);
    z.push_back(static_cast<std::uint8_t>(n & 0xff));
    z.push_back(static_cast<std::uint8_t>(n >> 8));
    z.push_back(static_cast<std::uint8_t>(~n & 0xff));
    z.push_back(static_cast<std::uint8_t>((~n >> 8) & 0xff));
    z.insert(z.end(), raw.begin() + static_cast<long>(pos), raw.begin() + static_cast<long>(pos + n));
    pos += n;
  } while (pos < raw.size());
  std::uint32_t a = 1, b = 0;
  for (auto c : raw) {
    a = (a + c) % 65521;
    b = (b + a) % 65521;
  }
  put32(z, (b << 16) | a);
  return z;
}

Bytes chunk(const std::string& type, const Bytes& data, long long length_override) {
  Bytes c;
  put32(c,
        length_override >= 0 ? static_cast<std::uint32_t>(length_override) : static_cast<std::uint32_t>(data.size()));
  Bytes body(type.begin(), type.end());
  body.insert(body.end(), data.begin(), data.end());
  c.insert(c.end(), body.begin(), body.end());
  put32(c, crc32(body.data(), body.size()));
  return c;
}

Bytes ihdr(std::uint32_t w, std::uint32_t h, int depth, int color_type) {
  Bytes d;
  put32(d, w);
  put32(d, h);
  d.push_back(static_cast<std::uint8_t>(depth));
  d.push_back(static_cast<std::uint8_t>(color_type));
  d.push_back(0);
  d.push_back(0);
  d.push_back(0);
  return chunk("IHDR", d);
}

Bytes png(std::uint32_t w, std::uint32_t h, int depth, int color_type, const Bytes& scanlines, size_t row_bytes,
          const Bytes& palette) {
  Bytes out = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  const Bytes hdr = ihdr(w, h, depth, color_type);
  out.insert(out.end(), hdr.begin(), hdr.end());
  if (!palette.empty()) {
    const Bytes p = chunk("PLTE", palette);
    out.insert(out.end(), p.begin(), p.end());
  }
  Bytes raw;
  for (size_t y = 0; y * row_bytes < scanlines.size(); ++y) {
    raw.push_back(0);
    raw.insert(raw.end(), scanlines.begin() + static_cast<long>(y * row_bytes),
               scanlines.begin() + static_cast<long>((y + 1) * row_bytes));
  }
  const Bytes idat = chunk("IDAT", zlib_stored(raw));
  out.insert(out.end(), idat.begin(), idat.end());
  const Bytes end = chunk("IEND", {});
  out.insert(out.end(), end.begin(), end.end());
  return out;
}

}  // namespace testpng
