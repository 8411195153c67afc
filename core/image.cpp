#include "image.hpp"

#include <cstring>
#include <memory>

#include "error.hpp"
#include "io.hpp"

// Declarations only: the implementation is compiled once, hardened, in
// third_party/stb_impl.cpp.
#include <stb/stb_image.h>
#include <stb/stb_image_write.h>

namespace attn {
namespace {

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
  if (bytes.size() > static_cast<std::uint64_t>(INT32_MAX))
    throw Error(name + ": file is larger than 2 GiB");
  const int len = static_cast<int>(bytes.size());
  int w = 0, h = 0, channels = 0;
  if (!stbi_info_from_memory(bytes.data(), len, &w, &h, &channels)) {
    const char* why = stbi_failure_reason();
    throw Error(name + ": not a readable PNG, JPEG or BMP image" + (why ? std::string(" (") + why + ")" : ""));
  }
  if (w <= 0 || h <= 0) throw Error(name + ": image has no pixels (" + std::to_string(w) + "x" + std::to_string(h) + ")");
  if (w > limits.max_side || h > limits.max_side)
    throw Error(name + ": image is " + std::to_string(w) + "x" + std::to_string(h) + "; each side must be at most " +
                std::to_string(limits.max_side) + " pixels");
  const auto pixels = static_cast<std::uint64_t>(w) * static_cast<std::uint64_t>(h);
  if (pixels > limits.max_pixels)
    throw Error(name + ": image is " + std::to_string(w) + "x" + std::to_string(h) + " (" +
                std::to_string(pixels / 1000000) + " Mpx); the limit is " +
                std::to_string(limits.max_pixels / 1000000) + " Mpx");

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
