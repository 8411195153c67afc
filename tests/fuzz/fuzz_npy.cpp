// libFuzzer target: .npy parsing.
#include <cstdint>

#include "core/error.hpp"
#include "core/npy.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, size_t size) {
  try {
    const attn::Array a = attn::parse_npy({data, size}, "fuzz");
    std::uint64_t n = 1;
    for (auto d : a.shape) n *= static_cast<std::uint64_t>(d);
    if (n != a.data.size()) __builtin_trap();
  } catch (const attn::Error&) {
  }
  return 0;
}
