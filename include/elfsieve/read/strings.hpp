// String tables: every name is bounds-checked and NUL-terminated before it becomes a string_view.
#pragma once

#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <string_view>

#include "elfsieve/core/error.hpp"

namespace elfsieve {

class string_table {
 public:
  constexpr string_table() noexcept = default;

  // `data` is the table's bytes; `section` and `file_offset` are where it came from, for errors. The table must
  // be non-empty and end in NUL, so that every in-range offset names a terminated string.
  [[nodiscard]] static result<string_table> create(std::span<const std::byte> data,
                                                   std::optional<section_index> section,
                                                   std::uint64_t file_offset) noexcept {
    if (data.empty()) return error_in(errc::empty_string_table, section, file_offset);
    if (data.back() != std::byte{0})
      return error_in(errc::string_table_not_terminated, section, file_offset + data.size() - 1);
    return string_table(data, section, file_offset);
  }

  // The NUL-terminated string at `offset`.
  [[nodiscard]] result<std::string_view> get(std::uint64_t offset) const noexcept {
    // The offset past the table is where the string would have been, had the table been long enough.
    if (offset >= data_.size()) return error_in(errc::string_out_of_range, section_, file_offset_ + offset);
    const char* first = reinterpret_cast<const char*>(data_.data()) + offset;
    // create() guarantees a NUL at the end, so strlen cannot leave the table.
    return std::string_view(first, std::strlen(first));
  }

  // The NUL-terminated string at `offset` without measuring it, or nullptr when the offset is past the table.
  [[nodiscard]] const char* c_str(std::uint64_t offset) const noexcept {
    return offset < data_.size() ? reinterpret_cast<const char*>(data_.data()) + offset : nullptr;
  }

  [[nodiscard]] std::span<const std::byte> bytes() const noexcept { return data_; }
  // The section the table came from; none for a table made from other bytes.
  [[nodiscard]] std::optional<section_index> section() const noexcept { return section_; }
  [[nodiscard]] bool empty() const noexcept { return data_.empty(); }

 private:
  string_table(std::span<const std::byte> data, std::optional<section_index> section,
               std::uint64_t file_offset) noexcept
      : data_(data), section_(section), file_offset_(file_offset) {}

  std::span<const std::byte> data_{};
  std::optional<section_index> section_;
  std::uint64_t file_offset_ = 0;
};

}  // namespace elfsieve
