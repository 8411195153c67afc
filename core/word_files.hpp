#pragma once
// Word-to-image attention exported from a captioner or a vision–language
// model (LLaVA, BLIP, Qwen-VL, one's own), and the words it belongs to.
//
// The attention: a .npy (float16, float32 or float64, C or Fortran order) or
// a .safetensors tensor (F16, BF16, F32, F64; the one tensor of rank 2 to 4
// in the file, or the one named) shaped [T, N], [H, T, N] or [L, H, T, N]:
// T text tokens as queries over N keys. Every value must be finite;
// negative values (a difference of maps, a relevance score) are kept and
// flagged, and shown on a scale symmetric about zero.
//
// The words: UTF-8 text with one token per line ("\n" or "\r\n"; a final
// newline is optional; an empty line is refused), or a JSON list
// of strings (a file whose first character, after any byte-order mark, is
// '['). Invalid UTF-8, NUL bytes, numbers in place of strings (token ids:
// decode them first) and tokens past the limits are refused.
//
// Everything from outside is checked; a problem throws attn::Error naming
// the file and what is wrong, with its place (line, element, index).
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "attention_record.hpp"

namespace attn {

struct WordFileLimits {
  std::uint64_t max_attention_file_bytes = 16ULL << 30;
  // Kept in float32 up to this size, in half precision above it (like a
  // ViT's maps), refused beyond max_attention_bytes.
  std::uint64_t max_f32_attention_bytes = 1ULL << 30;
  std::uint64_t max_attention_bytes = 2ULL << 30;
  std::uint64_t max_tokens_file_bytes = 64ULL << 20;
  int max_tokens = 1'000'000;
  int max_token_bytes = 1024;
};

struct WordAttentionFile {
  AttentionStack weights;           // [L, H, T, N]; missing leading dimensions are 1
  std::vector<std::int64_t> shape;  // as stored in the file
  std::string tensor;               // the safetensors tensor's name; empty for .npy
  bool negative = false;            // some values are below zero: not softmax weights
};

// `name` names the file in messages. parse_* read bytes in memory (the fuzz
// targets); read_* read a path (.npy, else safetensors).
WordAttentionFile parse_word_attention_npy(std::span<const std::uint8_t> bytes, const std::string& name,
                                           const WordFileLimits& limits = {});
WordAttentionFile parse_word_attention_safetensors(std::span<const std::uint8_t> bytes, const std::string& name,
                                                   const std::string& tensor = "", const WordFileLimits& limits = {});
WordAttentionFile read_word_attention(const std::string& path, const std::string& tensor = "",
                                      const WordFileLimits& limits = {});

std::vector<std::string> parse_tokens(std::span<const std::uint8_t> bytes, const std::string& name,
                                      const WordFileLimits& limits = {});
std::vector<std::string> read_tokens(const std::string& path, const WordFileLimits& limits = {});

}  // namespace attn
