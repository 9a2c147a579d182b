// Notes (SHT_NOTE sections, PT_NOTE segments) as a range of checked records.
#pragma once

#include <cstddef>
#include <cstdint>
#include <iterator>
#include <optional>
#include <span>
#include <string_view>

#include "elfsieve/core/bytes.hpp"
#include "elfsieve/core/error.hpp"
#include "elfsieve/core/layout.hpp"

namespace elfsieve {

struct note {
  std::uint32_t type = 0;
  std::string_view name{};  // without its terminating NUL
  std::span<const std::byte> desc{};
};

// Iterating yields result<note>; after an error the range ends, so a loop over it always terminates.
template <elf_layout L>
class note_range {
 public:
  using nhdr = typename L::nhdr;

  // `alignment` is the section's sh_addralign or the segment's p_align: 8 for 8-byte-aligned notes (GNU
  // properties in ELF64), anything else means 4.
  // `section` and `file_offset` say where `data` lies in the file, for errors (a PT_NOTE segment has no section).
  note_range(std::span<const std::byte> data, std::uint64_t alignment, std::optional<section_index> section = {},
             std::uint64_t file_offset = 0) noexcept
      : data_(data), align_(alignment == 8 ? 8 : 4), section_(section), file_offset_(file_offset) {}

  class iterator {
   public:
    using iterator_category = std::input_iterator_tag;
    using value_type = result<note>;
    using difference_type = std::ptrdiff_t;

    iterator() = default;
    iterator(const note_range* r, std::uint64_t offset) : r_(r), offset_(offset) { parse(); }

    const result<note>& operator*() const noexcept { return current_; }
    iterator& operator++() noexcept {
      if (!current_) offset_ = r_->data_.size();  // an error ends the range
      else offset_ = next_;
      parse();
      return *this;
    }
    void operator++(int) noexcept { ++*this; }
    friend bool operator==(const iterator& a, const iterator& b) noexcept { return a.offset_ == b.offset_; }

   private:
    void parse() noexcept {
      if (r_ == nullptr || offset_ >= r_->data_.size()) {
        offset_ = r_ == nullptr ? 0 : r_->data_.size();
        return;
      }
      current_ = r_->parse_at(offset_, next_);
    }
    const note_range* r_ = nullptr;
    std::uint64_t offset_ = 0;
    std::uint64_t next_ = 0;
    result<note> current_ = make_error(errc::bad_note);
  };

  [[nodiscard]] iterator begin() const noexcept { return iterator(this, 0); }
  [[nodiscard]] iterator end() const noexcept { return iterator(this, data_.size()); }

 private:
  [[nodiscard]] static bool align_up(std::uint64_t v, std::uint64_t a, std::uint64_t& out) noexcept {
    if (add_overflows(v, a - 1, out)) return false;
    out &= ~(a - 1);
    return true;
  }

  [[nodiscard]] result<note> parse_at(std::uint64_t offset, std::uint64_t& next) const noexcept {
    const error bad = error_in(errc::bad_note, section_, file_offset_ + offset);
    auto header = record_at<nhdr>(data_, offset, errc::bad_note);
    if (!header) return bad;
    const std::uint64_t namesz = header.value()->n_namesz.value();
    const std::uint64_t descsz = header.value()->n_descsz.value();
    const std::uint64_t name_at = offset + sizeof(nhdr);
    std::uint64_t desc_at = 0, end = 0;
    if (add_overflows(name_at, namesz, desc_at) || !align_up(desc_at, align_, desc_at)) return bad;
    if (add_overflows(desc_at, descsz, end) || end > data_.size()) return bad;
    if (!range_fits(name_at, namesz, data_.size())) return bad;
    if (!align_up(end, align_, next) || next > data_.size()) next = data_.size();
    note n;
    n.type = header.value()->n_type.value();
    const char* name = reinterpret_cast<const char*>(data_.data() + name_at);
    std::size_t name_len = static_cast<std::size_t>(namesz);
    if (name_len > 0 && name[name_len - 1] == '\0') --name_len;
    n.name = std::string_view(name, name_len);
    n.desc = data_.subspan(static_cast<std::size_t>(desc_at), static_cast<std::size_t>(descsz));
    return n;
  }

  std::span<const std::byte> data_;
  std::uint64_t align_;
  std::optional<section_index> section_;
  std::uint64_t file_offset_;
};

}  // namespace elfsieve
