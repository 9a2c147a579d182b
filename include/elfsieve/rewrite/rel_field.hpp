// REL relocations keep their addend in the bytes they patch (the "field"). Redirecting such a relocation to
// another symbol means adding the difference of the two symbols' values to that field, which is only sound when
// the field can hold the sum. This header reads and writes fields of 1, 2, 4 or 8 bytes and says whether a sum
// fits; the width is decoded in exactly one place (with_field_type).
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <span>
#include <type_traits>

#include "elfsieve/core/elf.hpp"
#include "elfsieve/core/endian.hpp"
#include "elfsieve/core/layout.hpp"

namespace elfsieve {

namespace detail {
// Calls f with a value of the signed integer type `width` bytes wide; a width no relocation field has gives
// nullopt (f's result type must be constructible from std::nullopt).
template <class F>
[[nodiscard]] constexpr auto with_field_type(std::uint8_t width, F&& f) -> decltype(f(std::int8_t{})) {
  switch (width) {
    case 1: return f(std::int8_t{});
    case 2: return f(std::int16_t{});
    case 4: return f(std::int32_t{});
    case 8: return f(std::int64_t{});
    default: return std::nullopt;
  }
}
}  // namespace detail

// A REL field's current value (sign-extended) and its width in bytes.
template <elf_layout L>
struct rel_field_value {
  std::int64_t value = 0;
  std::uint8_t width = 0;

  // Whether adding `delta` keeps the field's meaning. A field as wide as an address wraps exactly as the
  // computation S + A does; a narrower one must hold the new addend, read as signed or as unsigned.
  [[nodiscard]] bool fits(std::int64_t delta) const noexcept {
    if (width >= sizeof(typename L::uword_t)) return true;
    std::int64_t sum = 0;
    if (__builtin_add_overflow(value, delta, &sum)) return false;
    const std::int64_t bits = std::int64_t{8} * width;
    return sum >= -(std::int64_t{1} << (bits - 1)) && sum < (std::int64_t{1} << bits);
  }
};

// Whether a field `width` bytes wide can be read or written at all.
[[nodiscard]] constexpr bool is_rel_field_width(std::uint8_t width) noexcept {
  return width == 1 || width == 2 || width == 4 || width == 8;
}

// The field of `width` bytes at byte `position` of a section's contents, or nothing if the width is not a field
// width or the field does not lie wholly inside `contents`.
template <elf_layout L>
[[nodiscard]] std::optional<rel_field_value<L>> read_rel_field(std::span<const std::byte> contents,
                                                               std::uint64_t position, std::uint8_t width) noexcept {
  if (!is_rel_field_width(width)) return std::nullopt;
  if (position > contents.size() || contents.size() - position < width) return std::nullopt;
  const std::byte* p = contents.data() + position;
  return detail::with_field_type(width, [&](auto type) -> std::optional<rel_field_value<L>> {
    using T = decltype(type);
    return rel_field_value<L>{load<T, L::endianness>(p), width};
  });
}

// Stores the low `width` bytes of `value` at p in the layout's byte order. Returns false (writing nothing) for a
// width that is not a field width.
template <elf_layout L>
bool write_rel_field(std::byte* p, std::uint8_t width, std::int64_t value) noexcept {
  const auto written = detail::with_field_type(width, [&](auto type) -> std::optional<bool> {
    using T = decltype(type);
    store<T, L::endianness>(p, static_cast<T>(value));
    return true;
  });
  return written.has_value();
}

// Whether r_addend (a signed word of the layout) can hold addend + delta.
template <elf_layout L>
[[nodiscard]] bool addend_fits(std::int64_t addend, std::int64_t delta) noexcept {
  std::int64_t sum = 0;
  if (__builtin_add_overflow(addend, delta, &sum)) return false;
  using sword_t = typename L::sword_t;
  return sum >= std::numeric_limits<sword_t>::min() && sum <= std::numeric_limits<sword_t>::max();
}

// Where the field of a relocation at `r_offset` lies inside its target section: r_offset is a section offset in a
// relocatable file and an address everywhere else.
[[nodiscard]] constexpr std::uint64_t rel_field_position(std::uint16_t e_type, std::uint64_t section_addr,
                                                         std::uint64_t r_offset) noexcept {
  return e_type == elf::ET_REL ? r_offset : r_offset - section_addr;
}

}  // namespace elfsieve
