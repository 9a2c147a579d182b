// fd_sink: the writer's output streamed into a file is the output built in memory, for every corpus object and the
// edits of GNU strip's main modes; resize drops what the file held; failures are write_failed with the system's
// reason (a pipe cannot be pwritten, a read-only descriptor cannot be truncated, a short write at the file-size
// limit is retried and then fails with EFBIG).
// gathered_fd_sink: the same bytes as the in-memory output for the same corpus objects and modes, in one pwritev;
// random overlapping writes give what vector_sink gives (the later write wins), the writer's own buffers are copied
// (reusing one between writes changes nothing), gaps read as zeros and a trailing gap still gives the size.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "elfsieve/elfsieve.hpp"
#include "elfsieve/io/fd_sink.hpp"
#include "elfsieve/rewrite/sink.hpp"
#include "elfsieve/strip/gnu_options.hpp"
#include "support/corpus.hpp"
#include "support/files.hpp"

using namespace elfsieve;
using namespace elfsieve::test;

namespace {

// An anonymous file, closed at the end of the scope.
struct memory_file {
  int fd = ::memfd_create("elfsieve-fd-sink-test", MFD_CLOEXEC);
  memory_file() { REQUIRE(fd >= 0); }
  memory_file(const memory_file&) = delete;
  memory_file& operator=(const memory_file&) = delete;
  ~memory_file() { ::close(fd); }

  [[nodiscard]] std::vector<std::byte> contents() const {
    const off_t size = ::lseek(fd, 0, SEEK_END);
    REQUIRE(size >= 0);
    std::vector<std::byte> out(static_cast<std::size_t>(size));
    std::size_t done = 0;
    while (done < out.size()) {
      const ssize_t n = ::pread(fd, out.data() + done, out.size() - done, static_cast<off_t>(done));
      REQUIRE(n > 0);
      done += static_cast<std::size_t>(n);
    }
    return out;
  }
};

std::vector<std::byte> bytes_of(std::initializer_list<int> values) {
  std::vector<std::byte> out;
  for (int v : values) out.push_back(static_cast<std::byte>(v));
  return out;
}

template <class Sink>
result<void> write_identity(std::span<const std::byte> input, Sink& sink) {
  return visit(input, [&](const auto& f) -> result<void> {
    using L = typename std::remove_cvref_t<decltype(f)>::layout_type;
    ELFSIEVE_TRY(auto edits, object_edits<L>::keep_everything(f));
    return write_object(edits, sink);
  });
}

auto no_report = [](const symbol_report&) {};

}  // namespace

// The writer's bytes were checked equal to the pre-sink writer's (the in-memory emitter of b71fb23) over the corpus
// when the sink was introduced; the oracle and writer tests keep judging them against GNU tools. Here: the three
// ways to the bytes (the vector wrapper, an explicit vector_sink, an fd_sink read back) agree, and so do errors.
TEST_CASE("fd_sink.corpus_outputs_stream_to_the_same_bytes", "[fd_sink][writer][corpus]") {
  gnu_strip_options debug, unneeded, all;
  debug.plan.strip_debug = true;
  unneeded.strip_unneeded = true;
  all.strip_all = true;
  const std::vector<std::pair<const char*, gnu_strip>> modes = {
      {"-g", gnu_strip(debug)}, {"--strip-unneeded", gnu_strip(unneeded)}, {"-s", gnu_strip(all)}};
  std::size_t compared = 0;
  for (const auto& object : corpus_objects()) {
    INFO(object.name);
    const auto input = read_bytes(object.path);
    {
      INFO("identity edits");
      std::vector<std::byte> wrapped, via_sink;
      const auto a = visit(input, [&](const auto& f) -> result<void> {
        using L = typename std::remove_cvref_t<decltype(f)>::layout_type;
        ELFSIEVE_TRY(auto edits, object_edits<L>::keep_everything(f));
        return write_object(edits, wrapped);
      });
      vector_sink vs(via_sink);
      const auto b = write_identity(input, vs);
      memory_file file;
      fd_sink fs(file.fd);
      const auto c = write_identity(input, fs);
      REQUIRE(a.has_value() == b.has_value());
      REQUIRE(a.has_value() == c.has_value());
      if (a) {
        CHECK(wrapped == via_sink);
        CHECK(file.contents() == wrapped);
        ++compared;
      } else {
        CHECK(a.error().code == b.error().code);
        CHECK(a.error().code == c.error().code);
      }
    }
    for (const auto& [name, strip] : modes) {
      INFO("strip " << name);
      std::vector<std::byte> wrapped, via_sink;
      const auto a = strip.run(input, no_report, wrapped);
      vector_sink vs(via_sink);
      const auto b = strip.run(input, no_report, vs);
      memory_file file;
      fd_sink fs(file.fd);
      const auto c = strip.run(input, no_report, fs);
      memory_file gathered_file;
      gathered_fd_sink gs(gathered_file.fd, input);
      auto d = strip.run(input, no_report, gs);
      REQUIRE(a.has_value() == b.has_value());
      REQUIRE(a.has_value() == c.has_value());
      REQUIRE(a.has_value() == d.has_value());
      if (!a) {
        CHECK(a.error().code == b.error().code);
        CHECK(a.error().code == c.error().code);
        CHECK(a.error().code == d.error().code);
        continue;
      }
      CHECK(wrapped == via_sink);
      const auto streamed = file.contents();
      CHECK(streamed == wrapped);
      REQUIRE(gs.finish());
      CHECK(gathered_file.contents() == wrapped);
      CHECK(a->output_size == wrapped.size());
      CHECK(c->output_size == streamed.size());
      ++compared;
    }
  }
  CHECK(compared >= corpus_objects().size() * 3);
}

TEST_CASE("fd_sink.resize_drops_what_the_file_held", "[fd_sink]") {
  memory_file file;
  fd_sink sink(file.fd);
  REQUIRE(sink.resize(8));
  REQUIRE(sink.write(0, bytes_of({1, 2, 3, 4, 5, 6, 7, 8})));
  REQUIRE(sink.resize(4));  // smaller: zeros, not a prefix of the old contents
  CHECK(file.contents() == bytes_of({0, 0, 0, 0}));
  REQUIRE(sink.write(0, bytes_of({1, 2, 3, 4, 5, 6, 7, 8})));
  REQUIRE(sink.resize(10));  // larger: zeros throughout
  REQUIRE(sink.write(6, bytes_of({9})));
  CHECK(file.contents() == bytes_of({0, 0, 0, 0, 0, 0, 9, 0, 0, 0}));
}

TEST_CASE("fd_sink.failures_are_write_failed_with_the_reason", "[fd_sink]") {
  SECTION("a pipe cannot be written at an offset") {
    int p[2];
    REQUIRE(::pipe2(p, O_CLOEXEC) == 0);
    fd_sink sink(p[1]);
    const auto w = sink.write(0, bytes_of({1}));
    REQUIRE(!w);
    CHECK(w.error().code == errc::write_failed);
    CHECK(w.error().sys_errno == ESPIPE);
    const auto r = sink.resize(1);
    REQUIRE(!r);
    CHECK(r.error().code == errc::write_failed);
    CHECK(r.error().sys_errno == EINVAL);
    ::close(p[0]);
    ::close(p[1]);
  }
  SECTION("a read-only descriptor cannot be truncated") {
    const int fd = ::open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
    REQUIRE(fd >= 0);
    fd_sink sink(fd);
    const auto r = sink.resize(0);
    REQUIRE(!r);
    CHECK(r.error().code == errc::write_failed);
    CHECK((r.error().sys_errno == EINVAL || r.error().sys_errno == EBADF));
    const auto w = sink.write(0, bytes_of({1}));
    REQUIRE(!w);
    CHECK(w.error().sys_errno == EBADF);
    ::close(fd);
  }
  SECTION("a write across the file-size limit: the short part lands, the rest fails with EFBIG") {
    // In a child: RLIMIT_FSIZE and SIGXFSZ are process-wide. Exit status 0: as expected; else the failed step.
    const pid_t child = ::fork();
    REQUIRE(child >= 0);
    if (child == 0) {
      ::signal(SIGXFSZ, SIG_IGN);
      const rlimit limit{100, 100};
      if (::setrlimit(RLIMIT_FSIZE, &limit) != 0) ::_exit(10);
      const int fd = ::memfd_create("elfsieve-fd-sink-limit", MFD_CLOEXEC);
      if (fd < 0) ::_exit(11);
      fd_sink sink(fd);
      std::vector<std::byte> block(64, std::byte{7});
      if (!sink.resize(0)) ::_exit(12);
      if (!sink.write(0, block)) ::_exit(13);
      const auto w = sink.write(64, block);  // bytes 64..99 fit, 100..127 do not
      if (w) ::_exit(14);
      if (w.error().code != errc::write_failed || w.error().sys_errno != EFBIG) ::_exit(15);
      if (::lseek(fd, 0, SEEK_END) != 100) ::_exit(16);  // the short write's part was kept, then retried
      ::_exit(0);
    }
    int status = 0;
    REQUIRE(::waitpid(child, &status, 0) == child);
    REQUIRE(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
  }
}

// The writer builds its tables in the sink's memory (sink.hpp's lending_sink), also through strip's size recorder.
static_assert(lending_sink<gathered_fd_sink>);
static_assert(lending_sink<size_recording_sink<gathered_fd_sink>>);
static_assert(!lending_sink<size_recording_sink<fd_sink>>);

TEST_CASE("gathered_fd_sink.random_overlapping_writes_end_as_in_memory", "[fd_sink]") {
  std::mt19937 random(20261129);
  std::vector<std::byte> stable(3000);
  for (auto& b : stable) b = static_cast<std::byte>(random());
  for (int round = 0; round < 300; ++round) {
    INFO("round " << round);
    const std::uint64_t total = random() % 2500 + 1;
    std::vector<std::byte> expected;
    vector_sink vs(expected);
    memory_file file;
    gathered_fd_sink gs(file.fd, stable);
    REQUIRE(vs.resize(total));
    REQUIRE(gs.resize(total));
    std::vector<std::byte> scratch;  // reused between writes, as the writer reuses its buffer
    const int writes = static_cast<int>(random() % 40);
    for (int w = 0; w < writes; ++w) {
      const std::uint64_t offset = random() % total;
      const std::size_t size = random() % static_cast<std::size_t>(total - offset + 1);
      std::span<const std::byte> bytes;
      if (random() % 4 == 0) {  // a lent region, filled before the next call
        auto region = gs.region(offset, size);
        REQUIRE(region);
        REQUIRE(region->size() == size);
        for (auto b : *region) REQUIRE(b == std::byte{0});
        scratch.assign(size, std::byte{0});
        for (auto& b : scratch) b = static_cast<std::byte>(random());
        if (size != 0) std::memcpy(region->data(), scratch.data(), size);
        REQUIRE(vs.write(offset, scratch));
        continue;
      }
      if (random() % 2 == 0) {
        bytes = std::span<const std::byte>(stable).subspan(random() % (stable.size() - size + 1), size);
      } else {
        scratch.assign(size, std::byte{0});
        for (auto& b : scratch) b = static_cast<std::byte>(random());
        bytes = scratch;
      }
      REQUIRE(vs.write(offset, bytes));
      REQUIRE(gs.write(offset, bytes));
      if (!scratch.empty()) scratch.assign(scratch.size(), std::byte{0x5a});  // the sink must have copied it
    }
    REQUIRE(gs.finish());
    CHECK(file.contents() == expected);
  }
}

TEST_CASE("gathered_fd_sink.gaps_and_errors", "[fd_sink]") {
  SECTION("a large gap is a hole, a trailing gap still sets the size") {
    memory_file file;
    const auto data = bytes_of({1, 2, 3});
    gathered_fd_sink sink(file.fd, {});
    REQUIRE(sink.resize(100000));
    REQUIRE(sink.write(0, data));
    REQUIRE(sink.write(50000, data));
    REQUIRE(sink.finish());
    const auto contents = file.contents();
    REQUIRE(contents.size() == 100000);
    std::vector<std::byte> expected(100000);
    for (std::size_t at : {std::size_t{0}, std::size_t{50000}})
      for (std::size_t k = 0; k < 3; ++k) expected[at + k] = data[k];
    CHECK(contents == expected);
  }
  SECTION("a write outside the size is refused; a pipe fails at finish with the reason") {
    int p[2];
    REQUIRE(::pipe2(p, O_CLOEXEC) == 0);
    gathered_fd_sink sink(p[1], {});
    REQUIRE(sink.resize(4));
    CHECK(!sink.write(2, bytes_of({1, 2, 3})));
    REQUIRE(sink.write(0, bytes_of({1, 2})));
    const auto f = sink.finish();
    REQUIRE(!f);
    CHECK(f.error().code == errc::write_failed);
    CHECK(f.error().sys_errno == ESPIPE);
    ::close(p[0]);
    ::close(p[1]);
  }
}
