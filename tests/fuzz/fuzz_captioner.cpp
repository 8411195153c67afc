// libFuzzer target: the captioner's files. The input is config.json, a NUL
// byte, then model.safetensors. When both load and the model is small, it
// captions a fixed image; the caption must respect max_tokens and every
// attention row must be finite and sum to 1.
#include <cmath>
#include <cstdint>
#include <span>
#include <string>

#include "core/captioner.hpp"
#include "core/error.hpp"
#include "core/safetensors.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, size_t size) {
  const std::span<const std::uint8_t> all(data, size);
  size_t nul = 0;
  while (nul < size && data[nul] != 0) ++nul;
  try {
    const attn::CaptionerConfig c = attn::parse_captioner_config(all.first(nul), "config.json");
    if (c.image_size % c.patch || c.width % c.encoder_heads || c.width % c.decoder_heads) __builtin_trap();
    if (nul >= size) return 0;
    const attn::TensorFile f = attn::parse_safetensors(all.subspan(nul + 1), "model.safetensors");
    const attn::CaptionerModel m = attn::load_captioner(f, c);
    if (c.image_size > 64 || c.width > 64 || c.mlp > 256 || c.encoder_layers > 2 || c.decoder_layers > 2 ||
        c.max_tokens > 8 || c.vocab.size() > 64)
      return 0;
    attn::Image img = attn::Image::blank(40, 24);
    for (size_t i = 0; i < img.rgba.size(); ++i) img.rgba[i] = static_cast<std::uint8_t>(i * 37);
    const attn::Caption cap = attn::run_captioner(m, img);
    if (static_cast<int>(cap.words.size()) > c.max_tokens) __builtin_trap();
    std::vector<float> scratch;
    for (const auto& a : cap.record.attention)
      for (int l = 0; l < a.weights.layers(); ++l)
        for (int h = 0; h < a.weights.heads(); ++h) {
          const auto v = a.weights.head_values(l, h, scratch);
          const int k = a.weights.keys();
          for (int q = 0; q < a.weights.queries(); ++q) {
            double sum = 0;
            for (int j = 0; j < k; ++j) {
              const float w = v[static_cast<size_t>(q) * static_cast<size_t>(k) + static_cast<size_t>(j)];
              if (!std::isfinite(w) || w < 0) __builtin_trap();
              sum += w;
            }
            if (std::abs(sum - 1.0) > 1e-3) __builtin_trap();
          }
        }
  } catch (const attn::Error&) {
  }
  return 0;
}
