// Outputs mirrored beneath a directory (elfsieve-strip --output-dir=DIR): each input path names its output
// DIR/NAME, and the directories of NAME are created beneath DIR. The tree may be writable by other users while root
// writes into it, so nothing below DIR is reached through a symbolic link: every directory is opened relative to
// its parent's descriptor with O_NOFOLLOW (a link planted there is refused, never followed), an output name never
// holds a ".." component or starts at "/", and the file itself is created with output_file::create_at, which
// replaces whatever is at its name without following it. DIR itself is the caller's: a path as any other, links
// followed.
#pragma once

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <utility>

#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#include "elfsieve/core/error.hpp"
#include "elfsieve/io/output_file.hpp"

namespace elfsieve {

// An owned descriptor (closed when it goes), as output_tree::directory returns it.
using detail::unique_fd;

// Why an input path has no output name.
enum class mirror_refusal : std::uint8_t {
  none,
  absolute_path,     // no prefix given and the path is absolute
  parent_component,  // no prefix given and the path has a ".." component
  outside_prefix,    // the path does not lie beneath the prefix
  no_file_name,      // nothing is left (the path is the prefix itself, ".", "/")
};

[[nodiscard]] constexpr const char* to_string(mirror_refusal r) noexcept {
  switch (r) {
    case mirror_refusal::none: return "";
    case mirror_refusal::absolute_path: return "an absolute path has no place under the output directory";
    case mirror_refusal::parent_component: return "a '..' component would leave the output directory";
    case mirror_refusal::outside_prefix: return "not beneath the prefix to remove";
    case mirror_refusal::no_file_name: return "no file name is left";
  }
  return "";
}

struct mirrored_name {
  std::string name;  // components joined by '/', none of them empty, "." or ".."
  mirror_refusal refusal = mirror_refusal::none;
  [[nodiscard]] explicit operator bool() const noexcept { return refusal == mirror_refusal::none; }
};

namespace detail {

// Appends the components of `path` to `out` (joined by '/'), dropping empty ones and "."; ".." removes the last
// component when `resolve_parents` (a lexical normalization: the path is a name here, never looked up), else it is a
// refusal. A ".." above the start is dropped for an absolute path (as "/.." is "/") and refused otherwise.
[[nodiscard]] inline mirror_refusal append_components(std::string& out, std::string_view path, bool absolute,
                                                      bool resolve_parents) {
  for (std::size_t pos = 0; pos <= path.size();) {
    std::size_t slash = path.find('/', pos);
    if (slash == std::string_view::npos) slash = path.size();
    const std::string_view c = path.substr(pos, slash - pos);
    pos = slash + 1;
    if (c.empty() || c == ".") continue;
    if (c == "..") {
      if (!resolve_parents) return mirror_refusal::parent_component;
      const std::size_t cut = out.rfind('/');
      if (out.empty() && !absolute) return mirror_refusal::parent_component;
      out.resize(cut == std::string::npos ? 0 : cut);
      continue;
    }
    if (!out.empty()) out += '/';
    out += c;
  }
  return mirror_refusal::none;
}

}  // namespace detail

// The output name of `input` beneath the output directory. Without a prefix, `input` must be relative and free of
// ".." components; "." and repeated slashes are dropped. With a prefix, both are made absolute against `cwd` (the
// working directory, an absolute path) and normalized lexically, and the name is what follows the prefix's
// components: --prefix=/lib/modules/6.1.0-56-amd64 maps /lib/modules/6.1.0-56-amd64/kernel/fs/fat/vfat.ko to
// kernel/fs/fat/vfat.ko.
[[nodiscard]] inline mirrored_name mirror_name(std::string_view input, std::string_view prefix, std::string_view cwd) {
  mirrored_name out;
  if (prefix.empty()) {
    if (input.starts_with('/')) out.refusal = mirror_refusal::absolute_path;
    else out.refusal = detail::append_components(out.name, input, false, false);
    if (out && out.name.empty()) out.refusal = mirror_refusal::no_file_name;
    if (!out) out.name.clear();
    return out;
  }
  auto absolute = [&](std::string_view path) {
    std::string normal;
    if (!path.starts_with('/')) (void)detail::append_components(normal, cwd, true, true);
    (void)detail::append_components(normal, path, true, true);
    return normal;
  };
  const std::string full = absolute(input);
  const std::string base = absolute(prefix);
  const bool beneath =
      base.empty() || (full.size() > base.size() && full.starts_with(base) && full[base.size()] == '/');
  if (!beneath) {
    out.refusal = full == base ? mirror_refusal::no_file_name : mirror_refusal::outside_prefix;
    return out;
  }
  out.name = full.substr(base.empty() ? 0 : base.size() + 1);
  if (out.name.empty()) out.refusal = mirror_refusal::no_file_name;
  return out;
}

// The output directory's descriptor, and the directories beneath it.
class output_tree {
 public:
  // Opens DIR, creating it and its missing parents (mode 0777 minus the umask) as mkdir -p does.
  [[nodiscard]] static result<output_tree> open(const char* path) noexcept {
    output_tree tree;
    int fd = open_directory(AT_FDCWD, path);
    if (fd < 0 && errno == ENOENT) {
      ELFSIEVE_TRY_VOID(make_parents(path));
      fd = open_directory(AT_FDCWD, path);
    }
    if (fd < 0) return failure(errno);
    tree.root_.reset(fd);
    return tree;
  }

  [[nodiscard]] int fd() const noexcept { return root_.get(); }

  // The directory `relative` beneath the tree (components joined by '/', as mirror_name gives them; empty: the
  // tree's own directory, a new descriptor for it), created where missing (0777 minus the umask). A symbolic link
  // at any component is refused with ELOOP; `failed` is then the length of the prefix of `relative` that names
  // the directory that could not be opened or created.
  [[nodiscard]] result<unique_fd> directory(std::string_view relative, std::size_t& failed) const noexcept {
    unique_fd current(::fcntl(root_.get(), F_DUPFD_CLOEXEC, 0));
    failed = 0;
    if (current.get() < 0) return failure(errno);
    for (std::size_t pos = 0; pos < relative.size();) {
      std::size_t slash = relative.find('/', pos);
      if (slash == std::string_view::npos) slash = relative.size();
      const std::string_view c = relative.substr(pos, slash - pos);
      failed = slash;
      if (c.empty() || c == "." || c == ".." || c.size() > NAME_MAX) return failure(EINVAL);
      char name[NAME_MAX + 1];
      std::memcpy(name, c.data(), c.size());
      name[c.size()] = '\0';
      int fd = open_directory_nofollow(current.get(), name);
      if (fd < 0 && errno == ENOENT) {
        if (::mkdirat(current.get(), name, 0777) != 0 && errno != EEXIST) return failure(errno);
        fd = open_directory_nofollow(current.get(), name);
      }
      if (fd < 0) {
        const int err = errno;
        struct stat st {};
        if (::fstatat(current.get(), name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode)) return failure(ELOOP);
        return failure(err);
      }
      current.reset(fd);
      pos = slash + 1;
    }
    failed = 0;
    return current;
  }

 private:
  output_tree() noexcept = default;

  [[nodiscard]] static error failure(int err) noexcept { return detail::io_failure(errc::io_error, err); }

  [[nodiscard]] static int open_directory(int at, const char* path) noexcept {
    return ::openat(at, path, O_PATH | O_DIRECTORY | O_CLOEXEC);
  }
  // O_PATH | O_NOFOLLOW alone would open a link itself; with O_DIRECTORY a link fails (ENOTDIR).
  [[nodiscard]] static int open_directory_nofollow(int at, const char* name) noexcept {
    return ::openat(at, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  }

  // mkdir -p for the caller's own path (links followed, as any path the caller gives).
  [[nodiscard]] static result<void> make_parents(const char* path) noexcept {
    const std::size_t length = std::strlen(path);
    if (length == 0 || length >= PATH_MAX) return failure(ENAMETOOLONG);
    char partial[PATH_MAX];
    std::memcpy(partial, path, length + 1);
    for (std::size_t i = 1; i <= length; ++i) {
      if (partial[i] != '/' && partial[i] != '\0') continue;
      const char saved = partial[i];
      partial[i] = '\0';
      if (::mkdir(partial, 0777) != 0 && errno != EEXIST) return failure(errno);
      partial[i] = saved;
    }
    return {};
  }

  unique_fd root_;
};

}  // namespace elfsieve
