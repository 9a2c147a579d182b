// Small text inputs of the tools (names files, whitelists, lists of objects, the names: files of a policy
// expression), read whole into a string. A size limit keeps a wrong argument (/dev/zero, a disk image) from
// taking all memory: it is an input error like any other.
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

// The contents of `path` (a regular file, a pipe, /dev/stdin ...). Errors are errc::io_error with sys_errno:
// the system's reason, EISDIR for a directory, EFBIG when the file holds more than `limit` bytes.
[[nodiscard]] inline result<std::string> read_text_file(const char* path, std::size_t limit = default_text_file_limit) {
  auto failure = [](int err) {
    error e = make_error(errc::io_error);
    e.sys_errno = err;
    return e;
  };
  int fd = -1;
  do fd = ::open(path, O_RDONLY | O_CLOEXEC);
  while (fd < 0 && errno == EINTR);
  if (fd < 0) return failure(errno);
  struct closer {
    int fd;
    ~closer() { ::close(fd); }
  } close_on_return{fd};
  struct stat st {};
  if (::fstat(fd, &st) != 0) return failure(errno);
  if (S_ISDIR(st.st_mode)) return failure(EISDIR);
  if (S_ISREG(st.st_mode) && static_cast<std::uint64_t>(st.st_size) > limit) return failure(EFBIG);
  std::string text;
  if (S_ISREG(st.st_mode)) text.reserve(static_cast<std::size_t>(st.st_size));
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
