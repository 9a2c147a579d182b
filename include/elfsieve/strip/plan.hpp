// The strip plan: from a view plus requests (sections to remove, symbols to remove) to a decision for every
// section and every .symtab symbol, with the reason for each. A symbol that kept relocations name is removed by
// retargeting those relocations to its section's STT_SECTION symbol (value folded into the addend, or into the
// field for REL) or, for SHN_ABS symbols, by resolving them (r_sym 0, value folded in) -- but only where that
// means the same thing to whoever consumes the output: the kernel's module loader (a finished .ko) or a linker
// (a .o linked again; GAS's adjustable-fixup rules). Otherwise the symbol stays and the plan says why.
// The writer (writer.hpp) turns a plan into bytes; this header decides, it writes nothing.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <limits>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "elfsieve/core/elf.hpp"
#include "elfsieve/core/endian.hpp"
#include "elfsieve/core/error.hpp"
#include "elfsieve/read/file.hpp"
#include "elfsieve/read/groups.hpp"
#include "elfsieve/analysis/policy.hpp"
#include "elfsieve/read/relocations.hpp"
#include "elfsieve/analysis/reloc_index.hpp"
#include "elfsieve/analysis/reloc_kinds.hpp"
#include "elfsieve/read/symbols.hpp"

namespace elfsieve {

// Who reads the output. module: the kernel's module loader (no string merging, no symbol preemption, only the
// loader's relocation types). linker: ld (merging, preemption, COMDAT groups, every relocation type).
enum class consumer_kind : std::uint8_t { automatic, module, linker };

[[nodiscard]] constexpr const char* to_string(consumer_kind c) noexcept {
  switch (c) {
    case consumer_kind::automatic: return "auto";
    case consumer_kind::module: return "module";
    case consumer_kind::linker: return "linker";
  }
  return "?";
}

// What the caller asks for one symbol.
enum class symbol_request : std::uint8_t {
  keep,
  remove,                  // remove it; retarget or resolve the relocations that name it where that is equivalent
  remove_if_unreferenced,  // remove it only if no kept relocation names it (GNU --strip-unneeded / --strip-all)
};

// What the plan does with one symbol.
enum class symbol_action : std::uint8_t { keep, remove, retarget, resolve };

// Why a symbol whose removal was requested stays, or why a symbol nobody asked about goes.
enum class keep_reason : std::uint8_t {
  none,                // removed, retargeted or resolved as asked
  not_requested,       // nobody asked to remove it
  null_symbol,         // symbol 0
  section_symbol,      // section symbols stay with their section
  group_signature,     // the signature of a kept SHT_GROUP
  needed,              // remove-if-unreferenced, and a kept relocation names it
  undefined,           // an undefined symbol that a kept relocation names
  common,              // an SHN_COMMON symbol that a kept relocation names
  reserved_index,      // defined relative to a reserved section index (SHN_LIVEPATCH, processor-specific)
  unknown_machine,     // no relocation table for this e_machine
  unknown_type,        // a relocation type the table does not know (detail: type)
  not_equivalent,      // GOT, PLT, TLS, SIZE, TOC-base or marker relocation (detail: type)
  not_loader_type,     // consumer module: the module loader does not accept this type (detail: type)
  not_absolute,        // SHN_ABS symbol named by a relocation that is not absolute (detail: type)
  preemptible,         // consumer linker: a global or weak symbol may be preempted, wrapped or interposed
  group_member,        // consumer linker: defined in a section group (COMDAT) section
  merge_section,       // consumer linker: SHF_MERGE target with an addend or PC-relative (see --unmerge)
  local_entry,         // ppc64 ELFv2 branch to a symbol with a local entry point (st_other)
  opd_entry,           // ppc64 ELFv1 function descriptor in .opd
  toc_base,            // .TOC. (the ppc64 module loader finds it by name)
  tls_symbol,          // STT_TLS or a symbol in an SHF_TLS section
  ifunc_symbol,        // STT_GNU_IFUNC
  livepatch,           // named by a .klp.rela section
  dynamic_relocation,  // named by a relocation section that applies to no section (sh_info 0)
  field_out_of_bounds, // a REL field lies outside its section's file bytes
  field_overflow,      // the folded value does not fit the REL field (detail: type)
  addend_overflow,     // the folded value does not fit r_addend
  field_overlap,       // the REL field shares bytes with another relocation's field (detail: type)
  in_removed_section,  // defined in a section being removed (action remove)
};

[[nodiscard]] constexpr const char* to_string(keep_reason r) noexcept {
  switch (r) {
    case keep_reason::none: return "";
    case keep_reason::not_requested: return "not requested";
    case keep_reason::null_symbol: return "the null symbol";
    case keep_reason::section_symbol: return "a section symbol";
    case keep_reason::group_signature: return "the signature of a section group";
    case keep_reason::needed: return "needed by relocations";
    case keep_reason::undefined: return "undefined and named by relocations";
    case keep_reason::common: return "a common symbol named by relocations";
    case keep_reason::reserved_index: return "defined in a reserved section index";
    case keep_reason::unknown_machine: return "relocations of this machine are not known";
    case keep_reason::unknown_type: return "named by a relocation of unknown type";
    case keep_reason::not_equivalent: return "named by a relocation that cannot use a section symbol";
    case keep_reason::not_loader_type: return "named by a relocation type the module loader does not accept";
    case keep_reason::not_absolute: return "absolute symbol named by a relocation that is not absolute";
    case keep_reason::preemptible: return "global or weak symbol in an object that will be linked again";
    case keep_reason::group_member: return "defined in a section group (COMDAT) section";
    case keep_reason::merge_section:
      return "named with an addend or PC-relative in a SHF_MERGE section (--unmerge allows it)";
    case keep_reason::local_entry: return "branch target with a ppc64 local entry point";
    case keep_reason::opd_entry: return "a ppc64 ELFv1 function descriptor (.opd)";
    case keep_reason::toc_base: return ".TOC. is looked up by name";
    case keep_reason::tls_symbol: return "a thread-local symbol";
    case keep_reason::ifunc_symbol: return "an indirect function (STT_GNU_IFUNC)";
    case keep_reason::livepatch: return "named by a livepatch relocation section";
    case keep_reason::dynamic_relocation: return "named by a relocation section that applies to no section";
    case keep_reason::field_out_of_bounds: return "relocation field outside its section";
    case keep_reason::field_overflow: return "folded value does not fit the relocation field";
    case keep_reason::addend_overflow: return "folded value does not fit the addend";
    case keep_reason::field_overlap: return "its relocation field overlaps another relocation's field";
    case keep_reason::in_removed_section: return "defined in a removed section";
  }
  return "?";
}

inline constexpr std::size_t keep_reason_count = static_cast<std::size_t>(keep_reason::in_removed_section) + 1;

struct symbol_decision {
  symbol_action action = symbol_action::keep;
  symbol_request request = symbol_request::keep;
  keep_reason reason = keep_reason::not_requested;
  std::uint32_t relocations = 0;  // kept relocations that name the symbol
  std::uint32_t detail = 0;       // retarget: the section; type-related reasons: the relocation type
  bool is_section = false;        // an STT_SECTION symbol (never reported; dropped when nothing names it)
};

struct strip_options {
  consumer_kind consumer = consumer_kind::automatic;
  bool unmerge = false;       // linker: retarget into SHF_MERGE sections and clear SHF_MERGE on them
  bool strip_debug = false;   // remove non-alloc debug sections (.debug*, .zdebug*, .stab*, ...)
};

struct strip_stats {
  std::uint32_t sections_removed = 0;
  std::uint32_t symbols_removed = 0;  // including those of removed sections, not counting section symbols
  std::uint32_t symbols_retargeted = 0;
  std::uint32_t relocations_retargeted = 0;
  std::uint32_t symbols_resolved = 0;
  std::uint32_t relocations_resolved = 0;
  std::uint32_t symbols_kept = 0;     // removal requested but kept (see kept_by_reason)
  std::uint32_t section_symbols_added = 0;
  std::uint32_t sections_unmerged = 0;
  std::array<std::uint32_t, keep_reason_count> kept_by_reason{};
};

inline constexpr std::string_view module_signature_magic = "~Module signature appended~\n";

// The flags of section state.
namespace section_state {
inline constexpr std::uint8_t keep = 0, remove = 1, unmerge = 2, needs_section_symbol = 4;
}

template <elf_layout L>
class strip_plan {
 public:
  static constexpr std::uint32_t none = 0xffffffffu;

  // `remove_section(std::string_view name, const section_ref<L>&) -> bool` and
  // `request(const symbol_context<L>&) -> symbol_request` say what the caller wants; options.strip_debug adds the
  // debug sections. Relocation sections of removed sections, SHF_LINK_ORDER sections of removed sections and
  // groups left without members go with them.
  template <class SectionFilter, class SymbolRequest>
  [[nodiscard]] static result<strip_plan> create(const file<L>& f, const strip_options& options,
                                                 SectionFilter&& remove_section, SymbolRequest&& request) {
    auto sections = f.sections();
    if (!sections) return sections.error();
    auto index = reloc_index<L>::build(sections.value());
    if (!index) return index.error();
    strip_plan plan(f, std::move(sections).value(), std::move(index).value(), options);
    if (auto r = plan.choose_sections(remove_section); !r) return r.error();
    if (auto r = plan.decide_symbols(request); !r) return r.error();
    plan.measure_trailer();
    return plan;
  }

  [[nodiscard]] const file<L>& object() const noexcept { return file_; }
  [[nodiscard]] const section_table<L>& sections() const noexcept { return sections_; }
  [[nodiscard]] const reloc_index<L>& relocations() const noexcept { return index_; }
  [[nodiscard]] const symbol_table<L>* symbols() const noexcept { return symtab_ ? &*symtab_ : nullptr; }
  [[nodiscard]] consumer_kind consumer() const noexcept { return consumer_; }
  [[nodiscard]] const strip_stats& stats() const noexcept { return stats_; }

  [[nodiscard]] bool section_kept(section_index i) const noexcept {
    return i.value < state_.size() && (state_[i.value] & section_state::remove) == 0;
  }
  [[nodiscard]] bool section_unmerged(section_index i) const noexcept {
    return i.value < state_.size() && (state_[i.value] & section_state::unmerge) != 0;
  }
  // The section gets a new STT_SECTION symbol because a retargeted relocation needs one and it has none.
  [[nodiscard]] bool needs_section_symbol(section_index i) const noexcept {
    return i.value < state_.size() && (state_[i.value] & section_state::needs_section_symbol) != 0;
  }
  // The existing STT_SECTION symbol of section i (the first one), or none.
  [[nodiscard]] std::uint32_t section_symbol(section_index i) const noexcept {
    return i.value < section_symbol_.size() ? section_symbol_[i.value] : none;
  }
  // The value a relocation's target section symbol has: the existing one's, else 0 (ET_REL) or sh_addr.
  [[nodiscard]] std::uint64_t section_symbol_value(section_index i) const noexcept {
    const std::uint32_t s = section_symbol(i);
    if (s != none && symtab_) return (*symtab_)[symbol_index(s)].value();
    return file_.type() == elf::ET_REL ? 0 : sections_[i].addr();
  }
  // Caller contract: a symbols() table exists and s is in range.
  [[nodiscard]] const symbol_decision& decision(symbol_index s) const noexcept {
    Expects(s.value < decisions_.size());
    return decisions_[s.value];
  }
  [[nodiscard]] std::span<const symbol_decision> decisions() const noexcept { return decisions_; }
  // Bytes after the last byte any header or section covers (the kernel's module signature lives there).
  [[nodiscard]] std::uint64_t trailer_bytes() const noexcept { return trailer_bytes_; }
  [[nodiscard]] bool has_module_signature() const noexcept { return module_signature_; }

  // The byte position of relocation field `r_offset` inside its target section, for REL patching.
  [[nodiscard]] std::uint64_t field_position(const section_ref<L>& target, std::uint64_t r_offset) const noexcept {
    return file_.type() == elf::ET_REL ? r_offset : r_offset - target.addr();
  }

 private:
  strip_plan(const file<L>& f, section_table<L> sections, reloc_index<L> index, const strip_options& options)
      : file_(f), sections_(std::move(sections)), index_(std::move(index)), options_(options) {}

  [[nodiscard]] bool is_module() const {
    for (auto name : {".modinfo", ".gnu.linkonce.this_module"})
      if (sections_.find(name)) return true;
    return false;
  }

  template <class SectionFilter>
  result<void> choose_sections(SectionFilter& remove_section) {
    const std::size_t n = sections_.size();
    state_.assign(n, section_state::keep);
    consumer_ = options_.consumer != consumer_kind::automatic ? options_.consumer
                : is_module()                                  ? consumer_kind::module
                                                               : consumer_kind::linker;
    // The one symbol table we rewrite, and the tables it depends on, can never go.
    std::uint32_t symtab_count = 0;
    for (auto s : sections_) {
      if (s.type() != elf::SHT_SYMTAB) continue;
      if (++symtab_count > 1) {
        error e = make_error(errc::wrong_section_type, s.index().value, s.offset());
        e.message = "more than one SHT_SYMTAB section";
        return e;
      }
      auto table = symbol_table<L>::create(sections_, s.index());
      if (!table) return table.error();
      symtab_ = std::move(table).value();
    }
    auto is_protected = [&](section_index i) {
      if (i.value == 0 || i == sections_.shstrndx()) return true;
      if (!symtab_) return false;
      const auto& sym = sections_[symtab_->section()];
      if (i == symtab_->section() || i.value == sym.link()) return true;
      const auto s = sections_[i];
      return s.type() == elf::SHT_SYMTAB_SHNDX && s.link() == symtab_->section().value;
    };
    // The writer rebuilds those tables (and groups); one that is loaded would change the image, and relocations
    // that apply to one would patch bytes that no longer exist: refuse rather than guess.
    for (auto s : sections_) {
      if (s.index().value != 0 && s.has_flag(elf::SHF_ALLOC) && is_protected(s.index()))
        return make_error(errc::allocated_table, s.index().value, s.offset());
      if ((s.type() == elf::SHT_REL || s.type() == elf::SHT_RELA) && s.info() != 0 && s.info() < n &&
          (is_protected(section_index(s.info())) || sections_[section_index(s.info())].type() == elf::SHT_GROUP ||
           sections_[section_index(s.info())].type() == elf::SHT_REL ||
           sections_[section_index(s.info())].type() == elf::SHT_RELA)) {
        error e = make_error(errc::bad_info, s.index().value, s.offset());
        e.message = "relocations apply to a table the writer rebuilds (symbols, strings, names, group or relocations)";
        return e;
      }
    }

    for (auto s : sections_) {
      if (s.index().value == 0) continue;
      auto name = sections_.name(s);
      if (!name) return name.error();
      // --strip-debug goes by name and never fails: a symbol table, string table or group that happens to carry a
      // debug name stays. Only an explicit request to remove such a section is an error.
      const bool debug = options_.strip_debug && is_debug_section(sections_, s.index()) &&
                         !is_protected(s.index()) && s.type() != elf::SHT_GROUP;
      if (!debug && !remove_section(name.value(), s)) continue;
      if (is_protected(s.index())) {
        error e = make_error(errc::section_still_referenced, s.index().value, s.offset());
        e.message = "the symbol table, its strings and the section names cannot be removed";
        return e;
      }
      if (s.type() == elf::SHT_GROUP) {
        error e = make_error(errc::section_still_referenced, s.index().value, s.offset());
        e.message = "a section group cannot be removed while its members stay (remove the members)";
        return e;
      }
      state_[s.index().value] = section_state::remove;
    }

    // Dependents follow what they depend on: relocation sections their target (sh_info), SHF_LINK_ORDER sections
    // their sh_link. One pass over a reverse-edge list, so a long chain costs no more than a short one.
    std::vector<std::uint32_t> edge_start(n + 1, 0), edges;
    auto depends_on = [&](const section_ref<L>& s) -> std::uint32_t {
      if ((s.type() == elf::SHT_REL || s.type() == elf::SHT_RELA) && s.info() != 0 && s.info() < n) return s.info();
      if (s.has_flag(elf::SHF_LINK_ORDER) && s.link() != 0 && s.link() < n) return s.link();
      return 0;
    };
    for (auto s : sections_)
      if (auto d = depends_on(s); d != 0) ++edge_start[d + 1];
    for (std::size_t i = 0; i < n; ++i) edge_start[i + 1] += edge_start[i];
    edges.resize(edge_start[n]);
    {
      std::vector<std::uint32_t> fill(edge_start.begin(), edge_start.end() - 1);
      for (auto s : sections_)
        if (auto d = depends_on(s); d != 0) edges[fill[d]++] = s.index().value;
    }
    std::vector<std::uint32_t> work;
    for (std::uint32_t i = 0; i < n; ++i)
      if (state_[i] & section_state::remove) work.push_back(i);
    while (!work.empty()) {
      const std::uint32_t i = work.back();
      work.pop_back();
      for (std::uint32_t k = edge_start[i]; k < edge_start[i + 1]; ++k) {
        const std::uint32_t d = edges[k];
        if (state_[d] & section_state::remove) continue;
        if (is_protected(section_index(d))) {
          error e = make_error(errc::section_still_referenced, d, sections_[section_index(d)].offset());
          e.message = "a protected section depends on a removed section";
          return e;
        }
        state_[d] |= section_state::remove;
        work.push_back(d);
      }
    }

    // Dropping relocations would change what their target means: a relocation section asked for by name goes only
    // with the section it applies to.
    for (auto s : sections_)
      if ((state_[s.index().value] & section_state::remove) && (s.type() == elf::SHT_REL || s.type() == elf::SHT_RELA) &&
          s.info() != 0 && s.info() < n && !(state_[s.info()] & section_state::remove)) {
        error e = make_error(errc::section_still_referenced, s.index().value, s.offset());
        e.message = "a relocation section cannot be removed while the section it applies to stays";
        return e;
      }

    // Groups: members must be valid; a group whose members are all removed goes too.
    for (auto s : sections_) {
      if (s.type() != elf::SHT_GROUP) continue;
      auto group = section_group<L>::create(sections_, s.index());
      if (!group) return group.error();
      bool any_kept = false;
      for (std::size_t m = 0; m < group->size(); ++m) any_kept |= section_kept(group->member(m));
      if (!any_kept && group->size() > 0) state_[s.index().value] |= section_state::remove;
      if (section_kept(s.index()) && symtab_) {
        if (group->signature_table() != symtab_->section() || group->signature_symbol() >= symtab_->size()) {
          error e = make_error(errc::bad_group, s.index().value, s.offset());
          e.message = "group signature is not a symbol of the symbol table";
          return e;
        }
        signatures_.push_back(group->signature_symbol());
      }
    }
    std::sort(signatures_.begin(), signatures_.end());

    // Anything else that names a removed section through sh_link or sh_info would be left dangling.
    for (auto s : sections_) {
      if (s.index().value == 0 || !section_kept(s.index())) continue;
      const bool link_is_section = s.link() != 0 && s.type() != elf::SHT_GROUP;
      const bool info_is_section = elf::sh_info_is_section(s.type(), s.flags()) && s.info() != 0;
      if ((link_is_section && s.link() < n && !section_kept(section_index(s.link()))) ||
          (info_is_section && s.info() < n && !section_kept(section_index(s.info())))) {
        error e = make_error(errc::section_still_referenced, s.index().value, s.offset());
        e.message = "a kept section links to a removed section";
        return e;
      }
    }
    // The writer rebuilds the symbol string table and the section names: nothing else may read names from them.
    if (symtab_) {
      const std::uint32_t strtab = sections_[symtab_->section()].link();
      for (auto s : sections_) {
        if (s.index().value == 0 || !section_kept(s.index()) || s.index() == symtab_->section()) continue;
        const std::uint32_t t = s.type();
        const bool names_from_link = t == elf::SHT_SYMTAB || t == elf::SHT_DYNSYM || t == elf::SHT_DYNAMIC ||
                                     t == elf::SHT_GNU_verdef || t == elf::SHT_GNU_verneed;
        if (names_from_link && s.link() != 0 && (s.link() == strtab || s.link() == sections_.shstrndx().value)) {
          error e = make_error(errc::wrong_link_type, s.index().value, s.offset());
          e.message = "another section reads its names from the string table the writer rebuilds";
          return e;
        }
      }
    }
    for (std::uint8_t st : state_) stats_.sections_removed += (st & section_state::remove) ? 1u : 0u;
    return {};
  }

  template <class SymbolRequest>
  result<void> decide_symbols(SymbolRequest& request) {
    section_symbol_.assign(sections_.size(), none);
    if (!symtab_) return {};
    const symbol_table<L>& symbols = *symtab_;
    decisions_.assign(symbols.size(), symbol_decision{});
    // Existing section symbols first: retargeting needs them before any symbol is decided.
    for (auto s : symbols) {
      if (s.type() != elf::STT_SECTION || s.index().value == 0) continue;
      auto where = symbols.section_of(s);
      if (!where) return where.error();
      if (where->is_regular() && section_symbol_[where->index.value] == none)
        section_symbol_[where->index.value] = s.index().value;
    }
    find_rel_overlaps();
    std::vector<std::uint8_t> removed(sections_.size(), 0);
    for (std::size_t i = 0; i < removed.size(); ++i)
      removed[i] = section_kept(section_index(static_cast<std::uint32_t>(i))) ? 0 : 1;
    for (auto s : symbols) {
      auto context = make_symbol_context(sections_, symbols, s, &index_);
      if (!context) return context.error();
      context.value().removed_sections = removed;
      if (auto r = decide(context.value(), request); !r) return r.error();
    }
    // Commit what the retargets need: new section symbols, SHF_MERGE cleared.
    std::vector<bool> targeted(sections_.size(), false);
    for (std::size_t i = 0; i < decisions_.size(); ++i) {
      const symbol_decision& d = decisions_[i];
      if (d.action != symbol_action::retarget) continue;
      targeted[d.detail] = true;
      if (section_symbol_[d.detail] == none) state_[d.detail] |= section_state::needs_section_symbol;
      if (pending_unmerge_.size() > i && pending_unmerge_[i]) state_[d.detail] |= section_state::unmerge;
    }
    // Like BFD, drop the section symbols nothing names: no kept relocation, no group, no retarget.
    for (std::size_t i = 1; i < decisions_.size(); ++i) {
      symbol_decision& d = decisions_[i];
      if (!d.is_section || d.action != symbol_action::keep || d.reason != keep_reason::section_symbol) continue;
      if (d.relocations != 0) continue;
      auto where = symbols.section_of(symbols[symbol_index(static_cast<std::uint32_t>(i))]);
      if (where && where->is_regular() && targeted[where->index.value] && section_symbol_[where->index.value] == i)
        continue;
      d.action = symbol_action::remove;
      d.reason = keep_reason::none;
    }
    for (std::size_t i = 0; i < state_.size(); ++i) {
      stats_.section_symbols_added += (state_[i] & section_state::needs_section_symbol) ? 1u : 0u;
      stats_.sections_unmerged += (state_[i] & section_state::unmerge) ? 1u : 0u;
    }
    pending_unmerge_ = {};
    drop_empty_symbol_table();
    for (const symbol_decision& d : decisions_) {
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
    return {};
  }

  // Like BFD, write no symbol table at all when nothing but symbol 0 and section symbols would be left in it and
  // no kept section uses it (no relocations, groups or links name it).
  void drop_empty_symbol_table() {
    const section_index symtab = symtab_->section();
    for (std::size_t i = 1; i < decisions_.size(); ++i) {
      const symbol_decision& d = decisions_[i];
      if (d.action == symbol_action::keep && d.reason != keep_reason::section_symbol) return;
    }
    const std::uint32_t strtab = sections_[symtab].link();
    for (auto s : sections_) {
      // Section 0's fields are escapes, not links: the writer clears them.
      if (s.index().value == 0 || !section_kept(s.index()) || s.index() == symtab) continue;
      if (s.type() == elf::SHT_SYMTAB_SHNDX && s.link() == symtab.value) continue;
      if (s.link() == symtab.value || (s.link() == strtab && strtab != 0)) return;
      if (s.index().value == strtab && strtab == sections_.shstrndx().value) return;
    }
    for (auto s : sections_) {
      const bool goes = s.index() == symtab || (s.index().value == strtab && strtab != 0) ||
                        (s.type() == elf::SHT_SYMTAB_SHNDX && s.link() == symtab.value);
      if (goes && section_kept(s.index())) {
        state_[s.index().value] |= section_state::remove;
        ++stats_.sections_removed;
      }
    }
    for (auto& d : decisions_)
      if (d.action == symbol_action::keep && d.reason == keep_reason::section_symbol) {
        d.action = symbol_action::remove;
        d.reason = keep_reason::in_removed_section;
      }
  }

  // The relocations that name symbol `s` from relocation sections that stay.
  template <class F>
  void for_each_kept_reference(symbol_index s, F&& f) const {
    // Section 0 is never written as a relocation section, whatever its type field says.
    for (const reloc_ref& r : index_.references(symtab_->section(), s))
      if (r.section.value != 0 && section_kept(r.section)) f(r);
  }

  template <class SymbolRequest>
  result<void> decide(const symbol_context<L>& c, SymbolRequest& request) {
    symbol_decision& d = decisions_[c.symbol.index().value];
    std::uint32_t kept_refs = 0;
    reloc_ref first_ref{};
    for_each_kept_reference(c.symbol.index(), [&](const reloc_ref& r) {
      if (kept_refs++ == 0) first_ref = r;
    });
    d.relocations = kept_refs;
    d.is_section = c.is_section_symbol();
    auto still_referenced = [&]() {
      const reloc_table<L>* t = index_.table(first_ref.section);
      error e = make_error(errc::section_still_referenced, first_ref.section.value,
                           t ? t->entry_file_offset(first_ref.entry) : 0);
      e.message = "a kept relocation names a symbol of a removed section";
      return e;
    };

    if (c.is_null_symbol()) {
      d.reason = keep_reason::null_symbol;
      return {};
    }
    if (c.where.is_regular() && !section_kept(c.where.index)) {
      if (kept_refs > 0) return still_referenced();
      if (std::binary_search(signatures_.begin(), signatures_.end(), c.symbol.index().value)) {
        error e = make_error(errc::section_still_referenced, sections_[c.where.index].index().value,
                             sections_[c.where.index].offset());
        e.message = "a kept section group's signature symbol is defined in a removed section";
        return e;
      }
      d.action = symbol_action::remove;
      d.reason = keep_reason::in_removed_section;
      return {};
    }
    if (std::binary_search(signatures_.begin(), signatures_.end(), c.symbol.index().value)) {
      if (!c.is_section_symbol()) d.request = request(c);
      d.reason = keep_reason::group_signature;
      return {};
    }
    if (c.is_section_symbol()) {
      d.is_section = true;
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
    try_retarget(c, d);
    return {};
  }

  void keep_because(symbol_decision& d, keep_reason why, std::uint32_t detail = 0) {
    d.action = symbol_action::keep;
    d.reason = why;
    d.detail = detail;
  }

  // Retarget (or resolve) every kept relocation that names the symbol, if each one keeps its meaning for the
  // consumer; otherwise keep the symbol with the first reason found.
  void try_retarget(const symbol_context<L>& c, symbol_decision& d) {
    using k = symbol_section::kind;
    const std::uint16_t machine = file_.machine();
    const bool linker = consumer_ == consumer_kind::linker;
    const auto& s = c.symbol;
    switch (c.where.where) {
      case k::undefined: return keep_because(d, keep_reason::undefined);
      case k::common: return keep_because(d, keep_reason::common);
      case k::reserved: return keep_because(d, keep_reason::reserved_index);
      case k::regular:
      case k::absolute: break;
    }
    if (reloc_kinds_of(machine).empty()) return keep_because(d, keep_reason::unknown_machine);
    if (s.type() == elf::STT_TLS) return keep_because(d, keep_reason::tls_symbol);
    if (s.type() == elf::STT_GNU_IFUNC) return keep_because(d, keep_reason::ifunc_symbol);
    if (c.name == ".TOC.") return keep_because(d, keep_reason::toc_base);
    const bool absolute = c.where.where == k::absolute;
    std::optional<section_ref<L>> home;
    if (!absolute) {
      home = sections_[c.where.index];
      if (home->has_flag(elf::SHF_TLS)) return keep_because(d, keep_reason::tls_symbol);
      if (machine == elf::EM_PPC64 && c.section_name() == ".opd") return keep_because(d, keep_reason::opd_entry);
      if (linker && home->has_flag(elf::SHF_GROUP)) return keep_because(d, keep_reason::group_member);
    }
    if (linker && s.bind() != elf::STB_LOCAL) return keep_because(d, keep_reason::preemptible);

    // The value each relocation gains: the symbol's offset from the section symbol, or the absolute value.
    const std::int64_t delta = fold_value(c.symbol, c.where);
    bool needs_unmerge = false;
    keep_reason why = keep_reason::none;
    std::uint32_t why_detail = 0;
    for_each_kept_reference(s.index(), [&](const reloc_ref& r) {
      if (why != keep_reason::none) return;
      const reloc_table<L>& table = *index_.table(r.section);
      const relocation rel = table[r.entry];
      auto fail = [&](keep_reason reason, std::uint32_t detail = 0) {
        why = reason;
        why_detail = detail;
      };
      const auto rsec = sections_[r.section];
      auto rname = sections_.name(rsec);
      if (rname && rname.value().starts_with(".klp.rela")) return fail(keep_reason::livepatch);
      if (table.target_section().value == 0) return fail(keep_reason::dynamic_relocation);
      const reloc_kind* kind = find_reloc_kind(machine, rel.type);
      if (kind == nullptr) return fail(keep_reason::unknown_type, rel.type);
      if (kind->cls == reloc_class::other) return fail(keep_reason::not_equivalent, rel.type);
      // The module loader applies relocations to allocated sections only; the rest (debug info) are read by
      // debuggers, which compute S + A like any linker.
      if (consumer_ == consumer_kind::module && !kind->loader && sections_[table.target_section()].has_flag(elf::SHF_ALLOC))
        return fail(keep_reason::not_loader_type, rel.type);
      if (absolute && kind->cls != reloc_class::absolute) return fail(keep_reason::not_absolute, rel.type);
      if (!absolute && is_branch_reloc(machine, rel.type) && (s.other() & 0xe0) != 0)
        return fail(keep_reason::local_entry, rel.type);
      std::int64_t addend = rel.addend;
      if (!table.is_rela()) {
        if (rel_overlaps(r.section, r.entry)) return fail(keep_reason::field_overlap, rel.type);
        auto field = rel_field(table, rel, *kind);
        if (!field) return fail(keep_reason::field_out_of_bounds, rel.type);
        addend = field->value;
        if (!field->fits(delta)) return fail(keep_reason::field_overflow, rel.type);
      } else if (!addend_fits(rel.addend, delta)) {
        return fail(keep_reason::addend_overflow, rel.type);
      }
      if (linker && home && home->has_flag(elf::SHF_MERGE) &&
          (kind->cls == reloc_class::pc_relative || addend != 0)) {
        if (!options_.unmerge) return fail(keep_reason::merge_section, rel.type);
        needs_unmerge = true;
      }
    });
    if (why != keep_reason::none) return keep_because(d, why, why_detail);
    d.action = absolute ? symbol_action::resolve : symbol_action::retarget;
    d.reason = keep_reason::none;
    d.detail = absolute ? 0 : c.where.index.value;
    if (needs_unmerge) {
      pending_unmerge_.resize(decisions_.size(), false);
      pending_unmerge_[s.index().value] = true;
    }
  }

 public:
  // What a relocation that names symbol c gains when it names the section symbol instead (or nothing, for an
  // absolute symbol): st_value minus the section symbol's value, in the address arithmetic of the class (an
  // ELF32 value wraps at 32 bits).
  [[nodiscard]] std::int64_t fold_value(const symbol_ref<L>& s, const symbol_section& where) const noexcept {
    const bool absolute = where.where == symbol_section::kind::absolute;
    const std::uint64_t raw = absolute ? s.value() : s.value() - section_symbol_value(where.index);
    if constexpr (L::is64) return static_cast<std::int64_t>(raw);
    else return static_cast<std::int32_t>(static_cast<std::uint32_t>(raw));
  }

  // A REL relocation's in-place addend: its value (sign-extended) and whether adding a delta keeps its meaning.
  struct rel_field_value {
    std::int64_t value = 0;
    std::uint8_t width = 0;
    [[nodiscard]] bool fits(std::int64_t delta) const noexcept {
      // A field as wide as the address wraps exactly as the computation S + A does; a narrower one must hold
      // the new addend, signed or unsigned.
      if (width >= sizeof(typename L::uword_t)) return true;
      std::int64_t sum = 0;
      if (__builtin_add_overflow(value, delta, &sum)) return false;
      const std::int64_t bits = 8 * width;
      return sum >= -(std::int64_t{1} << (bits - 1)) && sum < (std::int64_t{1} << bits);
    }
  };

  // Reads the field a REL relocation patches, or nothing if its width is unknown or it lies outside the section.
  [[nodiscard]] std::optional<rel_field_value> rel_field(const reloc_table<L>& table, const relocation& rel,
                                                         const reloc_kind& kind) const noexcept {
    if (kind.width != 1 && kind.width != 2 && kind.width != 4 && kind.width != 8) return std::nullopt;
    const auto target = sections_[table.target_section()];
    auto bytes = sections_.data(target);
    if (!bytes || target.type() == elf::SHT_NOBITS) return std::nullopt;
    const std::uint64_t pos = field_position(target, rel.offset);
    if (pos > bytes->size() || bytes->size() - pos < kind.width) return std::nullopt;
    const std::byte* p = bytes->data() + pos;
    constexpr auto E = L::endianness;
    switch (kind.width) {
      case 1: return rel_field_value{static_cast<std::int8_t>(std::to_integer<std::uint8_t>(*p)), 1};
      case 2: return rel_field_value{load<std::int16_t, E>(p), 2};
      case 4: return rel_field_value{load<std::int32_t, E>(p), 4};
      default: return rel_field_value{load<std::int64_t, E>(p), 8};
    }
  }

  [[nodiscard]] static bool addend_fits(std::int64_t addend, std::int64_t delta) noexcept {
    std::int64_t sum = 0;
    if (__builtin_add_overflow(addend, delta, &sum)) return false;
    using sword_t = typename L::sword_t;
    return sum >= std::numeric_limits<sword_t>::min() && sum <= std::numeric_limits<sword_t>::max();
  }

 private:
  // REL fields that share bytes with another REL field of the same section: patching one would change the other's
  // addend, so neither may be patched. Fields of unknown width count as a whole word.
  void find_rel_overlaps() {
    rel_overlap_base_.assign(sections_.size(), none);
    rel_overlap_.clear();
    struct field {
      std::uint64_t begin, end;
      std::uint32_t flat;
    };
    std::vector<field> fields;
    const std::uint16_t machine = file_.header().e_machine.value();
    for (std::size_t t = 1; t < sections_.size(); ++t) {
      fields.clear();
      for (section_index rs : index_.relocation_sections_for(section_index(static_cast<std::uint32_t>(t)))) {
        const reloc_table<L>* table = index_.table(rs);
        if (table == nullptr || table->is_rela()) continue;
        if (rel_overlap_base_[rs.value] == none) {
          rel_overlap_base_[rs.value] = static_cast<std::uint32_t>(rel_overlap_.size());
          rel_overlap_.resize(rel_overlap_.size() + table->size(), false);
        }
        for (std::size_t e = 0; e < table->size(); ++e) {
          const relocation rel = (*table)[e];
          const reloc_kind* kind = find_reloc_kind(machine, rel.type);
          const std::uint64_t width = kind != nullptr && kind->width != 0 ? kind->width : sizeof(typename L::uword_t);
          const std::uint64_t begin = rel.offset;
          const std::uint64_t end = begin + width < begin ? ~std::uint64_t{0} : begin + width;
          fields.push_back({begin, end, static_cast<std::uint32_t>(rel_overlap_base_[rs.value] + e)});
        }
      }
      std::sort(fields.begin(), fields.end(), [](const field& a, const field& b) {
        return a.begin != b.begin ? a.begin < b.begin : a.flat < b.flat;
      });
      // One sweep: a field overlaps an earlier one iff it begins before the furthest end so far. Any other earlier
      // field it overlaps also overlaps the one holding that end, so it is already marked.
      std::uint64_t furthest = 0;
      std::size_t holder = 0;
      for (std::size_t i = 0; i < fields.size(); ++i) {
        if (i > 0 && fields[i].begin < furthest) {
          rel_overlap_[fields[i].flat] = true;
          rel_overlap_[fields[holder].flat] = true;
        }
        if (i == 0 || fields[i].end > furthest) {
          furthest = fields[i].end;
          holder = i;
        }
      }
    }
  }

  [[nodiscard]] bool rel_overlaps(section_index rs, std::uint32_t entry) const noexcept {
    if (rs.value >= rel_overlap_base_.size() || rel_overlap_base_[rs.value] == none) return false;
    return rel_overlap_[rel_overlap_base_[rs.value] + entry];
  }

  void measure_trailer() {
    const auto bytes = file_.bytes();
    std::uint64_t end = sizeof(typename L::ehdr);
    const auto& h = file_.header();
    end = std::max<std::uint64_t>(end, h.e_shoff.value() + std::uint64_t{sections_.size()} * sizeof(typename L::shdr));
    if (auto ph = file_.program_headers(); ph) {
      end = std::max<std::uint64_t>(end, h.e_phoff.value() + ph->size() * sizeof(typename L::phdr));
      for (const auto& p : ph.value()) end = std::max<std::uint64_t>(end, p.p_offset.value() + p.p_filesz.value());
    }
    for (auto s : sections_)
      if (s.type() != elf::SHT_NOBITS) end = std::max<std::uint64_t>(end, s.offset() + s.size());
    trailer_bytes_ = end < bytes.size() ? bytes.size() - end : 0;
    const auto magic = module_signature_magic;
    if (bytes.size() >= magic.size() && trailer_bytes_ >= magic.size()) {
      const auto tail = bytes.subspan(bytes.size() - magic.size());
      module_signature_ = std::equal(magic.begin(), magic.end(), tail.begin(),
                                     [](char a, std::byte b) { return static_cast<std::byte>(a) == b; });
    }
  }

  file<L> file_;
  section_table<L> sections_;
  reloc_index<L> index_;
  strip_options options_;
  consumer_kind consumer_ = consumer_kind::linker;
  std::optional<symbol_table<L>> symtab_;
  std::vector<std::uint8_t> state_;            // per section: section_state flags
  std::vector<std::uint32_t> section_symbol_;  // per section: first STT_SECTION symbol, or none
  std::vector<symbol_decision> decisions_;     // per .symtab symbol
  std::vector<std::uint32_t> signatures_;      // sorted signature symbols of kept groups
  std::vector<bool> pending_unmerge_;          // per symbol, while deciding
  std::vector<std::uint32_t> rel_overlap_base_;  // per REL section: its first entry in rel_overlap_, or none
  std::vector<bool> rel_overlap_;                // per REL entry: its field overlaps another
  strip_stats stats_;
  std::uint64_t trailer_bytes_ = 0;
  bool module_signature_ = false;
};

}  // namespace elfsieve
