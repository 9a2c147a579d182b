// The strip plan: from a view plus requests (sections to remove, symbols to remove) to a decision for every
// section (section_selection.hpp) and every .symtab symbol (symbol_decisions.hpp), with the reason for each, and
// from those decisions to the edit description the writer takes (rewrite/edits.hpp). The plan decides; it writes
// nothing.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <utility>

#include "elfsieve/analysis/reloc_index.hpp"
#include "elfsieve/core/elf.hpp"
#include "elfsieve/core/error.hpp"
#include "elfsieve/kernel/module.hpp"
#include "elfsieve/read/file.hpp"
#include "elfsieve/read/symbols.hpp"
#include "elfsieve/rewrite/edits.hpp"
#include "elfsieve/strip/decision.hpp"
#include "elfsieve/strip/section_selection.hpp"
#include "elfsieve/strip/symbol_decisions.hpp"

namespace elfsieve {

using kernel::module_signature_magic;

template <elf_layout L>
class strip_plan {
 public:
  // `remove_section(std::string_view name, const section_ref<L>&) -> bool` and
  // `request(const symbol_context<L>&) -> symbol_request` say what the caller wants; options.strip_debug adds the
  // debug sections. Relocation sections of removed sections, SHF_LINK_ORDER sections of removed sections and
  // groups left without members go with them.
  template <class SectionFilter, class SymbolRequest>
  [[nodiscard]] static result<strip_plan> create(const file<L>& f, const strip_options& options,
                                                 SectionFilter&& remove_section, SymbolRequest&& request) {
    ELFSIEVE_TRY(auto sections, f.sections());
    ELFSIEVE_TRY(auto index, reloc_index<L>::build(sections));
    const consumer_kind consumer = options.consumer != consumer_kind::automatic ? options.consumer
                                   : kernel::is_module(sections)                ? consumer_kind::module
                                                                                : consumer_kind::linker;
    ELFSIEVE_TRY(auto selection, section_selection<L>::choose(sections, options, remove_section));
    symbol_decisions<L> decisions;
    if (const auto& symtab = selection.symbols()) {
      const strip_inputs<L> in{f, sections, index, *symtab, consumer, options};
      ELFSIEVE_TRY(decisions, symbol_decisions<L>::decide(in, selection, request));
    }
    strip_plan plan(f, std::move(sections), std::move(index), options, consumer, std::move(selection),
                    std::move(decisions));
    plan.count();
    plan.trailer_ = kernel::measure_trailer(plan.file_, plan.sections_);
    return plan;
  }

  [[nodiscard]] const file<L>& object() const noexcept { return file_; }
  [[nodiscard]] const section_table<L>& sections() const noexcept { return sections_; }
  [[nodiscard]] const reloc_index<L>& relocations() const noexcept { return index_; }
  [[nodiscard]] const symbol_table<L>* symbols() const noexcept {
    return selection_.symbols() ? &*selection_.symbols() : nullptr;
  }
  [[nodiscard]] consumer_kind consumer() const noexcept { return consumer_; }
  [[nodiscard]] const strip_stats& stats() const noexcept { return stats_; }

  [[nodiscard]] bool section_kept(section_index i) const noexcept { return selection_.kept(i); }
  [[nodiscard]] bool section_unmerged(section_index i) const noexcept { return decisions_.unmerged(i); }
  // The section gets a new STT_SECTION symbol because a retargeted relocation needs one and it has none.
  [[nodiscard]] bool needs_section_symbol(section_index i) const noexcept { return decisions_.needs_section_symbol(i); }
  // The existing STT_SECTION symbol of section i (the first one), if any.
  [[nodiscard]] std::optional<symbol_index> section_symbol(section_index i) const noexcept {
    return decisions_.section_symbol(i);
  }
  // Caller contract: a symbols() table exists and s is in range.
  [[nodiscard]] const symbol_decision& decision(symbol_index s) const noexcept { return decisions_[s]; }
  [[nodiscard]] std::span<const symbol_decision> decisions() const noexcept { return decisions_.all(); }
  // Bytes after the last byte any header or section covers (the kernel's module signature lives there).
  [[nodiscard]] std::uint64_t trailer_bytes() const noexcept { return trailer_.bytes; }
  [[nodiscard]] bool has_module_signature() const noexcept { return trailer_.module_signature; }

  // The edit description the writer takes: the kept sections (SHF_MERGE cleared where unmerged, section symbols
  // added where retargets need them), the kept symbols, and each retargeted or resolved symbol's relocations
  // redirected with its value folded in.
  [[nodiscard]] object_edits<L> edits() const {
    object_edits<L> e(file_, sections_, selection_.symbols());
    const symbol_table<L>* symtab = symbols();
    for (std::uint32_t i = 0; i < sections_.size(); ++i) {
      const section_index s(i);
      if (!section_kept(s)) e.remove_section(s);
      if (section_unmerged(s)) e.clear_merge(s);
      if (symtab != nullptr && needs_section_symbol(s))
        e.add_section_symbol(s, decisions_.section_symbol_value(inputs(*symtab), s));
    }
    if (symtab == nullptr) return e;
    for (auto sym : *symtab) {
      const symbol_decision& d = decision(sym.index());
      switch (d.action) {
        case symbol_action::keep: break;
        case symbol_action::remove: e.drop_symbol(sym.index()); break;
        case symbol_action::retarget: {
          const section_index home(d.detail);
          const std::int64_t delta = fold(*symtab, sym);
          if (const auto existing = section_symbol(home)) e.redirect_to_symbol(sym.index(), *existing, delta);
          else e.redirect_to_added_symbol(sym.index(), home, delta);
          break;
        }
        case symbol_action::resolve: e.redirect_to_nothing(sym.index(), fold(*symtab, sym)); break;
      }
    }
    return e;
  }

 private:
  strip_plan(const file<L>& f, section_table<L> sections, reloc_index<L> index, const strip_options& options,
             consumer_kind consumer, section_selection<L> selection, symbol_decisions<L> decisions)
      : file_(f),
        sections_(std::move(sections)),
        index_(std::move(index)),
        options_(options),
        consumer_(consumer),
        selection_(std::move(selection)),
        decisions_(std::move(decisions)) {}

  [[nodiscard]] strip_inputs<L> inputs(const symbol_table<L>& symtab) const noexcept {
    return strip_inputs<L>{file_, sections_, index_, symtab, consumer_, options_};
  }

  // The value relocations naming `sym` gain when redirected (the plan checked that it fits wherever it goes).
  [[nodiscard]] std::int64_t fold(const symbol_table<L>& symtab, const symbol_ref<L>& sym) const {
    auto where = symtab.section_of(sym);
    return where ? decisions_.fold_value(inputs(symtab), sym, where.value()) : 0;
  }

  void count() {
    stats_.sections_removed = selection_.removed_count();
    for (std::uint32_t i = 0; i < sections_.size(); ++i) {
      stats_.section_symbols_added += needs_section_symbol(section_index(i)) ? 1u : 0u;
      stats_.sections_unmerged += section_unmerged(section_index(i)) ? 1u : 0u;
    }
    for (const symbol_decision& d : decisions_.all()) {
      switch (d.action) {
        case symbol_action::remove: stats_.symbols_removed += d.is_section ? 0u : 1u; break;
        case symbol_action::retarget:
          ++stats_.symbols_retargeted;
          stats_.relocations_retargeted += d.relocations;
          break;
        case symbol_action::resolve:
          ++stats_.symbols_resolved;
          stats_.relocations_resolved += d.relocations;
          break;
        case symbol_action::keep:
          if (d.request != symbol_request::keep) {
            ++stats_.symbols_kept;
            ++stats_.kept_by_reason[static_cast<std::size_t>(d.reason)];
          }
          break;
      }
    }
  }

  file<L> file_;
  section_table<L> sections_;
  reloc_index<L> index_;
  strip_options options_;
  consumer_kind consumer_ = consumer_kind::linker;
  section_selection<L> selection_;
  symbol_decisions<L> decisions_;
  strip_stats stats_;
  kernel::trailer_info trailer_;
};

}  // namespace elfsieve
