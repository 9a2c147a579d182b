// Small text inputs of the tools (names files, whitelists, lists of objects, the names: files of a policy
// expression), read whole into a string. Only regular files are read by name (a FIFO or a device would block or
// never end); standard input, where a tool accepts '-', goes through read_text_fd. A size limit keeps a wrong
// argument (a disk image, an endless pipe) from taking all memory: it is an input error like any other.
#pragma once

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "elfsieve/core/error.hpp"

namespace elfsieve {

inline constexpr std::size_t default_text_file_limit = std::size_t{64} << 20;

// The contents of an open descriptor (standard input, a pipe the caller opened), read to its end but never
// more than `limit` bytes: errc::io_error with EFBIG past it, or with the system's reason.
[[nodiscard]] inline result<std::string> read_text_fd(int fd, std::size_t limit = default_text_file_limit) {
  auto failure = [](int err) {
    error e = make_error(errc::io_error);
    e.sys_errno = err;
    return e;
  };
  std::string text;
  struct stat st {};
  if (::fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0) {
    if (static_cast<std::uint64_t>(st.st_size) > limit) return failure(EFBIG);
    text.reserve(static_cast<std::size_t>(st.st_size));
  }
  char buffer[65536];
  for (;;) {
    const ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0) {
      if (errno == EINTR) continue;
      return failure(errno);
    }
    if (n == 0) return text;
    if (static_cast<std::size_t>(n) > limit - text.size()) return failure(EFBIG);
    text.append(buffer, static_cast<std::size_t>(n));
  }
}

// The contents of `path`, a regular file (as GNU objcopy's --strip-symbols=FILE): a FIFO, a device or a socket is
// errc::not_regular_file, refused at once (the open never blocks); a directory is io_error/EISDIR, a file larger
// than `limit` io_error/EFBIG, any other failure io_error with the system's reason.
[[nodiscard]] inline result<std::string> read_text_file(const char* path, std::size_t limit = default_text_file_limit) {
  auto failure = [](int err) {
    error e = make_error(errc::io_error);
    e.sys_errno = err;
    return e;
  };
  int fd = -1;
  do fd = ::open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
  while (fd < 0 && errno == EINTR);
  if (fd < 0) return failure(errno);
  struct closer {
    int fd;
    ~closer() { ::close(fd); }
  } close_on_return{fd};
  struct stat st {};
  if (::fstat(fd, &st) != 0) return failure(errno);
  if (S_ISDIR(st.st_mode)) return failure(EISDIR);
  if (!S_ISREG(st.st_mode)) return make_error(errc::not_regular_file);
  return read_text_fd(fd, limit);
}

// A loader for policy_expr::parse that reads names: files with read_text_file and remembers the path of the
// one that could not be read, for the message (format_policy_error).
struct names_file_loader {
  std::size_t limit = default_text_file_limit;
  std::string failed_path;

  result<std::string> operator()(std::string_view path) {
    const std::string p(path);
    auto text = read_text_file(p.c_str(), limit);
    if (!text) failed_path = p;
    return text;
  }
};

}  // namespace elfsieve
