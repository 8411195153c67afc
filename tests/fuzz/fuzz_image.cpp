// libFuzzer target: image decoding (our PNG/JPEG structure checks, then
// Debian's stb_image). A malformed file must be an attn::Error, nothing else.
#include <cstdint>

#include "core/error.hpp"
#include "core/image.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, size_t size) {
  attn::ImageLimits limits;
  limits.max_pixels = 4ULL << 20;  // keep each run small; the limit path is still exercised
  try {
    const attn::Image img = attn::decode_image({data, size}, "fuzz", limits);
    if (img.rgba.size() != static_cast<size_t>(img.width) * img.height * 4) __builtin_trap();
  } catch (const attn::Error&) {
  }
  return 0;
}
