// Output sinks: vector_sink's contract (resize gives zeros and replaces, writes stay inside), and the writer with a
// sink that fails: at every write of a real object in turn, the writer stops there and returns the sink's error.
#include <catch2/catch.hpp>

#include <cstddef>
#include <cstdint>
#include <set>
#include <span>
#include <string>
#include <vector>

#include "elfsieve/elfsieve.hpp"
#include "elfsieve/rewrite/sink.hpp"
#include "elfsieve/rewrite/writer.hpp"
#include "support/corpus.hpp"
#include "support/files.hpp"

using namespace elfsieve;
using namespace elfsieve::test;

namespace {

std::vector<std::byte> bytes_of(std::initializer_list<int> values) {
  std::vector<std::byte> out;
  for (int v : values) out.push_back(static_cast<std::byte>(v));
  return out;
}

// Counts calls and fails the one numbered `fail_at` (0 is resize) with ENOSPC; counts every call after a failure.
struct failing_sink {
  std::uint64_t fail_at = UINT64_MAX;
  std::uint64_t calls = 0;
  std::uint64_t calls_after_failure = 0;
  std::uint64_t size = 0;
  std::uint64_t out_of_range = 0;  // writes outside [0, size): the writer's contract broken
  bool failed = false;

  result<void> next() {
    if (failed) ++calls_after_failure;
    if (calls++ != fail_at) return {};
    failed = true;
    error e = make_error(errc::write_failed);
    e.sys_errno = ENOSPC;
    return e;
  }
  result<void> resize(std::uint64_t total) {
    if (calls != 0) ++calls_after_failure;  // resize comes first and once
    size = total;
    return next();
  }
  result<void> write(std::uint64_t offset, std::span<const std::byte> bytes) {
    if (offset > size || size - offset < bytes.size()) ++out_of_range;
    return next();
  }
};
static_assert(output_sink<failing_sink>);
static_assert(output_sink<vector_sink>);
static_assert(!output_sink<std::vector<std::byte>>);

template <class Sink>
result<void> write_identity(std::span<const std::byte> input, Sink& sink) {
  return visit(input, [&](const auto& f) -> result<void> {
    using L = typename std::remove_cvref_t<decltype(f)>::layout_type;
    ELFSIEVE_TRY(auto edits, object_edits<L>::keep_everything(f));
    return write_object(edits, sink);
  });
}

}  // namespace

TEST_CASE("sink.vector_sink_resizes_to_zeros_and_keeps_writes_inside", "[sink]") {
  std::vector<std::byte> out = bytes_of({9, 9, 9, 9, 9, 9, 9, 9, 9, 9});
  vector_sink sink(out);
  REQUIRE(sink.resize(6));
  CHECK(out == bytes_of({0, 0, 0, 0, 0, 0}));
  REQUIRE(sink.write(1, bytes_of({1, 2})));
  REQUIRE(sink.write(4, bytes_of({3, 4})));
  REQUIRE(sink.write(6, {}));  // an empty write at the end is inside
  CHECK(out == bytes_of({0, 1, 2, 0, 3, 4}));
  const auto past_end = sink.write(5, bytes_of({5, 6}));
  REQUIRE(!past_end);
  CHECK(past_end.error().code == errc::write_failed);
  const auto far_past = sink.write(UINT64_MAX, bytes_of({1}));
  REQUIRE(!far_past);
  CHECK(out == bytes_of({0, 1, 2, 0, 3, 4}));  // refused writes change nothing
}

TEST_CASE("sink.a_failing_sink_stops_the_writer_at_every_write", "[sink][writer]") {
  // One object per corpus architecture (every layout, REL and RELA, groups where the corpus has them).
  std::set<std::string> seen;
  for (const auto& object : corpus_objects()) {
    if (!seen.insert(object.arch).second) continue;
    INFO(object.name);
    const auto input = read_bytes(object.path);
    failing_sink counting;
    REQUIRE(write_identity(input, counting));
    REQUIRE(counting.calls >= 3);  // resize, the prefix, ..., the file header
    CHECK(counting.calls_after_failure == 0);
    CHECK(counting.out_of_range == 0);
    for (std::uint64_t k = 0; k < counting.calls; ++k) {
      INFO("failing call " << k << " of " << counting.calls);
      failing_sink sink;
      sink.fail_at = k;
      const auto r = write_identity(input, sink);
      REQUIRE(!r);
      CHECK(r.error().code == errc::write_failed);
      CHECK(r.error().sys_errno == ENOSPC);
      CHECK(sink.calls == k + 1);  // nothing after the failing call
      CHECK(sink.calls_after_failure == 0);
    }
  }
  CHECK(seen.size() >= 4);
}
