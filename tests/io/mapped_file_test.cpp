// mapped_file: mmap for regular files, plain read for pipes, errno-carrying errors for the rest.
#include <catch2/catch.hpp>

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include <sys/stat.h>
#include <unistd.h>

#include "elfsieve/io/mapped_file.hpp"

using namespace elfsieve;

namespace {

std::filesystem::path work_dir() {
  const std::filesystem::path dir = std::filesystem::path(ELFSIEVE_TEST_WORK_DIR) / "mapped_file";
  std::filesystem::create_directories(dir);
  return dir;
}

std::filesystem::path write_file(const std::string& name, const std::vector<char>& contents) {
  const auto path = work_dir() / name;
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(contents.data(), static_cast<std::streamsize>(contents.size()));
  return path;
}

std::vector<char> pattern(std::size_t n) {
  std::vector<char> v(n);
  for (std::size_t i = 0; i < n; ++i) v[i] = static_cast<char>((i * 131 + 7) & 0xff);
  return v;
}

bool same(std::span<const std::byte> a, const std::vector<char>& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (std::to_integer<char>(a[i]) != b[i]) return false;
  return true;
}

}  // namespace

TEST_CASE("mapped_file.regular_file", "[mapped_file]") {
  const auto contents = pattern(10000);
  const auto path = write_file("regular.bin", contents);
  auto m = mapped_file::open(path.c_str());
  REQUIRE(m);
  CHECK(m->size() == contents.size());
  CHECK(same(m->bytes(), contents));

  // Moving keeps the bytes where they are and empties the source.
  const std::byte* before = m->bytes().data();
  mapped_file moved = std::move(m.value());
  CHECK(moved.bytes().data() == before);
  CHECK(m->size() == 0u);
  mapped_file assigned;
  assigned = std::move(moved);
  CHECK(assigned.bytes().data() == before);
  CHECK(same(assigned.bytes(), contents));
}

TEST_CASE("mapped_file.empty_file", "[mapped_file]") {
  const auto path = write_file("empty.bin", {});
  auto m = mapped_file::open(path.c_str());
  REQUIRE(m);
  CHECK(m->size() == 0u);
  CHECK(m->bytes().empty());
}

TEST_CASE("mapped_file.fifo_uses_plain_read", "[mapped_file]") {
  const auto path = work_dir() / "pipe";
  std::filesystem::remove(path);
  REQUIRE(::mkfifo(path.c_str(), 0600) == 0);
  // More than the first read buffer (64 KiB), so the buffer has to grow.
  const auto contents = pattern(200000);
  std::thread writer([&] {
    std::ofstream out(path, std::ios::binary);
    out.write(contents.data(), static_cast<std::streamsize>(contents.size()));
  });
  auto m = mapped_file::open(path.c_str());
  writer.join();
  REQUIRE(m);
  CHECK(m->size() == contents.size());
  CHECK(same(m->bytes(), contents));
  std::filesystem::remove(path);
}

TEST_CASE("mapped_file.character_device", "[mapped_file]") {
  auto m = mapped_file::open("/dev/null");
  REQUIRE(m);
  CHECK(m->bytes().empty());
}

TEST_CASE("mapped_file.missing_file", "[mapped_file]") {
  const auto path = work_dir() / "does-not-exist";
  auto m = mapped_file::open(path.c_str());
  REQUIRE_FALSE(m);
  CHECK(m.error().code == errc::io_error);
  CHECK(m.error().sys_errno == ENOENT);
}

TEST_CASE("mapped_file.directory", "[mapped_file]") {
  auto m = mapped_file::open(work_dir().c_str());
  REQUIRE_FALSE(m);
  CHECK(m.error().code == errc::io_error);
  CHECK(m.error().sys_errno == EISDIR);
}

TEST_CASE("mapped_file.unreadable_file", "[mapped_file]") {
  if (::geteuid() == 0) return;  // root reads anything; nothing to check
  const auto path = write_file("unreadable.bin", pattern(10));
  std::filesystem::permissions(path, std::filesystem::perms::none);
  auto m = mapped_file::open(path.c_str());
  REQUIRE_FALSE(m);
  CHECK(m.error().sys_errno == EACCES);
}
