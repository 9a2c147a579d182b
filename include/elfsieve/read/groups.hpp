// SHT_GROUP sections: a flag word followed by member section indices.
#pragma once

#include <cstdint>
#include <span>

#include "elfsieve/core/elf.hpp"
#include "elfsieve/core/error.hpp"
#include "elfsieve/read/file.hpp"
#include "elfsieve/core/index.hpp"

namespace elfsieve {

template <elf_layout L>
class section_group {
 public:
  using word = typename L::word;

  [[nodiscard]] static result<section_group> create(const section_table<L>& sections, section_index index) noexcept {
    ELFSIEVE_TRY(const section_ref<L> s, sections.at(index));
    if (s.type() != elf::SHT_GROUP) return make_error(errc::wrong_section_type, index, s.offset());
    ELFSIEVE_TRY(const auto words, sections.template records<word>(s));
    if (words.empty()) return make_error(errc::bad_group, index, s.offset());
    ELFSIEVE_TRY(const section_ref<L> symtab, sections.linked(s, {elf::SHT_SYMTAB}));
    const auto members = words.subspan(1);
    for (std::size_t i = 0; i < members.size(); ++i) {
      const std::uint32_t m = members[i].value();
      if (m == 0 || m >= sections.size() || m == index.value)
        return make_error(errc::bad_group, index, s.offset() + 4 * (i + 1));
    }
    return section_group(words.front().value(), members, symtab.index(), s.info());
  }

  [[nodiscard]] std::uint32_t flags() const noexcept { return flags_; }
  [[nodiscard]] bool is_comdat() const noexcept { return (flags_ & elf::GRP_COMDAT) != 0; }
  [[nodiscard]] std::size_t size() const noexcept { return members_.size(); }
  // Member i as a section index (already checked against the section count).
  [[nodiscard]] section_index member(std::size_t i) const noexcept {
    Expects(i < members_.size());
    return section_index(members_[i].value());
  }
  [[nodiscard]] std::span<const word> members() const noexcept { return members_; }
  // The signature is symbol signature() of symbol table signature_table() (sh_info as stated; checked on lookup).
  [[nodiscard]] section_index signature_table() const noexcept { return symtab_; }
  [[nodiscard]] symbol_index signature() const noexcept { return signature_; }

 private:
  section_group(std::uint32_t flags, std::span<const word> members, section_index symtab,
                std::uint32_t signature) noexcept
      : flags_(flags), members_(members), symtab_(symtab), signature_(symbol_index(signature)) {}
  std::uint32_t flags_;
  std::span<const word> members_;
  section_index symtab_;
  symbol_index signature_;
};

// The SHT_GROUP section `index`, its layout deduced from `sections`.
template <elf_layout L>
[[nodiscard]] result<section_group<L>> section_group_at(const section_table<L>& sections,
                                                        section_index index) noexcept {
  return section_group<L>::create(sections, index);
}

}  // namespace elfsieve
