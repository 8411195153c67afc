#pragma once
// The text a pickle's older opcodes hold, decoded as Python does; part of
// the pickle reader (pickle.cpp). `fail` reports what is wrong: it must
// throw.
#include <functional>
#include <string>
#include <string_view>

namespace attn::pickle {

using Fail = std::function<void(const char*)>;

// Python 2's STRING argument: a quoted literal with backslash escapes, as
// codecs.escape_decode reads it (unknown escapes stay as they are). The bytes.
std::string escape_decode(std::string_view quoted, const Fail& fail);

// Protocol 0's UNICODE argument: Latin-1 bytes with \uXXXX and \UXXXXXXXX
// escapes (raw-unicode-escape). The text as UTF-8.
std::string raw_unicode_escape_decode(std::string_view s, const Fail& fail);

}  // namespace attn::pickle
