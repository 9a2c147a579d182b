// The symbols the kernel's module loader keeps for a loaded module, and their type letters: what /proc/kallsyms
// shows for it (`ADDRESS TYPE NAME\t[modname]`) once its init sections are freed. Learned from Linux 6.1
// kernel/module/kallsyms.c (layout_symtab, add_kallsyms, is_core_symbol, elf_type, is_exported),
// kernel/module/main.c (layout_sections, find_sec, which sections lose SHF_ALLOC) and kernel/kallsyms.c (s_show).
//
// The rules, in the order the loader applies them:
//  1. Before layout the loader clears SHF_ALLOC of .modinfo, __versions and (CONFIG_SMP) .data..percpu, each the
//     first SHF_ALLOC section of that name (find_sec). Those sections are not loaded like the others.
//  2. layout_sections puts every remaining SHF_ALLOC section into core or init memory; init are the sections
//     module_init_section() names (".init" prefix; never on ppc64, whose module_64.c keeps them all) and, without
//     CONFIG_MODULE_UNLOAD, the ".exit" ones. The symbol and string tables go to init memory too.
//  3. add_kallsyms copies into core_kallsyms, in .symtab order, the null symbol and every symbol that
//     is_core_symbol accepts: defined (st_shndx != SHN_UNDEF), st_shndx < e_shnum (so never ABS, COMMON or an
//     SHN_XINDEX escape), st_name != 0, and either in the per-cpu section (only with CONFIG_KALLSYMS_ALL) or in an
//     SHF_ALLOC section that is not in init memory (and, without CONFIG_KALLSYMS_ALL, is SHF_EXECINSTR).
//     A livepatch module (.modinfo livepatch=Y) keeps every symbol.
//  4. The type letter is elf_type's, from the section flags as changed in step 1: 'v'/'w' for weak objects/other
//     weak symbols, 'U' undefined, 'a' absolute or per-cpu, '?' other reserved indices, 't' executable, 'r'
//     read-only allocated data, 'g'/'d' writable data (small/other), 's'/'b' NOBITS (small/other), 'n' .debug*,
//     '?' else.
//  5. s_show skips symbols with an empty name (the null symbol) and prints the letter upper case when the
//     symbol is exported by this module through EXPORT_SYMBOL (the module's __ksymtab, *not* __ksymtab_gpl:
//     is_exported looks only at mod->syms) with the symbol's own address as the entry's value, lower case
//     otherwise. Names are cut at KSYM_NAME_LEN - 1 (511).
//  6. /proc/kallsyms lists modules most recently loaded first, each module's symbols in core_kallsyms order.
//
// Linux 6.12 keeps the same rules: is_core_symbol reads "init" from the memory type layout_sections stored in
// sh_entsize (mod_mem_type_is_init) instead of INIT_OFFSET_MASK, the same sections land there, and elf_type,
// is_exported and s_show are unchanged. 6.12's EXPORT_SYMBOL goes through modpost (.export_symbol), but the
// linked .ko still has its __ksymtab / __ksymtab_gpl tables, which is what this header reads (export_table.hpp).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "elfsieve/core/elf.hpp"
#include "elfsieve/core/error.hpp"
#include "elfsieve/kernel/export_table.hpp"
#include "elfsieve/kernel/kallsyms_tables.hpp"
#include "elfsieve/kernel/modinfo.hpp"
#include "elfsieve/read/file.hpp"
#include "elfsieve/read/symbols.hpp"

namespace elfsieve::kernel {

// The kernel configuration the rules depend on. The corpus builds and Debian's kernels have all of these on.
struct module_kallsyms_options {
  bool kallsyms_all = true;         // CONFIG_KALLSYMS_ALL: data symbols and per-cpu symbols are kept, not only text
  bool module_unload = true;        // CONFIG_MODULE_UNLOAD: .exit* sections stay in core memory (else init, freed)
  bool smp = true;                  // CONFIG_SMP: .data..percpu is the module's per-cpu area ('a'), else ordinary data
  bool init_sections_freed = true;  // module_init_section() recognises ".init*" (false on ppc64: module_64.c)
  std::uint64_t arch_small_flag = 0;  // ARCH_SHF_SMALL (SHF_ALPHA_GPREL, SHF_IA_64_SHORT); 0 on other arches
  kallsyms::kernel_version version = kallsyms::kernel_version::v6_1;  // the rules above hold for both
};

// The options for the architecture of `f` with the corpus configuration (KALLSYMS_ALL, MODULE_UNLOAD, SMP).
template <elf_layout L>
[[nodiscard]] module_kallsyms_options default_module_kallsyms_options(const file<L>& f) noexcept {
  module_kallsyms_options o;
  o.init_sections_freed = f.machine() != elf::EM_PPC64;
  return o;
}

// KSYM_NAME_LEN in 6.1 and 6.12: s_show prints at most this many bytes minus the NUL.
inline constexpr std::size_t ksym_name_len = 512;

// One line of /proc/kallsyms for a module symbol.
struct module_kallsym {
  std::string_view name;           // into the file's string table, cut at ksym_name_len - 1 bytes
  std::uint64_t value = 0;         // st_value: the offset within its section in a .ko
  std::uint32_t symbol_index = 0;  // index in .symtab
  std::uint16_t section = 0;       // st_shndx as the loader reads it (no SHN_XINDEX resolution)
  char type = '?';                 // as /proc/kallsyms prints it: upper case when exported with EXPORT_SYMBOL
};

// What /proc/kallsyms shows for one module: its name (the [modname] column) and its symbols in the order printed.
struct module_kallsyms {
  std::string_view module_name;         // struct module's name (.gnu.linkonce.this_module), else .modinfo name=
  std::vector<module_kallsym> symbols;  // core_kallsyms without the nameless ones s_show skips
  std::uint32_t core_symbols = 0;       // core_kallsyms.num_symtab (counts the null symbol)
  std::uint32_t symtab_symbols = 0;     // .symtab entries (kallsyms' view while init is still loaded)
  bool livepatch = false;               // .modinfo livepatch=Y: every symbol kept
};

namespace detail::module_kallsyms_rules {

// The section flags after the loader's find_sec clearings (rule 1); sh_entsize is not needed, only which
// sections are init (rule 2).
struct loader_section {
  std::uint64_t flags = 0;
  std::uint32_t type = 0;
  bool init = false;   // in init memory after layout_sections (freed after the module's init)
  bool debug = false;  // name starts with ".debug" (elf_type's 'n')
};

}  // namespace detail::module_kallsyms_rules

// The letter elf_type gives (before s_show's case rule), from the symbol and the loader's view of its section.
[[nodiscard]] inline char module_elf_type(std::uint8_t bind, std::uint8_t type, std::uint16_t shndx,
                                          std::uint16_t percpu_section,
                                          const detail::module_kallsyms_rules::loader_section* section,
                                          std::uint64_t arch_small_flag) noexcept {
  if (bind == elf::STB_WEAK) return type == elf::STT_OBJECT ? 'v' : 'w';
  if (shndx == elf::SHN_UNDEF) return 'U';
  if (shndx == elf::SHN_ABS || shndx == percpu_section) return 'a';
  if (shndx >= elf::SHN_LORESERVE || section == nullptr) return '?';
  const std::uint64_t f = section->flags;
  if (f & elf::SHF_EXECINSTR) return 't';
  if ((f & elf::SHF_ALLOC) && section->type != elf::SHT_NOBITS) {
    if (!(f & elf::SHF_WRITE)) return 'r';
    return (f & arch_small_flag) ? 'g' : 'd';
  }
  if (section->type == elf::SHT_NOBITS) return (f & arch_small_flag) ? 's' : 'b';
  if (section->debug) return 'n';
  return '?';
}

// Computes what /proc/kallsyms shows for the module `f` once it is loaded and its init has run. Allocates three
// flat arrays (sections, exported names, result), none per symbol. Errors: no .symtab, a malformed symbol table
// or string table, section names that cannot be read.
template <elf_layout L>
[[nodiscard]] result<module_kallsyms> compute_module_kallsyms(const file<L>& f, const module_kallsyms_options& o) {
  namespace r = detail::module_kallsyms_rules;
  ELFSIEVE_TRY(const section_table<L> sections, f.sections());
  ELFSIEVE_TRY(const symbol_table<L> symtab, find_symbol_table(sections, elf::SHT_SYMTAB));
  const std::size_t shnum = sections.size();

  module_kallsyms out;
  std::vector<r::loader_section> loader(shnum);
  std::uint16_t percpu = 0;  // index.pcpu, 0 when absent
  bool modinfo_seen = false, versions_seen = false;
  std::span<const std::byte> modinfo, this_module;
  for (auto s : sections) {
    const auto i = s.index().value;
    auto& ls = loader[i];
    ls.flags = s.flags();
    ls.type = s.type();
    if (i == 0) continue;
    ELFSIEVE_TRY(const std::string_view name, sections.name(s));
    ls.debug = name.starts_with(".debug");
    const bool alloc = (ls.flags & elf::SHF_ALLOC) != 0;
    // find_sec: the first SHF_ALLOC section of that name.
    if (alloc && name == ".modinfo" && !modinfo_seen) {
      modinfo_seen = true;
      ls.flags &= ~elf::SHF_ALLOC;
      if (auto d = sections.data(s)) modinfo = *d;
    } else if (alloc && name == "__versions" && !versions_seen) {
      versions_seen = true;
      ls.flags &= ~elf::SHF_ALLOC;
    } else if (alloc && o.smp && name == ".data..percpu" && percpu == 0) {
      percpu = static_cast<std::uint16_t>(i);
      ls.flags &= ~elf::SHF_ALLOC;
    }
    if (name == ".gnu.linkonce.this_module" && this_module.empty()) {
      if (auto d = sections.data(s)) this_module = *d;
    }
    ls.init = (o.init_sections_freed && name.starts_with(".init")) || (!o.module_unload && name.starts_with(".exit"));
  }
  // layout_symtab moves the symbol and string tables into init memory.
  loader[symtab.section().value].init = true;
  if (auto strs = symtab.strings().section(); strs && strs->value < shnum) loader[strs->value].init = true;

  out.module_name = this_module_name<L>(this_module);
  if (out.module_name.empty()) out.module_name = modinfo_value(modinfo, "name");
  out.livepatch = modinfo_value(modinfo, "livepatch") == "Y";
  out.symtab_symbols = static_cast<std::uint32_t>(symtab.size());

  // What this module exports with EXPORT_SYMBOL (its __ksymtab, not __ksymtab_gpl), read from the table itself
  // through its relocations, so stripped modules (no __ksymtab_<name> symbols left) read the same.
  ELFSIEVE_TRY(export_table exports, read_export_table(f, sections));
  std::erase_if(exports.exports, [](const kernel_export& x) { return x.gpl_only; });
  std::sort(exports.exports.begin(), exports.exports.end(),
            [](const kernel_export& a, const kernel_export& b) { return a.name < b.name; });

  auto is_core = [&](const symbol_ref<L>& s) {
    const std::uint16_t shndx = s.raw_shndx();
    if (shndx == elf::SHN_UNDEF || shndx >= shnum || s.name_offset() == 0) return false;
    if (o.kallsyms_all && shndx == percpu) return true;
    const auto& ls = loader[shndx];
    if (!(ls.flags & elf::SHF_ALLOC)) return false;
    if (!o.kallsyms_all && !(ls.flags & elf::SHF_EXECINSTR)) return false;
    return !ls.init;
  };

  out.symbols.reserve(symtab.size());
  for (auto s : symtab) {
    const bool first = s.index().value == 0;
    if (!first && !out.livepatch && !is_core(s)) continue;
    ++out.core_symbols;
    ELFSIEVE_TRY(std::string_view name, symtab.name(s));
    if (name.empty()) continue;  // s_show: "Some debugging symbols have no name."
    if (name.size() > ksym_name_len - 1) name = name.substr(0, ksym_name_len - 1);
    const std::uint16_t shndx = s.raw_shndx();
    const r::loader_section* ls = shndx < shnum ? &loader[shndx] : nullptr;
    module_kallsym k;
    k.name = name;
    k.value = s.value();
    k.symbol_index = s.index().value;
    k.section = shndx;
    k.type = module_elf_type(s.bind(), s.type(), shndx, percpu, ls, o.arch_small_flag);
    out.symbols.push_back(k);
  }

  // is_exported: an export of that name whose value is this symbol's address (same section, same offset); a
  // local of the same name elsewhere in the module stays lower case.
  for (auto& k : out.symbols) {
    auto it = std::lower_bound(exports.exports.begin(), exports.exports.end(), k.name,
                               [](const kernel_export& x, std::string_view n) { return x.name < n; });
    for (; it != exports.exports.end() && it->name == k.name; ++it) {
      if (it->value_section.value != k.section || it->value != k.value) continue;
      if (k.type >= 'a' && k.type <= 'z') k.type = static_cast<char>(k.type - 'a' + 'A');
      break;
    }
  }
  return out;
}

// The same with the architecture's default options.
template <elf_layout L>
[[nodiscard]] result<module_kallsyms> compute_module_kallsyms(const file<L>& f) {
  return compute_module_kallsyms(f, default_module_kallsyms_options(f));
}

// Appends the module's lines as /proc/kallsyms prints them ("%px %c %s\t[%s]\n"): the address as
// `address_digits` hex digits (16 on 64-bit, 8 on 32-bit kernels). A .ko does not know where the kernel will load
// it, so the address is the symbol's offset within its section (st_value), or zeros when `show_offsets` is false
// (what a reader without CAP_SYSLOG sees).
inline void append_proc_kallsyms_lines(std::string& out, const module_kallsyms& m, int address_digits,
                                       bool show_offsets = true) {
  static constexpr char hex[] = "0123456789abcdef";
  const std::size_t digits = static_cast<std::size_t>(std::clamp(address_digits, 1, 16));
  for (const auto& k : m.symbols) {
    const std::uint64_t v = show_offsets ? k.value : 0;
    const auto at = out.size();
    out.resize(at + digits);
    for (std::size_t d = 0; d < digits; ++d) out[at + d] = hex[(v >> (4 * (digits - 1 - d))) & 0xf];
    out += ' ';
    out += k.type;
    out += ' ';
    out += k.name;
    out += "\t[";
    out += m.module_name;
    out += "]\n";
  }
}

}  // namespace elfsieve::kernel
