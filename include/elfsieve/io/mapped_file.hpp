// Read-only bytes of a regular file: mmap, or a plain read where the file system cannot map (or the truncation
// guard has no free slot). Anything else (a FIFO, a device, a socket) is refused at once with
// errc::not_regular_file, a directory with io_error/EISDIR: the open never blocks (O_NONBLOCK) and never reads
// without bound. The file stays open while the object lives, so check_intact() can tell whether it shrank.
//
// A mapped file that another process truncates raises SIGBUS on the next access past the new end; with
// install_truncation_guard() (io/truncation_guard.hpp) those accesses read zeros instead and check_intact()
// reports errc::file_truncated. Call check_intact() after the last read of bytes() and before using what was
// read (printing a listing, committing an output). Without the guard installed, such an access ends the process.
#pragma once

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <utility>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "elfsieve/core/error.hpp"
#include "elfsieve/io/truncation_guard.hpp"

namespace elfsieve {

class mapped_file {
 public:
  mapped_file() noexcept = default;
  mapped_file(const mapped_file&) = delete;
  mapped_file& operator=(const mapped_file&) = delete;
  mapped_file(mapped_file&& o) noexcept
      : data_(std::exchange(o.data_, nullptr)),
        size_(std::exchange(o.size_, 0)),
        mapped_(std::exchange(o.mapped_, false)),
        fd_(std::exchange(o.fd_, -1)),
        status_(o.status_),
        guard_(std::move(o.guard_)) {}
  mapped_file& operator=(mapped_file&& o) noexcept {
    if (this != &o) {
      release();
      data_ = std::exchange(o.data_, nullptr);
      size_ = std::exchange(o.size_, 0);
      mapped_ = std::exchange(o.mapped_, false);
      fd_ = std::exchange(o.fd_, -1);
      status_ = o.status_;
      guard_ = std::move(o.guard_);
    }
    return *this;
  }
  ~mapped_file() { release(); }

  [[nodiscard]] static result<mapped_file> open(const char* path) noexcept {
    mapped_file out;
    // O_NONBLOCK: opening a FIFO without a writer returns at once (then refused below); O_NOCTTY: a terminal
    // never becomes the controlling one.
    do out.fd_ = ::open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    while (out.fd_ < 0 && errno == EINTR);
    if (out.fd_ < 0) return io_error(errno);
    if (::fstat(out.fd_, &out.status_) != 0) return io_error(errno);
    if (S_ISDIR(out.status_.st_mode)) return io_error(EISDIR);
    if (!S_ISREG(out.status_.st_mode)) return make_error(errc::not_regular_file);
    if (out.status_.st_size < 0 || static_cast<std::uint64_t>(out.status_.st_size) > SIZE_MAX) return io_error(EFBIG);
    const auto size = static_cast<std::size_t>(out.status_.st_size);
    if (size == 0) return out;
    void* p = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, out.fd_, 0);
    if (p != MAP_FAILED) {
      out.guard_ = guarded_region::add(p, size);
      if (out.guard_.registered()) {
        out.data_ = static_cast<std::byte*>(p);
        out.size_ = size;
        out.mapped_ = true;
        return out;
      }
      ::munmap(p, size);  // no slot left to guard it: a copy cannot fault
    }
    ELFSIEVE_TRY_VOID(out.read_all(size));
    return out;
  }

  // The bytes stay valid while this object lives; a view over a temporary's bytes would dangle.
  [[nodiscard]] std::span<const std::byte> bytes() const& noexcept { return {data_, size_}; }
  std::span<const std::byte> bytes() && = delete;
  [[nodiscard]] std::size_t size() const noexcept { return size_; }
  // The file's status when it was opened (fstat of the descriptor that was read).
  [[nodiscard]] const struct stat& status() const noexcept { return status_; }
  // Whether the bytes read so far are the file's: errc::file_truncated when an access past a new end of file was
  // absorbed by the truncation guard or when the file is now shorter than when it was opened.
  [[nodiscard]] result<void> check_intact() const noexcept {
    if (guard_.faulted()) return make_error(errc::file_truncated);
    if (fd_ < 0) return {};
    struct stat now {};
    if (::fstat(fd_, &now) != 0) return io_error(errno);
    if (now.st_size < status_.st_size) return make_error(errc::file_truncated);
    return {};
  }

 private:
  [[nodiscard]] static error io_error(int e) noexcept {
    error err = make_error(errc::io_error);
    err.sys_errno = e;
    return err;
  }

  // Exactly `size` bytes (the size fstat reported); an earlier end of file means the file shrank meanwhile.
  [[nodiscard]] result<void> read_all(std::size_t size) noexcept {
    data_ = static_cast<std::byte*>(std::malloc(size));
    if (data_ == nullptr) return io_error(ENOMEM);
    while (size_ < size) {
      const ssize_t n = ::pread(fd_, data_ + size_, size - size_, static_cast<off_t>(size_));
      if (n < 0) {
        if (errno == EINTR) continue;
        return io_error(errno);
      }
      if (n == 0) return make_error(errc::file_truncated);
      size_ += static_cast<std::size_t>(n);
    }
    return {};
  }

  void release() noexcept {
    guard_.release();  // before munmap: the address range may be reused at once
    if (data_ != nullptr) {
      if (mapped_) ::munmap(data_, size_);
      else std::free(data_);
    }
    if (fd_ >= 0) ::close(fd_);
    data_ = nullptr;
    size_ = 0;
    mapped_ = false;
    fd_ = -1;
  }

  std::byte* data_ = nullptr;
  std::size_t size_ = 0;
  bool mapped_ = false;
  int fd_ = -1;
  struct stat status_ {};
  guarded_region guard_;
};

}  // namespace elfsieve
