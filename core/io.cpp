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

void write_file_atomic(const std::string& path, std::span<const std::uint8_t> bytes) {
  // Renaming over a device, FIFO or directory would replace it (imagine
  // /dev/full): only regular files are replaced.
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0 && !S_ISREG(st.st_mode))
    throw Error(path + ": exists and is not a regular file; not overwriting it");
  std::string tmp = path + ".tmp-XXXXXX";
  Fd f;
  f.fd = ::mkstemp(tmp.data());
  if (f.fd < 0) throw Error(path + ": cannot write: " + errno_text(errno));
  auto fail = [&](const std::string& what, int err) {
    ::unlink(tmp.c_str());
    throw Error(path + ": " + what + ": " + errno_text(err));
  };
  std::size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(f.fd, bytes.data() + done, bytes.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      fail("write failed", errno);
    }
    done += static_cast<std::size_t>(n);
  }
  if (::fsync(f.fd) != 0) fail("write failed", errno);
  // mkstemp creates 0600; give the file the usual permissions (umask applies).
  const mode_t mask = ::umask(0);
  ::umask(mask);
  ::fchmod(f.fd, 0666 & ~mask);
  const int fd = f.fd;
  f.fd = -1;
  if (::close(fd) != 0) fail("write failed", errno);
  if (::rename(tmp.c_str(), path.c_str()) != 0) fail("cannot write", errno);
}

}  // namespace attn
