// The only road from bytes to typed records: overflow-checked ranges over a borrowed byte span.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <type_traits>

#include "elfsieve/core/error.hpp"

namespace elfsieve {

// A record type that may be viewed in place at any offset of a file.
template <class T>
concept pod_record = std::is_trivially_copyable_v<T> && std::is_standard_layout_v<T> && alignof(T) == 1;

[[nodiscard]] constexpr bool add_overflows(std::uint64_t a, std::uint64_t b, std::uint64_t& sum) noexcept {
  return __builtin_add_overflow(a, b, &sum);
}
[[nodiscard]] constexpr bool mul_overflows(std::uint64_t a, std::uint64_t b, std::uint64_t& product) noexcept {
  return __builtin_mul_overflow(a, b, &product);
}

// True when [offset, offset + size) lies inside a buffer of `total` bytes (no wrap-around).
[[nodiscard]] constexpr bool range_fits(std::uint64_t offset, std::uint64_t size, std::uint64_t total) noexcept {
  std::uint64_t end = 0;
  return !add_overflows(offset, size, end) && end <= total;
}

// Bytes [offset, offset + size) of `bytes`, or `code` for `section` at `offset`.
[[nodiscard]] inline result<std::span<const std::byte>> subspan_checked(
    std::span<const std::byte> bytes, std::uint64_t offset, std::uint64_t size, errc code,
    std::optional<section_index> section = {}) noexcept {
  if (!range_fits(offset, size, bytes.size())) return error_in(code, section, offset);
  return bytes.subspan(static_cast<std::size_t>(offset), static_cast<std::size_t>(size));
}

// `count` records of type T starting at `offset`, or `code` when they do not fit.
template <pod_record T>
[[nodiscard]] result<std::span<const T>> records_at(std::span<const std::byte> bytes, std::uint64_t offset,
                                                    std::uint64_t count, errc code,
                                                    std::optional<section_index> section = {}) noexcept {
  std::uint64_t size = 0;
  if (mul_overflows(count, sizeof(T), size) || !range_fits(offset, size, bytes.size()))
    return error_in(code, section, offset);
  // T has alignment 1 and no invalid bit patterns: viewing the mapped bytes as T is how every zero-copy ELF
  // reader works (LLVM libObject, Rust object's Pod).
  const auto* first = reinterpret_cast<const T*>(bytes.data() + offset);
  return std::span<const T>(first, static_cast<std::size_t>(count));
}

// One record of type T at `offset`.
template <pod_record T>
[[nodiscard]] result<const T*> record_at(std::span<const std::byte> bytes, std::uint64_t offset, errc code,
                                         std::optional<section_index> section = {}) noexcept {
  if (!range_fits(offset, sizeof(T), bytes.size())) return error_in(code, section, offset);
  return reinterpret_cast<const T*>(bytes.data() + offset);
}

}  // namespace elfsieve
