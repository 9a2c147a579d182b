// The string tables a rewrite rebuilds: the symbol names of the kept symbols and the names of the kept sections.
// When the symbol table takes its names from the section-name table (one shared table, as some tools write),
// both sets of names go into that one table.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "elfsieve/core/error.hpp"
#include "elfsieve/core/index.hpp"
#include "elfsieve/read/symbols.hpp"
#include "elfsieve/rewrite/edits.hpp"
#include "elfsieve/rewrite/renumbering.hpp"
#include "elfsieve/rewrite/strtab_builder.hpp"

namespace elfsieve {

template <elf_layout L>
class rebuilt_names {
 public:
  // Names are views into the input, which must outlive the result.
  [[nodiscard]] static result<rebuilt_names> create(const object_edits<L>& edits, const renumbering<L>& numbers) {
    rebuilt_names names;
    ELFSIEVE_TRY_VOID(names.build(edits, numbers));
    return names;
  }

  // The symbol table reads its names from the section-name table: one table holds both.
  [[nodiscard]] bool shared() const noexcept { return shared_; }
  [[nodiscard]] std::span<const std::byte> symbol_strings() const noexcept { return symbol_strings_.bytes(); }
  [[nodiscard]] std::span<const std::byte> section_strings() const noexcept { return section_strings_.bytes(); }
  // st_name of kept input symbol s (caller contract: s was written).
  [[nodiscard]] std::uint32_t symbol_name(symbol_index s) const noexcept {
    Expects(s.value < symbol_name_.size() && symbol_name_[s.value].has_value());
    return symbol_strings_.offset(*symbol_name_[s.value]);
  }
  // sh_name of kept input section i, or nothing (section 0, or a file without section names).
  [[nodiscard]] std::optional<std::uint32_t> section_name(section_index i) const noexcept {
    if (i.value >= section_name_.size() || !section_name_[i.value]) return std::nullopt;
    return (shared_ ? symbol_strings_ : section_strings_).offset(*section_name_[i.value]);
  }

 private:
  result<void> build(const object_edits<L>& edits, const renumbering<L>& numbers) {
    const symbol_table<L>* symbols = edits.symbols();
    const auto& sections = edits.sections();
    const section_index shstrndx = sections.shstrndx();
    shared_ = symbols != nullptr && sections[symbols->section()].link() == shstrndx.value && shstrndx.value != 0;
    if (symbols != nullptr) {
      symbol_name_.assign(symbols->size(), std::nullopt);
      for (std::uint32_t i = 1; i < symbols->size(); ++i) {
        if (!numbers.symbol(symbol_index(i))) continue;
        ELFSIEVE_TRY(auto name, symbols->name((*symbols)[symbol_index(i)]));
        symbol_name_[i] = symbol_strings_.add(name);
      }
    }
    strtab_builder& section_names = shared_ ? symbol_strings_ : section_strings_;
    section_name_.assign(sections.size(), std::nullopt);
    if (shstrndx.value != 0) {
      for (auto s : sections) {
        // Section 0 is written clean (sh_name 0): its name, if the input gave it one, is not kept.
        if (s.index().value == 0 || !numbers.section(s.index())) continue;
        ELFSIEVE_TRY(auto name, sections.name(s));
        section_name_[s.index().value] = section_names.add(name);
      }
    }
    if (symbols != nullptr) symbol_strings_.finish();
    if (!shared_) section_strings_.finish();
    if (symbol_strings_.bytes().size() > 0xffffffffu || section_strings_.bytes().size() > 0xffffffffu)
      return make_error(errc::output_too_large);
    return {};
  }

  strtab_builder symbol_strings_, section_strings_;
  std::vector<std::optional<std::uint32_t>> symbol_name_;   // per input symbol: handle in symbol_strings_
  std::vector<std::optional<std::uint32_t>> section_name_;  // per input section: handle in its builder
  bool shared_ = false;
};

}  // namespace elfsieve
