// Renumbering: the output index of every section and symbol an edit keeps. Sections keep their order (section 0
// always stays). Symbols are written locals first (symbol 0 included), then the added section symbols in section
// order, then everything else, each group in input order, so that sh_info of the table is the first global.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "elfsieve/core/elf.hpp"
#include "elfsieve/core/error.hpp"
#include "elfsieve/core/index.hpp"
#include "elfsieve/read/symbols.hpp"
#include "elfsieve/rewrite/edits.hpp"

namespace elfsieve {

template <elf_layout L>
class renumbering {
 public:
  [[nodiscard]] static result<renumbering> create(const object_edits<L>& edits) {
    renumbering r;
    r.number_sections(edits);
    ELFSIEVE_TRY_VOID(r.number_symbols(edits));
    return r;
  }

  [[nodiscard]] std::uint32_t section_count() const noexcept { return section_count_; }
  [[nodiscard]] std::uint32_t symbol_count() const noexcept { return symbol_count_; }
  [[nodiscard]] std::uint32_t first_global() const noexcept { return first_global_; }

  // The output index of input section i, or nothing if it goes (or i is out of range).
  [[nodiscard]] std::optional<section_index> section(section_index i) const noexcept {
    return i.value < new_section_.size() ? new_section_[i.value] : std::nullopt;
  }
  // The output index of input symbol s, or nothing if it is not written.
  [[nodiscard]] std::optional<symbol_index> symbol(symbol_index s) const noexcept {
    return s.value < new_symbol_.size() ? new_symbol_[s.value] : std::nullopt;
  }
  // The output index of the section symbol added for input section i, or nothing.
  [[nodiscard]] std::optional<symbol_index> added_symbol(section_index i) const noexcept {
    return i.value < added_symbol_.size() ? added_symbol_[i.value] : std::nullopt;
  }
  // The input sections that get an added section symbol, in output order.
  [[nodiscard]] const std::vector<section_index>& sections_with_added_symbol() const noexcept { return added_; }
  // Where each input symbol is defined, resolved once (empty without a symbol table).
  [[nodiscard]] const symbol_section& where(symbol_index s) const noexcept {
    Expects(s.value < where_.size());
    return where_[s.value];
  }

  // The output symbol a relocation naming input symbol `s` names: symbol 0 for a redirect to nothing, and
  // nothing when the symbol (or its redirect target) is not written, which the caller reports.
  [[nodiscard]] std::optional<symbol_index> relocation_symbol(const object_edits<L>& edits,
                                                              symbol_index s) const noexcept {
    const symbol_edit& e = edits.symbol(s);
    switch (e.fate) {
      case symbol_fate::keep: return symbol(s);
      case symbol_fate::drop: return std::nullopt;
      case symbol_fate::redirect:
        if (e.to_symbol) return symbol(*e.to_symbol);
        if (e.to_added_symbol_of) return added_symbol(*e.to_added_symbol_of);
        return symbol_index(0);
    }
    return std::nullopt;
  }

 private:
  void number_sections(const object_edits<L>& edits) {
    const std::size_t n = edits.sections().size();
    new_section_.assign(n, std::nullopt);
    std::uint32_t next = 0;
    for (std::uint32_t i = 0; i < n; ++i)
      if (i == 0 || edits.section_kept(section_index(i))) new_section_[i] = section_index(next++);
    section_count_ = next;
  }

  result<void> number_symbols(const object_edits<L>& edits) {
    const symbol_table<L>* symbols = edits.symbols();
    if (symbols == nullptr) return {};
    const std::uint32_t n = static_cast<std::uint32_t>(symbols->size());
    new_symbol_.assign(n, std::nullopt);
    where_.resize(n);
    for (std::uint32_t i = 0; i < n; ++i) {
      ELFSIEVE_TRY(where_[i], symbols->section_of((*symbols)[symbol_index(i)]));
    }
    auto kept = [&](std::uint32_t i) { return edits.symbol(symbol_index(i)).fate == symbol_fate::keep; };
    auto local = [&](std::uint32_t i) { return i == 0 || (*symbols)[symbol_index(i)].bind() == elf::STB_LOCAL; };
    std::uint32_t next = 0;
    for (std::uint32_t i = 0; i < n; ++i)
      if (kept(i) && local(i)) new_symbol_[i] = symbol_index(next++);
    const std::size_t sections = edits.sections().size();
    added_symbol_.assign(sections, std::nullopt);
    for (std::uint32_t s = 0; s < sections; ++s)
      if (edits.section(section_index(s)).add_section_symbol) {
        added_symbol_[s] = symbol_index(next++);
        added_.push_back(section_index(s));
      }
    first_global_ = next;
    for (std::uint32_t i = 1; i < n; ++i)
      if (kept(i) && !local(i)) new_symbol_[i] = symbol_index(next++);
    symbol_count_ = next;
    return {};
  }

  std::vector<std::optional<section_index>> new_section_;  // per input section
  std::vector<std::optional<symbol_index>> new_symbol_;    // per input symbol
  std::vector<std::optional<symbol_index>> added_symbol_;  // per input section: its added section symbol
  std::vector<section_index> added_;
  std::vector<symbol_section> where_;  // per input symbol
  std::uint32_t section_count_ = 0, symbol_count_ = 0, first_global_ = 0;
};

}  // namespace elfsieve
