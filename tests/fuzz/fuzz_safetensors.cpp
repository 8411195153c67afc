// libFuzzer target: safetensors parsing.
#include <cstdint>

#include "core/error.hpp"
#include "core/safetensors.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, size_t size) {
  try {
    const attn::TensorFile st = attn::parse_safetensors({data, size}, "fuzz");
    for (const auto& [name, t] : st.tensors) {
      // Every tensor that converts does so within its bytes (ASan checks).
      if (!attn::converts_to_float(t.dtype) || t.elements() > (1 << 20)) continue;
      const std::vector<float> values = t.to_float(name);
      if (static_cast<std::int64_t>(values.size()) != t.elements()) __builtin_trap();
    }
  } catch (const attn::Error&) {
  }
  return 0;
}
