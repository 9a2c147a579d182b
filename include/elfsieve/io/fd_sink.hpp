// A writer's output sinks (rewrite/sink.hpp) over an open file. Neither owns the descriptor.
// - fd_sink: resize truncates the file to the output's size, so whatever the writer does not write reads as zeros
//   (holes where the file system has them), and every write is a pwrite loop (EINTR and short writes retried).
//   Bytes go from the caller's span (often the input's mapping) to the file without a copy in between.
// - gathered_fd_sink: the same file, in one system call for most objects. A writer makes one write per section
//   (dozens per kernel module), and each pwrite costs more than the bytes it moves; this sink records the writes
//   and finish() hands them to the kernel as one pwritev. Bytes inside the input (a span that outlives the sink,
//   the mapping) are passed by reference and copied once, by the kernel; the writer builds its rebuilt tables in
//   the sink's arena (a lending sink), and its other bytes (names, headers) are copied there. Where writes
//   overlap, the later one wins, as with fd_sink.
#pragma once

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <span>
#include <vector>

#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

#include "elfsieve/core/error.hpp"

namespace elfsieve {

namespace detail {

// What both sinks share: the largest offset a file can have, ftruncate retried on EINTR, and the error of a failed
// write (errc::write_failed with the errno).
inline constexpr std::uint64_t max_file_offset = static_cast<std::uint64_t>(std::numeric_limits<off_t>::max());

[[nodiscard]] inline bool truncate_fd(int fd, off_t size) noexcept {
  int r = 0;
  do r = ::ftruncate(fd, size);
  while (r != 0 && errno == EINTR);
  return r == 0;
}

[[nodiscard]] inline error write_failure(int err) noexcept {
  error e = make_error(errc::write_failed);
  e.sys_errno = err;
  return e;
}

}  // namespace detail

class fd_sink {
 public:
  explicit fd_sink(int fd) noexcept : fd_(fd) {}

  // The file becomes `total` zero bytes: anything it held before is dropped first.
  [[nodiscard]] result<void> resize(std::uint64_t total) const noexcept {
    if (total > detail::max_file_offset) return detail::write_failure(EFBIG);
    if (!truncate_to(0) || !truncate_to(static_cast<off_t>(total))) return detail::write_failure(errno);
    return {};
  }

  [[nodiscard]] result<void> write(std::uint64_t offset, std::span<const std::byte> bytes) const noexcept {
    // Linux moves at most 0x7ffff000 bytes per call; smaller chunks cost nothing and keep every count in range.
    constexpr std::size_t max_chunk = std::size_t{1} << 30;
    std::size_t done = 0;
    while (done < bytes.size()) {
      const std::size_t chunk = bytes.size() - done < max_chunk ? bytes.size() - done : max_chunk;
      const std::uint64_t at = offset + done;
      if (at > detail::max_file_offset - chunk) return detail::write_failure(EFBIG);
      const ssize_t n = ::pwrite(fd_, bytes.data() + done, chunk, static_cast<off_t>(at));
      if (n < 0) {
        if (errno == EINTR) continue;
        return detail::write_failure(errno);
      }
      if (n == 0) return detail::write_failure(ENOSPC);  // no progress and no reason: do not spin
      done += static_cast<std::size_t>(n);
    }
    return {};
  }

  [[nodiscard]] int fd() const noexcept { return fd_; }

 private:
  [[nodiscard]] bool truncate_to(off_t size) const noexcept { return detail::truncate_fd(fd_, size); }

  int fd_;
};

class gathered_fd_sink {
 public:
  // `fd`: an empty file open for writing (output_file's temporary is); `stable`: bytes that stay valid and unchanged
  // until finish() returns (the input), written by reference.
  gathered_fd_sink(int fd, std::span<const std::byte> stable) noexcept : fd_(fd), stable_(stable) {}

  // The same sink for another file, keeping the memory it has grown (a batch reuses one sink per thread).
  void reset(int fd, std::span<const std::byte> stable) noexcept {
    fd_ = fd;
    stable_ = stable;
    total_ = 0;
    end_written_ = 0;
    pieces_.clear();
    arena_.clear();
  }

  // The output's size; nothing reaches the file before finish().
  [[nodiscard]] result<void> resize(std::uint64_t total) {
    if (total > detail::max_file_offset) return detail::write_failure(EFBIG);
    total_ = total;
    // The writer's own bytes are at most the output: room for a module's at once (address space, touched only as
    // used) spares the copies and fresh pages of a growing arena; a larger object's arena grows as needed.
    arena_.reserve(static_cast<std::size_t>(std::min<std::uint64_t>(total, initial_arena)));
    return {};
  }

  // A write past the size given to resize is the caller's bug, refused (as vector_sink refuses it).
  [[nodiscard]] result<void> write(std::uint64_t offset, std::span<const std::byte> bytes) {
    if (offset > total_ || total_ - offset < bytes.size()) return detail::write_failure(EFBIG);
    if (bytes.empty()) return {};
    ELFSIEVE_TRY_VOID(make_room());
    if (inside_stable(bytes)) {
      record({offset, bytes.size(), bytes.data(), 0});
      return {};
    }
    record({offset, bytes.size(), nullptr, arena_.size()});
    arena_.insert(arena_.end(), bytes.begin(), bytes.end());
    return {};
  }

  // A lending sink (rewrite/sink.hpp): `size` zero bytes of the arena, the output at `offset`; the writer builds a
  // rebuilt table there instead of copying it here.
  [[nodiscard]] result<std::span<std::byte>> region(std::uint64_t offset, std::uint64_t size) {
    if (offset > total_ || total_ - offset < size) return detail::write_failure(EFBIG);
    if (size == 0) return std::span<std::byte>{};
    ELFSIEVE_TRY_VOID(make_room());
    const std::size_t at = arena_.size();
    record({offset, static_cast<std::size_t>(size), nullptr, at});
    arena_.resize(at + static_cast<std::size_t>(size));
    return std::span<std::byte>(arena_.data() + at, static_cast<std::size_t>(size));
  }

  // Writes what was recorded and gives the file its size. Call once, after the writer succeeded.
  [[nodiscard]] result<void> finish() {
    ELFSIEVE_TRY_VOID(flush());
    if (arena_.capacity() > max_kept) std::vector<std::byte>().swap(arena_);  // a huge object's tables go now
    if (end_written_ < total_ && !truncate_to(static_cast<off_t>(total_))) return detail::write_failure(errno);
    return {};
  }

 private:
  static constexpr std::size_t initial_arena = std::size_t{1} << 20;
  static constexpr std::size_t max_arena = std::size_t{16} << 20;
  static constexpr std::size_t max_kept = std::size_t{4} << 20;
  static constexpr std::size_t max_pieces = 1u << 16;
  // A gap between two pieces up to this size is written as zeros; a larger one is left as a hole.
  static constexpr std::size_t max_zero_gap = 4096;
  static constexpr std::size_t max_vectors = IOV_MAX < 1024 ? IOV_MAX : 1024;

  struct piece {
    std::uint64_t offset;
    std::size_t size;
    const std::byte* data;  // into the stable bytes, or nullptr: arena_[arena, arena + size)
    std::size_t arena;
  };

  // Memory stays bounded for any input: past the limit, what is recorded goes to the file now (a later write
  // still wins, being written later). Called before a piece is added, never while a lent region is being filled.
  [[nodiscard]] result<void> make_room() {
    if (arena_.size() > max_arena || pieces_.size() > max_pieces) return flush();
    return {};
  }

  [[nodiscard]] bool inside_stable(std::span<const std::byte> bytes) const noexcept {
    const auto b = reinterpret_cast<std::uintptr_t>(bytes.data());
    const auto s = reinterpret_cast<std::uintptr_t>(stable_.data());
    return b >= s && b - s <= stable_.size() && stable_.size() - (b - s) >= bytes.size();
  }

  // The part of `p` from `from` (inside it) on, `size` bytes long.
  [[nodiscard]] static piece slice(const piece& p, std::uint64_t from, std::size_t size) noexcept {
    const auto skip = static_cast<std::size_t>(from - p.offset);
    return {from, size, p.data != nullptr ? p.data + skip : nullptr, p.data != nullptr ? 0 : p.arena + skip};
  }

  // pieces_ stays sorted by offset and free of overlaps: `p` replaces whatever it covers. A writer writes mostly in
  // increasing offsets, so this is mostly an append.
  void record(const piece& p) {
    const std::uint64_t end = p.offset + p.size;
    if (pieces_.empty() || pieces_.back().offset + pieces_.back().size <= p.offset) {
      pieces_.push_back(p);
      return;
    }
    auto first = std::partition_point(pieces_.begin(), pieces_.end(),
                                      [&](const piece& q) { return q.offset + q.size <= p.offset; });
    auto last = first;
    while (last != pieces_.end() && last->offset < end) ++last;
    piece replacement[3];
    std::size_t n = 0;
    if (first != last && first->offset < p.offset)
      replacement[n++] = slice(*first, first->offset, static_cast<std::size_t>(p.offset - first->offset));
    replacement[n++] = p;
    if (first != last) {
      const piece& tail = *(last - 1);
      const std::uint64_t tail_end = tail.offset + tail.size;
      if (tail_end > end) replacement[n++] = slice(tail, end, static_cast<std::size_t>(tail_end - end));
    }
    const auto at = pieces_.erase(first, last);
    pieces_.insert(at, replacement, replacement + n);
  }

  [[nodiscard]] result<void> flush() {
    std::vector<iovec>& vectors = vectors_;
    vectors.clear();
    std::uint64_t run_start = 0, run_end = 0;
    auto write_run = [&]() -> result<void> {
      if (!vectors.empty()) ELFSIEVE_TRY_VOID(write_vectors(vectors, run_start));
      vectors.clear();
      run_start = run_end;
      return {};
    };
    auto add = [&](const std::byte* data, std::size_t size) -> result<void> {
      if (!vectors.empty()) {
        iovec& last = vectors.back();
        if (static_cast<const std::byte*>(last.iov_base) + last.iov_len == data) {
          last.iov_len += size;
          run_end += size;
          return {};
        }
      }
      if (vectors.size() == max_vectors) ELFSIEVE_TRY_VOID(write_run());
      vectors.push_back({const_cast<std::byte*>(data), size});
      run_end += size;
      return {};
    };
    for (const piece& p : pieces_) {
      if (vectors.empty() || p.offset - run_end > max_zero_gap) {
        ELFSIEVE_TRY_VOID(write_run());
        run_start = run_end = p.offset;
      } else if (p.offset > run_end) {
        ELFSIEVE_TRY_VOID(add(zeros, static_cast<std::size_t>(p.offset - run_end)));
      }
      ELFSIEVE_TRY_VOID(add(p.data != nullptr ? p.data : arena_.data() + p.arena, p.size));
    }
    ELFSIEVE_TRY_VOID(write_run());
    pieces_.clear();
    arena_.clear();
    return {};
  }

  // One pwritev, retried after EINTR and short writes.
  [[nodiscard]] result<void> write_vectors(std::vector<iovec>& vectors, std::uint64_t offset) {
    std::size_t first = 0;
    while (first < vectors.size()) {
      const int count = static_cast<int>(vectors.size() - first);
      const ssize_t n = ::pwritev(fd_, vectors.data() + first, count, static_cast<off_t>(offset));
      if (n < 0) {
        if (errno == EINTR) continue;
        return detail::write_failure(errno);
      }
      if (n == 0) return detail::write_failure(ENOSPC);  // no progress and no reason: do not spin
      offset += static_cast<std::uint64_t>(n);
      for (auto done = static_cast<std::size_t>(n); done > 0;) {
        iovec& v = vectors[first];
        if (done < v.iov_len) {
          v.iov_base = static_cast<std::byte*>(v.iov_base) + done;
          v.iov_len -= done;
          break;
        }
        done -= v.iov_len;
        ++first;
      }
    }
    end_written_ = std::max(end_written_, offset);
    return {};
  }

  [[nodiscard]] bool truncate_to(off_t size) const noexcept { return detail::truncate_fd(fd_, size); }

  static constexpr std::byte zeros[max_zero_gap] = {};

  int fd_;
  std::span<const std::byte> stable_;
  std::uint64_t total_ = 0;
  std::uint64_t end_written_ = 0;
  std::vector<piece> pieces_;
  std::vector<std::byte> arena_;
  std::vector<iovec> vectors_;
};

}  // namespace elfsieve
