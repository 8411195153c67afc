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

// A regular file opened for reading parts of it on demand (large weights:
// each tensor is read straight into its destination, with no copy of the
// whole file). Reads check their length: a file that shrinks underneath
// gives attn::Error, never a crash or stale bytes.
class ReadOnlyFile {
 public:
  // Throws attn::Error as read_file() does (missing, not regular, too large).
  ReadOnlyFile(const std::string& path, std::uint64_t max_bytes);
  ~ReadOnlyFile();
  ReadOnlyFile(const ReadOnlyFile&) = delete;
  ReadOnlyFile& operator=(const ReadOnlyFile&) = delete;

  const std::string& path() const { return path_; }
  std::uint64_t size() const { return size_; }
  // Fills `out` with the bytes at `offset` (attn::Error if they are not all there).
  void read_at(std::uint64_t offset, std::span<std::uint8_t> out) const;

 private:
  std::string path_;
  int fd_ = -1;
  std::uint64_t size_ = 0;
};

// Atomically replaces `path` with `bytes`. Throws attn::Error naming `path`;
// refuses to replace anything but a regular file (a device, a directory).
void write_file_atomic(const std::string& path, std::span<const std::uint8_t> bytes);

// The same, written piece by piece (files of gigabytes need no copy in
// memory): a temporary file beside `path` that commit() renames over it.
// Destroyed without commit() (an error on the way), it leaves nothing.
class AtomicWriter {
 public:
  explicit AtomicWriter(const std::string& path);  // attn::Error as write_file_atomic
  ~AtomicWriter();
  AtomicWriter(const AtomicWriter&) = delete;
  AtomicWriter& operator=(const AtomicWriter&) = delete;
  void write(std::span<const std::uint8_t> bytes);
  void commit();

 private:
  [[noreturn]] void fail(const std::string& what, int err);
  std::string path_, tmp_;
  int fd_ = -1;
  bool done_ = false;
};

// File content quoted in a message: printable ASCII kept, anything else
// (control bytes, invalid or non-ASCII UTF-8) shown as \xNN, at most
// `max` characters. Messages stay one clean line whatever the file held.
std::string printable(std::string_view text, size_t max = 80);

// Where the first invalid UTF-8 sequence in `text` starts, or npos.
// Overlong forms, truncated sequences and code points past U+10FFFF are
// invalid; so are surrogates (U+D800..DFFF) unless `surrogates` (Python's
// "surrogatepass", which pickles may hold).
size_t invalid_utf8(std::string_view text, bool surrogates = false);

// "12.3 MiB" style sizes for messages.
std::string format_bytes(std::uint64_t bytes);

}  // namespace attn
