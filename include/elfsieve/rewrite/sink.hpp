// Where a writer puts its output: a sink takes the output's size once, then the bytes at their offsets, in any
// order. The writer never reads back what it wrote, so a sink can pass every write straight on (to a file with
// io/fd_sink.hpp) and memory stays bounded by what the writer builds, not by the output's size.
//   result<void> resize(std::uint64_t total)   the output becomes `total` zero bytes (called once, first)
//   result<void> write(std::uint64_t offset, std::span<const std::byte> bytes)   inside [0, total)
// A failing sink's error is the writer's error; the writer stops at the first one.
// A sink may also lend memory (lending_sink): region(offset, size) returns `size` zero bytes of the sink's own that
// become the output at `offset` as if written there now; the writer builds a rebuilt table in it instead of in its
// own buffer, which spares a copy. The region is filled before the sink is called again (a later call may move it).
#pragma once

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <vector>

#include "elfsieve/core/error.hpp"

namespace elfsieve {

template <class S>
concept output_sink = requires(S& sink, std::uint64_t n, std::span<const std::byte> bytes) {
  { sink.resize(n) } -> std::same_as<result<void>>;
  { sink.write(n, bytes) } -> std::same_as<result<void>>;
};

template <class S>
concept lending_sink = output_sink<S> && requires(S& sink, std::uint64_t n) {
  { sink.region(n, n) } -> std::same_as<result<std::span<std::byte>>>;
};

// The output in memory, in a vector the caller owns (its capacity is reused).
class vector_sink {
 public:
  explicit vector_sink(std::vector<std::byte>& out) noexcept : out_(out) {}

  [[nodiscard]] result<void> resize(std::uint64_t total) {
    if (total > out_.max_size()) return make_error(errc::output_too_large);
    out_.assign(static_cast<std::size_t>(total), std::byte{0});
    return {};
  }
  // A write past the size given to resize is the caller's bug, refused rather than grown into.
  [[nodiscard]] result<void> write(std::uint64_t offset, std::span<const std::byte> bytes) noexcept {
    if (offset > out_.size() || out_.size() - offset < bytes.size()) return make_error_at(errc::write_failed, offset);
    if (!bytes.empty()) std::memcpy(out_.data() + offset, bytes.data(), bytes.size());
    return {};
  }

 private:
  std::vector<std::byte>& out_;
};

// Passes everything on to another sink and remembers the size it was given (strip_object reports it).
template <output_sink Sink>
class size_recording_sink {
 public:
  explicit size_recording_sink(Sink& inner) noexcept : inner_(inner) {}
  [[nodiscard]] result<void> resize(std::uint64_t total) {
    size_ = total;
    return inner_.resize(total);
  }
  [[nodiscard]] result<void> write(std::uint64_t offset, std::span<const std::byte> bytes) {
    return inner_.write(offset, bytes);
  }
  [[nodiscard]] result<std::span<std::byte>> region(std::uint64_t offset,
                                                    std::uint64_t size) requires lending_sink<Sink> {
    return inner_.region(offset, size);
  }
  [[nodiscard]] std::uint64_t size() const noexcept { return size_; }

 private:
  Sink& inner_;
  std::uint64_t size_ = 0;
};

}  // namespace elfsieve
