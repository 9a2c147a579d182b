// A writer's output sink (rewrite/sink.hpp) over an open file: resize truncates the file to the output's size, so
// whatever the writer does not write reads as zeros (holes where the file system has them), and every write is a
// pwrite loop (EINTR and short writes retried). Bytes go from the caller's span (often the input's mapping) to the
// file without a copy in between. The sink does not own the descriptor.
#pragma once

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>

#include <sys/types.h>
#include <unistd.h>

#include "elfsieve/core/error.hpp"

namespace elfsieve {

class fd_sink {
 public:
  explicit fd_sink(int fd) noexcept : fd_(fd) {}

  // The file becomes `total` zero bytes: anything it held before is dropped first.
  [[nodiscard]] result<void> resize(std::uint64_t total) const noexcept {
    if (total > max_offset) return failure(EFBIG);
    if (!truncate_to(0) || !truncate_to(static_cast<off_t>(total))) return failure(errno);
    return {};
  }

  [[nodiscard]] result<void> write(std::uint64_t offset, std::span<const std::byte> bytes) const noexcept {
    // Linux moves at most 0x7ffff000 bytes per call; smaller chunks cost nothing and keep every count in range.
    constexpr std::size_t max_chunk = std::size_t{1} << 30;
    std::size_t done = 0;
    while (done < bytes.size()) {
      const std::size_t chunk = bytes.size() - done < max_chunk ? bytes.size() - done : max_chunk;
      const std::uint64_t at = offset + done;
      if (at > max_offset - chunk) return failure(EFBIG);
      const ssize_t n = ::pwrite(fd_, bytes.data() + done, chunk, static_cast<off_t>(at));
      if (n < 0) {
        if (errno == EINTR) continue;
        return failure(errno);
      }
      if (n == 0) return failure(ENOSPC);  // no progress and no reason: do not spin
      done += static_cast<std::size_t>(n);
    }
    return {};
  }

  [[nodiscard]] int fd() const noexcept { return fd_; }

 private:
  static constexpr std::uint64_t max_offset = static_cast<std::uint64_t>(std::numeric_limits<off_t>::max());

  [[nodiscard]] bool truncate_to(off_t size) const noexcept {
    int r = 0;
    do r = ::ftruncate(fd_, size);
    while (r != 0 && errno == EINTR);
    return r == 0;
  }
  [[nodiscard]] static error failure(int err) noexcept {
    error e = make_error(errc::write_failed);
    e.sys_errno = err;
    return e;
  }

  int fd_;
};

}  // namespace elfsieve
