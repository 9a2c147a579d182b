// Symbol tables (.symtab, .dynsym) with SHT_SYMTAB_SHNDX extended section indices.
#pragma once

#include <cstddef>
#include <cstdint>
#include <iterator>
#include <optional>
#include <span>
#include <string_view>

#include "elfsieve/detail/index_iterator.hpp"
#include "elfsieve/core/elf.hpp"
#include "elfsieve/core/error.hpp"
#include "elfsieve/read/file.hpp"
#include "elfsieve/core/index.hpp"
#include "elfsieve/read/strings.hpp"

namespace elfsieve {

template <elf_layout L>
class symbol_ref {
 public:
  using sym = typename L::sym;
  constexpr symbol_ref(const sym* s, symbol_index index) noexcept : s_(s), index_(index) {}

  [[nodiscard]] symbol_index index() const noexcept { return index_; }
  [[nodiscard]] const sym& record() const noexcept { return *s_; }
  [[nodiscard]] std::uint32_t name_offset() const noexcept { return s_->st_name.value(); }
  [[nodiscard]] std::uint64_t value() const noexcept { return s_->st_value.value(); }
  [[nodiscard]] std::uint64_t size() const noexcept { return s_->st_size.value(); }
  [[nodiscard]] std::uint8_t info() const noexcept { return s_->st_info; }
  [[nodiscard]] std::uint8_t type() const noexcept { return elf::st_type(s_->st_info); }
  [[nodiscard]] std::uint8_t bind() const noexcept { return elf::st_bind(s_->st_info); }
  [[nodiscard]] std::uint8_t other() const noexcept { return s_->st_other; }
  [[nodiscard]] std::uint8_t visibility() const noexcept { return s_->st_other & 0x3; }
  // st_shndx as stored; see symbol_table::section_of for the resolved section.
  [[nodiscard]] std::uint16_t raw_shndx() const noexcept { return s_->st_shndx.value(); }
  [[nodiscard]] bool is_undefined() const noexcept { return raw_shndx() == elf::SHN_UNDEF; }

 private:
  const sym* s_;
  symbol_index index_;
};

// Where a symbol is defined, with the reserved indices told apart from real sections (an extended index can
// legitimately be 0xfff1, which st_shndx would read as SHN_ABS).
struct symbol_section {
  enum class kind : std::uint8_t { undefined, regular, absolute, common, reserved };
  kind where = kind::undefined;
  section_index index{};  // meaningful for regular; for reserved, the raw st_shndx

  [[nodiscard]] bool is_regular() const noexcept { return where == kind::regular; }
};

template <elf_layout L>
class symbol_table {
 public:
  using sym = typename L::sym;
  using ref = symbol_ref<L>;
  using word = typename L::word;

  // The symbol table in section `index`, which must be SHT_SYMTAB or SHT_DYNSYM.
  [[nodiscard]] static result<symbol_table> create(const section_table<L>& sections, section_index index) noexcept {
    ELFSIEVE_TRY(const section_ref<L> s, sections.at(index));
    if (s.type() != elf::SHT_SYMTAB && s.type() != elf::SHT_DYNSYM)
      return make_error(errc::wrong_section_type, index, s.offset());
    ELFSIEVE_TRY(const auto records, sections.template records<sym>(s));
    ELFSIEVE_TRY(const section_ref<L> strtab, sections.linked(s, {elf::SHT_STRTAB}));
    ELFSIEVE_TRY(const string_table names, sections.string_table_at(strtab.index()));
    symbol_table table(records, names, s, sections.size());
    for (auto candidate : sections) {
      if (candidate.type() != elf::SHT_SYMTAB_SHNDX || candidate.link() != index.value) continue;
      ELFSIEVE_TRY(const auto shndx, sections.template records<word>(candidate));
      if (shndx.size() != records.size())
        return make_error(errc::symtab_shndx_mismatch, candidate.index(), candidate.offset());
      table.shndx_ = shndx;
      table.shndx_section_ = candidate.index();
      table.shndx_offset_ = candidate.offset();
      break;
    }
    return table;
  }

  // The first section of type `type` (SHT_SYMTAB or SHT_DYNSYM) as a symbol table; errc::not_found if none.
  // find_symbol_table(sections, type) says the same without naming L.
  [[nodiscard]] static result<symbol_table> find(const section_table<L>& sections, std::uint32_t type) noexcept {
    ELFSIEVE_TRY(const section_ref<L> s, sections.find_type(type));
    return create(sections, s.index());
  }

  [[nodiscard]] std::size_t size() const noexcept { return syms_.size(); }
  [[nodiscard]] bool empty() const noexcept { return syms_.empty(); }
  [[nodiscard]] section_index section() const noexcept { return section_; }
  [[nodiscard]] std::uint32_t type() const noexcept { return type_; }
  [[nodiscard]] std::span<const sym> records() const noexcept { return syms_; }
  [[nodiscard]] const string_table& strings() const noexcept { return names_; }
  // sh_info: index of the first non-local symbol, as the file states it (not checked against size()).
  [[nodiscard]] std::uint32_t first_nonlocal() const noexcept { return first_nonlocal_; }

  // Caller contract: i < size().
  [[nodiscard]] ref operator[](symbol_index i) const noexcept {
    Expects(i.value < syms_.size());
    return ref(&syms_[i.value], i);
  }
  // For an index from the caller or the file: errc::bad_symbol_index with the index as detail.
  [[nodiscard]] result<ref> at(symbol_index i) const noexcept {
    if (i.value >= syms_.size()) return with_detail(make_error(errc::bad_symbol_index), i.value);
    return ref(&syms_[i.value], i);
  }
  // For an index read from a record of the file (a relocation's r_sym...): the error names the section and the
  // file offset of that record.
  [[nodiscard]] result<ref> at(symbol_index i, section_index from_section, std::uint64_t record_offset) const noexcept {
    if (i.value >= syms_.size())
      return with_detail(make_error(errc::bad_symbol_index, from_section, record_offset), i.value);
    return ref(&syms_[i.value], i);
  }

  [[nodiscard]] result<std::string_view> name(const ref& s) const noexcept {
    auto n = names_.get(s.name_offset());
    if (!n) return make_error(errc::string_out_of_range, section_, record_offset(s));
    return n;
  }

  // The section the symbol is defined in, with SHN_XINDEX resolved through SHT_SYMTAB_SHNDX.
  [[nodiscard]] result<symbol_section> section_of(const ref& s) const noexcept {
    const std::uint16_t raw = s.raw_shndx();
    using k = symbol_section::kind;
    if (raw == elf::SHN_UNDEF) return symbol_section{k::undefined, section_index(0)};
    if (raw == elf::SHN_XINDEX) {
      if (shndx_.empty() || !shndx_section_) return make_error(errc::missing_symtab_shndx, section_, record_offset(s));
      const std::uint32_t real = shndx_[s.index().value].value();
      // The entry's own offset in SHT_SYMTAB_SHNDX is where the bad index is.
      if (real >= section_count_)
        return make_error(errc::bad_symbol_section, *shndx_section_,
                          shndx_offset_ + std::uint64_t{s.index().value} * sizeof(word));
      return symbol_section{k::regular, section_index(real)};
    }
    if (raw == elf::SHN_ABS) return symbol_section{k::absolute, section_index(raw)};
    if (raw == elf::SHN_COMMON) return symbol_section{k::common, section_index(raw)};
    if (raw >= elf::SHN_LORESERVE) return symbol_section{k::reserved, section_index(raw)};
    if (raw >= section_count_) return make_error(errc::bad_symbol_section, section_, record_offset(s));
    return symbol_section{k::regular, section_index(raw)};
  }

  using iterator = detail::index_iterator<symbol_table, symbol_index>;
  [[nodiscard]] iterator begin() const noexcept { return iterator(this, 0); }
  [[nodiscard]] iterator end() const noexcept { return iterator(this, syms_.size()); }

 private:
  symbol_table(std::span<const sym> syms, const string_table& names, const section_ref<L>& s,
               std::size_t section_count) noexcept
      : syms_(syms),
        names_(names),
        section_(s.index()),
        type_(s.type()),
        first_nonlocal_(s.info()),
        section_count_(section_count),
        file_offset_(s.offset()) {}

  [[nodiscard]] std::uint64_t record_offset(const ref& s) const noexcept {
    return file_offset_ + std::uint64_t{s.index().value} * sizeof(sym);
  }

  std::span<const sym> syms_;
  string_table names_;
  std::span<const word> shndx_{};
  section_index section_;
  std::uint32_t type_;
  std::uint32_t first_nonlocal_;
  std::optional<section_index> shndx_section_;
  std::uint64_t shndx_offset_ = 0;
  std::size_t section_count_;
  std::uint64_t file_offset_;
};

// The first section of type `type` (SHT_SYMTAB or SHT_DYNSYM) as a symbol table, its layout deduced from
// `sections`; errc::not_found if there is none.
template <elf_layout L>
[[nodiscard]] result<symbol_table<L>> find_symbol_table(const section_table<L>& sections, std::uint32_t type) noexcept {
  return symbol_table<L>::find(sections, type);
}

// The symbol table in section `index`, its layout deduced from `sections`.
template <elf_layout L>
[[nodiscard]] result<symbol_table<L>> symbol_table_at(const section_table<L>& sections, section_index index) noexcept {
  return symbol_table<L>::create(sections, index);
}

}  // namespace elfsieve
