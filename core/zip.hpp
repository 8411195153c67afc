#pragma once
// ZIP archives read from memory, as PyTorch writes them (checkpoints and
// TorchScript archives): the end-of-central-directory record (and its ZIP64
// form, which PyTorch writes for every file), the central directory, and
// each entry's local header. Nothing is decompressed and nothing is copied:
// entries are views into the caller's buffer.
//
// Checked, with an attn::Error naming the file when it fails: every offset
// and size lies inside the buffer; the central directory ends where the end
// record says; each local header matches its central entry (name, method,
// sizes unless a data descriptor follows); entries do not overlap each other
// or the directory; no duplicate names, no absolute names or names that
// climb out with "..", no encryption, one disk, at most max_entries entries.
// Compressed entries are listed (a TorchScript archive deflates its code)
// but stored_data() refuses them.
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace attn {

struct ZipLimits {
  std::uint32_t max_entries = 100'000;
};

struct ZipEntry {
  std::string_view name;               // as stored, inside the archive's buffer
  std::span<const std::uint8_t> data;  // the entry's bytes as stored (compressed ones still compressed)
  std::uint16_t method = 0;            // 0: stored; 8: deflate; anything else: another compression
  bool stored() const { return method == 0; }
};

class ZipArchive {
 public:
  // Reads the directory of `bytes` (a whole file). `bytes` must outlive the
  // archive; `name` names the file in messages.
  ZipArchive(std::span<const std::uint8_t> bytes, std::string name, const ZipLimits& limits = {});

  const std::vector<ZipEntry>& entries() const { return entries_; }
  const ZipEntry* find(std::string_view entry_name) const;
  // The bytes of a stored entry; throws attn::Error naming the file and the
  // entry when it is compressed.
  std::span<const std::uint8_t> stored_data(const ZipEntry& entry) const;
  const std::string& name() const { return name_; }

 private:
  std::string name_;
  std::vector<ZipEntry> entries_;  // in central-directory order
  std::unordered_map<std::string_view, size_t> index_;
};

// Whether `bytes` start with a ZIP local file header ("PK\3\4").
bool starts_like_zip(std::span<const std::uint8_t> bytes);

}  // namespace attn
