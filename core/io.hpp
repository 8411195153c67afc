#pragma once
// Reading and writing whole files safely.
//
// Reads copy the file into an owned buffer (never a memory map that could
// fault if the file changes underneath) after checking that the path is a
// regular file no larger than a limit. Writes go to a temporary file in the
// same directory, then rename over the target: a failed write leaves no
// partial file and never destroys an existing one.
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace attn {

// Throws attn::Error naming `path` if it does not exist, is not a regular
// file, cannot be read, or is larger than max_bytes.
std::vector<std::uint8_t> read_file(const std::string& path, std::uint64_t max_bytes);

// Atomically replaces `path` with `bytes`. Throws attn::Error naming `path`;
// refuses to replace anything but a regular file (a device, a directory).
void write_file_atomic(const std::string& path, std::span<const std::uint8_t> bytes);

// File content quoted in a message: printable ASCII kept, anything else
// (control bytes, invalid or non-ASCII UTF-8) shown as \xNN, at most
// `max` characters. Messages stay one clean line whatever the file held.
std::string printable(std::string_view text, size_t max = 80);

// "12.3 MiB" style sizes for messages.
std::string format_bytes(std::uint64_t bytes);

}  // namespace attn
