// Symbol decisions: for every .symtab symbol, what a strip does with it (keep, remove, retarget, resolve) and why.
// A symbol that kept relocations name is removed by retargeting those relocations to its section's STT_SECTION
// symbol (value folded into the addend, or into the field for REL) or, for SHN_ABS symbols, by resolving them
// (r_sym 0, value folded in) -- but only where that means the same thing to whoever consumes the output: the
// kernel's module loader (a finished .ko) or a linker (a .o linked again; GAS's adjustable-fixup rules).
// Otherwise the symbol stays and the decision says why (KERNEL.md, "Retargeting a relocation").
#pragma once

#include <algorithm>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "elfsieve/analysis/policy.hpp"
#include "elfsieve/analysis/reloc_index.hpp"
#include "elfsieve/analysis/reloc_kinds.hpp"
#include "elfsieve/core/elf.hpp"
#include "elfsieve/core/error.hpp"
#include "elfsieve/core/index.hpp"
#include "elfsieve/read/file.hpp"
#include "elfsieve/read/relocations.hpp"
#include "elfsieve/read/symbols.hpp"
#include "elfsieve/rewrite/rel_field.hpp"
#include "elfsieve/strip/decision.hpp"
#include "elfsieve/strip/section_selection.hpp"

namespace elfsieve {

// REL fields that share bytes with another REL field of the same section: patching one would change the other's
// addend, so neither may be patched. Fields of unknown width count as a whole word.
template <elf_layout L>
class rel_field_overlaps {
 public:
  [[nodiscard]] static rel_field_overlaps find(const file<L>& f, const section_table<L>& sections,
                                               const reloc_index<L>& index) {
    rel_field_overlaps o;
    o.base_.assign(sections.size(), std::nullopt);
    std::vector<field> fields;
    for (std::uint32_t t = 1; t < sections.size(); ++t) {
      fields.clear();
      for (section_index rs : index.relocation_sections_for(section_index(t))) o.collect(f, index, rs, fields);
      o.mark_overlaps(fields);
    }
    return o;
  }

  // Whether entry `entry` of REL section `rs` overlaps another field.
  [[nodiscard]] bool overlaps(section_index rs, std::uint32_t entry) const noexcept {
    if (rs.value >= base_.size() || !base_[rs.value]) return false;
    return overlap_[*base_[rs.value] + entry];
  }

 private:
  struct field {
    std::uint64_t begin, end;
    std::uint32_t flat;  // position in overlap_
  };

  void collect(const file<L>& f, const reloc_index<L>& index, section_index rs, std::vector<field>& fields) {
    const reloc_table<L>* table = index.table(rs);
    if (table == nullptr || table->is_rela()) return;
    if (!base_[rs.value]) {
      base_[rs.value] = static_cast<std::uint32_t>(overlap_.size());
      overlap_.resize(overlap_.size() + table->size(), false);
    }
    for (std::size_t e = 0; e < table->size(); ++e) {
      const relocation rel = (*table)[e];
      const reloc_kind* kind = find_reloc_kind(f.machine(), rel.type);
      const std::uint64_t width = kind != nullptr && kind->width != 0 ? kind->width : sizeof(typename L::uword_t);
      const std::uint64_t begin = rel.offset;
      const std::uint64_t end = begin + width < begin ? ~std::uint64_t{0} : begin + width;
      fields.push_back({begin, end, static_cast<std::uint32_t>(*base_[rs.value] + e)});
    }
  }

  // One sweep over the fields sorted by start: a field overlaps an earlier one iff it begins before the furthest
  // end so far. Any other earlier field it overlaps also overlaps the one holding that end, so it is already marked.
  void mark_overlaps(std::vector<field>& fields) {
    std::sort(fields.begin(), fields.end(),
              [](const field& a, const field& b) { return a.begin != b.begin ? a.begin < b.begin : a.flat < b.flat; });
    std::uint64_t furthest = 0;
    std::size_t holder = 0;
    for (std::size_t i = 0; i < fields.size(); ++i) {
      if (i > 0 && fields[i].begin < furthest) {
        overlap_[fields[i].flat] = true;
        overlap_[fields[holder].flat] = true;
      }
      if (i == 0 || fields[i].end > furthest) {
        furthest = fields[i].end;
        holder = i;
      }
    }
  }

  std::vector<std::optional<std::uint32_t>> base_;  // per REL section: its first entry in overlap_
  std::vector<bool> overlap_;                       // per REL entry: its field overlaps another
};

// What deciding reads: the object, its tables and who will consume the output.
template <elf_layout L>
struct strip_inputs {
  const file<L>& object;
  const section_table<L>& sections;
  const reloc_index<L>& relocations;
  const symbol_table<L>& symbols;
  consumer_kind consumer;
  const strip_options& options;
};

template <elf_layout L>
class symbol_decisions {
 public:
  // Decides every symbol. `request(const symbol_context<L>&) -> symbol_request` says what the caller wants. May
  // remove sections from `selection` (a symbol table left empty goes, as with BFD).
  template <class SymbolRequest>
  [[nodiscard]] static result<symbol_decisions> decide(const strip_inputs<L>& in, section_selection<L>& selection,
                                                       SymbolRequest& request) {
    symbol_decisions d;
    d.section_flags_.assign(in.sections.size(), 0);
    d.decisions_.assign(in.symbols.size(), symbol_decision{});
    ELFSIEVE_TRY_VOID(d.find_section_symbols(in));
    d.overlaps_ = rel_field_overlaps<L>::find(in.object, in.sections, in.relocations);
    for (auto s : in.symbols) {
      ELFSIEVE_TRY(auto context, make_symbol_context(in.sections, in.symbols, s, &in.relocations));
      context.removed_sections = selection.removed();
      ELFSIEVE_TRY_VOID(d.decide_one(in, selection, context, request));
    }
    d.commit_retargets();
    d.drop_unnamed_section_symbols(in);
    d.drop_empty_symbol_table(in, selection);
    d.overlaps_ = {};
    d.pending_unmerge_ = {};
    return d;
  }

  [[nodiscard]] std::span<const symbol_decision> all() const noexcept { return decisions_; }
  [[nodiscard]] const symbol_decision& operator[](symbol_index s) const noexcept {
    Expects(s.value < decisions_.size());
    return decisions_[s.value];
  }
  // The existing STT_SECTION symbol of section i (the first one), if any.
  [[nodiscard]] std::optional<symbol_index> section_symbol(section_index i) const noexcept {
    return i.value < section_symbol_.size() ? section_symbol_[i.value] : std::nullopt;
  }
  // The section gets a new STT_SECTION symbol because a retargeted relocation needs one and it has none.
  [[nodiscard]] bool needs_section_symbol(section_index i) const noexcept {
    return i.value < section_flags_.size() && (section_flags_[i.value] & needs_symbol) != 0;
  }
  // The section loses SHF_MERGE (--unmerge) because a retargeted relocation names it with an addend.
  [[nodiscard]] bool unmerged(section_index i) const noexcept {
    return i.value < section_flags_.size() && (section_flags_[i.value] & unmerge) != 0;
  }

  // The value a relocation's target section symbol has: the existing one's, else 0 (ET_REL) or sh_addr.
  [[nodiscard]] std::uint64_t section_symbol_value(const strip_inputs<L>& in, section_index i) const noexcept {
    if (const auto s = section_symbol(i)) return in.symbols[*s].value();
    return in.object.type() == elf::ET_REL ? 0 : in.sections[i].addr();
  }

  // What a relocation that names symbol s gains when it names the section symbol instead (or nothing, for an
  // absolute symbol): st_value minus the section symbol's value, in the address arithmetic of the class (an
  // ELF32 value wraps at 32 bits).
  [[nodiscard]] std::int64_t fold_value(const strip_inputs<L>& in, const symbol_ref<L>& s,
                                        const symbol_section& where) const noexcept {
    const bool absolute = where.where == symbol_section::kind::absolute;
    const std::uint64_t raw = absolute ? s.value() : s.value() - section_symbol_value(in, where.index);
    if constexpr (L::is64) return static_cast<std::int64_t>(raw);
    else return static_cast<std::int32_t>(static_cast<std::uint32_t>(raw));
  }

 private:
  static constexpr std::uint8_t needs_symbol = 1, unmerge = 2;

  // Existing section symbols first: retargeting needs them before any symbol is decided.
  result<void> find_section_symbols(const strip_inputs<L>& in) {
    section_symbol_.assign(in.sections.size(), std::nullopt);
    for (auto s : in.symbols) {
      if (s.type() != elf::STT_SECTION || s.index().value == 0) continue;
      ELFSIEVE_TRY(auto where, in.symbols.section_of(s));
      if (where.is_regular() && !section_symbol_[where.index.value]) section_symbol_[where.index.value] = s.index();
    }
    return {};
  }

  // The relocations that name symbol `s` from relocation sections that stay.
  template <class F>
  static void for_each_kept_reference(const strip_inputs<L>& in, const section_selection<L>& selection, symbol_index s,
                                      F&& f) {
    // Section 0 is never written as a relocation section, whatever its type field says.
    for (const reloc_ref& r : in.relocations.references(in.symbols.section(), s))
      if (r.section.value != 0 && selection.kept(r.section)) f(r);
  }

  template <class SymbolRequest>
  result<void> decide_one(const strip_inputs<L>& in, const section_selection<L>& selection, const symbol_context<L>& c,
                          SymbolRequest& request) {
    const symbol_index index = c.symbol.index();
    symbol_decision& d = decisions_[index.value];
    std::uint32_t kept_refs = 0;
    reloc_ref first_ref{};
    for_each_kept_reference(in, selection, index, [&](const reloc_ref& r) {
      if (kept_refs++ == 0) first_ref = r;
    });
    d.relocations = kept_refs;
    d.is_section = c.is_section_symbol();

    if (c.is_null_symbol()) {
      d.reason = keep_reason::null_symbol;
      return {};
    }
    if (c.where.is_regular() && !selection.kept(c.where.index)) {
      if (kept_refs > 0) {
        const reloc_table<L>* t = in.relocations.table(first_ref.section);
        return with_detail(make_error(errc::symbol_in_removed_section, first_ref.section,
                                      t ? t->entry_file_offset(first_ref.entry) : 0),
                           index.value);
      }
      if (selection.is_signature(index)) {
        const auto home = in.sections[c.where.index];
        return make_error(errc::group_signature_removed, home.index(), home.offset());
      }
      d.action = symbol_action::remove;
      d.reason = keep_reason::in_removed_section;
      return {};
    }
    if (selection.is_signature(index)) {
      if (!c.is_section_symbol()) d.request = request(c);
      d.reason = keep_reason::group_signature;
      return {};
    }
    if (c.is_section_symbol()) {
      d.reason = keep_reason::section_symbol;
      return {};
    }
    d.request = request(c);
    if (d.request == symbol_request::keep) {
      d.reason = keep_reason::not_requested;
      return {};
    }
    if (kept_refs == 0) {
      d.action = symbol_action::remove;
      d.reason = keep_reason::none;
      return {};
    }
    if (d.request == symbol_request::remove_if_unreferenced) {
      d.reason = keep_reason::needed;
      return {};
    }
    try_retarget(in, selection, c, d);
    return {};
  }

  static void keep_because(symbol_decision& d, keep_reason why, std::uint32_t detail = 0) {
    d.action = symbol_action::keep;
    d.reason = why;
    d.detail = detail;
  }

  // Why the symbol itself (not one of its relocations) cannot be retargeted, or none.
  [[nodiscard]] static keep_reason symbol_rule(const strip_inputs<L>& in, const symbol_context<L>& c) {
    using k = symbol_section::kind;
    const std::uint16_t machine = in.object.machine();
    const bool linker = in.consumer == consumer_kind::linker;
    const auto& s = c.symbol;
    switch (c.where.where) {
      case k::undefined: return keep_reason::undefined;
      case k::common: return keep_reason::common;
      case k::reserved: return keep_reason::reserved_index;
      case k::regular:
      case k::absolute: break;
    }
    if (reloc_kinds_of(machine).empty()) return keep_reason::unknown_machine;
    if (s.type() == elf::STT_TLS) return keep_reason::tls_symbol;
    if (s.type() == elf::STT_GNU_IFUNC) return keep_reason::ifunc_symbol;
    if (c.name == ".TOC.") return keep_reason::toc_base;
    if (c.where.where == k::regular) {
      const auto home = in.sections[c.where.index];
      if (home.has_flag(elf::SHF_TLS)) return keep_reason::tls_symbol;
      if (machine == elf::EM_PPC64 && c.section_name() == ".opd") return keep_reason::opd_entry;
      if (linker && home.has_flag(elf::SHF_GROUP)) return keep_reason::group_member;
    }
    if (linker && s.bind() != elf::STB_LOCAL) return keep_reason::preemptible;
    return keep_reason::none;
  }

  // The outcome of checking one relocation: a reason to keep (with the relocation type) or fine, possibly only
  // with --unmerge.
  struct relocation_check {
    keep_reason why = keep_reason::none;
    std::uint32_t type = 0;
    bool needs_unmerge = false;
  };

  // Whether retargeting (or resolving) relocation r keeps its meaning for the consumer once it gains `delta`.
  [[nodiscard]] relocation_check check_relocation(const strip_inputs<L>& in, const symbol_context<L>& c,
                                                  const reloc_ref& r, std::int64_t delta) const {
    const std::uint16_t machine = in.object.machine();
    const bool linker = in.consumer == consumer_kind::linker;
    const bool absolute = c.where.where == symbol_section::kind::absolute;
    const reloc_table<L>& table = *in.relocations.table(r.section);
    const relocation rel = table[r.entry];
    auto fail = [&](keep_reason reason, std::uint32_t type = 0) { return relocation_check{reason, type, false}; };
    auto rname = in.sections.name(in.sections[r.section]);
    if (rname && rname.value().starts_with(".klp.rela")) return fail(keep_reason::livepatch);
    if (table.target_section().value == 0) return fail(keep_reason::dynamic_relocation);
    const reloc_kind* kind = find_reloc_kind(machine, rel.type);
    if (kind == nullptr) return fail(keep_reason::unknown_type, rel.type);
    if (kind->cls == reloc_class::other) return fail(keep_reason::not_equivalent, rel.type);
    // The module loader applies relocations to allocated sections only; the rest (debug info) are read by
    // debuggers, which compute S + A like any linker.
    if (in.consumer == consumer_kind::module && !kind->loader &&
        in.sections[table.target_section()].has_flag(elf::SHF_ALLOC))
      return fail(keep_reason::not_loader_type, rel.type);
    if (absolute && kind->cls != reloc_class::absolute) return fail(keep_reason::not_absolute, rel.type);
    if (!absolute && is_branch_reloc(machine, rel.type) && (c.symbol.other() & 0xe0) != 0)
      return fail(keep_reason::local_entry, rel.type);
    std::int64_t addend = rel.addend;
    if (!table.is_rela()) {
      if (overlaps_.overlaps(r.section, r.entry)) return fail(keep_reason::field_overlap, rel.type);
      const auto target = in.sections[table.target_section()];
      auto contents = in.sections.data(target);
      const auto field =
          contents && target.type() != elf::SHT_NOBITS
              ? read_rel_field<L>(*contents, rel_field_position(in.object.type(), target.addr(), rel.offset),
                                  kind->width)
              : std::nullopt;
      if (!field) return fail(keep_reason::field_out_of_bounds, rel.type);
      addend = field->value;
      if (!field->fits(delta)) return fail(keep_reason::field_overflow, rel.type);
    } else if (!addend_fits<L>(rel.addend, delta)) {
      return fail(keep_reason::addend_overflow, rel.type);
    }
    const bool into_merge = !absolute && in.sections[c.where.index].has_flag(elf::SHF_MERGE);
    if (linker && into_merge && (kind->cls == reloc_class::pc_relative || addend != 0)) {
      if (!in.options.unmerge) return fail(keep_reason::merge_section, rel.type);
      return relocation_check{keep_reason::none, 0, true};
    }
    return {};
  }

  // Retarget (or resolve) every kept relocation that names the symbol, if each one keeps its meaning for the
  // consumer; otherwise keep the symbol with the first reason found.
  void try_retarget(const strip_inputs<L>& in, const section_selection<L>& selection, const symbol_context<L>& c,
                    symbol_decision& d) {
    if (const keep_reason why = symbol_rule(in, c); why != keep_reason::none) return keep_because(d, why);
    const bool absolute = c.where.where == symbol_section::kind::absolute;
    // The value each relocation gains: the symbol's offset from the section symbol, or the absolute value.
    const std::int64_t delta = fold_value(in, c.symbol, c.where);
    relocation_check failed;
    bool needs_unmerge = false;
    for_each_kept_reference(in, selection, c.symbol.index(), [&](const reloc_ref& r) {
      if (failed.why != keep_reason::none) return;
      const relocation_check check = check_relocation(in, c, r, delta);
      if (check.why != keep_reason::none) failed = check;
      needs_unmerge |= check.needs_unmerge;
    });
    if (failed.why != keep_reason::none) return keep_because(d, failed.why, failed.type);
    d.action = absolute ? symbol_action::resolve : symbol_action::retarget;
    d.reason = keep_reason::none;
    d.detail = absolute ? 0 : c.where.index.value;
    if (needs_unmerge) {
      pending_unmerge_.resize(decisions_.size(), false);
      pending_unmerge_[c.symbol.index().value] = true;
    }
  }

  // Commit what the retargets need: new section symbols, SHF_MERGE cleared.
  void commit_retargets() {
    for (std::size_t i = 0; i < decisions_.size(); ++i) {
      const symbol_decision& d = decisions_[i];
      if (d.action != symbol_action::retarget) continue;
      if (!section_symbol_[d.detail]) section_flags_[d.detail] |= needs_symbol;
      if (pending_unmerge_.size() > i && pending_unmerge_[i]) section_flags_[d.detail] |= unmerge;
    }
  }

  // Whether the section symbols of kept sections stay whatever names them (strip_options::section_symbols).
  [[nodiscard]] static bool keeps_all_section_symbols(const strip_inputs<L>& in) noexcept {
    switch (in.options.section_symbols) {
      case section_symbol_rule::drop_unused: return false;
      case section_symbol_rule::keep_in_executables: return in.object.type() != elf::ET_REL;
      case section_symbol_rule::keep_all: return true;
    }
    return false;
  }

  // Like BFD, drop the section symbols nothing names: no kept relocation, no group, no retarget.
  void drop_unnamed_section_symbols(const strip_inputs<L>& in) {
    if (keeps_all_section_symbols(in)) return;
    std::vector<bool> targeted(section_flags_.size(), false);
    for (const symbol_decision& d : decisions_)
      if (d.action == symbol_action::retarget) targeted[d.detail] = true;
    for (std::uint32_t i = 1; i < decisions_.size(); ++i) {
      symbol_decision& d = decisions_[i];
      if (!d.is_section || d.action != symbol_action::keep || d.reason != keep_reason::section_symbol) continue;
      if (d.relocations != 0) continue;
      auto where = in.symbols.section_of(in.symbols[symbol_index(i)]);
      if (where && where->is_regular() && targeted[where->index.value] &&
          section_symbol_[where->index.value] == symbol_index(i))
        continue;
      d.action = symbol_action::remove;
      d.reason = keep_reason::none;
    }
  }

  // Like BFD, write no symbol table at all when nothing but symbol 0 and section symbols would be left in it and
  // no kept section uses it (no relocations, groups or links name it).
  void drop_empty_symbol_table(const strip_inputs<L>& in, section_selection<L>& selection) {
    const section_index symtab = in.symbols.section();
    const bool section_symbols_count = keeps_all_section_symbols(in);
    for (std::size_t i = 1; i < decisions_.size(); ++i) {
      const symbol_decision& d = decisions_[i];
      if (d.action == symbol_action::keep && (section_symbols_count || d.reason != keep_reason::section_symbol)) return;
    }
    const std::uint32_t strtab = in.sections[symtab].link();
    for (auto s : in.sections) {
      // Section 0's fields are escapes, not links: the writer clears them.
      if (s.index().value == 0 || !selection.kept(s.index()) || s.index() == symtab) continue;
      if (s.type() == elf::SHT_SYMTAB_SHNDX && s.link() == symtab.value) continue;
      if (s.link() == symtab.value || (s.link() == strtab && strtab != 0)) return;
      if (s.index().value == strtab && strtab == in.sections.shstrndx().value) return;
    }
    for (auto s : in.sections) {
      const bool goes = s.index() == symtab || (s.index().value == strtab && strtab != 0) ||
                        (s.type() == elf::SHT_SYMTAB_SHNDX && s.link() == symtab.value);
      if (goes) selection.remove(s.index());
    }
    for (auto& d : decisions_)
      if (d.action == symbol_action::keep && d.reason == keep_reason::section_symbol) {
        d.action = symbol_action::remove;
        d.reason = keep_reason::in_removed_section;
      }
  }

  std::vector<symbol_decision> decisions_;                   // per .symtab symbol
  std::vector<std::optional<symbol_index>> section_symbol_;  // per section: its first STT_SECTION symbol
  std::vector<std::uint8_t> section_flags_;                  // per section: needs_symbol, unmerge
  std::vector<bool> pending_unmerge_;                        // per symbol, while deciding
  rel_field_overlaps<L> overlaps_;                           // while deciding
};

}  // namespace elfsieve
