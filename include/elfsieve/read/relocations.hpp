// REL and RELA sections (with the r_info split of each class), and SHT_RELR relative relocations.
#pragma once

#include <cstddef>
#include <cstdint>
#include <iterator>
#include <span>

#include "elfsieve/detail/index_iterator.hpp"
#include "elfsieve/core/elf.hpp"
#include "elfsieve/core/error.hpp"
#include "elfsieve/read/file.hpp"
#include "elfsieve/core/index.hpp"
#include "elfsieve/read/symbols.hpp"

namespace elfsieve {

// One relocation in host order. For REL, the addend lives in the relocated field: `addend` is 0 and
// `explicit_addend` false.
struct relocation {
  std::uint64_t offset = 0;
  symbol_index symbol{};
  std::uint32_t type = 0;
  std::int64_t addend = 0;
  bool explicit_addend = false;
};

template <elf_layout L>
class reloc_table {
 public:
  using rel = typename L::rel;
  using rela = typename L::rela;

  // The SHT_REL or SHT_RELA section `index`. sh_link 0 means no symbol table (every r_sym must then be 0);
  // sh_info 0 means the relocations apply to no particular section (dynamic relocations).
  [[nodiscard]] static result<reloc_table> create(const section_table<L>& sections, section_index index) noexcept {
    ELFSIEVE_TRY(const section_ref<L> s, sections.at(index));
    reloc_table table;
    table.section_ = index;
    table.file_offset_ = s.offset();
    if (s.type() == elf::SHT_RELA) {
      ELFSIEVE_TRY(table.rela_, sections.template records<rela>(s));
      table.is_rela_ = true;
    } else if (s.type() == elf::SHT_REL) {
      ELFSIEVE_TRY(table.rel_, sections.template records<rel>(s));
    } else {
      return make_error(errc::wrong_section_type, index, s.offset());
    }
    if (s.link() != 0) {
      ELFSIEVE_TRY(const section_ref<L> symtab, sections.linked(s, {elf::SHT_SYMTAB, elf::SHT_DYNSYM}));
      table.symtab_ = symtab.index();
    }
    if (s.info() != 0) {
      ELFSIEVE_TRY(const section_ref<L> target,
                   sections.named_by(s, s.info(), errc::bad_info, offsetof(typename L::shdr, sh_info)));
      table.target_ = target.index();
    }
    return table;
  }

  [[nodiscard]] bool is_rela() const noexcept { return is_rela_; }
  [[nodiscard]] std::span<const rel> rel_records() const noexcept { return rel_; }
  [[nodiscard]] std::span<const rela> rela_records() const noexcept { return rela_; }
  [[nodiscard]] std::size_t size() const noexcept { return is_rela_ ? rela_.size() : rel_.size(); }
  [[nodiscard]] bool empty() const noexcept { return size() == 0; }
  [[nodiscard]] section_index section() const noexcept { return section_; }
  // sh_link; section_index(0) when there is no symbol table.
  [[nodiscard]] section_index symbol_table_index() const noexcept { return symtab_; }
  // sh_info; section_index(0) for dynamic relocations.
  [[nodiscard]] section_index target_section() const noexcept { return target_; }
  [[nodiscard]] std::uint64_t entry_size() const noexcept { return is_rela_ ? sizeof(rela) : sizeof(rel); }
  [[nodiscard]] std::uint64_t entry_file_offset(std::size_t i) const noexcept {
    return file_offset_ + i * entry_size();
  }

  // Caller contract: i < size().
  [[nodiscard]] relocation operator[](std::size_t i) const noexcept {
    Expects(i < size());
    if (is_rela_) {
      const rela& r = rela_[i];
      const auto info = r.r_info.value();
      return {r.r_offset.value(), symbol_index(L::r_sym(info)), L::r_type(info),
              static_cast<std::int64_t>(r.r_addend.value()), true};
    }
    const rel& r = rel_[i];
    const auto info = r.r_info.value();
    return {r.r_offset.value(), symbol_index(L::r_sym(info)), L::r_type(info), 0, false};
  }

  // The symbol relocation i names, looked up in `symbols`, which must be this section's sh_link table.
  [[nodiscard]] result<symbol_ref<L>> symbol_of(std::size_t i, const symbol_table<L>& symbols) const noexcept {
    if (symbols.section() != symtab_ || symtab_.value == 0)
      return make_error(errc::wrong_symbol_table, section_, entry_file_offset(i));
    return symbols.at((*this)[i].symbol, section_, entry_file_offset(i));
  }

  using iterator = detail::index_iterator<reloc_table, std::size_t>;
  [[nodiscard]] iterator begin() const noexcept { return iterator(this, 0); }
  [[nodiscard]] iterator end() const noexcept { return iterator(this, size()); }

 private:
  reloc_table() = default;
  std::span<const rel> rel_{};
  std::span<const rela> rela_{};
  bool is_rela_ = false;
  section_index section_{};
  section_index symtab_{};
  section_index target_{};
  std::uint64_t file_offset_ = 0;
};

// SHT_RELR: a compact list of relative relocations, one address word followed by bitmaps of the words after it.
template <elf_layout L>
class relr_table {
 public:
  using uword = typename L::uword;
  using uword_t = typename L::uword_t;

  [[nodiscard]] static result<relr_table> create(const section_table<L>& sections, section_index index) noexcept {
    ELFSIEVE_TRY(const section_ref<L> s, sections.at(index));
    if (s.type() != elf::SHT_RELR) return make_error(errc::wrong_section_type, index, s.offset());
    ELFSIEVE_TRY(const auto words, sections.template records<uword>(s));
    if (!words.empty() && (words.front().value() & 1) != 0) return make_error(errc::bad_relr, index, s.offset());
    return relr_table(words);
  }

  [[nodiscard]] std::span<const uword> entries() const noexcept { return words_; }

  // Calls f(address) for every relocated address, in order.
  template <class F>
  void for_each_address(F&& f) const {
    constexpr uword_t word_bytes = sizeof(uword_t);
    constexpr unsigned bitmap_bits = sizeof(uword_t) * 8 - 1;
    uword_t base = 0;
    for (const uword& w : words_) {
      const uword_t entry = w.value();
      if ((entry & 1) == 0) {
        f(static_cast<std::uint64_t>(entry));
        base = static_cast<uword_t>(entry + word_bytes);
        continue;
      }
      uword_t bits = entry >> 1;
      for (unsigned i = 0; bits != 0; ++i, bits >>= 1)
        if ((bits & 1) != 0) f(std::uint64_t{static_cast<uword_t>(base + i * word_bytes)});  // wraps like the address
      base = static_cast<uword_t>(base + bitmap_bits * word_bytes);
    }
  }

  [[nodiscard]] std::size_t address_count() const noexcept {
    std::size_t n = 0;
    for_each_address([&](std::uint64_t) { ++n; });
    return n;
  }

 private:
  explicit relr_table(std::span<const uword> words) noexcept : words_(words) {}
  std::span<const uword> words_;
};

// The REL or RELA section `index`, its layout deduced from `sections`.
template <elf_layout L>
[[nodiscard]] result<reloc_table<L>> reloc_table_at(const section_table<L>& sections, section_index index) noexcept {
  return reloc_table<L>::create(sections, index);
}

// The SHT_RELR section `index`, its layout deduced from `sections`.
template <elf_layout L>
[[nodiscard]] result<relr_table<L>> relr_table_at(const section_table<L>& sections, section_index index) noexcept {
  return relr_table<L>::create(sections, index);
}

}  // namespace elfsieve
