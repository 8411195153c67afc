// libFuzzer target: the ViT weight mapper, fed valid safetensors containers
// with wrong names and shapes. The input's first byte picks the head count;
// the rest is the container. A model that loads is run on a tiny image.
#include <cstdint>

#include "core/error.hpp"
#include "core/safetensors.hpp"
#include "core/vit.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, size_t size) {
  if (size < 1) return 0;
  try {
    const attn::TensorFile st = attn::parse_safetensors({data + 1, size - 1}, "fuzz");
    const attn::VitModel m = attn::load_vit(st, data[0] % 5);
    if (m.width > 64 || m.depth > 4 || m.patch > 8 || m.registers > 4) return 0;  // keep runs small
    attn::VitOptions opt;
    opt.max_attention_bytes = 1 << 22;
    attn::Image img = attn::Image::blank(2 * m.patch, 3 * m.patch);
    const attn::VitResult r = attn::run_vit(m, img, opt);
    if (r.attention().layers() != m.depth) __builtin_trap();
  } catch (const attn::Error&) {
  }
  return 0;
}
