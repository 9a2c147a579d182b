// output_file: each branch of commit (rename keeping owner and mode, copy into the inode keeping links and
// attributes), the refusals (no write permission, another inode), temporaries never left and never reached
// through a planted link, -o's new-file mode. write_file_atomically: nothing lost. Writes that fail midway (fault
// injection), a missing directory, symlinks, modes; and the same through elfsieve-strip: a failing file leaves
// input and previous output intact.
#include <catch2/catch.hpp>

#include <grp.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <array>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>
#include <string>
#include <vector>

#include "elfsieve/io/output_file.hpp"
#include "support/process.hpp"

using namespace elfsieve;

namespace {

std::filesystem::path out_dir(const std::string& name) {
  auto d = std::filesystem::path(ELFSIEVE_TEST_WORK_DIR) / "output" / name;
  std::filesystem::remove_all(d);
  std::filesystem::create_directories(d);
  return d;
}

std::string read_text(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

std::set<std::string> listing(const std::filesystem::path& dir) {
  std::set<std::string> names;
  for (const auto& e : std::filesystem::directory_iterator(dir)) names.insert(e.path().filename().string());
  return names;
}

std::span<const std::byte> bytes_of(const std::string& s) { return std::as_bytes(std::span(s.data(), s.size())); }

unsigned mode_of(const std::filesystem::path& p) {
  struct stat st {};
  REQUIRE(::stat(p.c_str(), &st) == 0);
  return st.st_mode & 07777;
}

}  // namespace

TEST_CASE("output.new_file_and_in_place", "[output]") {
  const auto dir = out_dir("basic");
  const auto file = dir / "f";
  const std::string payload(100000, 'a');
  REQUIRE(write_file_atomically(file.c_str(), bytes_of(payload)).has_value());
  CHECK(read_text(file) == payload);
  const mode_t mask = ::umask(022);
  ::umask(mask);
  CHECK(mode_of(file) == (0666u & ~static_cast<unsigned>(mask)));
  ::chmod(file.c_str(), 0750);
  REQUIRE(write_file_atomically(file.c_str(), bytes_of("second")).has_value());
  CHECK(read_text(file) == "second");
  CHECK(mode_of(file) == 0750u);
  CHECK(listing(dir) == std::set<std::string>{"f"});
}

TEST_CASE("output.symlink_target_replaced_link_kept", "[output]") {
  const auto dir = out_dir("symlink");
  std::ofstream(dir / "real") << "old";
  std::filesystem::create_symlink("real", dir / "link");
  REQUIRE(write_file_atomically((dir / "link").c_str(), bytes_of("new")).has_value());
  CHECK(std::filesystem::is_symlink(dir / "link"));
  CHECK(read_text(dir / "real") == "new");
  CHECK(listing(dir) == std::set<std::string>{"link", "real"});
}

TEST_CASE("output.failed_write_leaves_everything_as_it_was", "[output]") {
  const auto dir = out_dir("fault");
  const auto file = dir / "target";
  std::ofstream(file) << "previous output";
  const std::string payload(300000, 'z');
  for (std::uint64_t after :
       {std::uint64_t{0}, std::uint64_t{1}, std::uint64_t{payload.size() / 2}, std::uint64_t{payload.size() - 1}}) {
    INFO("fails after " << after << " bytes");
    output_options options;
    options.fail_after_bytes = after;
    auto r = write_file_atomically(file.c_str(), bytes_of(payload), options);
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().code == errc::write_failed);
    CHECK(is_io_error(r.error().code));
    CHECK(r.error().sys_errno == ENOSPC);
    CHECK(to_string(r.error()) == std::string("write failed: ") + std::strerror(ENOSPC));
    CHECK(read_text(file) == "previous output");
    CHECK(listing(dir) == std::set<std::string>{"target"});
  }
  // And a new file that fails is never created.
  output_options options;
  options.fail_after_bytes = 10;
  CHECK_FALSE(write_file_atomically((dir / "fresh").c_str(), bytes_of(payload), options).has_value());
  CHECK(listing(dir) == std::set<std::string>{"target"});
}

TEST_CASE("output.missing_directory_and_non_regular_target", "[output]") {
  const auto dir = out_dir("missing");
  auto r = write_file_atomically((dir / "no" / "such" / "dir").c_str(), bytes_of("x"));
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().sys_errno == ENOENT);
  CHECK(r.error().code == errc::cannot_create_temporary);
  auto d = write_file_atomically(dir.c_str(), bytes_of("x"));
  REQUIRE_FALSE(d.has_value());
  CHECK(d.error().code == errc::output_not_regular_file);
  CHECK(d.error().sys_errno == EINVAL);
  CHECK(write_file_atomically("", bytes_of("x")).error().code == errc::invalid_output_path);
  CHECK(listing(dir).empty());
}

#ifdef ELFSIEVE_STRIP_PATH
TEST_CASE("output.strip_failure_keeps_input_and_previous_output", "[output][strip]") {
  // A read-only target directory makes the tool's write fail after the strip itself succeeded: the input and the
  // previous output must be untouched and no temporary left. Root ignores directory permissions, so there a
  // directory that disappears is used instead (a missing parent).
  const auto dir = out_dir("strip");
  const auto input = dir / "in.o";
  std::ofstream(dir / "in.c") << "static int local_counter; int bump(void) { return ++local_counter; }\n";
  REQUIRE(elfsieve::test::run_process({"gcc", "-c", "-g", "-o", input.string(), (dir / "in.c").string()}).ok());
  const std::string original = read_text(input);
  const auto out = dir / "sub" / "out.o";
  auto r = elfsieve::test::run_process({ELFSIEVE_STRIP_PATH, "-g", "-o", out.string(), input.string()});
  CHECK(r.status == 1);
  CHECK(r.err.find("out.o") != std::string::npos);
  CHECK(read_text(input) == original);
  CHECK(listing(dir) == std::set<std::string>{"in.c", "in.o"});
  if (::geteuid() != 0) {
    std::filesystem::create_directories(dir / "ro");
    std::ofstream(dir / "ro" / "out.o") << "previous";
    ::chmod((dir / "ro").c_str(), 0555);
    auto ro =
        elfsieve::test::run_process({ELFSIEVE_STRIP_PATH, "-g", "-o", (dir / "ro" / "out.o").string(), input.string()});
    ::chmod((dir / "ro").c_str(), 0755);
    CHECK(ro.status == 1);
    CHECK(read_text(dir / "ro" / "out.o") == "previous");
    CHECK(listing(dir / "ro") == std::set<std::string>{"out.o"});
  }
}
#endif

namespace {

struct stat status_of(const std::filesystem::path& p) {
  struct stat st {};
  REQUIRE(::lstat(p.c_str(), &st) == 0);
  return st;
}

void write_text(const std::filesystem::path& p, const std::string& text) {
  std::ofstream(p, std::ios::binary | std::ios::trunc) << text;
}

// Fills `out` (an output_file) with `text` and commits it.
result<void> fill_and_commit(output_file& out, const std::string& text, const commit_options& options = {}) {
  REQUIRE(::pwrite(out.fd(), text.data(), text.size(), 0) == static_cast<ssize_t>(text.size()));
  return out.commit(options);
}

// Runs `step` as the unprivileged user 65534 when we are root (in a child process), else as ourselves; returns
// the errc it produced (0: success).
template <class Step>
int as_unprivileged(Step step) {
  const pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    if (::geteuid() == 0 && (::setgroups(0, nullptr) != 0 || ::setgid(65534) != 0 || ::setuid(65534) != 0))
      ::_exit(255);
    ::_exit(step());
  }
  int status = 0;
  REQUIRE(::waitpid(child, &status, 0) == child);
  REQUIRE(WIFEXITED(status));
  return WEXITSTATUS(status);
}

bool supports_user_xattrs(const std::filesystem::path& file) {
  return ::setxattr(file.c_str(), "user.elfsieve", "1", 1, 0) == 0;
}

}  // namespace

TEST_CASE("output_file.rename_keeps_owner_and_mode", "[output]") {
  const auto dir = out_dir("rename");
  const auto file = dir / "f";
  write_text(file, "original");
  const bool root = ::geteuid() == 0;
  if (root) REQUIRE(::chown(file.c_str(), 1234, 5678) == 0);
  REQUIRE(::chmod(file.c_str(), root ? 06755 : 0750) == 0);
  const auto before = status_of(file);
  auto out = output_file::replace(file.c_str(), before);
  REQUIRE(out.has_value());
  struct stat empty {};
  REQUIRE(::fstat(out->fd(), &empty) == 0);
  CHECK(empty.st_size == 0);  // an empty file to pwrite into
  REQUIRE(fill_and_commit(*out, "stripped").has_value());
  const auto after = status_of(file);
  CHECK(read_text(file) == "stripped");
  CHECK(after.st_ino != before.st_ino);                        // renamed over
  CHECK((after.st_mode & 07777) == (before.st_mode & 07777));  // setuid/setgid survive the chown (root)
  CHECK(after.st_uid == before.st_uid);
  CHECK(after.st_gid == before.st_gid);
  CHECK(listing(dir) == std::set<std::string>{"f"});
}

TEST_CASE("output_file.copy_into_the_inode_keeps_links_and_attributes", "[output]") {
  const auto dir = out_dir("copy_in");
  const auto file = dir / "f";
  write_text(file, "original contents, longer than the result");
  std::filesystem::create_hard_link(file, dir / "g");
  const auto before = status_of(file);
  auto out = output_file::replace(file.c_str(), before);
  REQUIRE(out.has_value());
  REQUIRE(fill_and_commit(*out, "stripped").has_value());
  CHECK(status_of(file).st_ino == before.st_ino);
  CHECK(status_of(file).st_nlink == 2u);
  CHECK(read_text(dir / "g") == "stripped");  // ftruncate: nothing of the longer original is left
  CHECK(listing(dir) == std::set<std::string>{"f", "g"});

  const auto attributed = dir / "x";
  write_text(attributed, "original");
  if (!supports_user_xattrs(attributed)) {
    WARN("no user xattrs on this file system");
    return;
  }
  const auto x_before = status_of(attributed);
  auto x_out = output_file::replace(attributed.c_str(), x_before);
  REQUIRE(x_out.has_value());
  REQUIRE(fill_and_commit(*x_out, "new").has_value());
  CHECK(status_of(attributed).st_ino == x_before.st_ino);
  CHECK(read_text(attributed) == "new");
  char value[8] = {};
  CHECK(::getxattr(attributed.c_str(), "user.elfsieve", value, sizeof value) == 1);
  CHECK(value[0] == '1');
}

TEST_CASE("output_file.refuses_a_file_the_caller_may_not_write", "[output]") {
  const auto dir = out_dir("read_only");
  const auto file = dir / "f";
  write_text(file, "original");
  REQUIRE(::chmod(file.c_str(), 0444) == 0);
  if (::geteuid() == 0) {
    REQUIRE(::chown(dir.c_str(), 65534, 65534) == 0);
    REQUIRE(::chown(file.c_str(), 65534, 65534) == 0);
    // The work directory's parents must let the unprivileged user through.
    for (auto p = dir.parent_path(); p != p.root_path(); p = p.parent_path())
      if ((status_of(p).st_mode & 0001) == 0) {
        WARN("the work directory is not reachable by an unprivileged user");
        return;
      }
  }
  const auto before = status_of(file);
  const int code = as_unprivileged([&] {
    auto out = output_file::replace(file.c_str(), before);
    if (out) return 0;
    return out.error().sys_errno == EACCES ? static_cast<int>(out.error().code) : 254;
  });
  CHECK(code == static_cast<int>(errc::cannot_open_output));
  CHECK(read_text(file) == "original");
  CHECK(status_of(file).st_ino == before.st_ino);
  CHECK(listing(dir) == std::set<std::string>{"f"});
}

TEST_CASE("output_file.refuses_another_inode", "[output]") {
  const auto dir = out_dir("inode");
  write_text(dir / "read", "the input");
  write_text(dir / "other", "someone else's");
  const auto input = status_of(dir / "read");
  auto out = output_file::replace((dir / "other").c_str(), input);
  REQUIRE_FALSE(out.has_value());
  CHECK(out.error().code == errc::output_changed);
  CHECK(read_text(dir / "other") == "someone else's");

  // Swapped after the check, before the commit: the rename is refused as well, and nothing is left behind.
  auto late = output_file::replace((dir / "read").c_str(), input);
  REQUIRE(late.has_value());
  std::filesystem::rename(dir / "other", dir / "read");
  auto r = fill_and_commit(*late, "stripped");
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().code == errc::output_changed);
  CHECK(read_text(dir / "read") == "someone else's");
  CHECK(listing(dir) == std::set<std::string>{"read"});
}

TEST_CASE("output_file.no_temporary_left_without_commit", "[output]") {
  const auto dir = out_dir("discard");
  write_text(dir / "f", "original");
  {
    auto out = output_file::replace((dir / "f").c_str(), status_of(dir / "f"));
    REQUIRE(out.has_value());
    REQUIRE(::pwrite(out->fd(), "half", 4, 0) == 4);
    auto fresh = output_file::create((dir / "new").c_str(), true);
    REQUIRE(fresh.has_value());
    REQUIRE(::pwrite(fresh->fd(), "half", 4, 0) == 4);
  }  // an interrupted run: destroyed without commit
  CHECK(read_text(dir / "f") == "original");
  CHECK(listing(dir) == std::set<std::string>{"f"});
}

TEST_CASE("output_file.planted_links_are_never_followed", "[output]") {
  const auto dir = out_dir("planted");
  write_text(dir / "victim", "precious");
  write_text(dir / "f", "original");
  // The names earlier versions used (OUT.elfsieve-tmp, .NAME.XXXXXX patterns) and a sample of random ones.
  std::vector<std::string> planted = {"f.elfsieve-tmp", ".f.XXXXXX", ".f.elfsieve-tmp", "new.elfsieve-tmp"};
  for (const char* suffix : {"aaaaaa", "000000", "zzzzzz", "AbCdEf"}) planted.push_back(std::string(".f.") + suffix);
  for (const auto& name : planted) std::filesystem::create_symlink("victim", dir / name);
  auto in_place = output_file::replace((dir / "f").c_str(), status_of(dir / "f"));
  REQUIRE(in_place.has_value());
  REQUIRE(fill_and_commit(*in_place, "stripped").has_value());
  auto fresh = output_file::create((dir / "new").c_str(), false);
  REQUIRE(fresh.has_value());
  REQUIRE(fill_and_commit(*fresh, "new").has_value());
  CHECK(read_text(dir / "victim") == "precious");
  CHECK(read_text(dir / "f") == "stripped");
  CHECK(read_text(dir / "new") == "new");
  for (const auto& name : planted) CHECK(std::filesystem::is_symlink(dir / name));
  auto expected = std::set<std::string>(planted.begin(), planted.end());
  expected.insert({"victim", "f", "new"});
  CHECK(listing(dir) == expected);

  // A symlink planted at the in-place name itself (after the input was read) is another inode: refused.
  const auto input = status_of(dir / "f");
  std::filesystem::remove(dir / "f");
  std::filesystem::create_symlink("victim", dir / "f");
  auto swapped = output_file::replace((dir / "f").c_str(), input);
  REQUIRE_FALSE(swapped.has_value());
  CHECK(swapped.error().code == errc::output_changed);
  CHECK(read_text(dir / "victim") == "precious");
}

TEST_CASE("output_file.new_file_mode_is_gnus", "[output]") {
  const auto dir = out_dir("create");
  const mode_t mask = ::umask(027);
  auto exe = output_file::create((dir / "exe").c_str(), true);
  auto obj = output_file::create((dir / "obj").c_str(), false);
  REQUIRE(exe.has_value());
  REQUIRE(obj.has_value());
  REQUIRE(fill_and_commit(*exe, "x").has_value());
  REQUIRE(fill_and_commit(*obj, "o").has_value());
  ::umask(mask);
  CHECK(mode_of(dir / "exe") == 0750u);
  CHECK(mode_of(dir / "obj") == 0640u);
  // An existing -o file: a new inode owned by the caller with GNU's new-file mode (GNU unlinks it and creates).
  write_text(dir / "old", "old");
  REQUIRE(::chmod((dir / "old").c_str(), 06711) == 0);
  const auto old_inode = status_of(dir / "old").st_ino;
  auto over = output_file::create((dir / "old").c_str(), true);
  REQUIRE(over.has_value());
  REQUIRE(fill_and_commit(*over, "new").has_value());
  CHECK(mode_of(dir / "old") == (0777u & ~static_cast<unsigned>(mask)));
  CHECK(status_of(dir / "old").st_ino != old_inode);
  CHECK(status_of(dir / "old").st_uid == ::geteuid());
  // A dangling symbolic link: its target is created (GNU strip -o does the same), the link stays.
  std::filesystem::create_symlink("target", dir / "dangling");
  auto through = output_file::create((dir / "dangling").c_str(), false);
  REQUIRE(through.has_value());
  REQUIRE(fill_and_commit(*through, "via link").has_value());
  CHECK(std::filesystem::is_symlink(dir / "dangling"));
  CHECK(read_text(dir / "target") == "via link");
  // A link to an existing file: replaced by the new file, the file it named untouched (GNU's unlink + create).
  write_text(dir / "named", "untouched");
  std::filesystem::create_symlink("named", dir / "link");
  auto over_link = output_file::create((dir / "link").c_str(), false);
  REQUIRE(over_link.has_value());
  REQUIRE(fill_and_commit(*over_link, "new file").has_value());
  CHECK_FALSE(std::filesystem::is_symlink(dir / "link"));
  CHECK(read_text(dir / "link") == "new file");
  CHECK(read_text(dir / "named") == "untouched");
  // A dangling link whose output is never committed: the target it created is gone again.
  std::filesystem::create_symlink("never", dir / "abandoned");
  {
    auto abandoned = output_file::create((dir / "abandoned").c_str(), false);
    REQUIRE(abandoned.has_value());
    CHECK(std::filesystem::exists(dir / "never"));
  }
  CHECK_FALSE(std::filesystem::exists(dir / "never"));
  CHECK(listing(dir) == std::set<std::string>{"exe", "obj", "old", "dangling", "target", "named", "link", "abandoned"});
}

TEST_CASE("output_file.preserves_dates_in_both_commits", "[output]") {
  const auto dir = out_dir("dates");
  write_text(dir / "single", "one");
  write_text(dir / "linked", "two");
  std::filesystem::create_hard_link(dir / "linked", dir / "link");
  commit_options options;
  options.times = std::array<struct timespec, 2>{timespec{1000000000, 5}, timespec{981173106, 0}};
  for (const char* name : {"single", "linked"}) {
    INFO(name);
    const auto file = dir / name;
    auto out = output_file::replace(file.c_str(), status_of(file));
    REQUIRE(out.has_value());
    REQUIRE(fill_and_commit(*out, "new", options).has_value());
    const auto st = status_of(file);
    CHECK(st.st_atim.tv_sec == 1000000000);
    CHECK(st.st_atim.tv_nsec == 5);
    CHECK(st.st_mtim.tv_sec == 981173106);
  }
}

TEST_CASE("output_file.executable_test_reads_e_type", "[output]") {
  auto header = [](unsigned char data, unsigned type) {
    std::vector<std::byte> h(64);
    const unsigned char ident[] = {0x7f, 'E', 'L', 'F', 2, data};
    for (std::size_t i = 0; i < sizeof ident; ++i) h[i] = std::byte{ident[i]};
    h[data == 2 ? 17 : 16] = std::byte{static_cast<unsigned char>(type)};
    return h;
  };
  CHECK(is_executable_elf(header(1, 2)));
  CHECK(is_executable_elf(header(2, 3)));
  CHECK_FALSE(is_executable_elf(header(1, 1)));
  CHECK_FALSE(is_executable_elf(header(2, 4)));
  CHECK_FALSE(is_executable_elf(std::vector<std::byte>(10)));
}
