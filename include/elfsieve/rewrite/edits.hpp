// The edit description: what a rewrite of one object changes, said without saying why. Which sections stay (and
// which lose SHF_MERGE), which section symbols are added, which .symtab symbols stay, and what the relocations
// that name a symbol that goes name instead (another symbol or none) with the value added to their addend or REL
// field. A strip plan builds one (strip/plan.hpp); fill and future table rewriters can build their own, and the
// writer (writer.hpp) turns any of them into bytes. Everything not mentioned stays as it is.
#pragma once

#include <cstdint>
#include <optional>
#include <utility>
#include <vector>

#include "elfsieve/core/error.hpp"
#include "elfsieve/core/index.hpp"
#include "elfsieve/read/file.hpp"
#include "elfsieve/read/symbols.hpp"

namespace elfsieve {

struct section_edit {
  bool keep = true;
  bool clear_merge = false;  // write the section header without SHF_MERGE (its contents no longer merge)
  // Add a local STT_SECTION symbol for the section with this st_value (a redirect needs one and there is none).
  std::optional<std::uint64_t> add_section_symbol;
};

enum class symbol_fate : std::uint8_t {
  keep,      // written (renumbered)
  drop,      // not written; a kept relocation naming it is an error
  redirect,  // not written; relocations naming it name the redirect target instead
};

struct symbol_edit {
  symbol_fate fate = symbol_fate::keep;
  // redirect: the input symbol the relocations name now (it must stay), or the section whose added section
  // symbol they name; with neither, they name no symbol (r_sym 0, the value is absolute).
  std::optional<symbol_index> to_symbol;
  std::optional<section_index> to_added_symbol_of;
  std::int64_t delta = 0;  // redirect: added to r_addend (RELA) or to the relocated field (REL)
};

template <elf_layout L>
class object_edits {
 public:
  // No edits yet: every section and symbol of `f` stays. `symbols` is the table the writer rebuilds (the
  // object's SHT_SYMTAB), if there is one.
  object_edits(const file<L>& f, section_table<L> sections, std::optional<symbol_table<L>> symbols)
      : file_(f), sections_(std::move(sections)), symbols_(std::move(symbols)), section_edits_(sections_.size()) {
    if (symbols_) symbol_edits_.assign(symbols_->size(), symbol_edit{});
  }

  // The identity edit of `f`, with its first SHT_SYMTAB as the table to rebuild.
  [[nodiscard]] static result<object_edits> keep_everything(const file<L>& f) {
    ELFSIEVE_TRY(auto sections, f.sections());
    auto symbols = symbol_table<L>::find(sections, elf::SHT_SYMTAB);
    if (!symbols && symbols.error().code != errc::not_found) return symbols.error();
    std::optional<symbol_table<L>> table;
    if (symbols) table = std::move(symbols).value();
    return object_edits(f, std::move(sections), std::move(table));
  }

  [[nodiscard]] const file<L>& input() const noexcept { return file_; }
  [[nodiscard]] const section_table<L>& sections() const noexcept { return sections_; }
  // The symbol table to rebuild, or null when there is none or it does not stay.
  [[nodiscard]] const symbol_table<L>* symbols() const noexcept {
    return symbols_ && section_kept(symbols_->section()) ? &*symbols_ : nullptr;
  }

  // Section 0 always stays (the writer writes it clean); indices out of range are not kept.
  [[nodiscard]] bool section_kept(section_index i) const noexcept {
    return i.value < section_edits_.size() && section_edits_[i.value].keep;
  }
  // Caller contract: i < sections().size().
  [[nodiscard]] const section_edit& section(section_index i) const noexcept {
    Expects(i.value < section_edits_.size());
    return section_edits_[i.value];
  }
  // Caller contract: a symbol table was given and s < its size.
  [[nodiscard]] const symbol_edit& symbol(symbol_index s) const noexcept {
    Expects(s.value < symbol_edits_.size());
    return symbol_edits_[s.value];
  }

  // ---- building (caller contract: indices in range; section 0 and symbol 0 are never edited) ----
  void remove_section(section_index i) noexcept { edit(i).keep = false; }
  void clear_merge(section_index i) noexcept { edit(i).clear_merge = true; }
  void add_section_symbol(section_index i, std::uint64_t value) noexcept { edit(i).add_section_symbol = value; }
  void drop_symbol(symbol_index s) noexcept { edit(s) = symbol_edit{symbol_fate::drop, {}, {}, 0}; }
  void redirect_to_symbol(symbol_index s, symbol_index to, std::int64_t delta) noexcept {
    edit(s) = symbol_edit{symbol_fate::redirect, to, {}, delta};
  }
  void redirect_to_added_symbol(symbol_index s, section_index of, std::int64_t delta) noexcept {
    edit(s) = symbol_edit{symbol_fate::redirect, {}, of, delta};
  }
  void redirect_to_nothing(symbol_index s, std::int64_t delta) noexcept {
    edit(s) = symbol_edit{symbol_fate::redirect, {}, {}, delta};
  }

 private:
  section_edit& edit(section_index i) noexcept {
    Expects(i.value < section_edits_.size());
    return section_edits_[i.value];
  }
  symbol_edit& edit(symbol_index s) noexcept {
    Expects(s.value < symbol_edits_.size());
    return symbol_edits_[s.value];
  }

  file<L> file_;
  section_table<L> sections_;
  std::optional<symbol_table<L>> symbols_;
  std::vector<section_edit> section_edits_;  // per input section
  std::vector<symbol_edit> symbol_edits_;    // per symbol of symbols_
};

}  // namespace elfsieve
