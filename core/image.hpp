#pragma once
// 8-bit RGBA images: loading (PNG, JPEG, BMP) and saving (PNG).
//
// The file is read into memory with a size limit; PNG chunk structure and
// JPEG frame headers are checked by our own code and the dimensions checked
// against the limits before anything is decoded. JPEG is decoded by
// libjpeg-turbo (jpeg.hpp); PNG and BMP by our own hardened build of
// stb_image (third_party/stb_impl.cpp), always as 8-bit RGBA with no
// vertical flip. Rows are top to bottom.
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace attn {

struct Image {
  int width = 0, height = 0;
  std::vector<std::uint8_t> rgba;  // [height, width, 4], row-major, top row first

  const std::uint8_t* pixel(int x, int y) const { return &rgba[(static_cast<size_t>(y) * width + x) * 4]; }
  std::uint8_t* pixel(int x, int y) { return &rgba[(static_cast<size_t>(y) * width + x) * 4]; }
  static Image blank(int w, int h);  // opaque black
};

struct ImageLimits {
  std::uint64_t max_file_bytes = 512ULL << 20;  // 512 MiB
  int max_side = 16384;                         // pixels, each side
  std::uint64_t max_pixels = 64ULL << 20;       // 64 Mpx = 256 MiB of RGBA
};

// `name` is used in messages (usually the path). Throws attn::Error.
Image decode_image(std::span<const std::uint8_t> bytes, const std::string& name, const ImageLimits& limits = {});
Image load_image(const std::string& path, const ImageLimits& limits = {});

std::vector<std::uint8_t> encode_png(const Image& img);
// Atomic: no partial file on failure.
void save_png(const std::string& path, const Image& img);

}  // namespace attn
