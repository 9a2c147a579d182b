// write_file_atomically: nothing lost. Writes that fail midway (fault injection), a missing directory, symlinks,
// modes; and the same through elfsieve-strip: a failing file leaves input and previous output intact.
#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <unistd.h>

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
