// mapped_file: mmap for regular files; FIFOs and devices refused at once (not_regular_file), errno-carrying
// errors for the rest; status() and check_intact() (a file truncated while mapped: tests/io/truncation_guard_test).
#include <catch2/catch.hpp>

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
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

TEST_CASE("mapped_file.fifo_without_writer_is_refused_at_once", "[mapped_file]") {
  const auto path = work_dir() / "pipe";
  std::filesystem::remove(path);
  REQUIRE(::mkfifo(path.c_str(), 0600) == 0);
  // No writer: a blocking open would wait forever (the test would hang instead of failing, so it runs in a
  // child that is killed after 10 seconds).
  const pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    ::alarm(10);
    auto m = mapped_file::open(path.c_str());
    ::_exit(!m && m.error().code == errc::not_regular_file ? 0 : 3);
  }
  int status = 0;
  REQUIRE(::waitpid(child, &status, 0) == child);
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  // With a writer holding it open, it is refused all the same: a FIFO is no ordinary file.
  std::thread writer([&] {
    std::ofstream out(path, std::ios::binary);
    out << "data";
  });
  int reader = ::open(path.c_str(), O_RDONLY);  // lets the writer's open complete
  auto m = mapped_file::open(path.c_str());
  writer.join();
  ::close(reader);
  REQUIRE_FALSE(m);
  CHECK(m.error().code == errc::not_regular_file);
  CHECK(to_string(m.error()) == "is not an ordinary file");
  std::filesystem::remove(path);
}

TEST_CASE("mapped_file.character_devices_are_refused", "[mapped_file]") {
  for (const char* device : {"/dev/zero", "/dev/null"}) {
    CAPTURE(device);
    auto m = mapped_file::open(device);
    REQUIRE_FALSE(m);
    CHECK(m.error().code == errc::not_regular_file);
  }
}

TEST_CASE("mapped_file.status_is_the_opened_file", "[mapped_file]") {
  const auto path = write_file("status.bin", pattern(5000));
  struct stat st {};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  auto m = mapped_file::open(path.c_str());
  REQUIRE(m);
  CHECK(m->status().st_ino == st.st_ino);
  CHECK(m->status().st_dev == st.st_dev);
  CHECK(m->status().st_size == 5000);
  CHECK(m->check_intact().has_value());
  // Growing is no truncation; the bytes read are still the file's.
  {
    std::ofstream out(path, std::ios::binary | std::ios::app);
    out << "more";
  }
  CHECK(m->check_intact().has_value());
  // Moving keeps the descriptor: the moved-to object still checks the file.
  mapped_file moved = std::move(m.value());
  REQUIRE(::truncate(path.c_str(), 100) == 0);
  auto intact = moved.check_intact();
  REQUIRE_FALSE(intact);
  CHECK(intact.error().code == errc::file_truncated);
  CHECK(m->check_intact().has_value());  // the moved-from object holds nothing
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
