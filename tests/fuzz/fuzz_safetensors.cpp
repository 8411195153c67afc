// libFuzzer target: safetensors parsing.
#include <cstdint>

#include "core/error.hpp"
#include "core/safetensors.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, size_t size) {
  try {
    const attn::SafeTensors st = attn::parse_safetensors({data, size}, "fuzz");
    for (const auto& [name, t] : st.tensors) {
      std::uint64_t n = 1;
      for (auto d : t.shape) n *= static_cast<std::uint64_t>(d);
      if (n != t.data.size()) __builtin_trap();
    }
  } catch (const attn::Error&) {
  }
  return 0;
}
