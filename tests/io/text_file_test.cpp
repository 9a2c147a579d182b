// read_text_file: whole regular files (FIFOs and devices refused at once), the system's reason for a missing file or
// a directory, the size limit on files; read_text_fd: pipes and endless inputs within the limit; names_file_loader
// remembers which names: file failed.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
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
  const int zero = ::open("/dev/zero", O_RDONLY | O_CLOEXEC);
  REQUIRE(zero >= 0);
  CHECK(errno_of(read_text_fd(zero, std::size_t{1} << 20)) == EFBIG);
  ::close(zero);
}

TEST_CASE("text_file: by name, only regular files; a FIFO without writer is refused at once", "[io][text_file]") {
  for (const char* device : {"/dev/zero", "/dev/null"}) {
    auto text = read_text_file(device);
    REQUIRE_FALSE(text);
    CHECK(text.error().code == errc::not_regular_file);
  }
  const auto fifo = text_dir() / "fifo";
  std::filesystem::remove(fifo);
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  const pid_t child = ::fork();  // a blocking open would hang: the child is killed after 10 s instead
  REQUIRE(child >= 0);
  if (child == 0) {
    ::alarm(10);
    auto text = read_text_file(fifo.c_str());
    ::_exit(!text && text.error().code == errc::not_regular_file ? 0 : 3);
  }
  int status = 0;
  REQUIRE(::waitpid(child, &status, 0) == child);
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  std::filesystem::remove(fifo);
  // A names: file that is no ordinary file says so in the policy's message.
  names_file_loader loader;
  auto parsed = policy_expr::parse("names:/dev/zero", loader);
  REQUIRE_FALSE(parsed);
  CHECK(parsed.error().code == errc::not_regular_file);
  CHECK(format_policy_error(parsed.error(), "names:/dev/zero", loader.failed_path)
            .starts_with("cannot read names file '/dev/zero': is not an ordinary file at position 0"));
}

TEST_CASE("text_file: pipes (standard input) are read to the end, within the limit", "[io][text_file]") {
  for (const std::size_t limit : {std::size_t{1000}, std::size_t{999}}) {
    int fds[2];
    REQUIRE(::pipe(fds) == 0);
    const std::string data(1000, 'p');
    REQUIRE(::write(fds[1], data.data(), data.size()) == static_cast<ssize_t>(data.size()));
    ::close(fds[1]);
    auto text = read_text_fd(fds[0], limit);
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
