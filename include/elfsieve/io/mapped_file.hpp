// Read-only bytes of a file: mmap for regular files, a plain read for pipes and other non-regular files.
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

namespace elfsieve {

class mapped_file {
 public:
  mapped_file() noexcept = default;
  mapped_file(const mapped_file&) = delete;
  mapped_file& operator=(const mapped_file&) = delete;
  mapped_file(mapped_file&& o) noexcept
      : data_(std::exchange(o.data_, nullptr)), size_(std::exchange(o.size_, 0)), mapped_(o.mapped_) {}
  mapped_file& operator=(mapped_file&& o) noexcept {
    if (this != &o) {
      release();
      data_ = std::exchange(o.data_, nullptr);
      size_ = std::exchange(o.size_, 0);
      mapped_ = o.mapped_;
    }
    return *this;
  }
  ~mapped_file() { release(); }

  [[nodiscard]] static result<mapped_file> open(const char* path) noexcept {
    int fd = -1;
    do fd = ::open(path, O_RDONLY | O_CLOEXEC);
    while (fd < 0 && errno == EINTR);
    if (fd < 0) return io_error(errno);
    struct stat st {};
    if (::fstat(fd, &st) != 0) return close_with(fd, io_error(errno));
    if (S_ISDIR(st.st_mode)) return close_with(fd, io_error(EISDIR));
    mapped_file out;
    if (S_ISREG(st.st_mode)) {
      if (static_cast<std::uint64_t>(st.st_size) > SIZE_MAX) return close_with(fd, io_error(EFBIG));
      out.size_ = static_cast<std::size_t>(st.st_size);
      if (out.size_ == 0) return close_with(fd, std::move(out));
      void* p = ::mmap(nullptr, out.size_, PROT_READ, MAP_PRIVATE, fd, 0);
      if (p != MAP_FAILED) {
        out.data_ = static_cast<std::byte*>(p);
        out.mapped_ = true;
        return close_with(fd, std::move(out));
      }
      out.size_ = 0;  // some file systems cannot map: read instead
    }
    auto read_ok = out.read_all(fd);
    if (!read_ok) return close_with(fd, read_ok.error());
    return close_with(fd, std::move(out));
  }

  // The bytes stay valid while this object lives; a view over a temporary's bytes would dangle.
  [[nodiscard]] std::span<const std::byte> bytes() const& noexcept { return {data_, size_}; }
  std::span<const std::byte> bytes() && = delete;
  [[nodiscard]] std::size_t size() const noexcept { return size_; }

 private:
  [[nodiscard]] static error io_error(int e) noexcept {
    error err = make_error(errc::io_error);
    err.sys_errno = e;
    return err;
  }
  template <class R>
  [[nodiscard]] static R close_with(int fd, R&& r) noexcept {
    ::close(fd);
    return std::forward<R>(r);
  }
  [[nodiscard]] static result<mapped_file> close_with(int fd, mapped_file&& m) noexcept {
    ::close(fd);
    return result<mapped_file>(std::move(m));
  }
  [[nodiscard]] static result<mapped_file> close_with(int fd, const error& e) noexcept {
    ::close(fd);
    return e;
  }

  [[nodiscard]] result<void> read_all(int fd) noexcept {
    std::size_t capacity = 0;
    for (;;) {
      if (size_ == capacity) {
        const std::size_t grown = capacity == 0 ? 65536 : capacity * 2;
        if (grown < capacity) return io_error(EFBIG);
        void* p = std::realloc(data_, grown);
        if (p == nullptr) return io_error(ENOMEM);
        data_ = static_cast<std::byte*>(p);
        capacity = grown;
      }
      const ssize_t n = ::read(fd, data_ + size_, capacity - size_);
      if (n < 0) {
        if (errno == EINTR) continue;
        return io_error(errno);
      }
      if (n == 0) return {};
      size_ += static_cast<std::size_t>(n);
    }
  }

  void release() noexcept {
    if (data_ == nullptr) return;
    if (mapped_) ::munmap(data_, size_);
    else std::free(data_);
    data_ = nullptr;
    size_ = 0;
  }

  std::byte* data_ = nullptr;
  std::size_t size_ = 0;
  bool mapped_ = false;
};

}  // namespace elfsieve
