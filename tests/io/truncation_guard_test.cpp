// truncation_guard: a mapped file truncated under the reader gives zeros and check_intact() == file_truncated,
// never SIGBUS; from many threads at once; a SIGBUS outside every registered mapping still ends the process.
#include <catch2/catch.hpp>

#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "elfsieve/io/mapped_file.hpp"
#include "elfsieve/io/truncation_guard.hpp"

using namespace elfsieve;

namespace {

#if defined(__SANITIZE_ADDRESS__)
constexpr bool under_asan = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
constexpr bool under_asan = true;
#else
constexpr bool under_asan = false;
#endif
#else
constexpr bool under_asan = false;
#endif

std::size_t page_size() { return static_cast<std::size_t>(::sysconf(_SC_PAGESIZE)); }

std::filesystem::path guard_file(const std::string& name, std::size_t size) {
  const auto dir = std::filesystem::path(ELFSIEVE_TEST_WORK_DIR) / "truncation_guard";
  std::filesystem::create_directories(dir);
  const auto path = dir / name;
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  const std::string contents(size, '\x5a');
  out.write(contents.data(), static_cast<std::streamsize>(contents.size()));
  return path;
}

// Every byte, read through the span (volatile: the compiler must really touch each page).
std::uint64_t sum_of(std::span<const std::byte> bytes) {
  std::uint64_t sum = 0;
  const volatile std::byte* p = bytes.data();
  for (std::size_t i = 0; i < bytes.size(); ++i) sum += std::to_integer<std::uint64_t>(p[i]);
  return sum;
}

void truncate_through_fd(const std::filesystem::path& path, off_t size) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  REQUIRE(fd >= 0);
  CHECK(::ftruncate(fd, size) == 0);
  ::close(fd);
}

// How a child process ended: the signal that killed it, or 1000 + its exit status.
int end_of(pid_t child) {
  int status = 0;
  if (::waitpid(child, &status, 0) != child) return -1;
  if (WIFSIGNALED(status)) return WTERMSIG(status);
  return 1000 + WEXITSTATUS(status);
}

}  // namespace

TEST_CASE("truncation_guard: a file truncated after mapping reads zeros and reports file_truncated",
          "[io][truncation_guard]") {
  REQUIRE(install_truncation_guard());
  REQUIRE(install_truncation_guard());  // once per process; later calls change nothing
  CHECK(truncation_guard_installed());
  const std::size_t page = page_size();
  const auto path = guard_file("shrunk.bin", 4 * page);
  auto m = mapped_file::open(path.c_str());
  REQUIRE(m);
  REQUIRE(m->check_intact());
  truncate_through_fd(path, static_cast<off_t>(page + 10));
  // The first page and 10 bytes of the second are the file's; the rest reads zeros (the second page's tail
  // without a fault, pages 3 and 4 through the guard).
  CHECK(sum_of(m->bytes()) == 0x5aull * (page + 10));
  auto intact = m->check_intact();
  REQUIRE_FALSE(intact);
  CHECK(intact.error().code == errc::file_truncated);
  CHECK(to_string(intact.error()) == "file truncated");
}

TEST_CASE("truncation_guard: the fault itself is remembered, even when the file grows back", "[io][truncation_guard]") {
  REQUIRE(install_truncation_guard());
  const std::size_t page = page_size();
  const auto path = guard_file("regrown.bin", 3 * page);
  auto m = mapped_file::open(path.c_str());
  REQUIRE(m);
  truncate_through_fd(path, 0);
  CHECK(sum_of(m->bytes()) == 0);
  truncate_through_fd(path, static_cast<off_t>(3 * page));  // same size again: only the fault tells
  auto intact = m->check_intact();
  REQUIRE_FALSE(intact);
  CHECK(intact.error().code == errc::file_truncated);
  // A new mapping of the same file starts clean.
  auto again = mapped_file::open(path.c_str());
  REQUIRE(again);
  CHECK(sum_of(again->bytes()) == 0);
  CHECK(again->check_intact().has_value());
}

TEST_CASE("truncation_guard: many threads, each with its own truncated file", "[io][truncation_guard]") {
  REQUIRE(install_truncation_guard());
  const std::size_t page = page_size();
  constexpr int threads = 8, rounds = 20;
  std::atomic<int> truncated{0}, wrong{0};
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      for (int r = 0; r < rounds; ++r) {
        const auto path = guard_file("thread" + std::to_string(t) + ".bin", 8 * page);
        auto m = mapped_file::open(path.c_str());
        if (!m) {
          ++wrong;
          continue;
        }
        const std::uint64_t kept = static_cast<std::uint64_t>(r % 8) * page;  // bytes left in the file
        const int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
        if (fd < 0 || ::ftruncate(fd, static_cast<off_t>(kept)) != 0) ++wrong;
        if (fd >= 0) ::close(fd);
        if (sum_of(m->bytes()) != 0x5a * kept) ++wrong;
        auto intact = m->check_intact();
        if (!intact && intact.error().code == errc::file_truncated) ++truncated;
      }
    });
  }
  for (auto& t : pool) t.join();
  CHECK(wrong == 0);
  CHECK(truncated == threads * rounds);
}

TEST_CASE("truncation_guard: with every slot taken, the file is read into memory instead", "[io][truncation_guard]") {
  REQUIRE(install_truncation_guard());
  const std::size_t page = page_size();
  static const char anchor = 0;
  std::vector<guarded_region> taken;
  for (;;) {
    auto region = guarded_region::add(&anchor, 1);
    if (!region.registered()) break;
    taken.push_back(std::move(region));
  }
  CHECK(taken.size() <= detail::guarded_mapping_slots);
  const auto path = guard_file("copied.bin", 2 * page);
  auto m = mapped_file::open(path.c_str());
  REQUIRE(m);
  truncate_through_fd(path, 0);
  CHECK(sum_of(m->bytes()) == 0x5aull * 2 * page);  // a copy: the bytes as they were
  auto intact = m->check_intact();
  REQUIRE_FALSE(intact);
  CHECK(intact.error().code == errc::file_truncated);
  taken.clear();
  auto mapped = mapped_file::open(path.c_str());  // slots free again
  REQUIRE(mapped);
}

TEST_CASE("truncation_guard: a SIGBUS outside every guarded mapping still ends the process", "[io][truncation_guard]") {
  const std::size_t page = page_size();
  const auto path = guard_file("unguarded.bin", 2 * page);
  std::fflush(nullptr);
  // A real fault in a mapping nobody registered (the guard must not swallow bugs).
  const pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    ::alarm(10);
    install_truncation_guard();
    const int fd = ::open(path.c_str(), O_RDWR);
    void* p = ::mmap(nullptr, 2 * page, PROT_READ, MAP_PRIVATE, fd, 0);
    if (fd < 0 || p == MAP_FAILED || ::ftruncate(fd, 0) != 0) ::_exit(3);
    const volatile char* bytes = static_cast<const char*>(p);
    const char c = bytes[page];  // SIGBUS: past the end of the file
    ::_exit(c == 0 ? 4 : 5);     // never reached
  }
  const int end = end_of(child);
  if (under_asan) CHECK((end == SIGBUS || end == 1001));  // ASan's own handler reports the fault and exits 1
  else CHECK(end == SIGBUS);
  // A SIGBUS sent by another process is no fault to absorb either.
  const pid_t killed = ::fork();
  REQUIRE(killed >= 0);
  if (killed == 0) {
    ::alarm(10);
    install_truncation_guard();
    ::raise(SIGBUS);
    ::_exit(6);
  }
  const int killed_end = end_of(killed);
  if (under_asan) CHECK((killed_end == SIGBUS || killed_end == 1001));
  else CHECK(killed_end == SIGBUS);
}
