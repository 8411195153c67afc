#include "npy.hpp"

#include <bit>
#include <cassert>
#include <cstring>
#include <optional>

#include "error.hpp"
#include "io.hpp"
#include "tensor_file.hpp"  // half_to_float

namespace attn {
namespace {

constexpr std::uint8_t kMagic[6] = {0x93, 'N', 'U', 'M', 'P', 'Y'};

// A recursive-descent parser for the one Python literal numpy writes:
//   {'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }
// Only what that grammar needs: strings, True/False, tuples of integers.
class HeaderParser {
 public:
  HeaderParser(std::string_view text, const std::string& name) : s_(text), name_(name) {}

  struct Fields {
    std::string descr;
    bool fortran_order = false;
    std::vector<std::int64_t> shape;
  };

  Fields parse() {
    Fields f;
    bool have_descr = false, have_order = false, have_shape = false;
    skip_ws();
    expect('{');
    skip_ws();
    while (peek() != '}') {
      const std::string key = parse_string();
      skip_ws();
      expect(':');
      skip_ws();
      if (key == "descr") {
        if (have_descr) fail("duplicate key 'descr'");
        if (peek() == '[') fail("structured dtypes are not supported (descr is a list); only float32 and float64");
        f.descr = parse_string();
        have_descr = true;
      } else if (key == "fortran_order") {
        if (have_order) fail("duplicate key 'fortran_order'");
        f.fortran_order = parse_bool();
        have_order = true;
      } else if (key == "shape") {
        if (have_shape) fail("duplicate key 'shape'");
        f.shape = parse_tuple();
        have_shape = true;
      } else {
        fail("unexpected key '" + printable(key) + "' (a .npy header has exactly descr, fortran_order and shape)");
      }
      skip_ws();
      if (peek() == ',') {
        ++pos_;
        skip_ws();
      } else if (peek() != '}') {
        fail("expected ',' or '}' in the header dict");
      }
    }
    ++pos_;  // '}'
    // numpy pads with spaces and ends the header with a newline.
    while (pos_ < s_.size() && (s_[pos_] == ' ' || s_[pos_] == '\t')) ++pos_;
    if (pos_ >= s_.size() || s_[pos_] != '\n') fail("header does not end with a newline");
    ++pos_;
    if (pos_ != s_.size()) fail("unexpected bytes after the header's newline");
    if (!have_descr) fail("header has no 'descr' key");
    if (!have_order) fail("header has no 'fortran_order' key");
    if (!have_shape) fail("header has no 'shape' key");
    return f;
  }

 private:
  [[noreturn]] void fail(const std::string& why) const { throw Error(name_ + ": malformed .npy header: " + why); }
  char peek() const {
    if (pos_ >= s_.size()) fail("header ends early");
    return s_[pos_];
  }
  void skip_ws() {
    while (pos_ < s_.size() && (s_[pos_] == ' ' || s_[pos_] == '\t' || s_[pos_] == '\n' || s_[pos_] == '\r')) ++pos_;
  }
  void expect(char c) {
    if (peek() != c) fail(std::string("expected '") + c + "'" + (pos_ == 0 ? " (not a Python dict literal)" : ""));
    ++pos_;
  }
  std::string parse_string() {
    const char q = peek();
    if (q != '\'' && q != '"') fail("expected a quoted string");
    ++pos_;
    const size_t end = s_.find(q, pos_);
    if (end == std::string_view::npos) fail("unterminated string");
    std::string out(s_.substr(pos_, end - pos_));
    pos_ = end + 1;
    return out;
  }
  bool parse_bool() {
    if (s_.substr(pos_, 4) == "True") {
      pos_ += 4;
      return true;
    }
    if (s_.substr(pos_, 5) == "False") {
      pos_ += 5;
      return false;
    }
    fail("fortran_order must be True or False");
  }
  std::vector<std::int64_t> parse_tuple() {
    if (peek() != '(') fail("shape must be a tuple of integers, like (3, 4)");
    ++pos_;
    std::vector<std::int64_t> dims;
    skip_ws();
    while (peek() != ')') {
      if (peek() < '0' || peek() > '9') fail("shape must be a tuple of non-negative integers");
      std::int64_t v = 0;
      while (pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '9') {
        if (__builtin_mul_overflow(v, 10, &v) || __builtin_add_overflow(v, s_[pos_] - '0', &v))
          fail("shape dimension too large");
        ++pos_;
      }
      if (peek() == 'L' || peek() == 'l') fail("shape uses Python 2 long integers (e.g. 10L)");
      dims.push_back(v);
      skip_ws();
      if (peek() == ',') {
        ++pos_;
        skip_ws();
      } else if (peek() != ')') {
        fail("expected ',' or ')' in shape");
      }
    }
    ++pos_;
    return dims;
  }

  std::string_view s_;
  const std::string& name_;
  size_t pos_ = 0;
};

template <typename T>
T load_scalar(const std::uint8_t* p, bool swap) {
  using U = std::conditional_t<sizeof(T) == 2, std::uint16_t,
                               std::conditional_t<sizeof(T) == 4, std::uint32_t, std::uint64_t>>;
  U u;
  std::memcpy(&u, p, sizeof u);
  if (swap) {
    if constexpr (sizeof(U) == 2)
      u = __builtin_bswap16(u);
    else if constexpr (sizeof(U) == 4)
      u = __builtin_bswap32(u);
    else
      u = __builtin_bswap64(u);
  }
  return std::bit_cast<T>(u);
}

std::string dtype_description(const std::string& descr) {
  if (descr.size() < 2) return "'" + printable(descr) + "'";
  const std::string t = descr.substr(1);
  const char* known = t == "i1"     ? "int8"
                      : t == "i2"   ? "int16"
                      : t == "i4"   ? "int32"
                      : t == "i8"   ? "int64"
                      : t == "u1"   ? "uint8"
                      : t == "u2"   ? "uint16"
                      : t == "u4"   ? "uint32"
                      : t == "u8"   ? "uint64"
                      : t == "f2"   ? "float16"
                      : t == "c8"   ? "complex64"
                      : t == "c16"  ? "complex128"
                      : t == "b1"   ? "bool"
                      : t == "O"    ? "Python objects (pickled)"
                      : t[0] == 'U' ? "unicode strings"
                      : t[0] == 'S' ? "byte strings"
                                    : nullptr;
  return "'" + printable(descr) + "'" + (known ? std::string(" (") + known + ")" : "");
}

}  // namespace

Array parse_npy(std::span<const std::uint8_t> bytes, const std::string& name, const NpyLimits& limits) {
  if (bytes.size() < 10 || std::memcmp(bytes.data(), kMagic, 6) != 0)
    throw Error(name + ": not a .npy file (bad magic: expected \\x93NUMPY)");
  const int major = bytes[6], minor = bytes[7];
  if ((major != 1 && major != 2 && major != 3) || minor != 0)
    throw Error(name + ": unsupported .npy format version " + std::to_string(major) + "." + std::to_string(minor) +
                " (supported: 1.0, 2.0, 3.0)");
  std::uint64_t header_len = 0, prefix = 0;
  if (major == 1) {
    header_len = bytes[8] | (bytes[9] << 8);
    prefix = 10;
  } else {
    if (bytes.size() < 12) throw Error(name + ": .npy file ends inside its header length");
    header_len = static_cast<std::uint64_t>(bytes[8]) | (static_cast<std::uint64_t>(bytes[9]) << 8) |
                 (static_cast<std::uint64_t>(bytes[10]) << 16) | (static_cast<std::uint64_t>(bytes[11]) << 24);
    prefix = 12;
  }
  if (header_len > limits.max_header_bytes)
    throw Error(name + ": .npy header length " + std::to_string(header_len) + " is over the limit of " +
                std::to_string(limits.max_header_bytes) + " bytes");
  if (prefix + header_len > bytes.size())
    throw Error(name + ": .npy header length " + std::to_string(header_len) + " runs past the end of the file");
  const std::string_view header(reinterpret_cast<const char*>(bytes.data() + prefix), header_len);
  const auto fields = HeaderParser(header, name).parse();

  const std::string& d = fields.descr;
  const bool is_f2 = d.size() == 3 && d.substr(1) == "f2";
  const bool is_f4 = d.size() == 3 && d.substr(1) == "f4", is_f8 = d.size() == 3 && d.substr(1) == "f8";
  if ((!is_f2 && !is_f4 && !is_f8) || (d[0] != '<' && d[0] != '>' && d[0] != '='))
    throw Error(name + ": dtype " + dtype_description(d) + " is not supported; only float16, float32 and float64");
  // '=' is native order; attnscope runs on little-endian machines only.
  static_assert(std::endian::native == std::endian::little);
  const bool swap = d[0] == '>';
  const std::uint64_t item = is_f2 ? 2 : is_f4 ? 4 : 8;

  const auto& shape = fields.shape;
  if (shape.empty())
    throw Error(name + ": array is a 0-d scalar; expected rank 1 to " + std::to_string(limits.max_rank));
  if (static_cast<int>(shape.size()) > limits.max_rank)
    throw Error(name + ": array has rank " + std::to_string(shape.size()) + "; expected rank 1 to " +
                std::to_string(limits.max_rank));
  std::uint64_t count = 1;
  for (auto dim : shape) {
    if (dim == 0) throw Error(name + ": array is empty (a dimension is 0)");
    if (__builtin_mul_overflow(count, static_cast<std::uint64_t>(dim), &count))
      throw Error(name + ": shape's element count overflows 64 bits");
  }
  std::uint64_t data_bytes = 0;
  if (__builtin_mul_overflow(count, item, &data_bytes)) throw Error(name + ": shape's byte size overflows 64 bits");
  const std::uint64_t available = bytes.size() - prefix - header_len;
  if (available < data_bytes)
    throw Error(name + ": data is truncated: the shape needs " + std::to_string(data_bytes) + " bytes, the file has " +
                std::to_string(available));
  if (available > data_bytes)
    throw Error(name + ": " + std::to_string(available - data_bytes) + " unexpected trailing bytes after the data");

  Array a;
  a.shape = shape;
  a.data.resize(count);
  const std::uint8_t* p = bytes.data() + prefix + header_len;
  auto value = [&](std::uint64_t i) -> float {
    if (is_f2) return half_to_float(load_scalar<std::uint16_t>(p + i * 2, swap));
    return is_f4 ? load_scalar<float>(p + i * 4, swap) : static_cast<float>(load_scalar<double>(p + i * 8, swap));
  };
  if (!fields.fortran_order || shape.size() == 1) {
    for (std::uint64_t i = 0; i < count; ++i) a.data[i] = value(i);
  } else {
    // Fortran order: the first index varies fastest in the file. Walk the
    // file in order, keeping the C-order index of the current element.
    const size_t rank = shape.size();
    std::vector<std::uint64_t> index(rank, 0), stride(rank, 1);  // stride: C order
    for (size_t ax = rank - 1; ax-- > 0;) stride[ax] = stride[ax + 1] * static_cast<std::uint64_t>(shape[ax + 1]);
    std::uint64_t at = 0;
    for (std::uint64_t i = 0; i < count; ++i) {
      a.data[at] = value(i);
      for (size_t ax = 0; ax < rank; ++ax) {
        if (++index[ax] < static_cast<std::uint64_t>(shape[ax])) {
          at += stride[ax];
          break;
        }
        at -= stride[ax] * (index[ax] - 1);
        index[ax] = 0;
      }
    }
  }
  return a;
}

Array read_npy(const std::string& path, const NpyLimits& limits) {
  return parse_npy(read_file(path, limits.max_file_bytes), path, limits);
}

std::vector<std::uint8_t> encode_npy(std::span<const std::int64_t> shape, std::span<const float> data) {
  std::string header = "{'descr': '<f4', 'fortran_order': False, 'shape': (";
  for (size_t i = 0; i < shape.size(); ++i)
    header += std::to_string(shape[i]) + (shape.size() == 1 || i + 1 < shape.size() ? ", " : "");
  if (shape.size() == 1) header.pop_back();  // "(5, " -> "(5,"
  header += "), }";
  // Pad with spaces so that the data starts on a 64-byte boundary, as numpy does.
  const size_t unpadded = 10 + header.size() + 1;
  header.append((64 - unpadded % 64) % 64, ' ');
  header += '\n';
  std::vector<std::uint8_t> out(kMagic, kMagic + 6);
  out.push_back(1);
  out.push_back(0);
  out.push_back(static_cast<std::uint8_t>(header.size() & 0xff));
  out.push_back(static_cast<std::uint8_t>(header.size() >> 8));
  out.insert(out.end(), header.begin(), header.end());
  const auto* raw = reinterpret_cast<const std::uint8_t*>(data.data());
  out.insert(out.end(), raw, raw + data.size() * sizeof(float));
  return out;
}

void write_npy(const std::string& path, std::span<const std::int64_t> shape, std::span<const float> data) {
  write_file_atomic(path, encode_npy(shape, data));
}

void write_npy_chunked(const std::string& path, std::span<const std::int64_t> shape, std::size_t chunks,
                       const std::function<std::span<const float>(std::size_t, std::vector<float>&)>& chunk) {
  std::uint64_t expected = 1, written = 0;
  for (std::int64_t d : shape) expected *= static_cast<std::uint64_t>(d);
  AtomicWriter w(path);
  w.write(encode_npy(shape, {}));  // the header alone
  std::vector<float> scratch;
  for (std::size_t i = 0; i < chunks; ++i) {
    const std::span<const float> part = chunk(i, scratch);
    w.write(std::span(reinterpret_cast<const std::uint8_t*>(part.data()), part.size_bytes()));
    written += part.size();
  }
  assert(written == expected);  // the caller's chunks tile the shape
  (void)expected, (void)written;
  w.commit();
}

}  // namespace attn
