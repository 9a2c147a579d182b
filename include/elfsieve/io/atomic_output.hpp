// Nothing lost: a new file is written to a temporary in the target's directory and renamed over the target, so
// readers see the old file or the new one, never a half-written one, and a failure leaves everything as it was.
#pragma once

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <span>

#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "elfsieve/core/error.hpp"

namespace elfsieve {

struct output_options {
  // Permission bits of the new file; -1: the target's if it exists, else 0666 & ~umask.
  int mode = -1;
  // Fault injection for tests: the write fails with ENOSPC once this many bytes have been written.
  std::uint64_t fail_after_bytes = UINT64_MAX;
};

namespace detail {

// The failing step is the code; the system's reason is sys_errno.
[[nodiscard]] inline error io_failure(errc step, int err) noexcept {
  error e = make_error(step);
  e.sys_errno = err;
  return e;
}

// The process umask without changing it (Linux >= 4.7 reports it in /proc/self/status), else the usual 022.
[[nodiscard]] inline mode_t current_umask() noexcept {
  mode_t mask = 022;
  if (std::FILE* f = std::fopen("/proc/self/status", "re")) {
    char line[256];
    while (std::fgets(line, sizeof line, f) != nullptr) {
      if (std::strncmp(line, "Umask:", 6) == 0) {
        mask = static_cast<mode_t>(std::strtoul(line + 6, nullptr, 8) & 0777);
        break;
      }
    }
    std::fclose(f);
  }
  return mask;
}

}  // namespace detail

// Writes `bytes` to `path` through a temporary file in the same directory and a rename. If `path` is a symbolic
// link, the file it points to is replaced and the link stays. An existing target's mode (and, where permitted, its
// owner and group) carry over. On any failure the target is untouched and no temporary is left behind; the error
// names the step that failed (errc::invalid_output_path, cannot_resolve_output_link, output_not_regular_file,
// cannot_create_temporary, write_failed, cannot_set_output_mode, rename_failed; is_io_error() holds for each) and
// carries the system's reason in sys_errno.
// write_file_atomically_with(path, options, fill) does the same with `fill(int fd) -> result<void>` writing the
// contents into the empty temporary (options.fail_after_bytes is then fill's business); fill's error is returned
// as it is.
template <class Fill>
[[nodiscard]] result<void> write_file_atomically_with(const char* path, const output_options& options, Fill&& fill) {
  using detail::io_failure;
  char target[PATH_MAX];
  const std::size_t length = std::strlen(path);
  if (length == 0 || length >= sizeof target) return io_failure(errc::invalid_output_path, ENAMETOOLONG);
  std::memcpy(target, path, length + 1);
  struct stat existing {};
  bool exists = ::lstat(path, &existing) == 0;
  if (exists && S_ISLNK(existing.st_mode)) {
    if (::realpath(path, target) == nullptr) return io_failure(errc::cannot_resolve_output_link, errno);
    exists = ::stat(target, &existing) == 0;
  }
  if (exists && !S_ISREG(existing.st_mode)) return io_failure(errc::output_not_regular_file, EINVAL);

  // <dir>/.<name>.XXXXXX next to the target, so that rename() stays within one file system.
  char temporary[PATH_MAX];
  const char* slash = std::strrchr(target, '/');
  const std::size_t dir_length = slash == nullptr ? 0 : static_cast<std::size_t>(slash - target) + 1;
  const char* name = target + dir_length;
  const int n =
      std::snprintf(temporary, sizeof temporary, "%.*s.%s.XXXXXX", static_cast<int>(dir_length), target, name);
  if (n < 0 || static_cast<std::size_t>(n) >= sizeof temporary)
    return io_failure(errc::invalid_output_path, ENAMETOOLONG);
  const int fd = ::mkostemp(temporary, O_CLOEXEC);
  if (fd < 0) return io_failure(errc::cannot_create_temporary, errno);

  auto fail = [&](errc step, int err) {
    ::close(fd);
    ::unlink(temporary);
    return io_failure(step, err);
  };
  if (auto filled = fill(fd); !filled) {
    ::close(fd);
    ::unlink(temporary);
    return filled.error();
  }
  const mode_t mode = options.mode >= 0 ? static_cast<mode_t>(options.mode)
                      : exists          ? (existing.st_mode & 07777)
                                        : (0666 & ~detail::current_umask());
  if (::fchmod(fd, mode) != 0) return fail(errc::cannot_set_output_mode, errno);
  if (exists && (existing.st_uid != ::geteuid() || existing.st_gid != ::getegid()))
    (void)!::fchown(fd, existing.st_uid, existing.st_gid);  // keeping the owner is best effort (EPERM if not root)
  if (::close(fd) != 0) {
    const int err = errno;
    ::unlink(temporary);
    return io_failure(errc::write_failed, err);
  }
  if (::rename(temporary, target) != 0) {
    const int err = errno;
    ::unlink(temporary);
    return io_failure(errc::rename_failed, err);
  }
  return {};
}

[[nodiscard]] inline result<void> write_file_atomically(const char* path, std::span<const std::byte> bytes,
                                                        const output_options& options = {}) noexcept {
  return write_file_atomically_with(path, options, [&](int fd) -> result<void> {
    std::uint64_t written = 0;
    while (written < bytes.size()) {
      std::size_t chunk = bytes.size() - written;
      if (chunk > (std::size_t{1} << 30)) chunk = std::size_t{1} << 30;
      if (options.fail_after_bytes != UINT64_MAX) {
        if (written >= options.fail_after_bytes) return detail::io_failure(errc::write_failed, ENOSPC);
        if (options.fail_after_bytes - written < chunk) chunk = options.fail_after_bytes - written;
      }
      const ssize_t w = ::write(fd, bytes.data() + written, chunk);
      if (w < 0) {
        if (errno == EINTR) continue;
        return detail::io_failure(errc::write_failed, errno);
      }
      written += static_cast<std::uint64_t>(w);
    }
    return {};
  });
}

}  // namespace elfsieve
