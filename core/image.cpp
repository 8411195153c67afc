#include "image.hpp"

#include <algorithm>
#include <array>
#include <cstring>
#include <memory>

#include "error.hpp"
#include "io.hpp"
#include "jpeg.hpp"

// Declarations only: the implementation is compiled once, hardened, in
// third_party/stb_impl.cpp.
#include <stb/stb_image.h>
#include <stb/stb_image_write.h>

namespace attn {
namespace {

// "NAME: PNG chunk 'TYPE' WHAT", as one error.
[[noreturn]] void chunk_error(const std::string& name, const std::string& type, const std::string& what) {
  std::string msg = name;
  msg += ": PNG chunk '";
  msg += type;
  msg += "' ";
  msg += what;
  throw Error(msg);
}

bool starts_with(std::span<const std::uint8_t> b, std::string_view magic) {
  return b.size() >= magic.size() && std::memcmp(b.data(), magic.data(), magic.size()) == 0;
}

// Names formats we deliberately do not decode, for a clearer message than
// "unknown image type".
const char* unsupported_format(std::span<const std::uint8_t> b) {
  if (starts_with(b, "GIF8")) return "GIF";
  if (starts_with(b, "#?RADIANCE") || starts_with(b, "#?RGBE")) return "Radiance HDR";
  if (b.size() >= 2 && b[0] == 'P' && b[1] >= '1' && b[1] <= '7') return "PNM";
  if (starts_with(b, "8BPS")) return "Photoshop PSD";
  if (starts_with(b, "RIFF")) return "RIFF (WebP?)";
  if (starts_with(b, "II*") || starts_with(b, "MM\0*")) return "TIFF";
  return nullptr;
}

std::uint32_t crc32(const std::uint8_t* data, size_t n) {
  static const auto table = [] {
    std::array<std::uint32_t, 256> t{};
    for (std::uint32_t i = 0; i < 256; ++i) {
      std::uint32_t c = i;
      for (int k = 0; k < 8; ++k) c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1u)));
      t[i] = c;
    }
    return t;
  }();
  std::uint32_t crc = ~0u;
  for (size_t i = 0; i < n; ++i) crc = table[(crc ^ data[i]) & 0xff] ^ (crc >> 8);
  return ~crc;
}

std::uint32_t be32(const std::uint8_t* p) {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) | p[3];
}

struct Dimensions {
  std::uint64_t width = 0, height = 0;
};

void check_dimensions(Dimensions d, const std::string& name, const ImageLimits& limits) {
  const std::string size = std::to_string(d.width) + "x" + std::to_string(d.height);
  if (d.width == 0 || d.height == 0) throw Error(name + ": image has no pixels (" + size + ")");
  if (d.width > static_cast<std::uint64_t>(limits.max_side) || d.height > static_cast<std::uint64_t>(limits.max_side))
    throw Error(name + ": image is " + size + "; each side must be at most " + std::to_string(limits.max_side) +
                " pixels");
  const std::uint64_t pixels = d.width * d.height;
  if (pixels > limits.max_pixels)
    throw Error(name + ": image is " + size + " (" + std::to_string(pixels / 1000000) + " Mpx); the limit is " +
                std::to_string(limits.max_pixels / 1000000) + " Mpx");
}

// Walks a PNG's chunks before stb sees it: every length inside the file,
// every CRC right, IHDR first, IEND present. A cut or corrupted file is an
// error here rather than whatever the decoder makes of it.
void check_png(std::span<const std::uint8_t> b, const std::string& name, const ImageLimits& limits) {
  size_t pos = 8;
  bool first = true, ended = false;
  while (!ended) {
    if (b.size() - pos < 12) throw Error(name + ": PNG is truncated (no IEND chunk)");
    const std::uint32_t len = be32(&b[pos]);
    const std::string type(reinterpret_cast<const char*>(&b[pos + 4]), 4);
    if (len > b.size() - pos - 12)
      chunk_error(name, type, "claims " + std::to_string(len) + " bytes, past the end of the file");
    if (crc32(&b[pos + 4], len + 4) != be32(&b[pos + 8 + len])) chunk_error(name, type, "is corrupt (CRC mismatch)");
    if (first) {
      if (type != "IHDR" || len != 13) throw Error(name + ": PNG does not start with an IHDR chunk");
      check_dimensions({be32(&b[pos + 8]), be32(&b[pos + 12])}, name, limits);
      first = false;
    }
    ended = type == "IEND";
    pos += 12 + len;
  }
}

// Reads a JPEG's frame header (SOFn): refuses what stb cannot decode
// (arithmetic coding, lossless, 12-bit) by name, checks the size, and checks
// that the file ends with its end-of-image marker (writers may append a few
// bytes after it).
void check_jpeg(std::span<const std::uint8_t> b, const std::string& name, const ImageLimits& limits) {
  size_t pos = 2;
  bool frame = false;
  while (!frame) {
    if (pos + 4 > b.size()) throw Error(name + ": JPEG is truncated before its frame header");
    if (b[pos] != 0xFF)
      throw Error(name + ": JPEG is malformed (expected a marker at byte " + std::to_string(pos) + ")");
    const std::uint8_t m = b[pos + 1];
    if (m == 0xFF) {  // fill byte
      ++pos;
      continue;
    }
    const size_t len = (size_t{b[pos + 2]} << 8) | b[pos + 3];
    if (len < 2 || pos + 2 + len > b.size()) throw Error(name + ": JPEG is truncated inside a header segment");
    if (m == 0xDA) throw Error(name + ": JPEG has no frame header");
    if (m >= 0xC0 && m <= 0xCF && m != 0xC4 && m != 0xC8 && m != 0xCC) {
      if (len < 8) throw Error(name + ": JPEG frame header is too short");
      if (m >= 0xC9)
        throw Error(name + ": arithmetic-coded JPEG is not supported; re-save it as a baseline JPEG or PNG");
      if (m == 0xC3 || m == 0xC7) throw Error(name + ": lossless JPEG is not supported");
      if (b[pos + 4] != 8)
        throw Error(name + ": " + std::to_string(b[pos + 4]) + "-bit JPEG is not supported; only 8-bit");
      check_dimensions({(size_t{b[pos + 7]} << 8) | b[pos + 8], (size_t{b[pos + 5]} << 8) | b[pos + 6]}, name, limits);
      frame = true;
    }
    pos += 2 + len;
  }
  const size_t tail = std::min<size_t>(b.size() - pos, 4096);
  for (size_t i = b.size() - tail; i + 1 < b.size(); ++i)
    if (b[i] == 0xFF && b[i + 1] == 0xD9) return;
  throw Error(name + ": JPEG is truncated (no end-of-image marker)");
}

}  // namespace

Image Image::blank(int w, int h) {
  Image img;
  img.width = w;
  img.height = h;
  img.rgba.assign(static_cast<size_t>(w) * h * 4, 0);
  for (size_t i = 3; i < img.rgba.size(); i += 4) img.rgba[i] = 255;
  return img;
}

Image decode_image(std::span<const std::uint8_t> bytes, const std::string& name, const ImageLimits& limits) {
  if (bytes.empty()) throw Error(name + ": file is empty");
  if (const char* fmt = unsupported_format(bytes))
    throw Error(name + ": " + fmt + " images are not supported; use PNG, JPEG or BMP");
  // stb takes an int length.
  if (bytes.size() > static_cast<std::uint64_t>(INT32_MAX)) throw Error(name + ": file is larger than 2 GiB");
  if (starts_with(bytes, "\x89PNG\r\n\x1a\n")) {
    check_png(bytes, name, limits);
  } else if (starts_with(bytes, "\xFF\xD8")) {
    check_jpeg(bytes, name, limits);
    return decode_jpeg(bytes, name);
  }
  const int len = static_cast<int>(bytes.size());
  int w = 0, h = 0, channels = 0;
  if (!stbi_info_from_memory(bytes.data(), len, &w, &h, &channels)) {
    const char* why = stbi_failure_reason();
    throw Error(name + ": not a readable PNG, JPEG or BMP image" + (why ? std::string(" (") + why + ")" : ""));
  }
  check_dimensions({static_cast<std::uint64_t>(std::max(w, 0)), static_cast<std::uint64_t>(std::max(h, 0))}, name,
                   limits);
  const auto pixels = static_cast<std::uint64_t>(w) * static_cast<std::uint64_t>(h);

  int dw = 0, dh = 0, dc = 0;
  std::unique_ptr<stbi_uc, void (*)(void*)> data(stbi_load_from_memory(bytes.data(), len, &dw, &dh, &dc, 4),
                                                 stbi_image_free);
  if (!data) {
    const char* why = stbi_failure_reason();
    throw Error(name + ": cannot decode image" + (why ? std::string(": ") + why : ""));
  }
  if (dw != w || dh != h) throw Error(name + ": image size changed during decoding");
  Image img;
  img.width = w;
  img.height = h;
  img.rgba.assign(data.get(), data.get() + pixels * 4);
  return img;
}

Image load_image(const std::string& path, const ImageLimits& limits) {
  return decode_image(read_file(path, limits.max_file_bytes), path, limits);
}

std::vector<std::uint8_t> encode_png(const Image& img) {
  std::vector<std::uint8_t> out;
  auto sink = [](void* ctx, void* data, int size) {
    auto* v = static_cast<std::vector<std::uint8_t>*>(ctx);
    v->insert(v->end(), static_cast<std::uint8_t*>(data), static_cast<std::uint8_t*>(data) + size);
  };
  if (!stbi_write_png_to_func(sink, &out, img.width, img.height, 4, img.rgba.data(), img.width * 4))
    throw Error("cannot encode PNG");
  return out;
}

void save_png(const std::string& path, const Image& img) { write_file_atomic(path, encode_png(img)); }

}  // namespace attn
