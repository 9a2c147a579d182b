// output_tree: the output name of an input path (mirror_name: relative paths as given, prefixes removed by whole
// components, absolute paths and ".." refused without a prefix), directories created beneath the tree without ever
// following a symbolic link (a planted link is ELOOP and nothing appears where it points), and
// output_file::create_at replacing whatever is at the name (a link, a file with another link) by a new file without
// writing through it.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <string>

#include "elfsieve/io/output_tree.hpp"

using namespace elfsieve;

namespace {

std::filesystem::path tree_dir(const std::string& name) {
  auto d = std::filesystem::path(ELFSIEVE_TEST_WORK_DIR) / "output_tree" / name;
  std::filesystem::remove_all(d);
  std::filesystem::create_directories(d);
  return d;
}

std::string text_of(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void write_text(const std::filesystem::path& p, const std::string& text) { std::ofstream(p, std::ios::binary) << text; }

result<void> write_and_commit(output_file& out, const std::string& text) {
  if (::pwrite(out.fd(), text.data(), text.size(), 0) != static_cast<ssize_t>(text.size()))
    return make_error(errc::write_failed);
  return out.commit();
}

}  // namespace

TEST_CASE("output_tree.mirror_name_without_a_prefix", "[output_tree]") {
  CHECK(mirror_name("a/b/c.ko", "", "/w").name == "a/b/c.ko");
  CHECK(mirror_name("./a//b/./c.ko", "", "/w").name == "a/b/c.ko");
  CHECK(mirror_name("c.ko", "", "/w").name == "c.ko");
  CHECK(mirror_name("/lib/modules/x.ko", "", "/w").refusal == mirror_refusal::absolute_path);
  CHECK(mirror_name("../x.ko", "", "/w").refusal == mirror_refusal::parent_component);
  CHECK(mirror_name("a/../x.ko", "", "/w").refusal == mirror_refusal::parent_component);
  CHECK(mirror_name("a/..", "", "/w").refusal == mirror_refusal::parent_component);
  CHECK(mirror_name(".", "", "/w").refusal == mirror_refusal::no_file_name);
  CHECK(mirror_name("", "", "/w").refusal == mirror_refusal::no_file_name);
  CHECK(!mirror_name("../x.ko", "", "/w"));
  CHECK(mirror_name("../x.ko", "", "/w").name.empty());
}

TEST_CASE("output_tree.mirror_name_removes_a_prefix_by_components", "[output_tree]") {
  const char* modules = "/lib/modules/6.1.0-56-amd64";
  CHECK(mirror_name("/lib/modules/6.1.0-56-amd64/kernel/fs/fat/vfat.ko", modules, "/w").name ==
        "kernel/fs/fat/vfat.ko");
  CHECK(mirror_name("/lib/modules/6.1.0-56-amd64/kernel/fs/fat/vfat.ko", "/lib/modules/6.1.0-56-amd64/", "/w").name ==
        "kernel/fs/fat/vfat.ko");
  // Relative paths are made absolute against the working directory, on either side.
  CHECK(mirror_name("kernel/fs/fat/vfat.ko", modules, modules).name == "kernel/fs/fat/vfat.ko");
  CHECK(mirror_name("/w/build/a.ko", "build", "/w").name == "a.ko");
  CHECK(mirror_name("build/sub/a.ko", "/w/build", "/w").name == "sub/a.ko");
  CHECK(mirror_name("./build/./sub//a.ko", "build/", "/w").name == "sub/a.ko");
  // ".." is resolved as a name, before the prefix is compared; what is left is never above the prefix.
  CHECK(mirror_name("build/x/../a.ko", "build", "/w").name == "a.ko");
  CHECK(mirror_name("../w/build/a.ko", "build", "/w").name == "a.ko");
  CHECK(mirror_name("build/../a.ko", "build", "/w").refusal == mirror_refusal::outside_prefix);
  // Whole components only: /lib/modules/6.1.0-56-amd64-rt is not beneath /lib/modules/6.1.0-56-amd64.
  CHECK(mirror_name("/lib/modules/6.1.0-56-amd64-rt/a.ko", modules, "/w").refusal == mirror_refusal::outside_prefix);
  CHECK(mirror_name(modules, modules, "/w").refusal == mirror_refusal::no_file_name);
  CHECK(mirror_name("/x/a.ko", "/", "/w").name == "x/a.ko");
  CHECK(mirror_name("/../../x/a.ko", "/", "/w").name == "x/a.ko");
}

TEST_CASE("output_tree.directories_are_created_beneath_the_tree", "[output_tree]") {
  const auto dir = tree_dir("create");
  auto tree = output_tree::open((dir / "out/deeper").c_str());  // created as mkdir -p does
  REQUIRE(tree);
  std::size_t failed = 99;
  auto sub = tree->directory("kernel/fs/fat", failed);
  REQUIRE(sub);
  CHECK(failed == 0);
  CHECK(std::filesystem::is_directory(dir / "out/deeper/kernel/fs/fat"));
  auto out = output_file::create_at(sub->get(), "vfat.ko", false);
  REQUIRE(out);
  REQUIRE(write_and_commit(*out, "stripped"));
  CHECK(text_of(dir / "out/deeper/kernel/fs/fat/vfat.ko") == "stripped");
  // Existing directories are used as they are; the tree's own directory is "".
  auto again = tree->directory("kernel/fs", failed);
  REQUIRE(again);
  auto root = tree->directory("", failed);
  REQUIRE(root);
  struct stat a {
  }, b{};
  REQUIRE(::fstat(root->get(), &a) == 0);
  REQUIRE(::stat((dir / "out/deeper").c_str(), &b) == 0);
  CHECK(a.st_ino == b.st_ino);
  // A file where a directory is needed.
  write_text(dir / "out/deeper/kernel/plain", "x");
  auto blocked = tree->directory("kernel/plain/sub", failed);
  REQUIRE(!blocked);
  CHECK(blocked.error().sys_errno == ENOTDIR);
  CHECK(std::string("kernel/plain/sub").substr(0, failed) == "kernel/plain");
  // Names that could leave the tree are refused even if a caller passes them.
  CHECK(!tree->directory("kernel/../..", failed));
  CHECK(!tree->directory("/etc", failed));
}

TEST_CASE("output_tree.a_planted_link_is_never_followed", "[output_tree]") {
  const auto dir = tree_dir("links");
  std::filesystem::create_directories(dir / "outside");
  std::filesystem::create_directories(dir / "out/kernel");
  std::filesystem::create_directory_symlink(dir / "outside", dir / "out/kernel/fs");
  auto tree = output_tree::open((dir / "out").c_str());
  REQUIRE(tree);
  std::size_t failed = 0;
  auto sub = tree->directory("kernel/fs/fat", failed);
  REQUIRE(!sub);
  CHECK(sub.error().sys_errno == ELOOP);
  CHECK(std::string("kernel/fs/fat").substr(0, failed) == "kernel/fs");
  CHECK(std::filesystem::is_empty(dir / "outside"));
  // A dangling link too: nothing is created where it points.
  std::filesystem::create_directory_symlink(dir / "nowhere", dir / "out/kernel/net");
  auto dangling = tree->directory("kernel/net/x", failed);
  REQUIRE(!dangling);
  CHECK(dangling.error().sys_errno == ELOOP);
  CHECK(!std::filesystem::exists(dir / "nowhere"));
}

TEST_CASE("output_tree.create_at_replaces_what_is_at_the_name", "[output_tree][output_file]") {
  const auto dir = tree_dir("create_at");
  std::filesystem::create_directories(dir / "out");
  write_text(dir / "victim", "precious");
  write_text(dir / "linked", "other name");
  std::filesystem::create_symlink(dir / "victim", dir / "out/a.ko");     // a link to an existing file
  std::filesystem::create_symlink(dir / "not-there", dir / "out/b.ko");  // a dangling link
  std::filesystem::create_hard_link(dir / "linked", dir / "out/c.ko");   // a hard link to another file
  const int d = ::open((dir / "out").c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  REQUIRE(d >= 0);
  for (const char* name : {"a.ko", "b.ko", "c.ko", "d.ko"}) {
    INFO(name);
    auto out = output_file::create_at(d, name, false);
    REQUIRE(out);
    REQUIRE(write_and_commit(*out, std::string("new ") + name));
    CHECK(!std::filesystem::is_symlink(dir / "out" / name));
    CHECK(text_of(dir / "out" / name) == std::string("new ") + name);
  }
  CHECK(text_of(dir / "victim") == "precious");
  CHECK(!std::filesystem::exists(dir / "not-there"));
  CHECK(text_of(dir / "linked") == "other name");
  struct stat st {};
  REQUIRE(::stat((dir / "out/d.ko").c_str(), &st) == 0);
  const mode_t mask = process_umask();
  CHECK((st.st_mode & 07777) == (0666 & ~mask));
  auto exec = output_file::create_at(d, "e", true);
  REQUIRE(exec);
  REQUIRE(write_and_commit(*exec, "x"));
  REQUIRE(::stat((dir / "out/e").c_str(), &st) == 0);
  CHECK((st.st_mode & 07777) == (0777 & ~mask));
  // A directory at the name: the commit fails, the directory stays, no temporary is left.
  std::filesystem::create_directories(dir / "out/f.ko");
  auto blocked = output_file::create_at(d, "f.ko", false);
  REQUIRE(blocked);
  CHECK(!write_and_commit(*blocked, "x"));
  CHECK(std::filesystem::is_directory(dir / "out/f.ko"));
  std::size_t entries = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(dir / "out")) ++entries;
  CHECK(entries == 6);
  // Names with a slash, "." and ".." are not names.
  for (const char* bad : {"", ".", "..", "a/b", "../x"}) CHECK(!output_file::create_at(d, bad, false));
  ::close(d);
}
