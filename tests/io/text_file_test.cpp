// read_text_file: whole files and pipes, the system's reason for a missing file or a directory, the size limit on
// files and on endless inputs; names_file_loader remembers which names: file failed.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <string>

#include "elfsieve/analysis/policy_expr.hpp"
#include "elfsieve/io/text_file.hpp"

using namespace elfsieve;

namespace {

std::filesystem::path text_dir() {
  auto d = std::filesystem::path(ELFSIEVE_TEST_WORK_DIR) / "text_file";
  std::filesystem::create_directories(d);
  return d;
}

int errno_of(const result<std::string>& r) {
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().code == errc::io_error);
  return r.error().sys_errno;
}

}  // namespace

TEST_CASE("text_file: whole contents, NUL bytes included", "[io][text_file]") {
  const auto path = text_dir() / "names";
  const std::string contents = std::string("foo\n# comment\n\0bar\n", 19) + std::string(200000, 'x');
  std::ofstream(path, std::ios::binary) << contents;
  auto text = read_text_file(path.c_str());
  REQUIRE(text);
  CHECK(text.value() == contents);
  const auto empty = text_dir() / "empty";
  std::ofstream(empty).flush();
  auto none = read_text_file(empty.c_str());
  REQUIRE(none);
  CHECK(none->empty());
}

TEST_CASE("text_file: missing file, directory, size limit", "[io][text_file]") {
  CHECK(errno_of(read_text_file("/nonexistent/names")) == ENOENT);
  CHECK(errno_of(read_text_file(text_dir().c_str())) == EISDIR);
  const auto path = text_dir() / "hundred";
  std::ofstream(path, std::ios::binary) << std::string(100, 'n');
  CHECK(errno_of(read_text_file(path.c_str(), 99)) == EFBIG);
  CHECK(read_text_file(path.c_str(), 100).has_value());
  // An endless input stops at the limit instead of filling memory.
  CHECK(errno_of(read_text_file("/dev/zero", std::size_t{1} << 20)) == EFBIG);
}

TEST_CASE("text_file: pipes are read to the end, within the limit", "[io][text_file]") {
  for (const std::size_t limit : {std::size_t{1000}, std::size_t{999}}) {
    int fds[2];
    REQUIRE(::pipe(fds) == 0);
    const std::string data(1000, 'p');
    REQUIRE(::write(fds[1], data.data(), data.size()) == static_cast<ssize_t>(data.size()));
    ::close(fds[1]);
    const std::string path = "/proc/self/fd/" + std::to_string(fds[0]);
    auto text = read_text_file(path.c_str(), limit);
    ::close(fds[0]);
    if (limit == 1000) {
      REQUIRE(text);
      CHECK(text.value() == data);
    } else {
      CHECK(errno_of(text) == EFBIG);
    }
  }
}

TEST_CASE("text_file: names_file_loader for policy expressions", "[io][text_file][policy]") {
  const auto list = text_dir() / "exports";
  std::ofstream(list) << "foo\n# comment\nbar\n";
  names_file_loader loader;
  auto good = policy_expr::parse("crc|names:" + list.string(), loader);
  CHECK(good.has_value());
  CHECK(loader.failed_path.empty());
  auto bad = policy_expr::parse("crc|names:" + list.string() + "|names:/nonexistent/list", loader);
  REQUIRE_FALSE(bad.has_value());
  CHECK(bad.error().code == errc::io_error);
  CHECK(bad.error().sys_errno == ENOENT);
  CHECK(loader.failed_path == "/nonexistent/list");
  names_file_loader small{4, {}};
  auto too_big = policy_expr::parse("names:" + list.string(), small);
  REQUIRE_FALSE(too_big.has_value());
  CHECK(too_big.error().sys_errno == EFBIG);
  CHECK(small.failed_path == list.string());
}
