#include "pickle_text.hpp"

#include <cstdint>

#include "error.hpp"

namespace attn::pickle {
namespace {

// `fail` throws; should it ever return, so does this.
[[noreturn]] void raise(const Fail& fail, const char* what) {
  fail(what);
  throw Error(what);
}

void append_utf8(std::string& out, std::uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xc0 | cp >> 6);
    out += static_cast<char>(0x80 | (cp & 0x3f));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xe0 | cp >> 12);
    out += static_cast<char>(0x80 | (cp >> 6 & 0x3f));
    out += static_cast<char>(0x80 | (cp & 0x3f));
  } else {
    out += static_cast<char>(0xf0 | cp >> 18);
    out += static_cast<char>(0x80 | (cp >> 12 & 0x3f));
    out += static_cast<char>(0x80 | (cp >> 6 & 0x3f));
    out += static_cast<char>(0x80 | (cp & 0x3f));
  }
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::string escape_decode(std::string_view quoted, const Fail& fail) {
  if (quoted.size() < 2 || quoted.front() != quoted.back() || (quoted.front() != '\'' && quoted.front() != '"'))
    raise(fail, "the STRING opcode's argument is not quoted");
  const std::string_view s = quoted.substr(1, quoted.size() - 2);
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '\\') {
      out += s[i];
      continue;
    }
    if (++i == s.size()) raise(fail, "STRING ends with a lone backslash");
    const char c = s[i];
    switch (c) {
      case '\n':  // a line continuation
        break;
      case '\\':
      case '\'':
      case '"':
        out += c;
        break;
      case 'a':
        out += '\a';
        break;
      case 'b':
        out += '\b';
        break;
      case 'f':
        out += '\f';
        break;
      case 'n':
        out += '\n';
        break;
      case 'r':
        out += '\r';
        break;
      case 't':
        out += '\t';
        break;
      case 'v':
        out += '\v';
        break;
      case 'x': {
        if (s.size() - i < 3 || hex_digit(s[i + 1]) < 0 || hex_digit(s[i + 2]) < 0)
          raise(fail, "STRING has an invalid \\x escape");
        out += static_cast<char>(hex_digit(s[i + 1]) * 16 + hex_digit(s[i + 2]));
        i += 2;
        break;
      }
      default:
        if (c >= '0' && c <= '7') {
          int v = c - '0';
          for (int k = 0; k < 2 && i + 1 < s.size() && s[i + 1] >= '0' && s[i + 1] <= '7'; ++k)
            v = v * 8 + (s[++i] - '0');
          out += static_cast<char>(v & 0xff);
        } else {
          out += '\\';  // unknown escapes stay as they are
          out += c;
        }
    }
  }
  return out;
}

std::string raw_unicode_escape_decode(std::string_view s, const Fail& fail) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c == '\\' && i + 1 < s.size() && (s[i + 1] == 'u' || s[i + 1] == 'U')) {
      const size_t digits = s[i + 1] == 'u' ? 4 : 8;
      if (s.size() - i - 2 < digits) raise(fail, "UNICODE has a truncated \\u escape");
      std::uint32_t cp = 0;
      for (size_t k = 0; k < digits; ++k) {
        const int d = hex_digit(s[i + 2 + k]);
        if (d < 0) raise(fail, "UNICODE has an invalid \\u escape");
        cp = cp << 4 | static_cast<std::uint32_t>(d);
      }
      if (cp > 0x10ffff || (cp >= 0xd800 && cp < 0xe000)) raise(fail, "UNICODE escapes an invalid code point");
      append_utf8(out, cp);
      i += 1 + digits;
    } else {
      append_utf8(out, c);
    }
  }
  return out;
}

}  // namespace attn::pickle
