// GNU nm 2.40's listing (binutils nm.c): which symbols it shows (filter_symbols and the special-symbol rule), in
// which order (non_numeric_forward, numeric_forward and their reverses), and the version suffix of a dynamic
// symbol (print_symname). list_nm_symbols applies all of it to one file; a tool only formats the lines.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "elfsieve/core/elf.hpp"
#include "elfsieve/core/error.hpp"
#include "elfsieve/read/open.hpp"
#include "elfsieve/read/symbol_versions.hpp"
#include "elfsieve/read/symbols.hpp"
#include "elfsieve/analysis/nm_type.hpp"
#include "elfsieve/analysis/policy.hpp"
#include "elfsieve/analysis/policy_expr.hpp"
#include "elfsieve/analysis/reloc_index.hpp"

namespace elfsieve {

// The options nm.c filter_symbols reads.
struct nm_filter {
  bool debug_syms = false;      // -a: section and file symbols too
  bool extern_only = false;     // -g
  bool undefined_only = false;  // -u
  bool defined_only = false;    // --defined-only
  bool no_weak = false;         // -W
  bool special_syms = false;    // --special-syms: ARM and AArch64 mapping symbols too
  bool file_symbols = false;    // file symbols are shown without -a (elfsieve-nm --policy: debug is about them)
};

// nm.c filter_symbols: does nm show this symbol?
[[nodiscard]] constexpr bool nm_shows(const nm_symbol& s, const nm_filter& f) noexcept {
  const bool undefined = s.place == nm_place::undefined;
  bool shown = true;
  if (f.undefined_only) shown = undefined;
  else if (f.extern_only)
    shown = s.has(nm_flags::global | nm_flags::weak | nm_flags::gnu_unique) || undefined || s.place == nm_place::common;
  else if (f.no_weak) shown = !s.has(nm_flags::weak);
  if (shown && !f.debug_syms && s.has(nm_flags::debugging) && !(f.file_symbols && s.has(nm_flags::file_sym)))
    shown = false;
  return shown && !(f.defined_only && undefined);
}

// ARM and AArch64 mapping and tag symbols ($a, $t, $d, $x, ...), which nm hides unless --special-syms
// (bfd/cpu-arm.c, bfd/cpu-aarch64.c).
[[nodiscard]] constexpr bool is_special_symbol(std::uint16_t machine, std::string_view name) noexcept {
  if (name.size() < 2 || name[0] != '$') return false;
  if (name.size() > 2 && name[2] != '.') return false;
  const char kind = name[1];
  switch (machine) {
    case elf::EM_ARM: return kind >= 'a' && kind <= 'z';
    case elf::EM_AARCH64: return kind == 'x' || kind == 'd' || kind == 'm' || kind == 'f' || kind == 'p';
    default: return false;
  }
}

// One symbol of a listing; listings are flat arrays, sorted in place.
struct nm_entry {
  std::string_view name;  // what nm sorts by: the whole name, "@VERSION" of a .symtab name included
  nm_symbol info;
  std::uint64_t size = 0;  // st_size; 0 for section symbols
  symbol_index index{0};
  std::string_view printed_name;       // name, cut at the first '@' without --with-symbol-versions
  std::string_view version_separator;  // "@", "@@" or empty: what print_symname puts between name and version
  std::string_view version;            // the version name, "<corrupt>" when the version data is bad
  std::string_view why;                // elfsieve-nm --why: the part of the policy that matched
};

// nm.c non_numeric_forward: empty names first, then strcmp (strcoll outside the C locale; names must then be
// NUL-terminated, as those of a string table are).
[[nodiscard]] inline int nm_compare_names(std::string_view x, std::string_view y, bool use_strcoll) noexcept {
  if (y.empty()) return x.empty() ? 0 : 1;
  if (x.empty()) return -1;
  if (use_strcoll) return std::strcoll(x.data(), y.data());
  const int c = x.compare(y);
  return c < 0 ? -1 : (c > 0 ? 1 : 0);
}

// nm.c numeric_forward: undefined symbols first, then by value, then by name.
[[nodiscard]] inline int nm_compare_values(const nm_entry& x, const nm_entry& y, bool use_strcoll) noexcept {
  const bool xu = x.info.place == nm_place::undefined;
  const bool yu = y.info.place == nm_place::undefined;
  if (xu != yu) return xu ? -1 : 1;
  if (!xu && x.info.value != y.info.value) return x.info.value < y.info.value ? -1 : 1;
  return nm_compare_names(x.name, y.name, use_strcoll);
}

enum class nm_sort : std::uint8_t { by_name, by_value, none };  // default, -n, -p

struct nm_order {
  nm_sort sort = nm_sort::by_name;
  bool reverse = false;      // -r
  bool use_strcoll = false;  // LC_COLLATE is neither C nor POSIX
};

inline void sort_nm_entries(std::span<nm_entry> entries, const nm_order& order) {
  if (order.sort == nm_sort::none) return;
  // glibc's qsort is a stable merge sort for these sizes, so equal keys keep symbol-table order, reversed or not.
  const int sign = order.reverse ? -1 : 1;
  const bool by_value = order.sort == nm_sort::by_value;
  std::stable_sort(entries.begin(), entries.end(), [&](const nm_entry& a, const nm_entry& b) {
    const int c =
        by_value ? nm_compare_values(a, b, order.use_strcoll) : nm_compare_names(a.name, b.name, order.use_strcoll);
    return c * sign < 0;
  });
}

struct nm_version_suffix {
  std::string_view separator;  // "@" (hidden, or needed from another object), "@@" (the default version), or none
  std::string_view version;
};

// nm.c print_symname for a dynamic symbol with --with-symbol-versions: nothing for the base versions and for a
// version's own definition symbol, "@<corrupt>" / "@@<corrupt>" when the version data is bad.
template <elf_layout L>
[[nodiscard]] nm_version_suffix nm_version_of(const symbol_versions<L>& versions, const nm_entry& e) noexcept {
  if (versions.empty() || e.info.has(nm_flags::section_sym)) return {};
  const bool undefined = e.info.place == nm_place::undefined;
  auto v = versions.get(e.index);
  if (!v) return {undefined ? "@" : "@@", "<corrupt>"};
  if (v->name.empty() || (v->defined && v->name == e.name)) return {};
  const bool hidden = v->hidden || !v->defined;
  return {hidden || undefined ? "@" : "@@", v->name};
}

// nm.c print_value: `value` in radix 16 or 8 zero-padded to `width` digits, or in radix 10 as a signed number
// (PRId64), appended to `out`.
inline void append_nm_value(std::string& out, std::uint64_t value, int width, int radix) {
  char digits[32];
  if (radix == 10) {
    const int n = std::snprintf(digits, sizeof digits, "%0*lld", width, static_cast<long long>(value));
    if (n > 0) out.append(digits, std::min(static_cast<std::size_t>(n), sizeof digits - 1));
    return;
  }
  const unsigned shift = radix == 8 ? 3u : 4u;
  const std::uint64_t mask = radix == 8 ? 7u : 15u;
  std::size_t n = 0;
  do {
    digits[n++] = "0123456789abcdef"[value & mask];
    value >>= shift;
  } while (value != 0);
  if (width > 0 && static_cast<std::size_t>(width) > n) out.append(static_cast<std::size_t>(width) - n, '0');
  while (n > 0) out.push_back(digits[--n]);
}

struct nm_options {
  nm_filter filter;
  nm_order order;
  bool dynamic = false;                 // -D: .dynsym instead of .symtab
  bool with_versions = true;            // --with-symbol-versions (default) / --without-symbol-versions
  const policy_expr* policy = nullptr;  // elfsieve-nm --policy: only the symbols it matches (never section symbols)
  bool why = false;                     // --why: fill nm_entry::why
};

struct nm_listing {
  enum class status : std::uint8_t {
    listed,            // entries holds the symbols to print (maybe none)
    unrecognized,      // not ELF, or no readable section table: "file format not recognized"
    no_symbols,        // no symbol table, or only the null symbol
    bad_symbol_table,  // the symbol table is malformed
  };
  status state = status::listed;
  bool is64 = false;                       // ELFCLASS64: values print with 16 digits
  bool corrupt_shstrndx = false;           // e_shstrndx out of range: GNU nm warns and lists without names
  std::optional<error> relocations_error;  // the policy needs the relocation index and it could not be built
  std::vector<nm_entry> entries;           // kept between files, so the array is allocated once
};

namespace detail {

// Whether BFD (binutils 2.40 elf_object_p and bfd_section_from_shdr) refuses to open the file as an object, so that
// GNU nm says "file format not recognized" and exits 1: a core file; PN_XNUM or an SHN_XINDEX e_shstrndx without
// section headers; an unreadable program header table; a section whose name cannot be read; a REL/RELA, RELR,
// symbol table or group with the wrong sh_entsize; a relocation section whose sh_link or sh_info is out of range;
// a symbol table whose sh_link is out of range or that is shorter than sh_info entries; a group with no member or
// a member index 0 (one out of range is only a warning). Checks that need bytes stay inside the file.
template <elf_layout L>
[[nodiscard]] bool bfd_refuses(const file<L>& f, const section_table<L>& sections) noexcept {
  const auto& h = f.header();
  const bool no_section_headers = h.e_shoff.value() == 0;
  if (no_section_headers && (h.e_phnum.value() == elf::PN_XNUM || h.e_shstrndx.value() == elf::SHN_XINDEX)) return true;
  if (h.e_phentsize.value() == sizeof(typename L::phdr) && !f.program_headers()) return true;
  const std::uint64_t count = sections.size();
  // An e_shstrndx out of range or naming a section that is no SHT_STRTAB only costs BFD the names (a warning); a
  // name it cannot read from a string table (empty, unterminated, offset past its end) is fatal.
  const auto names = sections.names_status();
  const bool names_lost =
      !names && (names.error().code == errc::bad_shstrndx || names.error().code == errc::not_a_string_table);
  for (auto s : sections) {
    if (s.index().value == 0) continue;
    if (s.name_offset() != 0 && !names_lost && !sections.name(s)) return true;
    switch (s.type()) {
      case elf::SHT_REL:
      case elf::SHT_RELA: {
        const std::uint64_t record = s.type() == elf::SHT_REL ? sizeof(typename L::rel) : sizeof(typename L::rela);
        if (s.entsize() != record || s.link() >= count || s.info() >= count) return true;
        break;
      }
      case elf::SHT_RELR:
        if (s.entsize() != sizeof(typename L::uword_t)) return true;
        break;
      case elf::SHT_SYMTAB:
      case elf::SHT_DYNSYM:
        if (s.entsize() != sizeof(typename L::sym) || s.link() >= count) return true;
        if (std::uint64_t{s.info()} * sizeof(typename L::sym) > s.size()) return true;
        break;
      case elf::SHT_GROUP: {
        if (s.entsize() != 4 || s.size() < 8) return true;
        auto words = sections.template records_unchecked_entsize<typename L::word>(s);
        if (!words) return true;
        for (std::size_t i = 1; i < words.value().size(); ++i) {
          const std::uint64_t member = words.value()[i].value();
          if (member == 0) return true;
        }
        break;
      }
      default: break;
    }
  }
  return false;
}

template <elf_layout L>
void list_nm_file(const file<L>& f, const nm_options& options, nm_listing& out) {
  out.is64 = L::is64;
  // BFD opens a core file as bfd_core, never as bfd_object: GNU nm says "file format not recognized" (exit 1).
  if (f.type() == elf::ET_CORE) {
    out.state = nm_listing::status::unrecognized;
    return;
  }
  auto sections = f.sections();
  if (!sections) {
    out.state = nm_listing::status::unrecognized;
    return;
  }
  const section_table<L>& table = sections.value();
  const auto names = table.names_status();
  out.corrupt_shstrndx = !names && names.error().code == errc::bad_shstrndx;
  if (bfd_refuses(f, table)) {
    out.state = nm_listing::status::unrecognized;
    return;
  }
  if (out.corrupt_shstrndx) {  // BFD warns and then reads no section header at all: "no symbols"
    out.state = nm_listing::status::no_symbols;
    return;
  }
  const std::uint32_t wanted = options.dynamic ? elf::SHT_DYNSYM : elf::SHT_SYMTAB;
  if (!table.find_type(wanted)) {
    out.state = nm_listing::status::no_symbols;
    return;
  }
  auto symbols = symbol_table<L>::find(table, wanted);
  if (!symbols) {
    out.state = nm_listing::status::bad_symbol_table;
    return;
  }
  const symbol_table<L>& symtab = symbols.value();
  if (symtab.size() <= 1) {
    out.state = nm_listing::status::no_symbols;
    return;
  }
  const auto classifier = nm_classifier<L>::create(f, table);
  // The index is O(relocations) but touches every relocation section: on a module with DWARF it triples the run
  // time, so it is built only for a policy that reads it.
  std::optional<reloc_index<L>> relocations;
  if (options.policy != nullptr && options.policy->needs_relocations()) {
    auto built = reloc_index<L>::build(table);
    if (built) relocations.emplace(std::move(built.value()));
    else out.relocations_error = built.error();
  }
  result<symbol_versions<L>> versions = symbol_versions<L>{};
  if (options.dynamic && options.with_versions) versions = symbol_versions<L>::create(table, symtab);

  out.entries.reserve(symtab.size());
  for (auto s : symtab) {
    if (s.index().value == 0) continue;
    // BFD cannot read a symbol table with SHN_XINDEX entries but no SHT_SYMTAB_SHNDX: GNU nm fails (exit 1).
    if (s.raw_shndx() == elf::SHN_XINDEX) {
      auto where = symtab.section_of(s);
      if (!where && where.error().code == errc::missing_symtab_shndx) {
        out.entries.clear();
        out.state = nm_listing::status::bad_symbol_table;
        return;
      }
    }
    const nm_symbol info = classifier.classify(symtab, s);
    if (!nm_shows(info, options.filter)) continue;
    const std::string_view name = classifier.name(symtab, s);
    if (!options.filter.special_syms && is_special_symbol(f.machine(), name)) continue;
    nm_entry e{name, info, info.has(nm_flags::section_sym) ? 0 : s.size(), s.index(), name, {}, {}, {}};
    if (options.policy != nullptr) {
      // No policy is about section symbols (a writer keeps or drops them with their section); a symbol whose name
      // or section index is unreadable cannot be judged and is left out.
      if (s.type() == elf::STT_SECTION) continue;
      auto context = make_symbol_context(table, symtab, s, relocations ? &*relocations : nullptr);
      if (!context) continue;
      if (options.why) e.why = options.policy->why(context.value());
      if (options.why ? e.why.empty() : !(*options.policy)(context.value())) continue;
    }
    if (!options.with_versions) e.printed_name = name.substr(0, name.find('@'));
    if (options.dynamic && options.with_versions && versions) {
      const auto suffix = nm_version_of(versions.value(), e);
      e.version_separator = suffix.separator;
      e.version = suffix.version;
    }
    out.entries.push_back(e);
  }
  sort_nm_entries(out.entries, options.order);
}

}  // namespace detail

// The symbols GNU nm lists for one file, in its order, in `out` (cleared first). The entries' names point into
// `bytes` (and the policy's text): they live as long as both.
inline void list_nm_symbols(std::span<const std::byte> bytes, const nm_options& options, nm_listing& out) {
  out.state = nm_listing::status::listed;
  out.corrupt_shstrndx = false;
  out.relocations_error.reset();
  out.entries.clear();
  auto opened = visit(bytes, [&](const auto& f) { detail::list_nm_file(f, options, out); });
  if (!opened) out.state = nm_listing::status::unrecognized;
}

}  // namespace elfsieve
