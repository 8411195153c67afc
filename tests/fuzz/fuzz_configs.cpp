// libFuzzer target: the config files read beside a ViT's weights
// (config.json, open_clip_config.json, preprocessor_config.json: the input
// split at its first two NUL bytes) and a sharded checkpoint's index.
#include <cstdint>
#include <string>

#include "core/error.hpp"
#include "core/safetensors.hpp"
#include "core/vit_names.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, size_t size) {
  const std::string all(reinterpret_cast<const char*>(data), size);
  const size_t a = all.find('\0'), b = a == std::string::npos ? a : all.find('\0', a + 1);
  attn::VitConfigs c;
  c.config_json = all.substr(0, a);
  if (a != std::string::npos) c.open_clip_json = all.substr(a + 1, b == std::string::npos ? b : b - a - 1);
  if (b != std::string::npos) c.preprocessor_json = all.substr(b + 1);
  try {
    const attn::ParsedConfigs p = attn::parse_configs(c);
    if (p.heads && (*p.heads < 1 || *p.heads > 4096)) __builtin_trap();
    if (p.std)
      for (float s : *p.std)
        if (!(s > 0)) __builtin_trap();
  } catch (const attn::Error&) {
  }
  try {
    attn::parse_safetensors_index(all, "fuzz");
  } catch (const attn::Error&) {
  }
  return 0;
}
