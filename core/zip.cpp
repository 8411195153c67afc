#include "zip.hpp"

#include <algorithm>

#include "error.hpp"
#include "io.hpp"

namespace attn {
namespace {

// Record signatures and fixed sizes (APPNOTE.TXT 4.3).
constexpr std::uint32_t kLocalSig = 0x04034b50;
constexpr std::uint32_t kCentralSig = 0x02014b50;
constexpr std::uint32_t kEndSig = 0x06054b50;
constexpr std::uint32_t kEnd64Sig = 0x06064b50;
constexpr std::uint32_t kLocator64Sig = 0x07064b50;
constexpr std::uint64_t kLocalSize = 30;
constexpr std::uint64_t kCentralSize = 46;
constexpr std::uint64_t kEndSize = 22;
constexpr std::uint64_t kLocator64Size = 20;
constexpr std::uint64_t kEnd64Size = 56;
constexpr std::uint16_t kZip64ExtraId = 0x0001;
constexpr std::uint32_t kMax32 = 0xffffffff;
constexpr std::uint16_t kMax16 = 0xffff;

// Little-endian integer of `n` bytes at `at`; the caller has checked that
// they lie inside `b`.
std::uint64_t le(std::span<const std::uint8_t> b, std::uint64_t at, int n) {
  std::uint64_t v = 0;
  for (int i = n - 1; i >= 0; --i) v = v << 8 | b[at + static_cast<std::uint64_t>(i)];
  return v;
}

std::string method_name(std::uint16_t method) {
  switch (method) {
    case 8:
      return "deflate";
    case 9:
      return "deflate64";
    case 12:
      return "bzip2";
    case 14:
      return "lzma";
    case 93:
      return "zstd";
    default:
      return "method " + std::to_string(method);
  }
}

// Whether a name is absolute or has a ".." component (either separator).
bool climbs_out(std::string_view name) {
  if (name.front() == '/' || name.front() == '\\') return true;
  size_t start = 0;
  while (start <= name.size()) {
    size_t end = name.find_first_of("/\\", start);
    if (end == std::string_view::npos) end = name.size();
    if (name.substr(start, end - start) == "..") return true;
    start = end + 1;
  }
  return false;
}

struct Central {
  std::uint64_t compressed = 0, uncompressed = 0, local = 0;
};

}  // namespace

bool starts_like_zip(std::span<const std::uint8_t> bytes) { return bytes.size() >= 4 && le(bytes, 0, 4) == kLocalSig; }

ZipArchive::ZipArchive(std::span<const std::uint8_t> bytes, std::string name, const ZipLimits& limits)
    : name_(std::move(name)) {
  auto fail = [&](const std::string& what) { throw Error(name_ + ": " + what); };
  const std::uint64_t size = bytes.size();
  if (size == 0) fail("empty file, not a zip archive");

  // The end record: 22 bytes and a comment of up to 64 KiB that must reach
  // exactly to the end of the file (the signature may occur in the comment).
  std::uint64_t end_at = size;
  if (size >= kEndSize) {
    const std::uint64_t lowest = size - kEndSize > 0xffff ? size - kEndSize - 0xffff : 0;
    for (std::uint64_t at = size - kEndSize + 1; at-- > lowest;) {
      if (le(bytes, at, 4) == kEndSig && at + kEndSize + le(bytes, at + 20, 2) == size) {
        end_at = at;
        break;
      }
    }
  }
  if (end_at == size) {
    if (starts_like_zip(bytes))
      fail("truncated zip archive: it starts like one but has no end-of-central-directory record (cut short?)");
    fail("not a zip archive (no end-of-central-directory record)");
  }
  std::uint64_t disk = le(bytes, end_at + 4, 2), cd_disk = le(bytes, end_at + 6, 2);
  std::uint64_t disk_entries = le(bytes, end_at + 8, 2), count = le(bytes, end_at + 10, 2);
  std::uint64_t cd_size = le(bytes, end_at + 12, 4), cd_offset = le(bytes, end_at + 16, 4);
  std::uint64_t cd_end = end_at;  // where the central directory must end

  // ZIP64: a locator just before the end record points at the ZIP64 end
  // record, whose 64-bit fields replace the 16- and 32-bit ones.
  if (end_at >= kLocator64Size && le(bytes, end_at - kLocator64Size, 4) == kLocator64Sig) {
    const std::uint64_t locator = end_at - kLocator64Size;
    const std::uint64_t at = le(bytes, locator + 8, 8);
    if (at > locator || locator - at < kEnd64Size || le(bytes, at, 4) != kEnd64Sig)
      fail("ZIP64 end-of-central-directory locator points outside the file or at no ZIP64 record");
    if (le(bytes, at + 4, 8) != locator - at - 12)
      fail("ZIP64 end-of-central-directory record's size disagrees with where its locator is");
    disk = le(bytes, at + 16, 4);
    cd_disk = le(bytes, at + 20, 4);
    disk_entries = le(bytes, at + 24, 8);
    count = le(bytes, at + 32, 8);
    cd_size = le(bytes, at + 40, 8);
    cd_offset = le(bytes, at + 48, 8);
    cd_end = at;
  }
  if (disk != 0 || cd_disk != 0 || disk_entries != count) fail("zip archive split across several disks: not supported");
  if (count > limits.max_entries)
    fail("zip archive has " + std::to_string(count) + " entries, more than the limit of " +
         std::to_string(limits.max_entries));
  if (cd_offset > cd_end || cd_end - cd_offset != cd_size)
    fail("zip central directory (offset " + std::to_string(cd_offset) + ", " + std::to_string(cd_size) +
         " bytes) does not end where the end record is (byte " + std::to_string(cd_end) +
         "): truncated, or data added before it?");
  if (count * kCentralSize > cd_size)
    fail("zip central directory of " + std::to_string(cd_size) + " bytes cannot hold its " + std::to_string(count) +
         " entries");

  entries_.reserve(count);
  index_.reserve(count);
  std::vector<std::pair<std::uint64_t, std::uint64_t>> extents;  // [local header, end of data) per entry
  extents.reserve(count);
  std::uint64_t at = cd_offset;
  for (std::uint64_t i = 0; i < count; ++i) {
    if (cd_end - at < kCentralSize || le(bytes, at, 4) != kCentralSig)
      fail("zip central directory entry " + std::to_string(i) + " is malformed");
    const auto flags = static_cast<std::uint16_t>(le(bytes, at + 8, 2));
    const auto method = static_cast<std::uint16_t>(le(bytes, at + 10, 2));
    Central c{le(bytes, at + 20, 4), le(bytes, at + 24, 4), le(bytes, at + 42, 4)};
    const std::uint64_t name_len = le(bytes, at + 28, 2), extra_len = le(bytes, at + 30, 2);
    const std::uint64_t comment_len = le(bytes, at + 32, 2), start_disk = le(bytes, at + 34, 2);
    if (cd_end - at - kCentralSize < name_len + extra_len + comment_len)
      fail("zip central directory entry " + std::to_string(i) + " runs past the directory's end");
    const std::string_view entry_name(reinterpret_cast<const char*>(bytes.data() + at + kCentralSize), name_len);
    const std::string where = "zip entry \"" + printable(entry_name) + "\"";
    if (entry_name.empty()) fail("zip entry " + std::to_string(i) + " has an empty name");
    if (entry_name.find('\0') != std::string_view::npos) fail(where + " has a NUL byte in its name");
    if (climbs_out(entry_name)) fail(where + " is an absolute path or climbs out of the archive with \"..\"");
    if (flags & 1) fail(where + " is encrypted: not supported");

    // The ZIP64 extra field holds, in this order, whichever of the sizes,
    // the offset and the disk are saturated in the fixed fields.
    std::uint64_t e = at + kCentralSize + name_len;
    const std::uint64_t extra_end = e + extra_len;
    bool need_u = c.uncompressed == kMax32, need_c = c.compressed == kMax32, need_l = c.local == kMax32;
    bool need_d = start_disk == kMax16;
    while (e < extra_end) {
      if (extra_end - e < 4) fail(where + ": malformed extra field");
      const std::uint64_t id = le(bytes, e, 2), len = le(bytes, e + 2, 2);
      e += 4;
      if (extra_end - e < len) fail(where + ": malformed extra field");
      if (id == kZip64ExtraId) {
        std::uint64_t f = e;
        auto take = [&](bool& needed, std::uint64_t& value, int n) {
          if (!needed) return;
          if (e + len - f < static_cast<std::uint64_t>(n)) fail(where + ": ZIP64 extra field too short");
          value = le(bytes, f, n);
          f += static_cast<std::uint64_t>(n);
          needed = false;
        };
        std::uint64_t disk64 = 0;
        take(need_u, c.uncompressed, 8);
        take(need_c, c.compressed, 8);
        take(need_l, c.local, 8);
        take(need_d, disk64, 4);
        if (disk64 != 0) fail("zip archive split across several disks: not supported");
      }
      e += len;
    }
    if (need_u || need_c || need_l || need_d) fail(where + ": saturated size or offset without a ZIP64 extra field");
    if (start_disk != 0 && start_disk != kMax16) fail("zip archive split across several disks: not supported");
    if (method == 0 && c.compressed != c.uncompressed)
      fail(where + " is stored but its sizes differ (" + std::to_string(c.compressed) + " and " +
           std::to_string(c.uncompressed) + " bytes)");

    // The local header: before the central directory, and agreeing with it.
    const std::uint64_t lo = c.local;
    if (lo > cd_offset || cd_offset - lo < kLocalSize || le(bytes, lo, 4) != kLocalSig)
      fail(where + ": no local header at byte " + std::to_string(lo));
    const auto local_flags = static_cast<std::uint16_t>(le(bytes, lo + 6, 2));
    const std::uint64_t local_c = le(bytes, lo + 18, 4), local_u = le(bytes, lo + 22, 4);
    const std::uint64_t local_name = le(bytes, lo + 26, 2), local_extra = le(bytes, lo + 28, 2);
    if (cd_offset - lo - kLocalSize < local_name + local_extra) fail(where + ": local header runs into the directory");
    const std::string_view name_there(reinterpret_cast<const char*>(bytes.data() + lo + kLocalSize), local_name);
    if (name_there != entry_name) fail(where + ": its local header names \"" + printable(name_there) + "\" instead");
    if (le(bytes, lo + 8, 2) != method) fail(where + ": local header and central directory disagree on compression");
    if (!(local_flags & 8) && local_c != kMax32 && local_u != kMax32 &&
        (local_c != c.compressed || local_u != c.uncompressed))
      fail(where + ": sizes in its local header (" + std::to_string(local_c) + ", " + std::to_string(local_u) +
           ") disagree with the central directory (" + std::to_string(c.compressed) + ", " +
           std::to_string(c.uncompressed) + ")");
    const std::uint64_t data_at = lo + kLocalSize + local_name + local_extra;
    if (cd_offset - data_at < c.compressed)
      fail(where + ": its " + std::to_string(c.compressed) + " bytes run past the start of the central directory");

    if (!index_.emplace(entry_name, entries_.size()).second) fail(where + " appears twice");
    entries_.push_back({entry_name, bytes.subspan(data_at, c.compressed), method});
    extents.emplace_back(lo, data_at + c.compressed);
    at += kCentralSize + name_len + extra_len + comment_len;
  }
  if (at != cd_end)
    fail("zip central directory holds " + std::to_string(cd_end - at) + " bytes after its " + std::to_string(count) +
         " entries");

  std::sort(extents.begin(), extents.end());
  for (size_t i = 1; i < extents.size(); ++i)
    if (extents[i].first < extents[i - 1].second)
      fail("zip entries overlap (the one at byte " + std::to_string(extents[i].first) + " starts inside another)");
}

const ZipEntry* ZipArchive::find(std::string_view entry_name) const {
  const auto it = index_.find(entry_name);
  return it == index_.end() ? nullptr : &entries_[it->second];
}

std::span<const std::uint8_t> ZipArchive::stored_data(const ZipEntry& entry) const {
  if (!entry.stored())
    throw Error(name_ + ": zip entry \"" + printable(entry.name) + "\" is compressed (" + method_name(entry.method) +
                "); PyTorch stores checkpoint entries uncompressed: re-save the file with torch.save");
  return entry.data;
}

}  // namespace attn
