// What the module loader would say when linking a module against a set of exports (a Module.symvers, or the
// exports read from a vmlinux and other modules): the "disagrees about version of symbol X" and "Unknown symbol X"
// lines of insmod's dmesg, found before insmod. Learned from Linux 6.1 and 6.12 kernel/module/main.c
// (simplify_symbols, resolve_symbol, verify_namespace_is_imported, ignore_undef_symbol, set_license),
// kernel/module/version.c (check_version, check_modstruct_version) and arch/powerpc/kernel/module_64.c (dedotify).
//
// The rules, in the loader's order:
//  1. check_modstruct_version: the module's __versions entry for module_layout must carry the kernel's CRC for it
//     (a mismatch or a missing entry refuses the module before any symbol is resolved). A module without
//     __versions is refused unless the kernel was built with CONFIG_MODULE_FORCE_LOAD.
//  2. Every undefined symbol of .symtab, in order (ppc64 first drops one leading '.' from each such name; .TOC. is
//     the loader's own), is looked up among the exports. A module whose first license= tag is not GPL-compatible
//     cannot see EXPORT_SYMBOL_GPL exports. Not found: a weak symbol (or _GLOBAL_OFFSET_TABLE_ on x86) is left
//     alone, any other is "Unknown symbol X (err -2)".
//  3. Found: check_version looks the name up in __versions. Same CRC: fine. Other CRC: "disagrees about version of
//     symbol X". No entry: "no symbol version for X". Either way the symbol is then "Unknown symbol X (err -22)".
//     An export without a CRC is accepted as it is.
//  4. An export in a namespace the module's .modinfo does not import (import_ns=) is refused: "module uses symbol
//     (X) from namespace NS, but does not import it." and "Unknown symbol X (err -22)" (unless the kernel has
//     CONFIG_MODULE_ALLOW_MISSING_NAMESPACE_IMPORTS).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "elfsieve/core/elf.hpp"
#include "elfsieve/core/error.hpp"
#include "elfsieve/kernel/modinfo.hpp"
#include "elfsieve/kernel/module_versions.hpp"
#include "elfsieve/kernel/symvers.hpp"
#include "elfsieve/read/file.hpp"
#include "elfsieve/read/symbols.hpp"

namespace elfsieve::kernel {

enum class version_problem_kind : std::uint8_t {
  no_versions,             // no __versions section: refused (Exec format error) without CONFIG_MODULE_FORCE_LOAD
  disagrees,               // "disagrees about version of symbol X"
  no_symbol_version,       // "no symbol version for X"
  namespace_not_imported,  // "module uses symbol (X) from namespace NS, but does not import it."
  unknown_symbol,          // "Unknown symbol X (err -2)": no export of that name the module may use
};

struct version_problem {
  version_problem_kind kind{};
  std::string_view symbol;       // as the loader names it
  std::string_view name_space;   // namespace_not_imported
  std::uint64_t module_crc = 0;  // disagrees: the module's __versions CRC
  std::uint32_t export_crc = 0;  // disagrees: the exporter's CRC
};

struct version_check {
  std::string_view module_name;       // the name the loader prints
  std::uint32_t symbols_checked = 0;  // undefined symbols resolved against the exports (module_layout included)
  std::vector<version_problem> problems;
};

// Checks module `f` against `exports` as the loader would link it (the rules above).
template <elf_layout L>
[[nodiscard]] result<version_check> check_module_versions(const file<L>& f, const section_table<L>& sections,
                                                          const export_lookup& exports) {
  version_check out;
  const auto facts = read_module_facts(sections);
  out.module_name = facts.name;
  ELFSIEVE_TRY(const auto versions, read_module_versions(sections));
  const bool ppc64 = f.machine() == elf::EM_PPC64;
  auto stored_name = [&](std::string_view n) { return ppc64 && n.starts_with('.') ? n.substr(1) : n; };

  // check_version for one symbol with the exporter's CRC; false when the loader would refuse it.
  auto check = [&](std::string_view symbol, const symvers_entry& x) {
    ++out.symbols_checked;
    if (!versions.present) return false;  // reported once, below
    for (const auto& v : versions.entries) {
      if (stored_name(v.name) != symbol) continue;
      if (v.crc == x.crc) return true;
      out.problems.push_back({version_problem_kind::disagrees, symbol, {}, v.crc, x.crc});
      return false;
    }
    out.problems.push_back({version_problem_kind::no_symbol_version, symbol, {}, 0, 0});
    return false;
  };

  if (!versions.present) out.problems.push_back({version_problem_kind::no_versions, {}, {}, 0, 0});
  if (const auto* layout = exports.find("module_layout")) check("module_layout", *layout);

  auto symtab_ref = sections.find_type(elf::SHT_SYMTAB);
  if (!symtab_ref) return out;  // nothing to link
  ELFSIEVE_TRY(const auto symtab, symbol_table<L>::create(sections, symtab_ref->index()));
  for (auto sym : symtab) {
    if (sym.index().value == 0 || !sym.is_undefined()) continue;
    ELFSIEVE_TRY(std::string_view name, symtab.name(sym));
    if (ppc64 && name.starts_with('.')) {
      if (name == ".TOC.") continue;  // the loader defines it
      name.remove_prefix(1);
    }
    const symvers_entry* x = exports.find(name);
    if (x != nullptr && x->gpl_only && !facts.gpl_compatible) x = nullptr;
    if (x == nullptr) {
      if (sym.bind() == elf::STB_WEAK) continue;
      if ((f.machine() == elf::EM_386 || f.machine() == elf::EM_X86_64) && name == "_GLOBAL_OFFSET_TABLE_") continue;
      out.problems.push_back({version_problem_kind::unknown_symbol, name, {}, 0, 0});
      continue;
    }
    if (!check(name, *x)) continue;
    if (!x->name_space.empty()) {
      bool imported = false;
      for_each_modinfo_value(facts.modinfo, "import_ns", [&](std::string_view ns) {
        imported = ns == x->name_space;
        return !imported;
      });
      if (!imported) out.problems.push_back({version_problem_kind::namespace_not_imported, name, x->name_space, 0, 0});
    }
  }
  return out;
}

// The lines the loader would log for `problems` (each followed, for a symbol it refuses, by its "Unknown symbol"
// line), each prefixed by the module name as the kernel prints it.
inline void append_kernel_messages(std::string& out, const version_check& c) {
  for (const auto& p : c.problems) {
    out += c.module_name;
    out += ": ";
    switch (p.kind) {
      case version_problem_kind::no_versions:
        out +=
            "no __versions section (built without CONFIG_MODVERSIONS?): refused (Exec format error) unless the "
            "kernel has CONFIG_MODULE_FORCE_LOAD\n";
        continue;
      case version_problem_kind::disagrees:
        out += "disagrees about version of symbol ";
        out += p.symbol;
        out += '\n';
        break;
      case version_problem_kind::no_symbol_version:
        out += "no symbol version for ";
        out += p.symbol;
        out += '\n';
        break;
      case version_problem_kind::namespace_not_imported:
        out += "module uses symbol (";
        out += p.symbol;
        out += ") from namespace ";
        out += p.name_space;
        out += ", but does not import it.\n";
        break;
      case version_problem_kind::unknown_symbol:
        out += "Unknown symbol ";
        out += p.symbol;
        out += " (err -2)\n";
        continue;
    }
    if (p.symbol == "module_layout") continue;  // check_modstruct_version refuses the module outright
    out += c.module_name;
    out += ": Unknown symbol ";
    out += p.symbol;
    out += " (err -22)\n";
  }
}

}  // namespace elfsieve::kernel
