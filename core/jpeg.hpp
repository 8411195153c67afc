#pragma once
// JPEG decoding through libjpeg-turbo (Debian's libjpeg62-turbo), which is
// continuously fuzzed upstream. stb_image's JPEG decoder is not compiled in:
// fuzzing found it writing past a Huffman table (stbi__build_huffman) in
// the version Debian ships.
#include <span>
#include <string>

#include "image.hpp"

namespace attn {

// 8-bit RGBA, top row first. Corrupt data is an error, not a grey image.
// The caller has already checked the frame header and the size limits.
Image decode_jpeg(std::span<const std::uint8_t> bytes, const std::string& name);

}  // namespace attn
