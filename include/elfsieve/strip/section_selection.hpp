// Section selection: which sections a strip removes. The caller's requests (and --strip-debug) choose sections;
// the rules below add what must go with them and refuse what cannot be written faithfully. Each rule is one
// member function, applied in the order choose() lists them.
#pragma once

#include <algorithm>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "elfsieve/analysis/policy.hpp"
#include "elfsieve/core/elf.hpp"
#include "elfsieve/core/error.hpp"
#include "elfsieve/core/index.hpp"
#include "elfsieve/read/file.hpp"
#include "elfsieve/read/groups.hpp"
#include "elfsieve/read/symbols.hpp"
#include "elfsieve/strip/decision.hpp"

namespace elfsieve {

template <elf_layout L>
class section_selection {
 public:
  // `remove_section(std::string_view name, const section_ref<L>&) -> bool` says what the caller wants removed.
  template <class SectionFilter>
  [[nodiscard]] static result<section_selection> choose(const section_table<L>& sections, const strip_options& options,
                                                        SectionFilter& remove_section) {
    // GNU strip refuses a corrupt e_shstrndx ("corrupt string table index") before it writes anything.
    ELFSIEVE_TRY_VOID(sections.names_status());
    section_selection s(sections);
    ELFSIEVE_TRY_VOID(s.find_symbol_table(sections));
    ELFSIEVE_TRY_VOID(s.refuse_unwritable_tables(sections));
    ELFSIEVE_TRY_VOID(s.apply_requests(sections, options, remove_section));
    ELFSIEVE_TRY_VOID(s.remove_dependents(sections));
    ELFSIEVE_TRY_VOID(s.keep_relocations_with_their_target(sections));
    ELFSIEVE_TRY_VOID(s.settle_groups(sections));
    ELFSIEVE_TRY_VOID(s.refuse_dangling_links(sections));
    ELFSIEVE_TRY_VOID(s.refuse_shared_string_tables(sections));
    return s;
  }

  // The one symbol table a strip rewrites (the object's SHT_SYMTAB), if any.
  [[nodiscard]] const std::optional<symbol_table<L>>& symbols() const noexcept { return symtab_; }
  [[nodiscard]] bool kept(section_index i) const noexcept {
    return i.value < removed_.size() && removed_[i.value] == 0;
  }
  // Per section, non-zero when it goes (the form symbol_context::removed_sections takes).
  [[nodiscard]] std::span<const std::uint8_t> removed() const noexcept { return removed_; }
  [[nodiscard]] std::uint32_t removed_count() const noexcept {
    return static_cast<std::uint32_t>(std::count(removed_.begin(), removed_.end(), std::uint8_t{1}));
  }
  // The signature symbols of the groups that stay, sorted.
  [[nodiscard]] std::span<const symbol_index> signatures() const noexcept { return signatures_; }
  [[nodiscard]] bool is_signature(symbol_index s) const noexcept {
    return std::binary_search(signatures_.begin(), signatures_.end(), s);
  }

  // Sections the writer rebuilds and never drops on request: section 0, the section names, the symbol table, its
  // strings and its extended section indices.
  [[nodiscard]] bool is_protected(const section_table<L>& sections, section_index i) const noexcept {
    if (i.value == 0 || i == sections.shstrndx()) return true;
    if (!symtab_) return false;
    const auto& sym = sections[symtab_->section()];
    if (i == symtab_->section() || i.value == sym.link()) return true;
    const auto s = sections[i];
    return s.type() == elf::SHT_SYMTAB_SHNDX && s.link() == symtab_->section().value;
  }

  // Removes one more section after the choice (the symbol decisions drop an empty symbol table).
  void remove(section_index i) noexcept {
    if (i.value < removed_.size()) removed_[i.value] = 1;
  }

 private:
  explicit section_selection(const section_table<L>& sections) : removed_(sections.size(), 0) {}

  [[nodiscard]] static bool is_relocation_section(const section_ref<L>& s) noexcept {
    return s.type() == elf::SHT_REL || s.type() == elf::SHT_RELA;
  }
  // The section a relocation section applies to, when sh_info names one.
  [[nodiscard]] static std::optional<section_index> relocation_target(const section_table<L>& sections,
                                                                      const section_ref<L>& s) noexcept {
    if (!is_relocation_section(s) || s.info() == 0 || s.info() >= sections.size()) return std::nullopt;
    return section_index(s.info());
  }

  // Rule: exactly one SHT_SYMTAB, since the writer rebuilds one symbol table.
  result<void> find_symbol_table(const section_table<L>& sections) {
    bool found = false;
    for (auto s : sections) {
      if (s.type() != elf::SHT_SYMTAB) continue;
      if (found) return make_error(errc::multiple_symbol_tables, s.index(), s.offset());
      found = true;
      ELFSIEVE_TRY(symtab_, symbol_table<L>::create(sections, s.index()));
    }
    return {};
  }

  // Rule: the writer rebuilds the symbol table, its strings, the section names, groups and relocations. One of
  // the first three that is loaded would change the image; relocations that apply to any of them would patch
  // bytes that no longer exist: refuse rather than guess.
  result<void> refuse_unwritable_tables(const section_table<L>& sections) const {
    for (auto s : sections) {
      if (s.index().value != 0 && s.has_flag(elf::SHF_ALLOC) && is_protected(sections, s.index()))
        return make_error(errc::allocated_table, s.index(), s.offset());
      const auto target = relocation_target(sections, s);
      if (!target) continue;
      const auto t = sections[*target];
      if (is_protected(sections, *target) || t.type() == elf::SHT_GROUP || is_relocation_section(t))
        return make_error(errc::relocations_against_rebuilt_table, s.index(), s.offset());
    }
    return {};
  }

  // Rule: what the caller asks for goes, and with --strip-debug the debug sections. --strip-debug goes by name and
  // never fails: a symbol table, string table or group that happens to carry a debug name stays. Only an explicit
  // request to remove such a section is an error.
  template <class SectionFilter>
  result<void> apply_requests(const section_table<L>& sections, const strip_options& options,
                              SectionFilter& remove_section) {
    for (auto s : sections) {
      if (s.index().value == 0) continue;
      ELFSIEVE_TRY(auto name, sections.name(s));
      const bool debug = options.strip_debug && is_debug_section(sections, s.index()) &&
                         !is_protected(sections, s.index()) && s.type() != elf::SHT_GROUP;
      if (!debug && !remove_section(name, s)) continue;
      if (is_protected(sections, s.index())) return make_error(errc::rebuilt_table_removed, s.index(), s.offset());
      if (s.type() == elf::SHT_GROUP) return make_error(errc::group_members_kept, s.index(), s.offset());
      removed_[s.index().value] = 1;
    }
    return {};
  }

  // Rule: dependents follow what they depend on: relocation sections their target (sh_info), SHF_LINK_ORDER
  // sections their sh_link. One pass over a reverse-edge list, so a long chain costs no more than a short one.
  result<void> remove_dependents(const section_table<L>& sections) {
    const std::size_t n = sections.size();
    auto depends_on = [&](const section_ref<L>& s) -> std::uint32_t {
      if (auto target = relocation_target(sections, s)) return target->value;
      if (s.has_flag(elf::SHF_LINK_ORDER) && s.link() != 0 && s.link() < n) return s.link();
      return 0;
    };
    std::vector<std::uint32_t> edge_start(n + 1, 0), edges;
    for (auto s : sections)
      if (auto d = depends_on(s); d != 0) ++edge_start[d + 1];
    for (std::size_t i = 0; i < n; ++i) edge_start[i + 1] += edge_start[i];
    edges.resize(edge_start[n]);
    {
      std::vector<std::uint32_t> next(edge_start.begin(), edge_start.end() - 1);
      for (auto s : sections)
        if (auto d = depends_on(s); d != 0) edges[next[d]++] = s.index().value;
    }
    std::vector<std::uint32_t> work;
    for (std::uint32_t i = 0; i < n; ++i)
      if (removed_[i]) work.push_back(i);
    while (!work.empty()) {
      const std::uint32_t i = work.back();
      work.pop_back();
      for (std::uint32_t k = edge_start[i]; k < edge_start[i + 1]; ++k) {
        const section_index d(edges[k]);
        if (removed_[d.value]) continue;
        if (is_protected(sections, d))
          return make_error(errc::protected_section_needs_removed, d, sections[d].offset());
        removed_[d.value] = 1;
        work.push_back(d.value);
      }
    }
    return {};
  }

  // Rule: dropping relocations would change what their target means: a relocation section asked for by name goes
  // only with the section it applies to.
  result<void> keep_relocations_with_their_target(const section_table<L>& sections) const {
    for (auto s : sections) {
      const auto target = relocation_target(sections, s);
      if (target && removed_[s.index().value] && !removed_[target->value])
        return make_error(errc::relocations_would_be_lost, s.index(), s.offset());
    }
    return {};
  }

  // Rule: groups must be valid; a group whose members all go, goes too; a kept group's signature must be a symbol
  // of the symbol table (and stays, see symbol_decisions).
  result<void> settle_groups(const section_table<L>& sections) {
    for (auto s : sections) {
      if (s.type() != elf::SHT_GROUP) continue;
      ELFSIEVE_TRY(auto group, section_group<L>::create(sections, s.index()));
      bool any_kept = false;
      for (std::size_t m = 0; m < group.size(); ++m) any_kept |= kept(group.member(m));
      if (!any_kept && group.size() > 0) removed_[s.index().value] = 1;
      if (!kept(s.index()) || !symtab_) continue;
      if (group.signature_table() != symtab_->section() || group.signature().value >= symtab_->size())
        return make_error(errc::bad_group_signature, s.index(), s.offset());
      signatures_.push_back(group.signature());
    }
    std::sort(signatures_.begin(), signatures_.end());
    return {};
  }

  // Rule: anything else that names a removed section through sh_link or sh_info would be left dangling.
  result<void> refuse_dangling_links(const section_table<L>& sections) const {
    const std::size_t n = sections.size();
    for (auto s : sections) {
      if (s.index().value == 0 || !kept(s.index())) continue;
      const bool link_is_section = s.link() != 0 && s.type() != elf::SHT_GROUP;
      const bool info_is_section = elf::sh_info_is_section(s.type(), s.flags()) && s.info() != 0;
      if ((link_is_section && s.link() < n && !kept(section_index(s.link()))) ||
          (info_is_section && s.info() < n && !kept(section_index(s.info()))))
        return make_error(errc::link_to_removed_section, s.index(), s.offset());
    }
    return {};
  }

  // Rule: the writer rebuilds the symbol string table and the section names: nothing else may read names from them.
  result<void> refuse_shared_string_tables(const section_table<L>& sections) const {
    if (!symtab_) return {};
    const std::uint32_t strtab = sections[symtab_->section()].link();
    for (auto s : sections) {
      if (s.index().value == 0 || !kept(s.index()) || s.index() == symtab_->section()) continue;
      const std::uint32_t t = s.type();
      const bool names_from_link = t == elf::SHT_SYMTAB || t == elf::SHT_DYNSYM || t == elf::SHT_DYNAMIC ||
                                   t == elf::SHT_GNU_verdef || t == elf::SHT_GNU_verneed;
      if (names_from_link && s.link() != 0 && (s.link() == strtab || s.link() == sections.shstrndx().value))
        return make_error(errc::shared_string_table, s.index(), s.offset());
    }
    return {};
  }

  std::optional<symbol_table<L>> symtab_;
  std::vector<std::uint8_t> removed_;     // per section: 1 when it goes
  std::vector<symbol_index> signatures_;  // sorted signature symbols of kept groups
};

}  // namespace elfsieve
