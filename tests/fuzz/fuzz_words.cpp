// libFuzzer target: imported word attention and token lists. The first byte
// picks the loader (0: .npy attention, 1: .safetensors attention, else a
// token list); an attention that loads is placed over an image of a size
// taken from the next two bytes and drawn through every view.
#include <cmath>
#include <cstdint>

#include "core/error.hpp"
#include "core/word_files.hpp"
#include "core/word_views.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, size_t size) {
  if (size < 3) return 0;
  const std::span<const std::uint8_t> body(data + 3, size - 3);
  attn::WordFileLimits limits;
  limits.max_attention_bytes = 64ULL << 20;  // the fuzzer's memory, not the app's
  limits.max_f32_attention_bytes = 16ULL << 20;
  try {
    if (data[0] >= 2) {
      const auto tokens = attn::parse_tokens(body, "fuzz", limits);
      if (tokens.empty()) __builtin_trap();
      return 0;
    }
    attn::WordAttentionFile f = data[0] == 0 ? attn::parse_word_attention_npy(body, "fuzz", limits)
                                             : attn::parse_word_attention_safetensors(body, "fuzz", "", limits);
    const int T = f.weights.queries(), N = f.weights.keys();
    if (T <= 0 || N <= 0 || f.weights.layers() <= 0 || f.weights.heads() <= 0) __builtin_trap();
    if (static_cast<double>(T) * N > 1e6) return 0;  // the views below are for small inputs
    const int width = 1 + data[1], height = 1 + data[2];
    const attn::ImageKeys keys = attn::place_image_keys(N, width, height, std::nullopt, std::nullopt);
    if (keys.offset < 0 || keys.offset + keys.count() > N) __builtin_trap();
    const attn::PatchGrid grid{1, keys.cols, keys.rows};
    const attn::AttentionRecord record =
        attn::word_record(std::move(f.weights), std::vector<std::string>(static_cast<size_t>(T)), keys, grid);
    attn::WordRequest request;
    request.mean_of_layers = data[1] & 1;
    request.fusion = static_cast<attn::HeadFusion>(data[2] % 3);
    const attn::Matrix maps = attn::word_maps(record, request);
    const attn::Matrix shown = attn::display_maps(maps, grid, attn::WordSmooth::Gaussian, attn::WordScale::Word);
    for (Eigen::Index i = 0; i < shown.size(); ++i)
      if (!(shown.data()[i] >= 0.0f && shown.data()[i] <= 1.0f)) __builtin_trap();
  } catch (const attn::Error&) {
  }
  return 0;
}
