// The strip vocabulary: what the caller asks for a symbol, what the plan does with it and why, who will read the
// output, and the counts a strip reports. Plain data, shared by the plan, the tools and their reports.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

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
  none,                 // removed, retargeted or resolved as asked
  not_requested,        // nobody asked to remove it
  null_symbol,          // symbol 0
  section_symbol,       // section symbols stay with their section
  group_signature,      // the signature of a kept SHT_GROUP
  needed,               // remove-if-unreferenced, and a kept relocation names it
  undefined,            // an undefined symbol that a kept relocation names
  common,               // an SHN_COMMON symbol that a kept relocation names
  reserved_index,       // defined relative to a reserved section index (SHN_LIVEPATCH, processor-specific)
  unknown_machine,      // no relocation table for this e_machine
  unknown_type,         // a relocation type the table does not know (detail: type)
  not_equivalent,       // GOT, PLT, TLS, SIZE, TOC-base or marker relocation (detail: type)
  not_loader_type,      // consumer module: the module loader does not accept this type (detail: type)
  not_absolute,         // SHN_ABS symbol named by a relocation that is not absolute (detail: type)
  preemptible,          // consumer linker: a global or weak symbol may be preempted, wrapped or interposed
  group_member,         // consumer linker: defined in a section group (COMDAT) section
  merge_section,        // consumer linker: SHF_MERGE target with an addend or PC-relative (see --unmerge)
  local_entry,          // ppc64 ELFv2 branch to a symbol with a local entry point (st_other)
  opd_entry,            // ppc64 ELFv1 function descriptor in .opd
  toc_base,             // .TOC. (the ppc64 module loader finds it by name)
  tls_symbol,           // STT_TLS or a symbol in an SHF_TLS section
  ifunc_symbol,         // STT_GNU_IFUNC
  livepatch,            // named by a .klp.rela section
  dynamic_relocation,   // named by a relocation section that applies to no section (sh_info 0)
  field_out_of_bounds,  // a REL field lies outside its section's file bytes
  field_overflow,       // the folded value does not fit the REL field (detail: type)
  addend_overflow,      // the folded value does not fit r_addend
  field_overlap,        // the REL field shares bytes with another relocation's field (detail: type)
  in_removed_section,   // defined in a section being removed (action remove)
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

// Which section symbols of kept sections stay when no kept relocation, group or retarget names them. GNU strip 2.40
// (BFD marks an object's STT_SECTION symbols as debugging symbols, an executable's not): --strip-unneeded and
// --strip-all drop them; --strip-debug drops them in a relocatable object only; with neither (-N alone) all stay.
enum class section_symbol_rule : std::uint8_t {
  drop_unused,          // --strip-unneeded, --strip-all, and elfsieve's default
  keep_in_executables,  // --strip-debug: kept in ET_EXEC/ET_DYN, dropped in ET_REL
  keep_all,             // only named symbols are asked for (-N, --strip-symbols, --policy)
};

struct strip_options {
  consumer_kind consumer = consumer_kind::automatic;
  bool unmerge = false;      // linker: retarget into SHF_MERGE sections and clear SHF_MERGE on them
  bool strip_debug = false;  // remove non-alloc debug sections (.debug*, .zdebug*, .stab*, ...)
  section_symbol_rule section_symbols = section_symbol_rule::drop_unused;
};

struct strip_stats {
  std::uint32_t sections_removed = 0;
  std::uint32_t symbols_removed = 0;  // including those of removed sections, not counting section symbols
  std::uint32_t symbols_retargeted = 0;
  std::uint32_t relocations_retargeted = 0;
  std::uint32_t symbols_resolved = 0;
  std::uint32_t relocations_resolved = 0;
  std::uint32_t symbols_kept = 0;  // removal requested but kept (see kept_by_reason)
  std::uint32_t section_symbols_added = 0;
  std::uint32_t sections_unmerged = 0;
  std::array<std::uint32_t, keep_reason_count> kept_by_reason{};
};

}  // namespace elfsieve
