// Every file a tool writes, with GNU strip 2.40's outcome and none of its races. The bytes go to a temporary in
// the target's directory (O_TMPFILE: no name until commit, so an interrupted run leaves nothing; else mkostemp),
// and commit() makes them the target:
// - replace(path, input) (in place): the caller must be allowed to write the file (it is opened O_WRONLY, as GNU
//   strip's copy opens it) and it must still be the input that was read (same device and inode). When the file
//   has other hard links or extended attributes (security labels, ACLs, IMA), or its owner cannot be given to the
//   temporary, the finished bytes are copied into the existing inode (then ftruncate), so links, attributes and
//   owner survive; a failure before that step leaves the original intact. Otherwise the temporary gets the
//   file's owner (fchown) and then its mode (fchmod: setuid/setgid survive the chown) and is renamed over it.
// - create(path, executable) (-o): the result gets GNU's mode, 0666 or, for executables, 0777 minus the umask,
//   never setuid/setgid, and the caller as owner. An existing file is replaced by a new inode, as GNU's unlink +
//   create does (write_file_atomically keeps the existing file's permission bits, without setuid/setgid).
// A symbolic link as the last component is handled as GNU does: in place, the link stays and the file it names is
// replaced; -o onto a link whose target exists replaces the link; -o onto a dangling link creates its target.
// Links are followed by the kernel's lookup only (fs.protected_symlinks applies), and only where GNU follows
// them; the file reached is then pinned by inode. Nothing is done by path after the directory is open:
// openat/renameat/linkat relative to it, O_NOFOLLOW, fchown/fchmod/futimens on descriptors, temporary names
// created exclusively (a symlink planted at any name is never followed).
#pragma once

#include <array>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <optional>
#include <span>
#include <utility>

#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "elfsieve/core/error.hpp"

namespace elfsieve {

struct commit_options {
  // -p / --preserve-dates: access and modification times given to the result.
  std::optional<std::array<struct timespec, 2>> times;
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

class unique_fd {
 public:
  unique_fd() noexcept = default;
  explicit unique_fd(int fd) noexcept : fd_(fd) {}
  unique_fd(unique_fd&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
  unique_fd& operator=(unique_fd&& o) noexcept {
    if (this != &o) reset(std::exchange(o.fd_, -1));
    return *this;
  }
  unique_fd(const unique_fd&) = delete;
  unique_fd& operator=(const unique_fd&) = delete;
  ~unique_fd() { reset(); }
  [[nodiscard]] int get() const noexcept { return fd_; }
  void reset(int fd = -1) noexcept {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
  }

 private:
  int fd_ = -1;
};

// A directory (opened O_PATH, or borrowed from the caller) and a last component inside it.
struct located_name {
  unique_fd dir;
  int borrowed = -1;
  char name[NAME_MAX + 1] = {};
  [[nodiscard]] int fd() const noexcept { return dir.get() >= 0 ? dir.get() : borrowed; }
};

// Splits `path` into its directory (opened, following links as any path lookup does) and its last component.
[[nodiscard]] inline result<void> locate(int base, const char* path, located_name& out) noexcept {
  const std::size_t length = std::strlen(path);
  if (length == 0 || length >= PATH_MAX) return io_failure(errc::invalid_output_path, ENAMETOOLONG);
  const char* slash = std::strrchr(path, '/');
  const char* name = slash == nullptr ? path : slash + 1;
  const std::size_t name_length = std::strlen(name);
  if (name_length == 0 || name_length > NAME_MAX || std::strcmp(name, ".") == 0 || std::strcmp(name, "..") == 0)
    return io_failure(errc::output_not_regular_file, EISDIR);
  char dir[PATH_MAX];
  if (slash == nullptr) std::memcpy(dir, ".", 2);
  else if (slash == path) std::memcpy(dir, "/", 2);
  else {
    std::memcpy(dir, path, static_cast<std::size_t>(slash - path));
    dir[slash - path] = '\0';
  }
  const int fd = ::openat(base, dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return io_failure(errc::cannot_create_temporary, errno);
  out.dir.reset(fd);
  std::memcpy(out.name, name, name_length + 1);
  return {};
}

// `fd` was opened through a symbolic link at `where` by the kernel's own lookup (so fs.protected_symlinks
// applies, which a resolution by hand would bypass): moves `where` to the directory and name of the file `fd` is,
// and checks that the name is still that file.
[[nodiscard]] inline result<void> follow_link(located_name& where, int fd) noexcept {
  char proc[64];
  std::snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
  char target[PATH_MAX];
  const ssize_t n = ::readlink(proc, target, sizeof target);
  if (n < 0) return io_failure(errc::cannot_resolve_output_link, errno);
  if (static_cast<std::size_t>(n) >= sizeof target) return io_failure(errc::cannot_resolve_output_link, ENAMETOOLONG);
  target[n] = '\0';
  located_name next;
  if (auto r = locate(AT_FDCWD, target, next); !r)
    return io_failure(errc::cannot_resolve_output_link, r.error().sys_errno);
  struct stat opened {
  }, named{};
  if (::fstat(fd, &opened) != 0) return io_failure(errc::cannot_resolve_output_link, errno);
  if (::fstatat(next.fd(), next.name, &named, AT_SYMLINK_NOFOLLOW) != 0 || named.st_dev != opened.st_dev ||
      named.st_ino != opened.st_ino)
    return make_error(errc::output_changed);
  where = std::move(next);
  return {};
}

[[nodiscard]] inline bool is_symlink_at(const located_name& where) noexcept {
  struct stat st {};
  return ::fstatat(where.fd(), where.name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode);
}

[[nodiscard]] inline bool copy_all(int from, int to, std::uint64_t size, int& err) noexcept {
  char buffer[65536];
  for (std::uint64_t offset = 0; offset < size;) {
    const std::size_t want = size - offset < sizeof buffer ? static_cast<std::size_t>(size - offset) : sizeof buffer;
    const ssize_t got = ::pread(from, buffer, want, static_cast<off_t>(offset));
    if (got <= 0) {
      if (got < 0 && errno == EINTR) continue;
      err = got < 0 ? errno : EIO;
      return false;
    }
    for (std::size_t done = 0; done < static_cast<std::size_t>(got);) {
      const ssize_t w =
          ::pwrite(to, buffer + done, static_cast<std::size_t>(got) - done, static_cast<off_t>(offset + done));
      if (w < 0) {
        if (errno == EINTR) continue;
        err = errno;
        return false;
      }
      done += static_cast<std::size_t>(w);
    }
    offset += static_cast<std::uint64_t>(got);
  }
  return true;
}

}  // namespace detail

// The process's umask, read without changing it (the mode GNU strip -o gives a new file is 0666 or 0777 minus
// it); a tool writing many files reads it once and passes the mode in create_options.
[[nodiscard]] inline mode_t process_umask() noexcept { return detail::current_umask(); }

class output_file {
 public:
  output_file(const output_file&) = delete;
  output_file& operator=(const output_file&) = delete;
  output_file(output_file&& o) noexcept
      : where_(std::move(o.where_)),
        temp_(std::move(o.temp_)),
        target_(std::move(o.target_)),
        target_stat_(o.target_stat_),
        temp_named_(std::exchange(o.temp_named_, false)),
        placeholder_(std::exchange(o.placeholder_, false)),
        in_place_(o.in_place_),
        exists_(o.exists_),
        mode_(o.mode_) {
    std::memcpy(temp_name_, o.temp_name_, sizeof temp_name_);
  }
  output_file& operator=(output_file&&) = delete;
  ~output_file() { discard_temporary(); }

  // In place: `path` is the file that was read, `input` its status (fstat of the descriptor that was read).
  [[nodiscard]] static result<output_file> replace(const char* path, const struct stat& input) noexcept {
    using detail::io_failure;
    output_file out;
    ELFSIEVE_TRY_VOID(detail::locate(AT_FDCWD, path, out.where_));
    // Through a symbolic link (GNU: the link stays, the file it names is replaced) the kernel follows it; the
    // inode check below pins the file to the one that was read either way. A link is seen by O_NOFOLLOW's ELOOP
    // (one call for the common case, a file), then confirmed by lstat.
    constexpr int flags = O_WRONLY | O_NONBLOCK | O_CLOEXEC;
    int fd = ::openat(out.where_.fd(), out.where_.name, flags | O_NOFOLLOW);
    bool link = false;
    if (fd < 0 && errno == ELOOP && detail::is_symlink_at(out.where_)) {
      link = true;
      fd = ::openat(out.where_.fd(), out.where_.name, flags);
    }
    if (fd < 0) return io_failure(errno == ELOOP ? errc::output_changed : errc::cannot_open_output, errno);
    out.target_.reset(fd);
    if (::fstat(fd, &out.target_stat_) != 0) return io_failure(errc::cannot_open_output, errno);
    if (!S_ISREG(out.target_stat_.st_mode)) return io_failure(errc::output_not_regular_file, EINVAL);
    if (out.target_stat_.st_dev != input.st_dev || out.target_stat_.st_ino != input.st_ino)
      return make_error(errc::output_changed);
    if (link) ELFSIEVE_TRY_VOID(detail::follow_link(out.where_, fd));
    out.in_place_ = true;
    out.exists_ = true;
    ELFSIEVE_TRY_VOID(out.open_temporary());
    return out;
  }

  struct create_options {
    // Permission bits; gnu_mode: GNU's (0666, or 0777 for executables, minus the umask).
    int mode = gnu_mode;
    // write_file_atomically: an existing file keeps its permission bits (without setuid/setgid), and a symbolic
    // link to an existing file stays (the file is replaced). GNU strip -o replaces such a link by a new file.
    bool keep_existing = false;
  };
  static constexpr int gnu_mode = -1;

  // -o: the result is a new file owned by the caller with GNU's mode, never setuid/setgid; an existing file is
  // replaced by a new inode (GNU: unlink, then create); a dangling symbolic link creates its target (GNU: fopen
  // follows it). `executable`: ET_EXEC or ET_DYN.
  [[nodiscard]] static result<output_file> create(const char* path, bool executable) noexcept {
    return create(path, executable, create_options{});
  }
  [[nodiscard]] static result<output_file> create(const char* path, bool executable,
                                                  const create_options& options) noexcept {
    using detail::io_failure;
    output_file out;
    ELFSIEVE_TRY_VOID(detail::locate(AT_FDCWD, path, out.where_));
    struct stat existing {};
    if (::fstatat(out.where_.fd(), out.where_.name, &existing, AT_SYMLINK_NOFOLLOW) == 0) {
      out.exists_ = true;
      if (S_ISLNK(existing.st_mode)) {
        // The kernel follows the link (fs.protected_symlinks applies).
        int fd = ::openat(out.where_.fd(), out.where_.name, O_PATH | O_CLOEXEC);
        if (fd < 0 && errno == ENOENT) {
          // Dangling: its target is created, as GNU's fopen creates it; removed again if nothing is committed.
          const mode_t placeholder = 0600;
          fd = ::openat(out.where_.fd(), out.where_.name, O_WRONLY | O_CREAT | O_NONBLOCK | O_CLOEXEC, placeholder);
          if (fd < 0) return io_failure(errc::cannot_resolve_output_link, errno);
          out.placeholder_ = true;
        } else if (fd < 0) {
          return io_failure(errc::cannot_resolve_output_link, errno);
        } else if (!options.keep_existing) {
          ::close(fd);  // GNU: the link itself is replaced by the new file
          fd = -1;
        }
        if (fd >= 0) {
          detail::unique_fd target(fd);
          if (::fstat(fd, &existing) != 0) return io_failure(errc::cannot_resolve_output_link, errno);
          if (!S_ISREG(existing.st_mode)) return io_failure(errc::output_not_regular_file, EINVAL);
          auto followed = detail::follow_link(out.where_, fd);
          if (!followed) {
            out.placeholder_ = false;  // where it is cannot be said (no /proc?): an empty file may stay behind
            return followed.error();
          }
          out.target_stat_ = existing;
        }
      } else if (!S_ISREG(existing.st_mode)) {
        return io_failure(errc::output_not_regular_file, EINVAL);
      }
    } else if (errno != ENOENT) {
      return io_failure(errc::cannot_create_temporary, errno);
    }
    out.mode_ = options.mode >= 0                                           ? static_cast<mode_t>(options.mode) & 07777
                : options.keep_existing && out.exists_ && !out.placeholder_ ? (existing.st_mode & 0777)
                                                                            : gnu_mode_of(executable);
    ELFSIEVE_TRY_VOID(out.open_temporary());
    return out;
  }

  // An output beneath a directory the caller opened (elfsieve-strip --output-dir): `name`, one path component, in
  // `dir`, which is borrowed (it must stay open while this object lives). As create(), except at the name itself:
  // whatever is there (a file, a symbolic link, which is never followed) is replaced by the new file when it is
  // committed; a directory there makes the commit fail. `options.mode` as for create(); keep_existing is ignored.
  [[nodiscard]] static result<output_file> create_at(int dir, const char* name, bool executable) noexcept {
    return create_at(dir, name, executable, create_options{});
  }
  [[nodiscard]] static result<output_file> create_at(int dir, const char* name, bool executable,
                                                     const create_options& options) noexcept {
    using detail::io_failure;
    const std::size_t length = std::strlen(name);
    if (length == 0 || length > NAME_MAX || std::strchr(name, '/') != nullptr || std::strcmp(name, ".") == 0 ||
        std::strcmp(name, "..") == 0)
      return io_failure(errc::invalid_output_path, EINVAL);
    output_file out;
    out.where_.borrowed = dir;
    std::memcpy(out.where_.name, name, length + 1);
    // Not looked at before the commit: linkat there, else (EEXIST) rename over it; neither follows a link.
    out.mode_ = options.mode >= 0 ? static_cast<mode_t>(options.mode) & 07777 : gnu_mode_of(executable);
    ELFSIEVE_TRY_VOID(out.open_temporary());
    return out;
  }

  // The temporary: empty, open for reading and writing (pwrite, ftruncate).
  [[nodiscard]] int fd() const noexcept { return temp_.get(); }

  // Makes the temporary's contents the target. After an error the target is as it was (except a failure while
  // copying into an existing inode, cannot_copy_into_output) and no temporary is left.
  [[nodiscard]] result<void> commit(const commit_options& options = {}) noexcept {
    using detail::io_failure;
    if (temp_.get() < 0) return io_failure(errc::write_failed, EBADF);
    auto outcome = in_place_ ? commit_in_place(options) : commit_new(options);
    if (outcome) placeholder_ = false;
    discard_temporary();
    return outcome;
  }

 private:
  output_file() noexcept = default;

  [[nodiscard]] static mode_t gnu_mode_of(bool executable) noexcept {
    return (executable ? 0777 : 0666) & ~detail::current_umask();
  }

  [[nodiscard]] result<void> open_temporary() noexcept {
    using detail::io_failure;
    // An O_TMPFILE file is given its name through /proc/self/fd (linkat with AT_EMPTY_PATH needs privileges);
    // whether /proc is there is asked once per process, not once per file.
    static const bool proc = ::access("/proc/self/fd", X_OK) == 0;
    int fd = proc ? ::openat(where_.fd(), ".", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600) : -1;
    if (fd >= 0) {
      temp_.reset(fd);
      return {};
    }
    if (proc && errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL)
      return io_failure(errc::cannot_create_temporary, errno);
    // No O_TMPFILE on this file system: a named temporary, created exclusively (O_EXCL never follows a link).
    for (int attempt = 0; attempt < 100; ++attempt) {
      random_name();
      fd = ::openat(where_.fd(), temp_name_, O_CREAT | O_EXCL | O_RDWR | O_NOFOLLOW | O_CLOEXEC, 0600);
      if (fd >= 0) {
        temp_.reset(fd);
        temp_named_ = true;
        return {};
      }
      if (errno != EEXIST) return io_failure(errc::cannot_create_temporary, errno);
    }
    return io_failure(errc::cannot_create_temporary, EEXIST);
  }

  // .NAME.XXXXXX with six random letters and digits.
  void random_name() noexcept {
    static constexpr char letters[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    unsigned char random[6] = {};
    if (::getrandom(random, sizeof random, 0) != static_cast<ssize_t>(sizeof random)) {
      std::uint64_t seed = static_cast<std::uint64_t>(std::time(nullptr)) ^
                           (static_cast<std::uint64_t>(::getpid()) << 20) ^ reinterpret_cast<std::uintptr_t>(this);
      for (auto& r : random) r = static_cast<unsigned char>((seed = seed * 6364136223846793005u + 1) >> 56);
    }
    char suffix[7];
    for (std::size_t i = 0; i < 6; ++i) suffix[i] = letters[random[i] % (sizeof letters - 1)];
    suffix[6] = '\0';
    std::snprintf(temp_name_, sizeof temp_name_, ".%.*s.%s", NAME_MAX - 9, where_.name, suffix);
  }

  // Gives an O_TMPFILE temporary a name in the directory (a fresh random one: linkat never replaces anything).
  [[nodiscard]] result<void> name_temporary() noexcept {
    if (temp_named_) return {};
    char proc[64];
    std::snprintf(proc, sizeof proc, "/proc/self/fd/%d", temp_.get());
    for (int attempt = 0; attempt < 100; ++attempt) {
      random_name();
      if (::linkat(AT_FDCWD, proc, where_.fd(), temp_name_, AT_SYMLINK_FOLLOW) == 0) {
        temp_named_ = true;
        return {};
      }
      if (errno != EEXIST) return detail::io_failure(errc::rename_failed, errno);
    }
    return detail::io_failure(errc::rename_failed, EEXIST);
  }

  [[nodiscard]] result<void> set_times(int fd, const commit_options& options) noexcept {
    if (options.times && ::futimens(fd, options.times->data()) != 0)
      return detail::io_failure(errc::cannot_preserve_dates, errno);
    return {};
  }

  [[nodiscard]] result<void> rename_over_target() noexcept {
    using detail::io_failure;
    ELFSIEVE_TRY_VOID(name_temporary());
    if (::renameat(where_.fd(), temp_name_, where_.fd(), where_.name) != 0)
      return io_failure(errc::rename_failed, errno);
    temp_named_ = false;
    return {};
  }

  [[nodiscard]] result<void> commit_new(const commit_options& options) noexcept {
    using detail::io_failure;
    if (::fchmod(temp_.get(), mode_) != 0) return io_failure(errc::cannot_set_output_mode, errno);
    ELFSIEVE_TRY_VOID(set_times(temp_.get(), options));
    if (!temp_named_ && !exists_) {
      char proc[64];
      std::snprintf(proc, sizeof proc, "/proc/self/fd/%d", temp_.get());
      if (::linkat(AT_FDCWD, proc, where_.fd(), where_.name, AT_SYMLINK_FOLLOW) == 0) return {};
      if (errno != EEXIST) return io_failure(errc::rename_failed, errno);
      // Something appeared at the name meanwhile: replace it, as rename would have.
    }
    return rename_over_target();
  }

  [[nodiscard]] result<void> commit_in_place(const commit_options& options) noexcept {
    using detail::io_failure;
    const int temp = temp_.get();
    const int target = target_.get();
    bool copy_in = target_stat_.st_nlink > 1;
    if (!copy_in) {
      const ssize_t attributes = ::flistxattr(target, nullptr, 0);
      copy_in = attributes > 0 || (attributes < 0 && errno != ENOTSUP);
    }
    if (!copy_in && ::fchown(temp, target_stat_.st_uid, target_stat_.st_gid) != 0) {
      if (errno != EPERM) return io_failure(errc::cannot_set_output_owner, errno);
      copy_in = true;  // the file's owner is not ours to give: keep its inode instead
    }
    if (!copy_in) {
      if (::fchmod(temp, target_stat_.st_mode & 07777) != 0) return io_failure(errc::cannot_set_output_mode, errno);
      ELFSIEVE_TRY_VOID(set_times(temp, options));
      // The name must still be the file that was opened; whatever else is there is not ours to replace.
      struct stat now {};
      if (::fstatat(where_.fd(), where_.name, &now, AT_SYMLINK_NOFOLLOW) != 0 || now.st_dev != target_stat_.st_dev ||
          now.st_ino != target_stat_.st_ino)
        return make_error(errc::output_changed);
      return rename_over_target();
    }
    struct stat finished {};
    if (::fstat(temp, &finished) != 0) return io_failure(errc::write_failed, errno);
    const auto size = static_cast<std::uint64_t>(finished.st_size);
    // The kernel drops file capabilities on any write, even root's (GNU strip loses them): put them back where
    // the caller may (CAP_SETFCAP).
    char capability[256];
    const ssize_t capability_size = ::fgetxattr(target, "security.capability", capability, sizeof capability);
    int err = 0;
    if (!detail::copy_all(temp, target, size, err)) return io_failure(errc::cannot_copy_into_output, err);
    if (::ftruncate(target, static_cast<off_t>(size)) != 0) return io_failure(errc::cannot_copy_into_output, errno);
    if (capability_size > 0)
      (void)::fsetxattr(target, "security.capability", capability, static_cast<std::size_t>(capability_size), 0);
    // Writing drops setuid/setgid for a caller without CAP_FSETID; the owner may set them again.
    struct stat after {};
    if (::fstat(target, &after) == 0 && (after.st_mode & 07777) != (target_stat_.st_mode & 07777))
      if (::fchmod(target, target_stat_.st_mode & 07777) != 0 && errno != EPERM)  // EPERM: not our file, the kernel's
        return io_failure(errc::cannot_set_output_mode, errno);                   // clearing stays, as for any write
    // Like GNU's set_times, dates that a file we do not own refuses (EPERM) are not worth failing for.
    if (auto dated = set_times(target, options); !dated && dated.error().sys_errno != EPERM) return dated;
    if (::fsync(target) != 0 && errno != EINVAL && errno != EROFS)
      return io_failure(errc::cannot_copy_into_output, errno);
    return {};
  }

  void discard_temporary() noexcept {
    if (temp_named_) ::unlinkat(where_.fd(), temp_name_, 0);
    if (placeholder_) {
      struct stat st {};  // still the empty file create() made?
      if (::fstatat(where_.fd(), where_.name, &st, AT_SYMLINK_NOFOLLOW) == 0 && st.st_dev == target_stat_.st_dev &&
          st.st_ino == target_stat_.st_ino && st.st_size == 0)
        ::unlinkat(where_.fd(), where_.name, 0);
    }
    placeholder_ = false;
    temp_named_ = false;
    temp_.reset();
    target_.reset();
  }

  detail::located_name where_;
  detail::unique_fd temp_, target_;
  struct stat target_stat_ {};
  char temp_name_[NAME_MAX + 1] = {};
  bool temp_named_ = false;
  bool placeholder_ = false;  // the target of a dangling link, created by create(): removed unless committed
  bool in_place_ = false;
  bool exists_ = false;
  mode_t mode_ = 0;
};

// -o's executable test: ET_EXEC and ET_DYN outputs get execute permission (GNU: bfd's EXEC_P and DYNAMIC).
[[nodiscard]] inline bool is_executable_elf(std::span<const std::byte> bytes) noexcept {
  if (bytes.size() < 18 || bytes[0] != std::byte{0x7f} || bytes[1] != std::byte{'E'} || bytes[2] != std::byte{'L'} ||
      bytes[3] != std::byte{'F'})
    return false;
  const bool big = bytes[5] == std::byte{2};
  const auto lo = std::to_integer<unsigned>(bytes[big ? 17 : 16]);
  const auto hi = std::to_integer<unsigned>(bytes[big ? 16 : 17]);
  const unsigned type = lo | (hi << 8);
  return type == 2 || type == 3;
}

struct output_options {
  // Permission bits of the new file; -1: the target's if it exists, else 0666 & ~umask.
  int mode = -1;
  // Fault injection for tests: the write fails with ENOSPC once this many bytes have been written.
  std::uint64_t fail_after_bytes = UINT64_MAX;
};

// Writes `bytes` to `path` (output_file::create: a symbolic link's target is replaced and the link stays; an
// existing file's permission bits carry over, without setuid/setgid; a new file gets 0666 minus the umask). On any
// failure the target is untouched and no temporary is left behind; the error names the step that failed (is_io_error()
// holds) with the system's reason in sys_errno.
[[nodiscard]] inline result<void> write_file_atomically(const char* path, std::span<const std::byte> bytes,
                                                        const output_options& options = {}) noexcept {
  output_file::create_options create;
  create.mode = options.mode;
  create.keep_existing = true;
  ELFSIEVE_TRY(auto out, output_file::create(path, false, create));
  std::uint64_t written = 0;
  while (written < bytes.size()) {
    std::size_t chunk = bytes.size() - written;
    if (chunk > (std::size_t{1} << 30)) chunk = std::size_t{1} << 30;
    if (options.fail_after_bytes != UINT64_MAX) {
      if (written >= options.fail_after_bytes) return detail::io_failure(errc::write_failed, ENOSPC);
      if (options.fail_after_bytes - written < chunk) chunk = options.fail_after_bytes - written;
    }
    const ssize_t w = ::pwrite(out.fd(), bytes.data() + written, chunk, static_cast<off_t>(written));
    if (w < 0) {
      if (errno == EINTR) continue;
      return detail::io_failure(errc::write_failed, errno);
    }
    written += static_cast<std::uint64_t>(w);
  }
  return out.commit();
}

// The tools' one call for an output built in memory: in place when `input` is given, else -o.
[[nodiscard]] inline result<void> write_output(const char* path, const struct stat* input,
                                               std::span<const std::byte> bytes, bool executable,
                                               const commit_options& options = {}) noexcept {
  auto out = input != nullptr ? output_file::replace(path, *input) : output_file::create(path, executable);
  if (!out) return out.error();
  for (std::uint64_t written = 0; written < bytes.size();) {
    std::size_t chunk = bytes.size() - written;
    if (chunk > (std::size_t{1} << 30)) chunk = std::size_t{1} << 30;
    const ssize_t w = ::pwrite(out->fd(), bytes.data() + written, chunk, static_cast<off_t>(written));
    if (w < 0) {
      if (errno == EINTR) continue;
      return detail::io_failure(errc::write_failed, errno);
    }
    written += static_cast<std::uint64_t>(w);
  }
  return out->commit(options);
}

}  // namespace elfsieve
