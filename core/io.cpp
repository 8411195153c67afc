#include "io.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "error.hpp"

namespace attn {
namespace {

std::string errno_text(int err) { return std::strerror(err); }

// Closes the descriptor on every path out.
struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

}  // namespace

std::string printable(std::string_view text, size_t max) {
  std::string out;
  for (unsigned char c : text) {
    if (out.size() >= max) {
      out += "...";
      break;
    }
    if (c >= 0x20 && c < 0x7f) {
      out += static_cast<char>(c);
    } else {
      char buf[5];
      std::snprintf(buf, sizeof buf, "\\x%02X", c);
      out += buf;
    }
  }
  return out;
}

std::string format_bytes(std::uint64_t bytes) {
  char buf[64];
  if (bytes < 1024) {
    std::snprintf(buf, sizeof buf, "%llu bytes", static_cast<unsigned long long>(bytes));
  } else {
    const char* units[] = {"KiB", "MiB", "GiB", "TiB"};
    double v = static_cast<double>(bytes) / 1024.0;
    int u = 0;
    while (v >= 1024.0 && u < 3) {
      v /= 1024.0;
      ++u;
    }
    std::snprintf(buf, sizeof buf, "%.1f %s", v, units[u]);
  }
  return buf;
}

std::vector<std::uint8_t> read_file(const std::string& path, std::uint64_t max_bytes) {
  Fd f;
  // O_NONBLOCK so that opening a FIFO cannot hang; we refuse non-regular files below.
  f.fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (f.fd < 0) throw Error(path + ": cannot open: " + errno_text(errno));
  struct stat st {};
  if (::fstat(f.fd, &st) != 0) throw Error(path + ": cannot read: " + errno_text(errno));
  if (S_ISDIR(st.st_mode)) throw Error(path + ": is a directory, not a file");
  if (!S_ISREG(st.st_mode)) throw Error(path + ": is not a regular file");
  const auto size = static_cast<std::uint64_t>(st.st_size);
  if (size > max_bytes)
    throw Error(path + ": file is " + format_bytes(size) + ", more than the limit of " + format_bytes(max_bytes));
  std::vector<std::uint8_t> data(size);
  std::uint64_t got = 0;
  while (got < size) {
    const ssize_t n = ::read(f.fd, data.data() + got, size - got);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw Error(path + ": read failed: " + errno_text(errno));
    }
    if (n == 0) break;  // the file shrank while we read it
    got += static_cast<std::uint64_t>(n);
  }
  if (got != size)
    throw Error(path + ": file changed while being read (" + std::to_string(got) + " of " + std::to_string(size) +
                " bytes)");
  return data;
}

ReadOnlyFile::ReadOnlyFile(const std::string& path, std::uint64_t max_bytes) : path_(path) {
  fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd_ < 0) throw Error(path + ": cannot open: " + errno_text(errno));
  struct stat st {};
  auto fail = [&](const std::string& why) {
    ::close(fd_);
    fd_ = -1;
    throw Error(path + ": " + why);
  };
  if (::fstat(fd_, &st) != 0) fail("cannot read: " + errno_text(errno));
  if (S_ISDIR(st.st_mode)) fail("is a directory, not a file");
  if (!S_ISREG(st.st_mode)) fail("is not a regular file");
  size_ = static_cast<std::uint64_t>(st.st_size);
  if (size_ > max_bytes) fail("file is " + format_bytes(size_) + ", more than the limit of " + format_bytes(max_bytes));
}

ReadOnlyFile::~ReadOnlyFile() {
  if (fd_ >= 0) ::close(fd_);
}

void ReadOnlyFile::read_at(std::uint64_t offset, std::span<std::uint8_t> out) const {
  std::uint64_t got = 0;
  while (got < out.size()) {
    const ssize_t n = ::pread(fd_, out.data() + got, out.size() - got, static_cast<off_t>(offset + got));
    if (n < 0) {
      if (errno == EINTR) continue;
      throw Error(path_ + ": read failed: " + errno_text(errno));
    }
    if (n == 0) break;
    got += static_cast<std::uint64_t>(n);
  }
  if (got != out.size()) throw Error(path_ + ": file changed while being read (it is shorter than it was)");
}

AtomicWriter::AtomicWriter(const std::string& path) : path_(path), tmp_(path + ".tmp-XXXXXX") {
  // Renaming over a device, FIFO or directory would replace it (imagine
  // /dev/full): only regular files are replaced.
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0 && !S_ISREG(st.st_mode))
    throw Error(path + ": exists and is not a regular file; not overwriting it");
  fd_ = ::mkstemp(tmp_.data());
  if (fd_ < 0) throw Error(path + ": cannot write: " + errno_text(errno));
}

AtomicWriter::~AtomicWriter() {
  if (fd_ >= 0) ::close(fd_);
  if (!done_) ::unlink(tmp_.c_str());
}

void AtomicWriter::fail(const std::string& what, int err) {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  ::unlink(tmp_.c_str());
  done_ = true;  // nothing left to remove
  throw Error(path_ + ": " + what + ": " + errno_text(err));
}

void AtomicWriter::write(std::span<const std::uint8_t> bytes) {
  std::size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd_, bytes.data() + done, bytes.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      fail("write failed", errno);
    }
    done += static_cast<std::size_t>(n);
  }
}

void AtomicWriter::commit() {
  if (::fsync(fd_) != 0) fail("write failed", errno);
  // mkstemp creates 0600; give the file the usual permissions (umask applies).
  const mode_t mask = ::umask(0);
  ::umask(mask);
  ::fchmod(fd_, 0666 & ~mask);
  const int fd = fd_;
  fd_ = -1;
  if (::close(fd) != 0) fail("write failed", errno);
  if (::rename(tmp_.c_str(), path_.c_str()) != 0) fail("cannot write", errno);
  done_ = true;
}

void write_file_atomic(const std::string& path, std::span<const std::uint8_t> bytes) {
  AtomicWriter w(path);
  w.write(bytes);
  w.commit();
}

size_t invalid_utf8(std::string_view text, bool surrogates) {
  size_t i = 0;
  while (i < text.size()) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t len = 0;
    std::uint32_t cp = 0;
    if ((c & 0xe0) == 0xc0)
      len = 2, cp = c & 0x1f;
    else if ((c & 0xf0) == 0xe0)
      len = 3, cp = c & 0x0f;
    else if ((c & 0xf8) == 0xf0)
      len = 4, cp = c & 0x07;
    else
      return i;
    if (text.size() - i < len) return i;
    for (size_t k = 1; k < len; ++k) {
      const auto d = static_cast<unsigned char>(text[i + k]);
      if ((d & 0xc0) != 0x80) return i;
      cp = (cp << 6) | (d & 0x3f);
    }
    const std::uint32_t least = len == 2 ? 0x80 : len == 3 ? 0x800 : 0x10000;
    if (cp < least || cp > 0x10ffff || (!surrogates && cp >= 0xd800 && cp <= 0xdfff)) return i;
    i += len;
  }
  return std::string_view::npos;
}

}  // namespace attn
