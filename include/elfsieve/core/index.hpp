// Strong index types: a symbol index can never be passed where a section index is expected.
#pragma once

#include <compare>
#include <cstdint>

namespace elfsieve {

struct section_index {
  std::uint32_t value = 0;
  constexpr section_index() noexcept = default;
  constexpr explicit section_index(std::uint32_t v) noexcept : value(v) {}
  friend constexpr auto operator<=>(section_index, section_index) noexcept = default;
};

struct symbol_index {
  std::uint32_t value = 0;
  constexpr symbol_index() noexcept = default;
  constexpr explicit symbol_index(std::uint32_t v) noexcept : value(v) {}
  friend constexpr auto operator<=>(symbol_index, symbol_index) noexcept = default;
};

}  // namespace elfsieve
