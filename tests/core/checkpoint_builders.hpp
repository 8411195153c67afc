#pragma once
// Hand-made zip archives, pickles and PyTorch checkpoints for the tests, so
// that each one can break exactly one rule.
#include <cstdint>
#include <cstring>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace attn::test {

using Bytes = std::vector<std::uint8_t>;

inline void put_le(Bytes& b, std::uint64_t v, int n) {
  for (int i = 0; i < n; ++i) b.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
}

inline void set_le(Bytes& b, size_t at, std::uint64_t v, int n) {
  for (int i = 0; i < n; ++i) b[at + static_cast<size_t>(i)] = static_cast<std::uint8_t>(v >> (8 * i));
}

struct ZipOptions {
  bool zip64 = false;       // ZIP64 end records and offsets in the extra field, as PyTorch writes
  bool descriptor = false;  // sizes after the data (flag bit 3), as PyTorch writes
  std::string comment;
};
// How PyTorch writes its archives; Python's zipfile writes ZipOptions{}.
inline ZipOptions pytorch_layout() {
  ZipOptions o;
  o.zip64 = o.descriptor = true;
  return o;
}

// A stored zip; where each local header and central entry starts.
struct Zip {
  Bytes bytes;
  std::vector<size_t> local, central;
  size_t end = 0;  // the end-of-central-directory record
};

inline Zip make_zip(const std::vector<std::pair<std::string, std::string>>& entries, const ZipOptions& o = {}) {
  Zip z;
  Bytes& b = z.bytes;
  const std::uint16_t flags = o.descriptor ? 8 : 0;
  for (const auto& [name, data] : entries) {
    z.local.push_back(b.size());
    put_le(b, 0x04034b50, 4);
    put_le(b, 20, 2);
    put_le(b, flags, 2);
    put_le(b, 0, 2);  // stored
    put_le(b, 0, 4);  // time, date
    put_le(b, 0, 4);  // crc (not checked)
    put_le(b, o.descriptor ? 0 : data.size(), 4);
    put_le(b, o.descriptor ? 0 : data.size(), 4);
    put_le(b, name.size(), 2);
    put_le(b, 0, 2);
    b.insert(b.end(), name.begin(), name.end());
    b.insert(b.end(), data.begin(), data.end());
    if (o.descriptor) {
      put_le(b, 0x08074b50, 4);
      put_le(b, 0, 4);
      put_le(b, data.size(), 4);
      put_le(b, data.size(), 4);
    }
  }
  const size_t cd = b.size();
  for (size_t i = 0; i < entries.size(); ++i) {
    const auto& [name, data] = entries[i];
    z.central.push_back(b.size());
    put_le(b, 0x02014b50, 4);
    put_le(b, 45, 2);
    put_le(b, 45, 2);
    put_le(b, flags, 2);
    put_le(b, 0, 2);
    put_le(b, 0, 4);
    put_le(b, 0, 4);
    put_le(b, data.size(), 4);
    put_le(b, data.size(), 4);
    put_le(b, name.size(), 2);
    put_le(b, o.zip64 ? 12 : 0, 2);
    put_le(b, 0, 2);  // comment
    put_le(b, 0, 2);  // disk
    put_le(b, 0, 2);
    put_le(b, 0, 4);
    put_le(b, o.zip64 ? 0xffffffff : z.local[i], 4);
    b.insert(b.end(), name.begin(), name.end());
    if (o.zip64) {
      put_le(b, 1, 2);
      put_le(b, 8, 2);
      put_le(b, z.local[i], 8);
    }
  }
  const size_t cd_size = b.size() - cd;
  if (o.zip64) {
    const size_t record = b.size();
    put_le(b, 0x06064b50, 4);
    put_le(b, 44, 8);
    put_le(b, 45, 2);
    put_le(b, 45, 2);
    put_le(b, 0, 4);
    put_le(b, 0, 4);
    put_le(b, entries.size(), 8);
    put_le(b, entries.size(), 8);
    put_le(b, cd_size, 8);
    put_le(b, cd, 8);
    put_le(b, 0x07064b50, 4);
    put_le(b, 0, 4);
    put_le(b, record, 8);
    put_le(b, 1, 4);
  }
  z.end = b.size();
  put_le(b, 0x06054b50, 4);
  put_le(b, 0, 2);
  put_le(b, 0, 2);
  put_le(b, o.zip64 ? 0xffff : entries.size(), 2);
  put_le(b, o.zip64 ? 0xffff : entries.size(), 2);
  put_le(b, o.zip64 ? 0xffffffff : cd_size, 4);
  put_le(b, o.zip64 ? 0xffffffff : cd, 4);
  put_le(b, o.comment.size(), 2);
  b.insert(b.end(), o.comment.begin(), o.comment.end());
  return z;
}

// Emits pickle opcodes one by one (protocol 2, as torch.save writes).
class Pickle {
 public:
  Pickle() : b_("\x80\x02") {}
  Pickle& raw(std::string_view s) {
    b_ += s;
    return *this;
  }
  Pickle& str(std::string_view s) {
    b_ += 'X';
    for (int i = 0; i < 4; ++i) b_ += static_cast<char>(s.size() >> (8 * i));
    b_ += s;
    return *this;
  }
  Pickle& integer(std::int64_t n) {
    if (n >= 0 && n < 256) return raw("K").raw(std::string(1, static_cast<char>(n)));
    b_ += "\x8a\x08";  // LONG1, 8 bytes
    for (int i = 0; i < 8; ++i) b_ += static_cast<char>(static_cast<std::uint64_t>(n) >> (8 * i));
    return *this;
  }
  Pickle& global(std::string_view module, std::string_view name) {
    b_ += 'c';
    b_ += module;
    b_ += '\n';
    b_ += name;
    b_ += '\n';
    return *this;
  }
  Pickle& ints(const std::vector<std::int64_t>& v) {
    raw("(");
    for (std::int64_t i : v) integer(i);
    return raw("t");
  }
  // _rebuild_tensor_v2(persistent storage, offset, size, stride, False,
  // OrderedDict()); _v3 with a dtype global when `v3_dtype` is given.
  Pickle& tensor(std::string_view key, std::int64_t numel, std::int64_t offset, const std::vector<std::int64_t>& size,
                 const std::vector<std::int64_t>& stride, std::string_view storage = "FloatStorage",
                 std::string_view v3_dtype = "") {
    global("torch._utils", v3_dtype.empty() ? "_rebuild_tensor_v2" : "_rebuild_tensor_v3").raw("(");
    raw("(").str("storage").global("torch", storage).str(key).str("cpu").integer(numel).raw("tQ");
    integer(offset).ints(size).ints(stride).raw("\x89").global("collections", "OrderedDict").raw(")R");
    if (!v3_dtype.empty()) global("torch", v3_dtype);
    return raw("tR");
  }
  using Emit = std::function<void(Pickle&)>;
  Pickle& dict(const std::vector<std::pair<std::string, Emit>>& items) {
    raw("}(");
    for (const auto& [k, emit] : items) {
      str(k);
      emit(*this);
    }
    return raw("u");
  }
  std::string done() const { return b_ + "."; }

 private:
  std::string b_;
};

inline Pickle::Emit tensor_of(const std::string& key, std::int64_t numel, const std::vector<std::int64_t>& size,
                              const std::vector<std::int64_t>& stride, std::int64_t offset = 0) {
  return [=](Pickle& p) { p.tensor(key, numel, offset, size, stride); };
}

inline std::string f32(const std::vector<float>& v) {
  std::string s(v.size() * 4, '\0');
  std::memcpy(s.data(), v.data(), s.size());
  return s;
}

// A torch.save-like archive: FOLDER/data.pkl, FOLDER/byteorder,
// FOLDER/data/KEY for each storage, FOLDER/version.
inline Bytes make_checkpoint(const std::string& pkl, const std::vector<std::pair<std::string, std::string>>& storages,
                             const std::string& folder = "archive", const ZipOptions& o = pytorch_layout()) {
  const std::string dir = folder + "/";
  std::vector<std::pair<std::string, std::string>> entries = {{dir + "data.pkl", pkl}, {dir + "byteorder", "little"}};
  for (const auto& [key, data] : storages) entries.emplace_back(dir + "data/", data).first += key;
  entries.emplace_back(dir + "version", "3\n");
  return make_zip(entries, o).bytes;
}

}  // namespace attn::test
