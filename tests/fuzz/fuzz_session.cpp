// libFuzzer target: session JSON (the app's settings files).
#include <cstdint>
#include <string>

#include "core/error.hpp"
#include "settings.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, size_t size) {
  try {
    const gui::Settings s = gui::from_json(std::string(reinterpret_cast<const char*>(data), size), "fuzz");
    // What loads must save and load back the same.
    const gui::Settings again = gui::from_json(gui::to_json(s), "again");
    if (gui::to_json(again) != gui::to_json(s)) __builtin_trap();
  } catch (const attn::Error&) {
  }
  return 0;
}
